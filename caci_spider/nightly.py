"""The scheduled run: ``python -m caci_spider.nightly`` runs every spider once, for cron or systemd.

::

    python -m caci_spider.nightly [--spider NAME ...] [--log-dir DIR] [--jobdir DIR]
                                  [-s NAME=VALUE ...] [-a NAME=VALUE ...] [--local [--port N]]

Runs ``scrapy crawl <spider>`` for each spider in turn (by default ``publications``, every
section of both K2 sites, then ``staff_publications``: both write to one database, so never at
once), from the project directory (where ``scrapy.cfg`` is, found from this package or the
current directory), whatever directory it is started from:

* each crawl logs to ``<log-dir>/<spider>-<YYYY-MM-DD>.log`` (``--log-dir`` defaults to ``logs``;
  a relative directory is taken from the project directory and created when missing). The
  crawl's own stdout and stderr go there too, and a last line saying how it ended;
* ``--jobdir DIR`` gives each crawl ``-s JOBDIR=DIR/<spider>``, so that a run stopped with
  SIGTERM resumes next time;
* every ``-s NAME=VALUE`` and ``-a NAME=VALUE`` is passed on to every crawl (``-a mode=full``
  for a weekly full run).

It prints nothing when every crawl succeeded or was skipped, because cron mails any output.
A crawl is skipped (``scrapy crawl`` exits 75) when another run holds the database lock: the
log file says so and the next scheduled run tries again. Otherwise it prints one line per
crawl that did not succeed, naming its exit status and its log file, on stderr.

Exit status (:mod:`caci_spider.exitcodes`): 0 when every crawl exited 0 or 75 (skipped);
2 when any crawl exited 2 (usage or configuration error), or this command's own arguments or
log directory are wrong; otherwise 1 when any crawl failed or the run was stopped.

``--local`` is the same night against the local K2 site (``testworld.localsite``), served
by this command on 127.0.0.1 (``--port``, 8088, and the next port up for the Turkey Analyst) for
as long as the crawls run: every crawl gets ``-s CACI_SITE=local`` (:mod:`caci_spider.sitechoice`:
the local base URLs, ``exports/local/`` for the database, exports and page archive, no delay), the
logs go to ``exports/local/logs`` unless ``--log-dir`` says otherwise, and since a person runs it,
it ends with each crawl's run line and where the data is.

Each SIGTERM or SIGINT this command receives is passed on once to the running crawl (SIGHUP as
SIGTERM). The crawl runs in its own process group, so that a terminal's Ctrl-C or ``timeout``
reach it only through here: Scrapy never sees a second signal, which would make it stop
uncleanly. It stops cleanly and keeps its JOBDIR for the next run; the next spider is then not
started, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from caci_spider import sitechoice
from caci_spider.exitcodes import CRAWL_FAILED, OK, SKIPPED, USAGE

SPIDERS = ("publications", "staff_publications")
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# Settings this command sets itself, per spider.
OWN_SETTINGS = {"LOG_FILE": "--log-dir", "JOBDIR": "--jobdir", sitechoice.SETTING: "--local"}
PREFIX = "caci_spider.nightly"


class NightlyError(Exception):
    """This command cannot run as asked (exit 2)."""


def find_project_root(start: Path | None = None) -> Path:
    """The directory of ``scrapy.cfg``: beside this package (a checkout, or an editable
    install), else the current directory or one of its parents."""
    candidates = [Path(__file__).resolve().parents[1]]
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents]
    for directory in candidates:
        if (directory / "scrapy.cfg").is_file():
            return directory
    raise NightlyError(
        "no scrapy.cfg beside the caci_spider package nor in the current directory or above"
    )


def name_value(text: str) -> str:
    """An argparse type for ``NAME=VALUE``."""
    name, sep, _value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m caci_spider.nightly",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Exit status: 0 ok or skipped (another run holds the database lock), "
        "1 a crawl failed or the run was stopped, 2 usage or configuration error.",
    )
    parser.add_argument(
        "--spider",
        action="append",
        dest="spiders",
        metavar="NAME",
        help=f"a spider to run, in the order given (default: {', then '.join(SPIDERS)})",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        metavar="DIR",
        help="where <spider>-<YYYY-MM-DD>.log goes; relative to the project directory "
        "(default: logs; exports/local/logs with --local)",
    )
    parser.add_argument(
        "--jobdir",
        type=Path,
        metavar="DIR",
        help="give each crawl -s JOBDIR=DIR/<spider> (relative to the project directory), so "
        "that a stopped run resumes",
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="serve the local K2 site and crawl it into exports/local/ (-s CACI_SITE=local), "
        "never the production database",
    )
    parser.add_argument(
        "--port",
        type=int,
        metavar="N",
        help=f"with --local: the local site's port (default {sitechoice.DEFAULT_LOCAL_PORT}; "
        "the Turkey Analyst on the next one up)",
    )
    parser.add_argument(
        "-s",
        action="append",
        dest="settings",
        default=[],
        type=name_value,
        metavar="NAME=VALUE",
        help="a Scrapy setting for every crawl (repeatable)",
    )
    parser.add_argument(
        "-a",
        action="append",
        dest="spider_arguments",
        default=[],
        type=name_value,
        metavar="NAME=VALUE",
        help="a spider argument for every crawl, e.g. -a mode=full (repeatable)",
    )
    return parser


def crawl_command(
    spider: str,
    log_file: Path,
    jobdir: Path | None = None,
    settings: Sequence[str] = (),
    spider_arguments: Sequence[str] = (),
) -> list[str]:
    """The ``scrapy crawl`` command line of one spider."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"LOG_FILE={log_file}"]
    if jobdir is not None:
        command += ["-s", f"JOBDIR={jobdir / spider}"]
    for setting in settings:
        command += ["-s", setting]
    for argument in spider_arguments:
        command += ["-a", argument]
    return command


