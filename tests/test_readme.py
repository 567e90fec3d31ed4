"""Every command block of README.md, run as printed, in a fresh virtualenv of a fresh copy of
the repository; then the local night in one command (``nightly --local``, ``localsite --crawl``).

No network: the fresh virtualenv reuses this one's installed packages (a ``.pth`` line to its
site-packages, and their console scripts) and pip runs with ``PIP_NO_INDEX``, so the README's
``pip install -e …`` finds every requirement satisfied and only installs the copy itself.
What the environment changes, and nothing else:

* the test block (``python -m pytest``) gets ``PYTEST_ADDOPTS`` naming one small test file: the
  whole suite inside the suite would take its minutes twice;
* the live-site blocks (``scrapy crawl publications``, the nightly) get ``CACI_SITE=local:<port>``
  in the environment and a local site on that port: no machine here reaches the live sites.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import socket
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from caci_spider.testworld.localsite import LocalK2Site, other_ports, serve
from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
SMALL_TEST_FILE = "tests/test_sitechoice.py"


def readme_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", README.read_text("utf-8"), flags=re.M | re.S)


def block(containing: str) -> str:
    (found,) = [b for b in readme_blocks() if containing in b]
    return found


def repository_copy(destination: Path) -> Path:
    """The repository's files (tracked and new, not ignored) as a fresh clone has them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return destination


