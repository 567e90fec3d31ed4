"""The Scrapyd recipe of docs/scheduling.md, read out of the doc and run as printed.

A real Scrapyd starts from the doc's ``scrapyd.service`` and ``scrapyd.conf`` on a free loopback
port, in a temporary directory standing in for ``/srv``; ``scrapyd-deploy`` builds this project
(a copy of the checkout, as ``/srv/caci_spider``) into an egg and uploads it; the doc's curl
loop schedules both spiders against the local K2 site. Then: the rows in the database, the
exports, the job logs over HTTP, the exit statuses in Scrapyd's own log, a job scheduled while
another process holds the database lock (skipped, exit 75), a job whose self-check fails, and
the doc's sqlite-utils merge of two nodes' databases.
"""

from __future__ import annotations

import contextlib
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
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from caci_spider import __version__
from tests.conftest import REPO_ROOT
from tests.test_scheduling_recipes import PUBLICATIONS, SYSTEMD_PATH, doc_blocks, unit_blocks

PROJECT = "caci_spider"
DOC_PORT = "6800"
DOC_SITE = "http://127.0.0.1:8088"
DOC_TURKEY_SITE = "http://127.0.0.1:8089"  # the local site's second host
SPIDERS = ("publications", "staff_publications")
STARTUP_TIMEOUT = 30.0
JOB_TIMEOUT = 90.0
# What the local site's fixtures give (the demo's counts).
STAFF_PUBLICATIONS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def block(caption_part: str, language: str = "") -> str:
    """The body of the doc's one fenced block whose caption mentions ``caption_part``."""
    found = [
        b.body
        for b in doc_blocks()
        if b.heading == "Scrapyd"
        and caption_part in b.caption
        and (not language or b.language == language)
    ]
    assert len(found) == 1, (caption_part, len(found))
    return found[0]