@dataclass(frozen=True)
class Outcome:
    """How one spider's crawl ended. ``returncode`` is ``None`` when it was not started, and
    negative (as in :mod:`subprocess`) when a signal killed it."""

    spider: str
    log_file: Path
    returncode: int | None

    @property
    def succeeded(self) -> bool:
        return self.returncode in (OK, SKIPPED)

    def describe(self) -> str:
        code = self.returncode
        if code is None:
            return "not started"
        if code < 0:
            return f"killed by {signal_name(-code)}"
        meaning = {
            OK: "finished",
            CRAWL_FAILED: "failed",
            USAGE: "usage or configuration error",
            SKIPPED: "skipped: another run holds the database lock; the next run will try again",
        }.get(code, "failed")
        return f"{meaning} (exit {code})"


def forwarded(signum: int) -> int:
    """The signal a crawl gets for ``signum``: Scrapy stops cleanly on SIGTERM and SIGINT only
    (SIGHUP, a closed terminal, would kill it on the spot)."""
    return signal.SIGTERM if signum == signal.SIGHUP else signum


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def overall_status(outcomes: Iterable[Outcome], stopped: bool = False) -> int:
    """0 when every crawl succeeded or was skipped; 2 when any had a usage or configuration
    error; otherwise 1 when any failed or the run was stopped."""
    codes = [o.returncode for o in outcomes if o.returncode is not None]
    if USAGE in codes:
        return USAGE
    if stopped or any(code not in (OK, SKIPPED) for code in codes):
        return CRAWL_FAILED
    return OK


def first_error(log_file: Path) -> str:
    """The crawler's own first ERROR line of this run in ``log_file`` (its verdict: a
    self-check problem or a refused command), without the time stamp; ``""`` if none."""
    try:
        text = log_file.read_text("utf-8", "replace")
    except OSError:
        return ""
    # A day's log may hold several runs; each begins with Scrapy's "Scrapy … started" line.
    run = text[text.rfind("] INFO: Scrapy ") + 1 :]
    for line in run.splitlines():
        if "[caci_spider" in line and " ERROR: " in line:
            return line.split("] ", 1)[-1]
    return ""


def report_lines(outcomes: Iterable[Outcome], stopped_by: int | None = None) -> list[str]:
    """What to print: nothing when all is well (cron mails any output), else one line per crawl
    that did not succeed and, after a stop, one naming the spiders not started."""
    outcomes = list(outcomes)
    lines = []
    for o in outcomes:
        if o.returncode is None or o.succeeded:
            continue
        lines.append(f"{PREFIX}: {o.spider} {o.describe()}, see {o.log_file}")
        cause = first_error(o.log_file)
        if cause:
            lines.append(f"{PREFIX}:   {cause}")
    if stopped_by is not None:
        not_started = [o.spider for o in outcomes if o.returncode is None]
        line = f"{PREFIX}: stopped by {signal_name(stopped_by)}"
        if not_started:
            line += f"; not started: {', '.join(not_started)}"
        lines.append(line)
    return lines


class Runner:
    """Runs the crawls one after the other and passes stop signals on to the running one."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.stopped_by: int | None = None

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopped_by is None:
            self.stopped_by = signum
        child = self.child
        if child is not None and child.poll() is None:
            child.send_signal(forwarded(signum))

    def run(self, commands: Sequence[tuple[str, list[str], Path]], cwd: Path) -> list[Outcome]:
        """Run ``(spider, command, log_file)`` in order from ``cwd``."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in FORWARDED_SIGNALS}
        try:
            outcomes = []
            for spider, command, log_file in commands:
                if self.stopped_by is not None:
                    outcomes.append(Outcome(spider, log_file, None))
                    continue
                returncode = self._run_one(spider, command, log_file, cwd)
                outcomes.append(Outcome(spider, log_file, returncode))
            return outcomes
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _run_one(self, spider: str, command: list[str], log_file: Path, cwd: Path) -> int:
        with log_file.open("ab") as log:
            self.child = subprocess.Popen(
                command,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                process_group=0,
            )
            if self.stopped_by is not None:  # the signal came while the crawl was starting
                self.child.send_signal(forwarded(self.stopped_by))
            returncode = self.child.wait()
            self.child = None
            outcome = Outcome(spider, log_file, returncode)
            ended = outcome.describe()
            if self.stopped_by is not None:
                ended += f" after {signal_name(self.stopped_by)}"
            stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"{stamp} [{PREFIX}] INFO: scrapy crawl {spider} {ended}\n".encode())
        return returncode


