"""The cron and systemd recipes of docs/scheduling.md, read out of the doc and run as printed.

The recipes are taken from the doc's fenced code blocks, so that doc and test cannot drift, and
run against a copy of the project standing in for ``/srv/caci_spider`` (a fresh checkout: no
``logs/``, ``jobs/`` nor database), with ``.venv`` a symlink to the running virtualenv, a fake
``mail`` on the PATH and a settings module pointing the crawls at the local K2 site.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from caci_spider import exitcodes, nightly
from caci_spider.exitcodes import CRAWL_FAILED, OK, SKIPPED, USAGE
from caci_spider.nightly import SPIDERS, Outcome, crawl_command, overall_status, report_lines
from caci_spider.testworld.localsite import LocalK2Site, serve
from tests.conftest import FIXTURES, REPO_ROOT

DOC = REPO_ROOT / "docs" / "scheduling.md"
SRV = "/srv/caci_spider"
MAIL_TO = "you@example.org"
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
LOCAL_DB = Path("exports/local/caci.db")  # relative to the project root
DOC_USER_AGENT = "caci_spider/0.1 (+https://your.site/contact)"  # as the recipes print it
LOG_NAME = re.compile(r"^(?P<spider>\w+)-\d{4}-\d{2}-\d{2}\.log$")


# --- the recipes, out of the doc ---------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    language: str
    body: str
    heading: str  # the "## …" section it is in
    caption: str  # the last non-blank line before the fence


def doc_blocks() -> list[Block]:
    blocks: list[Block] = []
    heading = caption = ""
    lines = iter(DOC.read_text("utf-8").splitlines())
    for line in lines:
        if line.startswith("```"):
            language = line[3:].strip()
            body = []
            for inner in lines:
                if inner.startswith("```"):
                    break
                body.append(inner)
            blocks.append(Block(language, "\n".join(body), heading, caption))
        elif line.startswith("## "):
            heading = line[3:].strip()
        elif line.strip():
            caption = line.strip()
    return blocks


def cron_entry() -> tuple[str, str]:
    """The one job line of the doc's crontab: (schedule, command)."""
    (block,) = [b for b in doc_blocks() if b.language == "cron"]
    jobs = [
        line
        for line in block.body.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
        and not re.match(r"^\s*\w+\s*=", line)  # an environment line such as MAILTO=
    ]  # fmt: skip
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(None, 5)
    assert len(fields) == 6, jobs[0]
    return " ".join(fields[:5]), fields[5]


def as_cron_runs_it(command: str) -> tuple[str, str]:
    """Cron's reading of a command field: ``\\%`` is ``%``; the first bare ``%`` ends the
    command and the rest (bare ``%`` as newlines) is its standard input."""
    out: list[str] = []
    i = 0
    while i < len(command):
        if command.startswith("\\%", i):
            out.append("%")
            i += 2
        elif command[i] == "%":
            return "".join(out), command[i + 1 :].replace("%", "\n")
        else:
            out.append(command[i])
            i += 1
    return "".join(out), ""


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section → key → values (keys may repeat, as ExecStart= does)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    logical: list[str] = []
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):  # a continued line
            logical.append(raw.rstrip()[:-1] + " ")
            continue
        line = ("".join(logical) + raw).strip()
        logical = []
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, line
        key, sep, value = line.partition("=")
        assert sep, line
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit_blocks() -> dict[str, dict[str, dict[str, list[str]]]]:
    """The doc's unit files by name (``caci-spider.service``, ``caci-spider.timer``)."""
    units = {}
    for block in doc_blocks():
        named = re.search(r"/etc/systemd/system/([\w.-]+)", block.caption)
        if block.language == "ini" and named:
            units[named[1]] = parse_unit(block.body)
    return units


def service_unit() -> dict[str, list[str]]:
    """The nightly command's unit (the doc's Scrapyd section has units of its own)."""
    return unit_blocks()["caci-spider.service"]["Service"]


# --- a fresh checkout standing in for /srv/caci_spider ---------------------------------------