@dataclass
class Node:
    """A Scrapyd node in ``tmp``: ``srv`` stands in for ``/srv``."""

    srv: Path
    home: Path
    port: int
    site: str
    turkey_site: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> Path:
        return self.srv / "scrapyd.out"

    def substitute(self, text: str) -> str:
        text = text.replace("/srv/", f"{self.srv}/").replace(DOC_SITE, self.site)
        text = text.replace(DOC_TURKEY_SITE, self.turkey_site)
        text = text.replace(f"localhost:{DOC_PORT}", f"127.0.0.1:{self.port}")
        return re.sub(rf"^(http_port\s*=\s*){DOC_PORT}$", rf"\g<1>{self.port}", text, flags=re.M)

    def env(self, path: str) -> dict[str, str]:
        return {"PATH": path, "HOME": str(self.home), "LANG": "C.UTF-8"}

    def bash(self, script: str, path: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-eo", "pipefail", "-c", self.substitute(script)],
            cwd=self.home,
            env=self.env(path),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def get(self, path: str, **query: str) -> str:
        url = f"{self.url}/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode("utf-8", "replace")

    def schedule(self, spider: str, settings: dict[str, str], **fields_: str) -> str:
        """``fields_``: more schedule.json parameters, such as ``_version``."""
        fields = [("project", PROJECT), ("spider", spider), *fields_.items()]
        fields += [("setting", f"{name}={value}") for name, value in settings.items()]
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(f"{self.url}/schedule.json", data, timeout=10) as response:
            answer = json.loads(response.read())
        assert answer["status"] == "ok", answer
        return str(answer["jobid"])

    def wait_finished(self, jobs: set[str]) -> dict[str, dict]:
        deadline = time.monotonic() + JOB_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process and self.process.poll() is None, self.output.read_text()
            listing = json.loads(self.get("listjobs.json", project=PROJECT))
            finished = {job["id"]: job for job in listing["finished"] if job["id"] in jobs}
            if set(finished) == jobs:
                return finished
            time.sleep(0.2)
        raise AssertionError(f"jobs {jobs} not finished: {listing}\n{self.output.read_text()}")

    def job_log(self, job: dict) -> str:
        assert job["log_url"] == f"/logs/{PROJECT}/{job['spider']}/{job['id']}.log", job
        return self.get(job["log_url"].lstrip("/"))

    def exit_line(self, job: str) -> str:
        """Scrapyd's own log line on how the job's process ended."""
        lines = [
            line
            for line in self.output.read_text("utf-8", "replace").splitlines()
            if re.search(r"Process (finished|died)", line) and f"job='{job}'" in line
        ]
        assert len(lines) == 1, (job, lines)
        return lines[0]


@pytest.fixture
def node(tmp_path: Path, local_site) -> Iterator[Node]:
    """The checkout as /srv/caci_spider, Scrapyd started as the doc's unit starts it."""
    pytest.importorskip("scrapyd", reason="Scrapyd is not installed: pip install -e '.[test]'")
    pytest.importorskip("scrapyd_client", reason="scrapyd-client is not installed")
    base_url, site = local_site
    srv = tmp_path / "srv"
    checkout = srv / "caci_spider"
    checkout.mkdir(parents=True)
    for name in ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, checkout)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO_ROOT / "caci_spider", checkout / "caci_spider", ignore=ignore)
    venv = Path(sys.executable).parents[1]
    assert (venv / "pyvenv.cfg").is_file(), "the tests must run in the project's virtualenv"
    (checkout / ".venv").symlink_to(venv, target_is_directory=True)
    home = tmp_path / "home"
    home.mkdir()
    node = Node(srv, home, free_port(), base_url, site.base_urls["turkeyanalyst"])

    conf = srv / "scrapyd" / "scrapyd.conf"
    conf.parent.mkdir()
    conf.write_text(node.substitute(block("scrapyd.conf", "ini")) + "\n", "utf-8")
    deploy_cfg = home / ".config" / "scrapy.cfg"
    deploy_cfg.parent.mkdir()
    deploy_cfg.write_text(node.substitute(block("~/.config/scrapy.cfg", "ini")) + "\n", "utf-8")

    service = unit_blocks()["scrapyd.service"]["Service"]
    env = node.env(SYSTEMD_PATH)
    for assignment in service.get("Environment", []):
        for word in shlex.split(assignment):
            name, _sep, value = word.partition("=")
            env[name] = node.substitute(value)
    (argv_line,) = service["ExecStart"]
    (workdir,) = service["WorkingDirectory"]
    with node.output.open("wb") as output:
        node.process = subprocess.Popen(
            shlex.split(node.substitute(argv_line)),
            cwd=node.substitute(workdir),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Scrapyd and its jobs: one process group to end
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if node.process.poll() is not None:
                log = node.output.read_text("utf-8", "replace")
                if re.search(r"^(ImportError|ModuleNotFoundError)\b", log, re.M):
                    pytest.skip(f"Scrapyd cannot start here: {log.strip().splitlines()[-1]}")
                raise AssertionError(f"Scrapyd exited {node.process.returncode}:\n{log}")
            try:
                status = json.loads(node.get("daemonstatus.json"))
            except OSError:
                status = {}
            if status.get("status") == "ok":
                break
            assert time.monotonic() < deadline, node.output.read_text("utf-8", "replace")
            time.sleep(0.1)
        yield node
    finally:
        stop(node.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End Scrapyd and every job it started (its process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def deploy(node: Node) -> str:
    """The doc's deploy; returns the version Scrapyd recorded for the egg."""
    result = node.bash(block("Deploy", "sh"), f"{node.home}/bin:/usr/bin:/bin", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    project_spiders = SpiderLoader.from_settings(get_project_settings()).list()
    assert answer["status"] == "ok" and answer["spiders"] == len(project_spiders), answer
    versions = json.loads(node.get("listversions.json", project=PROJECT))["versions"]
    assert len(versions) == 1, versions
    return str(versions[0])


def schedule_recipe(node: Node) -> dict[str, str]:
    """The doc's curl loop; returns spider → job id."""
    result = node.bash(block("Schedule both crawls", "sh"), "/usr/bin:/bin")
    assert result.returncode == 0, result.stdout + result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [a["status"] for a in answers] == ["ok", "ok"], answers
    return dict(zip(SPIDERS, (str(a["jobid"]) for a in answers), strict=True))


def table_count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute(f"select count(*) from {table}").fetchone()[0])


def runs(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "select spider, self_check, coalesce(problems, '') from crawl_runs order by id"
        ).fetchall()


def test_scrapyd_deploys_schedules_and_runs_the_crawls(node: Node) -> None:
    version = deploy(node)
    eggs = list((node.srv / "scrapyd" / "eggs" / PROJECT).glob("*.egg"))
    assert len(eggs) == 1, eggs
    # The egg ships the crawler, not its test world (local sites, demo, fixture catalogue).
    with zipfile.ZipFile(eggs[0]) as egg:
        names = egg.namelist()
    assert {"caci_spider/settings.py", "caci_spider/demo.py"} <= set(names), names
    assert [name for name in names if "testworld" in name or "localsite" in name] == []
    jobs = schedule_recipe(node)
    finished = node.wait_finished(set(jobs.values()))

    data = node.srv / "caci" / "local"  # CACI_DATA_DIR of the unit, relative paths of the jobs
    db = data / "caci.db"
    assert table_count(db, "publications") == PUBLICATIONS
    assert table_count(db, "staff_publications") == STAFF_PUBLICATIONS
    assert runs(db) == [("publications", "ok", "[]"), ("staff_publications", "ok", "[]")]
    for spider, rows in (
        ("publications", PUBLICATIONS),
        ("staff_publications", STAFF_PUBLICATIONS),
    ):
        lines = (data / f"{spider}.jsonl").read_text("utf-8").splitlines()
        assert len(lines) == rows and all(json.loads(line)["title"] for line in lines)
    assert (data / "httpcache" / "publications.sqlite").is_file()
    # Nothing written beside the egg, nor in Scrapyd's working directory.
    assert sorted(p.name for p in (node.srv / "scrapyd").iterdir()) == [
        "dbs",
        "eggs",
        "logs",
        "scrapyd.conf",
        "twistd.pid",
    ]

    for spider, job in jobs.items():
        log = node.job_log(finished[job])
        # The job ran the deployed egg's code, with its own paths.
        assert f"caci_spider {__version__} from {eggs[0]}/caci_spider; database {db}," in log
        assert re.search(rf"Run \d+ of {spider}: \d+ read, \d+ new, .*; self-check ok", log), log
        errors = [line for line in log.splitlines() if " ERROR: " in line]
        assert all("Gave up retrying" in line for line in errors), errors  # the 500 item
        assert "Process finished:" in node.exit_line(job)  # exit status 0

    # A job scheduled while another run holds the database lock is skipped (75); a job whose
    # self-check fails (the site is down) exits 1 and says why in its log and its database.
    # Both ask for the deployed version: Scrapyd passes it on as -a _version=…, which the
    # spiders accept like _job.
    down = f"http://127.0.0.1:{free_port()}"
    lock = Path(f"{db}.lock")
    with lock.open("r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.truncate()
        handle.write(f"4242 {time.time():.0f}\n".encode())
        handle.flush()
        settings = {"CACI_BASE_URL": node.site, "SILKROAD_BASE_URL": node.site}
        settings |= {"CACI_DB_PATH": "local/caci.db", "CACI_EXPORT_DIR": "local"}
        settings |= {"HTTPCACHE_DIR": "local/httpcache", "DOWNLOAD_DELAY": "0"}
        skipped = node.schedule("field_reports", settings, _version=version)
        settings |= {"CACI_BASE_URL": down, "SILKROAD_BASE_URL": down, "RETRY_TIMES": "0"}
        settings |= {"CACI_DB_PATH": "down/caci.db", "CACI_EXPORT_DIR": "down"}
        settings |= {"HTTPCACHE_DIR": "down/httpcache"}
        failed = node.schedule("field_reports", settings, _version=version)
        more = node.wait_finished({skipped, failed})
    log = node.job_log(more[skipped])
    assert re.search(
        rf"WARNING: another crawl holds {re.escape(str(lock))} \(pid 4242 since .*\): "
        "skipping this run",
        log,
    ), log
    assert "exitstatus=75" in node.exit_line(skipped)
    assert len(runs(db)) == 2  # the skipped job left no trace in the data

    log = node.job_log(more[failed])
    assert "_version" not in log  # taken in silence (DEBUG), not refused
    host = down.removeprefix("http://")
    assert f"ERROR: {host} did not answer (DownloadConnectionRefusedError" in log
    assert "exitstatus=1" in node.exit_line(failed)
    ((spider, verdict, problems),) = runs(node.srv / "caci" / "down" / "caci.db")
    assert (spider, verdict) == ("field_reports", "failed") and f"{host} did not answer" in problems

    merge_two_nodes(node, db)


def merge_two_nodes(node: Node, crawled: Path) -> None:
    """The doc's merge command on two nodes' databases that each lack what the other has."""
    nodes = node.srv / "merged" / "nodes"
    with sqlite3.connect(crawled) as connection:
        ids = connection.execute("select site, id from publications order by site, id").fetchall()
        staff = [row[0] for row in connection.execute("select id from staff_publications")]
    for index, name in enumerate(("node1", "node2")):
        copy = nodes / name / "caci.db"
        copy.parent.mkdir(parents=True)
        with sqlite3.connect(crawled) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        with sqlite3.connect(copy) as connection:
            # node1 has the even positions, node2 the odd ones, and node2 all staff rows.
            gone = [key for position, key in enumerate(ids) if position % 2 != index]
            connection.executemany("delete from publications where site = ? and id = ?", gone)
            if index == 0:
                connection.executemany(
                    "delete from staff_publications where id = ?", [(s,) for s in staff[:5]]
                )
        connection.close()

    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"  # sqlite-utils of the virtualenv
    result = node.bash(block("Merging the nodes", "sh"), path)
    assert result.returncode == 0, result.stdout + result.stderr
    merged = node.srv / "merged" / "caci.db"
    assert table_count(merged, "publications") == PUBLICATIONS
    assert table_count(merged, "staff_publications") == STAFF_PUBLICATIONS

    def search(db: Path) -> list[tuple[int, str]]:
        with sqlite3.connect(db) as connection:
            return connection.execute(
                "select p.site, p.id, p.title from publications p join publications_fts f "
                "on f.rowid = p.rowid where publications_fts match 'pipeline' order by p.site, p.id"
            ).fetchall()

    assert search(merged) == search(crawled) != []
    with sqlite3.connect(crawled) as a, sqlite3.connect(merged) as b:
        query = "select site, id, title, authors, tags, body from publications order by site, id"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_the_nightly_timer_schedules_what_the_recipe_schedules() -> None:
    """The timer's service calls the tested schedule.json once per spider, with the tested
    fields less the local site's settings (its jobs crawl the live sites: not run here)."""
    units = unit_blocks()
    assert units["caci-scrapyd-schedule.timer"]["Timer"]["OnCalendar"]
    service = units["caci-scrapyd-schedule.service"]["Service"]
    assert service["Type"] == ["oneshot"]
    recipe = shlex.split(block("Schedule both crawls", "sh").replace("\\\n", " "))
    local = {"CACI_BASE_URL", "SILKROAD_BASE_URL", "TURKEY_ANALYST_BASE_URL", "CACI_DB_PATH"}
    local |= {"CACI_EXPORT_DIR"}
    local |= {"HTTPCACHE_DIR", "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED"}
    spiders = []
    for line in service["ExecStart"]:
        argv = shlex.split(line)
        assert argv[:3] == ["/usr/bin/curl", "-fsS", recipe[recipe.index("curl") + 2]]
        fields = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "-d")
        assert fields["project"] == PROJECT
        spiders.append(fields["spider"])
        settings = [
            argv[i + 1] for i, a in enumerate(argv) if a == "-d" and "setting=" in argv[i + 1]
        ]
        assert {s.split("=")[1] for s in settings} == {"USER_AGENT"}
    assert tuple(spiders) == SPIDERS
    assert {w.split("=")[1] for w in recipe if w.startswith("setting=")} == local