def last_run_line(log_file: Path) -> str:
    """The crawl's run line (``Run 12 of publications: … self-check ok``) in ``log_file``,
    without the time stamp; ``""`` if none."""
    try:
        lines = log_file.read_text("utf-8", "replace").splitlines()
    except OSError:
        return ""
    runs = [line for line in lines if "[caci_spider.extensions] INFO: Run " in line]
    return runs[-1].split("] INFO: ", 1)[-1] if runs else ""


def serve_local_site(stack: contextlib.ExitStack, port: int) -> None:
    """Serve the local K2 site on ``port`` (the sister sites on the next ones up) until
    ``stack`` closes."""
    from caci_spider.testworld.localsite import LocalK2Site, other_ports, serve

    try:
        stack.enter_context(serve(LocalK2Site(), "127.0.0.1", port, other_ports(port)))
    except OSError as error:
        raise NightlyError(
            f"cannot serve the local site on 127.0.0.1 port {port} and up ({error.strerror}): "
            "choose another --port"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_arguments(args)
        port = args.port or sitechoice.DEFAULT_LOCAL_PORT
        settings = crawl_settings(args, port)
        root = find_project_root()
        log_dir = make_log_dir(args, root, port)
        jobdir = root / args.jobdir if args.jobdir is not None else None
        commands = crawl_commands(args, log_dir, jobdir, settings)
        runner = Runner()
        with contextlib.ExitStack() as stack:
            if args.local:
                serve_local_site(stack, port)
            outcomes = runner.run(commands, cwd=root)
    except NightlyError as error:
        print(f"{PREFIX}: {error}", file=sys.stderr)
        return USAGE
    if args.local:
        print_local_verdicts(root, port, outcomes)
    for line in report_lines(outcomes, runner.stopped_by):
        print(line, file=sys.stderr)
    return overall_status(outcomes, stopped=runner.stopped_by is not None)


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse a ``-s`` this command sets itself, and a ``--port`` it cannot use."""
    for setting in args.settings:
        name = setting.partition("=")[0].strip()
        if name in OWN_SETTINGS:
            raise NightlyError(f"set {name} with {OWN_SETTINGS[name]}, not -s")
    if args.port is not None and not args.local:
        raise NightlyError("--port is the local site's: give it with --local")
    if args.port is not None and not 0 < args.port < 65535:
        raise NightlyError(f"--port {args.port}: expected a port from 1 to 65534")


def crawl_settings(args: argparse.Namespace, port: int) -> list[str]:
    """The ``-s`` settings of each crawl: the given ones, and the local site's when ``--local``."""
    settings = list(args.settings)
    if args.local:
        value = "local" if port == sitechoice.DEFAULT_LOCAL_PORT else f"local:{port}"
        settings.append(f"{sitechoice.SETTING}={value}")
    return settings


def make_log_dir(args: argparse.Namespace, root: Path, port: int) -> Path:
    default_logs = sitechoice.local_dir(port) / "logs" if args.local else Path("logs")
    log_dir: Path = root / (args.log_dir or default_logs)
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NightlyError(f"cannot create the log directory {log_dir}: {error}") from None
    return log_dir


def crawl_commands(
    args: argparse.Namespace, log_dir: Path, jobdir: Path | None, settings: list[str]
) -> list[tuple[str, list[str], Path]]:
    """``(spider, command, log_file)`` of each crawl, each log file proven writable first."""
    today = dt.date.today().isoformat()
    commands = []
    for spider in args.spiders or SPIDERS:
        log_file = log_dir / f"{spider}-{today}.log"
        try:
            log_file.open("ab").close()
        except OSError as error:
            raise NightlyError(f"cannot write the log file {log_file}: {error}") from None
        command = crawl_command(spider, log_file, jobdir, settings, args.spider_arguments)
        commands.append((spider, command, log_file))
    return commands


def print_local_verdicts(root: Path, port: int, outcomes: Sequence[Outcome]) -> None:
    # A person runs the local night: where the data is, then each crawl's verdict, last.
    print(f"{PREFIX}: the local night's data is in {root / sitechoice.local_dir(port)}/")
    for outcome in outcomes:
        if outcome.returncode is not None:
            verdict = last_run_line(outcome.log_file) or outcome.describe()
            print(f"{PREFIX}: {verdict} (log: {outcome.log_file})")


if __name__ == "__main__":
    sys.exit(main())