@dataclass
class Deployment:
    root: Path  # stands in for /srv/caci_spider
    home: Path
    mail_dir: Path
    settings_dir: Path

    def point_at(self, base_url: str, turkey_url: str | None = None) -> None:
        """The crawls' settings: Scrapy's SCRAPY_SETTINGS_MODULE wins over scrapy.cfg. The
        Turkey Analyst at ``turkey_url`` (the local site's second host), else at ``base_url``."""
        (self.settings_dir / "recipe_settings.py").write_text(
            textwrap.dedent(f"""\
                from caci_spider.settings import *  # noqa: F403

                CACI_BASE_URL = SILKROAD_BASE_URL = {base_url!r}
                TURKEY_ANALYST_BASE_URL = {turkey_url or base_url!r}
                # A local site never writes to the production files.
                CACI_DB_PATH = {str(LOCAL_DB)!r}
                CACI_EXPORT_DIR = {str(LOCAL_DB.parent)!r}
                HTTPCACHE_DIR = "local-httpcache"
                DOWNLOAD_DELAY = 0
                AUTOTHROTTLE_ENABLED = False
                RETRY_TIMES = 1
                CACI_COVERAGE_MIN_ITEMS = 1000000
            """),
            "utf-8",
        )

    def env(self, path: str) -> dict[str, str]:
        return {
            "PATH": path,
            "HOME": str(self.home),
            "SCRAPY_SETTINGS_MODULE": "recipe_settings",
            "PYTHONPATH": str(self.settings_dir),
        }

    def substitute(self, text: str) -> str:
        assert SRV in text, text
        return text.replace(SRV, str(self.root))

    def mails(self) -> list[dict]:
        return [json.loads(p.read_text("utf-8")) for p in sorted(self.mail_dir.glob("*.json"))]

    def logs(self) -> dict[str, str]:
        """Log files by spider (one each)."""
        found: dict[str, str] = {}
        for path in sorted((self.root / "logs").iterdir()):
            match = LOG_NAME.match(path.name)
            assert match, path.name
            assert match["spider"] not in found
            found[match["spider"]] = path.read_text("utf-8", errors="replace")
        return found

    def run_cron_line(self) -> subprocess.CompletedProcess[str]:
        """The crontab line as cron runs it: /bin/sh -c, a minimal environment, from $HOME."""
        _schedule, field = cron_entry()
        command, stdin = as_cron_runs_it(self.substitute(field))
        return subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=self.home,
            env={
                **self.env(f"{self.home / 'bin'}:/usr/bin:/bin"),
                "SHELL": "/bin/sh",
                "LOGNAME": "caci",
            },
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def service(self) -> ServiceRun:
        """How systemd runs the doc's service unit in this deployment."""
        service = service_unit()
        assert service["Type"] == ["oneshot"]
        (workdir,) = service["WorkingDirectory"]
        cwd = Path(self.substitute(workdir))
        assert cwd.is_absolute()
        success = {OK} | {
            int(word)
            for value in service.get("SuccessExitStatus", [])
            for word in value.split()
            if word.isdigit()
        }
        env = self.env(SYSTEMD_PATH)
        for assignment in service.get("Environment", []):
            for word in shlex.split(assignment):
                name, _sep, value = word.partition("=")
                env[name] = value
        commands = []
        for line in service["ExecStart"]:
            argv = shlex.split(self.substitute(line.lstrip("-@:+!")))
            assert Path(argv[0]).is_absolute(), argv  # systemd wants an absolute program path
            commands.append((argv, line.startswith("-")))
        return ServiceRun(commands, cwd, env, success)

    def run_service(self) -> tuple[bool, list[subprocess.CompletedProcess[str]]]:
        """The service as systemd runs a oneshot unit: each ExecStart= in order, without a
        shell, from WorkingDirectory=, stopping at the first that fails; a status is a success
        when it is 0 or listed in SuccessExitStatus=. Returns (succeeded, the runs)."""
        service = self.service()
        runs = []
        for argv, failure_ignored in service.commands:
            run = subprocess.run(
                argv, cwd=service.cwd, env=service.env, capture_output=True, text=True, timeout=180
            )
            runs.append(run)
            if not service.succeeded(run.returncode) and not failure_ignored:
                return False, runs
        return True, runs