def reuse_installed_packages(venv: Path) -> None:
    """``venv`` sees this virtualenv's packages and has their console scripts (scrapy,
    sqlite-utils, datasette, mkdocs, pip, …), run by its own interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    relative = site_packages.relative_to(sys.prefix)
    (venv / relative / "_installed_packages.pth").write_text(f"{site_packages}\n")
    for dist in importlib.metadata.distributions(path=[str(site_packages)]):
        for entry in dist.entry_points.select(group="console_scripts"):
            script = venv / "bin" / entry.name
            if script.exists():
                continue
            module, _, attribute = entry.value.partition(":")
            script.write_text(
                f"#!{venv / 'bin' / 'python'}\n"
                "import importlib, sys\n"
                f"target = importlib.import_module({module.strip()!r})\n"
                f"for name in {attribute.strip()!r}.split('.'):\n"
                "    target = getattr(target, name)\n"
                "sys.exit(target())\n"
            )
            script.chmod(0o755)


def free_port_pair() -> int:
    """A port whose next one up is free too (the local site's two hosts)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65534:
            continue
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two free ports in a row")


def shell_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(
        # python3 is this interpreter's version, whose packages the fresh virtualenv reuses.
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip's spelling of --no-build-isolation
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        NO_MKDOCS_2_WARNING="1",
        **extra,
    )
    return env


def run_block(text: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """A README block as printed, line by line in one shell, stopping at the first failure."""
    return subprocess.run(
        ["bash", "-e", "-c", text],
        cwd=cwd,
        env=shell_env(**extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


def last_log_line(output: str) -> str:
    lines = [line for line in output.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    return lines[-1] if lines else ""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the repository after the README's first command (set up and demo), and what
    that command printed."""
    root = repository_copy(tmp_path_factory.mktemp("readme") / "checkout")
    reuse_installed_packages(root / ".venv")
    result = run_block(block("caci_spider.demo"), root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root, result.stdout


@pytest.fixture(scope="module")
def clone(installed: tuple[Path, str]) -> Path:
    return installed[0]


def test_every_block_is_run_here() -> None:
    names = ["caci_spider.demo", "pytest", "scrapy crawl publications", "nightly --jobdir",
             "mkdocs build"]  # fmt: skip
    assert sorted(readme_blocks()) == sorted(block(name) for name in names)


def test_the_first_command_installs_and_shows_where_the_data_is(installed) -> None:
    clone, output = installed
    # The copy's own package was installed into the fresh virtualenv, in editable mode.
    python = str(clone / ".venv" / "bin" / "python")
    imported = subprocess.run(
        [python, "-c", "import caci_spider; print(caci_spider.__file__)"],
        cwd=clone.parent,  # not the copy itself: its package comes from the install
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert Path(imported.strip()) == clone / "caci_spider" / "__init__.py"
    assert "Stored in exports/demo/caci.db, by site and section:" in output
    assert "EXPECTED" not in output and "NOT " not in output
    browse = output.rstrip().splitlines()[-1].split()
    assert browse[1] == "exports/demo/caci.db" and browse[0].endswith("datasette")
    assert (clone / "exports" / "demo" / "caci.db").is_file()


def test_the_test_command(clone: Path) -> None:
    result = run_block(block("pytest"), clone, PYTEST_ADDOPTS=f"-n 0 -q {SMALL_TEST_FILE}")
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\d+ passed", result.stdout)


def test_the_documentation_command(clone: Path) -> None:
    result = run_block(block("mkdocs build"), clone)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert (clone / "site" / "index.html").is_file()


def test_the_real_job_and_a_local_night_in_one_command(clone: Path) -> None:
    port = free_port_pair()
    local = clone / "exports" / f"local-{port}"
    with serve(LocalK2Site(), "127.0.0.1", port, other_ports(port)):
        job = run_block(block("scrapy crawl publications"), clone, CACI_SITE=f"local:{port}")
        assert job.returncode == 0, job.stderr[-4000:]
        # The verdict is the last thing printed: after Scrapy's stats dump, the run line.
        verdict = last_log_line(job.stderr)
        assert "[caci_spider.extensions] INFO: Run " in verdict, job.stderr[-3000:]
        assert " of staff_publications: " in verdict and verdict.endswith("self-check ok")
        assert "Dumping Scrapy stats" in job.stderr

        nightly = run_block(block("nightly --jobdir"), clone, CACI_SITE=f"local:{port}")
        assert (nightly.returncode, nightly.stdout, nightly.stderr) == (0, "", "")
    logs = sorted((clone / "logs").glob("publications-*.log"))
    lines = logs[-1].read_text("utf-8").splitlines()
    assert "[caci_spider.extensions] INFO: Run " in lines[-2]  # before the nightly's own line

    # The same night with the local site served by the command itself, one word for it all.
    night = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), "-m", "caci_spider.nightly", "--local",
         "--port", str(port)],
        cwd=clone, env=shell_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert night.returncode == 0, night.stdout + night.stderr
    said = night.stdout.splitlines()
    assert said[0] == f"caci_spider.nightly: the local night's data is in {local}/"
    assert [line.split(": ", 2)[1].split(" of ")[0][:4] for line in said[1:]] == ["Run "] * 2
    assert all("self-check ok (log: " + str(local / "logs") in line for line in said[1:])

    crawl = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), "-m", "caci_spider.testworld.localsite", "--port",
         str(port), "--crawl", "publications"],
        cwd=clone, env=shell_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert crawl.returncode == 0, crawl.stdout[-3000:] + crawl.stderr[-3000:]
    assert crawl.stdout.startswith(f"$ scrapy crawl publications -s CACI_SITE=local:{port}\n")
    data, tables, browse = crawl.stdout.rstrip().splitlines()[-3:]
    assert data.startswith(f"The data: exports/local-{port}/caci.db ")
    assert tables.split()[:3] == ["sqlite-utils", "tables", f"exports/local-{port}/caci.db"]
    assert browse.split()[:2] == ["datasette", f"exports/local-{port}/caci.db"]
    assert last_log_line(crawl.stderr).endswith("self-check ok")

    # Four nights, all into the local site's own database; the production one never made.
    with sqlite3.connect(local / "caci.db") as connection:
        runs = connection.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
        rows = connection.execute("SELECT count(*) FROM publications").fetchone()[0]
    assert runs == 2 + 2 + 2 + 1 and rows > 0
    assert not (clone / "exports" / "caci.db").exists()
