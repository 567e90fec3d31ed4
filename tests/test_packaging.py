"""What a wheel and the Scrapyd egg ship: the crawler, not its test world.

The test world (``caci_spider.testworld``: the local K2 sites, the demo's expectations, the
fixture catalogue, the draft tool) reads the checkout's ``fixtures/``; pyproject.toml leaves it
out of the distribution. The packages are the ones setuptools computes from pyproject.toml, and
the files are what ``build_py`` (the step both ``bdist_wheel`` and ``bdist_egg`` copy from)
lays out; tests/test_scrapyd.py checks the real egg scrapyd-deploy builds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from setuptools.config.pyprojecttoml import apply_configuration
from setuptools.dist import Distribution

from caci_spider import exitcodes
from tests.conftest import REPO_ROOT

TEST_WORLD = "caci_spider.testworld"


def test_setuptools_leaves_the_test_world_out_of_the_packages(monkeypatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    packages = set(apply_configuration(Distribution(), "pyproject.toml").packages or ())
    assert {"caci_spider", "caci_spider.pages", "caci_spider.spiders"} <= packages
    shipped = [p for p in packages if p == TEST_WORLD or p.startswith(f"{TEST_WORLD}.")]
    assert shipped == [], shipped


def test_the_built_package_has_no_test_world_and_its_demo_says_so(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(tmp_path),
         "build_py", "--build-lib", str(lib)],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    files = {p.relative_to(lib).as_posix() for p in lib.rglob("*") if p.is_file()}
    assert {"caci_spider/settings.py", "caci_spider/demo.py", "caci_spider/sitechoice.py"} <= files
    leaked = sorted(f for f in files if "testworld" in f or "localsite" in f)
    assert leaked == [], leaked
    assert not any(f.startswith("caci_spider/pages/") and "fixtures" in f for f in files)

    # The shipped entry point, run from the built files alone: -S leaves out site-packages,
    # whose editable install would find the checkout's test world. One line, the usage status.
    env = {**os.environ, "PYTHONPATH": str(lib)}
    demo = subprocess.run(
        [sys.executable, "-S", "-m", "caci_spider.demo"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert demo.returncode == exitcodes.USAGE, demo.stdout + demo.stderr
    assert demo.stdout == ""
    (line,) = demo.stderr.splitlines()
    assert line.startswith("caci_spider.demo: the demo runs from a checkout of the repository")