@dataclass(frozen=True)
class ServiceRun:
    commands: list[tuple[list[str], bool]]  # ExecStart= argv, and whether failure is ignored
    cwd: Path
    env: dict[str, str]
    success: set[int]

    def succeeded(self, returncode: int) -> bool:
        return returncode in self.success


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    root = tmp_path / "srv" / "caci_spider"
    root.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "scrapy.cfg", root)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO_ROOT / "caci_spider", root / "caci_spider", ignore=ignore)
    shutil.copytree(REPO_ROOT / "fixtures", root / "fixtures", ignore=ignore)
    venv = Path(sys.executable).parents[1]
    assert (venv / "pyvenv.cfg").is_file(), "the tests must run in the project's virtualenv"
    (root / ".venv").symlink_to(venv, target_is_directory=True)
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    fake_mail = home / "bin" / "mail"
    fake_mail.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, time\n"
        f"path = {str(mail_dir)!r} + f'/{{time.time_ns()}}.json'\n"
        "body = sys.stdin.read()\n"
        "json.dump({'args': sys.argv[1:], 'body': body}, open(path, 'w'))\n",
        "utf-8",
    )
    fake_mail.chmod(0o755)
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    # Through the symlinked .venv, from the copy: the copy's package, the venv's libraries.
    probe = subprocess.run(
        [".venv/bin/python", "-c", "import caci_spider, scrapy; print(caci_spider.__file__)"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(probe.stdout.strip()) == root / "caci_spider" / "__init__.py"
    return Deployment(root, home, mail_dir, settings_dir)


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def lock_held(deployment: Deployment) -> Iterator[Path]:
    """Another run holds the database lock."""
    lock = deployment.root / f"{LOCAL_DB}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("wb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield lock


def fixture_publications() -> int:
    """Publications the local site's fixtures give, every section of both sites (not the broken
    or duplicate pages): what a ``publications`` crawl stores."""
    count = 0
    for spider in nightly_sections():
        for oracle in (FIXTURES / spider / "items").glob("*.json"):
            expected = json.loads(oracle.read_text("utf-8"))
            count += "reject" not in expected and "duplicate_of" not in expected
    return count


def nightly_sections() -> list[str]:
    from caci_spider.sources import sections

    return [section.spider for _, section in sections() if section.spider != "staff_publications"]


PUBLICATIONS = fixture_publications()


def count_rows(root: Path) -> int:
    """Publications stored so far (0 while there is no database yet)."""
    try:
        with sqlite3.connect(root / LOCAL_DB) as conn:
            return conn.execute("SELECT count(*) FROM publications").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def stored(root: Path) -> dict[str, int]:
    with sqlite3.connect(root / LOCAL_DB) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("publications", "staff_publications")
        }


# --- the doc's recipes, as printed -----------------------------------------------------------


def test_the_doc_documents_every_exit_status() -> None:
    text = DOC.read_text("utf-8")
    section = text.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    assert documented == {OK, CRAWL_FAILED, USAGE, SKIPPED}
    assert exitcodes.SKIPPED == 75


def test_the_recipes_are_well_formed() -> None:
    schedule, command = cron_entry()
    assert schedule == "17 2 * * *"
    assert "caci_spider.nightly" in command
    assert as_cron_runs_it(command) == (command, "")  # no bare % for cron to mangle
    units = unit_blocks()
    # The timer starts the service; the Scrapyd units are tests/test_scrapyd.py's.
    assert set(units) == {
        "caci-spider.service",
        "caci-spider.timer",
        "scrapyd.service",
        "caci-scrapyd-schedule.service",
        "caci-scrapyd-schedule.timer",
    }
    service = service_unit()
    assert all("caci_spider.nightly" in line for line in service["ExecStart"])
    # The nightly command passes a stop on to its crawl: SIGTERM must reach it alone.
    assert service["KillMode"] == ["mixed"]
    assert units["caci-spider.timer"]["Timer"]["OnCalendar"]


def test_cron_on_a_healthy_site_mails_nothing(deployment: Deployment, local_site) -> None:
    base_url, site = local_site
    deployment.point_at(base_url, site.base_urls["turkeyanalyst"])
    result = deployment.run_cron_line()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")  # cron mails nothing
    assert deployment.mails() == []
    logs = deployment.logs()
    assert set(logs) == set(SPIDERS)
    for spider, text in logs.items():
        assert f"scrapy crawl {spider} finished (exit 0)" in text.splitlines()[-1]
        assert f"'USER_AGENT': {DOC_USER_AGENT!r}" in text  # one argument, quotes and all
    counts = stored(deployment.root)
    assert counts["publications"] == PUBLICATIONS and counts["staff_publications"] > 0
    assert {p.name for p in (deployment.root / "jobs").iterdir()} == set(SPIDERS)


def test_cron_skips_a_night_while_another_run_holds_the_lock(
    deployment: Deployment, local_site, lock_held: Path
) -> None:
    """Needs ``scrapy crawl`` to exit 75 (SKIPPED) when the lock is held."""
    base_url, site = local_site
    deployment.point_at(base_url, site.base_urls["turkeyanalyst"])
    result = deployment.run_cron_line()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert deployment.mails() == []
    logs = deployment.logs()
    assert set(logs) == set(SPIDERS)
    for spider, text in logs.items():
        assert f"scrapy crawl {spider} skipped: another run holds the database lock" in text
    assert not (deployment.root / LOCAL_DB).exists()


def test_cron_mails_when_the_site_is_down(deployment: Deployment, closed_port_url: str) -> None:
    deployment.point_at(closed_port_url)
    result = deployment.run_cron_line()
    assert (result.stdout, result.stderr) == ("", "")  # all of it went into the mail
    (mail,) = deployment.mails()
    assert mail["args"] == ["-s", "caci_spider failed", MAIL_TO]
    lines = mail["body"].splitlines()
    # Per failed crawl: which one and its log, then the cause (its first ERROR line).
    assert len(lines) == 2 * len(SPIDERS)
    for spider, line, cause in zip(SPIDERS, lines[::2], lines[1::2], strict=True):
        (log_file,) = (deployment.root / "logs").glob(f"{spider}-*.log")
        assert line == f"caci_spider.nightly: {spider} failed (exit 1), see {log_file}"
        # A site that does not answer: the line naming the host and its base-URL setting.
        assert cause.startswith("caci_spider.nightly:   ERROR: 127.0.0.1:"), cause
        assert " did not answer (" in cause and "_BASE_URL (" in cause, cause


def test_systemd_service_on_a_healthy_site(deployment: Deployment, local_site) -> None:
    base_url, site = local_site
    deployment.point_at(base_url, site.base_urls["turkeyanalyst"])
    succeeded, runs = deployment.run_service()
    assert succeeded, [r.stderr[-2000:] for r in runs]
    assert all(r.stdout == r.stderr == "" for r in runs)  # nothing in the journal
    logs = deployment.logs()
    assert set(logs) == set(SPIDERS)
    assert all(f"'USER_AGENT': {DOC_USER_AGENT!r}" in text for text in logs.values())
    assert stored(deployment.root)["publications"] == PUBLICATIONS
    for spider in SPIDERS:  # each crawl's JOBDIR, marked as spent by its finished run
        assert (deployment.root / "jobs" / spider / ".caci-finished").exists()


def test_systemd_service_skipped_by_the_lock_is_not_a_failure(
    deployment: Deployment, local_site, lock_held: Path
) -> None:
    """Needs ``scrapy crawl`` to exit 75 (SKIPPED) when the lock is held."""
    base_url, site = local_site
    deployment.point_at(base_url, site.base_urls["turkeyanalyst"])
    succeeded, runs = deployment.run_service()
    assert succeeded, [(r.returncode, r.stderr) for r in runs]
    assert all(r.stdout == r.stderr == "" for r in runs)


def test_systemd_service_fails_when_the_site_is_down(
    deployment: Deployment, closed_port_url: str
) -> None:
    deployment.point_at(closed_port_url)
    succeeded, runs = deployment.run_service()
    assert not succeeded
    assert runs[-1].returncode == CRAWL_FAILED
    journal = runs[-1].stderr.splitlines()
    assert [line.split(" failed (exit 1), see ")[0] for line in journal[::2]] == [
        f"caci_spider.nightly: {spider}" for spider in SPIDERS
    ]
    assert all(" did not answer (" in line for line in journal[1::2]), journal


def test_systemd_stop_leaves_a_job_that_the_next_night_resumes(deployment: Deployment) -> None:
    """``systemctl stop`` with KillMode=mixed: SIGTERM to the main process only. The crawl
    stops cleanly and keeps its JOBDIR, the next spider is not started, the run is not a
    success; the next night resumes the job and completes the database."""
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        site.item_delay = 0.2
        deployment.point_at(base_url, site.base_urls["turkeyanalyst"])
        service = deployment.service()
        argv, _ignored = service.commands[0]
        process = subprocess.Popen(
            argv, cwd=service.cwd, env=service.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and count_rows(deployment.root) < 3:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=150)
        assert not service.succeeded(process.returncode)
        assert process.returncode == CRAWL_FAILED
        interrupted = count_rows(deployment.root)
        assert 0 < interrupted < PUBLICATIONS, err
        assert out == ""
        assert err.splitlines()[-1] == (
            "caci_spider.nightly: stopped by SIGTERM; not started: staff_publications"
        )
        job = deployment.root / "jobs" / "publications"
        assert job.is_dir() and not (job / ".caci-finished").exists()
        assert not (deployment.root / "jobs" / "staff_publications").exists()
        log = deployment.logs()["publications"]
        assert "(shutdown)" in log
        assert log.splitlines()[-1].endswith("failed (exit 1) after SIGTERM")
        site.item_delay = 0
        succeeded, runs = deployment.run_service()
        assert succeeded, [r.stderr for r in runs]
        assert count_rows(deployment.root) == PUBLICATIONS
        assert "Resuming crawl" in deployment.logs()["publications"].split("after SIGTERM")[1]


def test_nightly_finds_the_project_from_any_directory(deployment: Deployment, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(deployment.root)}
    result = subprocess.run(
        [str(deployment.root / ".venv/bin/python"), "-m", "caci_spider.nightly",
         "--spider", "no_such_spider"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == USAGE
    (log_file,) = (deployment.root / "logs").glob("no_such_spider-*.log")
    first, cause = result.stderr.splitlines()
    assert first.startswith("caci_spider.nightly: no_such_spider ")
    assert first.endswith(f"see {log_file}")
    # The crawl ran inside the project (outside one, `scrapy crawl` is an unknown command).
    assert "unknown spider 'no_such_spider': choose one of analytical_articles" in cause
    assert list(elsewhere.iterdir()) == []


# --- nightly.py without crawling -------------------------------------------------------------


def outcomes(*codes: int | None) -> list[Outcome]:
    return [Outcome(f"spider{i}", Path(f"/logs/spider{i}.log"), c) for i, c in enumerate(codes)]


@pytest.mark.parametrize(
    ("codes", "stopped", "expected"),
    [
        ((OK, OK), False, OK),
        ((OK, SKIPPED), False, OK),
        ((SKIPPED, SKIPPED), False, OK),
        ((CRAWL_FAILED, OK), False, CRAWL_FAILED),
        ((SKIPPED, CRAWL_FAILED), False, CRAWL_FAILED),
        ((CRAWL_FAILED, USAGE), False, USAGE),
        ((USAGE, SKIPPED), False, USAGE),
        ((-signal.SIGKILL, OK), False, CRAWL_FAILED),
        ((3, OK), False, CRAWL_FAILED),
        ((OK, None), True, CRAWL_FAILED),
        ((CRAWL_FAILED, None), True, CRAWL_FAILED),
        ((USAGE, None), True, USAGE),
        ((), False, OK),
    ],
)
def test_overall_status(codes: tuple[int | None, ...], stopped: bool, expected: int) -> None:
    assert overall_status(outcomes(*codes), stopped=stopped) == expected


def test_nothing_is_printed_on_success_or_skip() -> None:
    assert report_lines(outcomes(OK, SKIPPED)) == []
    assert report_lines(outcomes(SKIPPED, SKIPPED)) == []


def test_one_line_per_failed_crawl_with_its_status_and_log() -> None:
    assert report_lines(outcomes(CRAWL_FAILED, SKIPPED, USAGE, -signal.SIGKILL)) == [
        "caci_spider.nightly: spider0 failed (exit 1), see /logs/spider0.log",
        "caci_spider.nightly: spider2 usage or configuration error (exit 2), see /logs/spider2.log",
        "caci_spider.nightly: spider3 killed by SIGKILL, see /logs/spider3.log",
    ]
    assert report_lines(outcomes(CRAWL_FAILED, None), stopped_by=signal.SIGTERM) == [
        "caci_spider.nightly: spider0 failed (exit 1), see /logs/spider0.log",
        "caci_spider.nightly: stopped by SIGTERM; not started: spider1",
    ]


def test_crawl_command() -> None:
    log = Path("/srv/x/logs/field_reports-2026-01-02.log")
    assert crawl_command("field_reports", log) == [
        sys.executable, "-m", "scrapy", "crawl", "field_reports", "-s", f"LOG_FILE={log}",
    ]  # fmt: skip
    command = crawl_command(
        "field_reports", log, Path("/srv/x/jobs"), ["A=1", "B=x=y"], ["mode=full"]
    )
    assert command[5:] == [
        "-s", f"LOG_FILE={log}", "-s", "JOBDIR=/srv/x/jobs/field_reports",
        "-s", "A=1", "-s", "B=x=y", "-a", "mode=full",
    ]  # fmt: skip


def test_arguments() -> None:
    args = nightly.build_parser().parse_args([])
    # No --log-dir: logs/, or exports/local/logs/ with --local.
    assert (args.spiders, args.log_dir, args.jobdir, args.local) == (None, None, None, False)
    assert (args.settings, args.spider_arguments) == ([], [])
    args = nightly.build_parser().parse_args(
        ["--spider", "b", "--spider", "a", "--jobdir", "jobs", "-s", "X=1", "-a", "mode=full"]
    )
    assert (args.spiders, args.jobdir, args.settings, args.spider_arguments) == (
        ["b", "a"], Path("jobs"), ["X=1"], ["mode=full"],
    )  # fmt: skip


@pytest.mark.parametrize("argv", [["-s", "NOEQUALS"], ["-a", "=x"], ["--bogus"]])
def test_bad_arguments_exit_2(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        nightly.main(argv)
    assert exited.value.code == USAGE


@pytest.mark.parametrize("setting", ["LOG_FILE=x.log", "JOBDIR=x"])
def test_its_own_settings_cannot_be_passed_with_s(setting: str, capsys) -> None:
    assert nightly.main(["-s", setting]) == USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "not -s" in err


def test_an_unusable_log_directory_exits_2(tmp_path: Path, capsys) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    assert nightly.main(["--log-dir", str(in_the_way / "logs")]) == USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "cannot create the log directory" in err


def test_project_root_from_any_directory(tmp_path: Path) -> None:
    assert nightly.find_project_root(tmp_path) == REPO_ROOT


# --- the runner: order, logs and stop signals, with stand-in crawls ---------------------------

# A stand-in for `scrapy crawl`: records the signals it gets, stops on the first (like Scrapy's
# graceful shutdown, slowly enough that a second signal would be seen) with exit 1.
FAKE_CRAWL = """
import os, signal, sys, time
record = sys.argv[1]
def on_signal(signum, frame):
    with open(record, "a") as f:
        f.write(f"signal {signum}\\n")
    global stopping
    stopping = True
stopping = False
signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
with open(record, "a") as f:
    f.write(f"started pgid={os.getpgid(0)}\\n")
print("crawl output")
sys.stdout.flush()
deadline = time.monotonic() + 30
while not stopping and time.monotonic() < deadline:
    time.sleep(0.02)
time.sleep(0.5)
sys.exit(1 if stopping else 0)
"""

DRIVER = """
import json, sys
from pathlib import Path
from caci_spider.nightly import Runner, overall_status, report_lines
tmp = Path(sys.argv[1])
commands = [
    (name, [sys.executable, "-c", sys.argv[2], str(tmp / f"{name}.record")], tmp / f"{name}.log")
    for name in ("first", "second")
]
runner = Runner()
outcomes = runner.run(commands, cwd=tmp)
for line in report_lines(outcomes, runner.stopped_by):
    print(line, file=sys.stderr)
print(json.dumps([o.returncode for o in outcomes]))
sys.exit(overall_status(outcomes, stopped=runner.stopped_by is not None))
"""


def wait_for(path: Path, text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never appeared in {path}")


@pytest.mark.parametrize("to_group", [False, True], ids=["to-nightly", "to-its-process-group"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_reaches_the_running_crawl_once_and_the_next_is_not_started(
    tmp_path: Path, signum: int, to_group: bool
) -> None:
    """Sent to the nightly command alone (systemd's KillMode=mixed, kill PID) or to its process
    group (Ctrl-C in a terminal, `timeout`): the crawl sees exactly one signal."""
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(tmp_path), FAKE_CRAWL],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, to signal it as a terminal would
    )
    record = tmp_path / "first.record"
    wait_for(record, "started")
    if to_group:
        os.killpg(driver.pid, signum)
    else:
        driver.send_signal(signum)
    out, err = driver.communicate(timeout=30)
    assert driver.returncode == CRAWL_FAILED, err
    assert json.loads(out) == [CRAWL_FAILED, None]
    lines = record.read_text().splitlines()
    # SIGHUP would kill Scrapy outright: the crawl gets SIGTERM instead.
    received = signal.SIGTERM if signum == signal.SIGHUP else signum
    assert lines[1:] == [f"signal {received}"]  # once, not twice (a second forces Scrapy down)
    assert int(lines[0].split("=")[1]) != driver.pid  # the driver leads its own group
    assert not (tmp_path / "second.record").exists()
    name = signal.Signals(signum).name
    assert err.splitlines() == [
        f"caci_spider.nightly: first failed (exit 1), see {tmp_path / 'first.log'}",
        f"caci_spider.nightly: stopped by {name}; not started: second",
    ]
    log = (tmp_path / "first.log").read_text()
    assert log.startswith("crawl output\n")
    assert log.splitlines()[-1].endswith(f"scrapy crawl first failed (exit 1) after {name}")


def test_each_crawl_runs_in_order_into_its_own_log(tmp_path: Path) -> None:
    script = "import sys; print('out', sys.argv[1]); sys.exit(int(sys.argv[1]))"
    commands = [
        (name, [sys.executable, "-c", script, str(code)], tmp_path / f"{name}.log")
        for name, code in (("a", SKIPPED), ("b", OK), ("c", USAGE))
    ]
    (tmp_path / "a.log").write_text("an earlier run of the day\n")
    result = nightly.Runner().run(commands, cwd=tmp_path)
    assert [o.returncode for o in result] == [SKIPPED, OK, USAGE]
    a_log = (tmp_path / "a.log").read_text().splitlines()
    assert a_log[:2] == ["an earlier run of the day", "out 75"]  # appended
    assert a_log[-1].endswith(
        "[caci_spider.nightly] INFO: scrapy crawl a skipped: another run holds the database "
        "lock; the next run will try again (exit 75)"
    )
    assert (
        (tmp_path / "c.log")
        .read_text()
        .splitlines()[-1]
        .endswith("scrapy crawl c usage or configuration error (exit 2)")
    )
