"""A JOBDIR is resumed only when its run stopped cleanly (caci_spider.jobdir)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from caci_spider.jobdir import (
    FINISHED_MARK,
    RUNNING_MARK,
    VERSION_MARK,
    leave_jobdir,
    prepare_jobdir,
)
from caci_spider.versions import JOBDIR_VERSION

MARKS = sorted([RUNNING_MARK, VERSION_MARK])


def job_with(tmp_path: Path, *marks: str, version: str | None = f"{JOBDIR_VERSION}\n") -> Path:
    jobdir = tmp_path / "job"
    (jobdir / "requests.queue").mkdir(parents=True)
    (jobdir / "spider.state").write_bytes(b"state of the last run")
    if version is not None:
        (jobdir / VERSION_MARK).write_text(version)
    for mark in marks:
        (jobdir / mark).touch()
    return jobdir


def test_a_new_jobdir_is_made_and_marked_running(tmp_path: Path) -> None:
    jobdir = tmp_path / "jobs" / "field_reports"
    prepare_jobdir(str(jobdir))
    assert sorted(p.name for p in jobdir.iterdir()) == MARKS


def test_a_stopped_run_is_resumed(tmp_path: Path) -> None:
    jobdir = job_with(tmp_path)
    prepare_jobdir(str(jobdir))
    assert (jobdir / "spider.state").read_bytes() == b"state of the last run"
    assert (jobdir / RUNNING_MARK).exists()


def test_a_killed_run_is_not_resumed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    jobdir = job_with(tmp_path, RUNNING_MARK)
    with caplog.at_level(logging.WARNING, logger="caci_spider.jobdir"):
        prepare_jobdir(str(jobdir))
    assert sorted(p.name for p in jobdir.iterdir()) == MARKS
    assert "killed before it could stop cleanly" in caplog.text
    assert str(jobdir.resolve()) in caplog.text


def test_a_finished_run_is_not_resumed_and_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    jobdir = job_with(tmp_path, FINISHED_MARK)
    with caplog.at_level(logging.WARNING, logger="caci_spider.jobdir"):
        prepare_jobdir(str(jobdir))
    assert sorted(p.name for p in jobdir.iterdir()) == MARKS
    assert caplog.records == []


@pytest.mark.parametrize(("finished", "marks"), [(True, [FINISHED_MARK]), (False, [])])
def test_leaving_marks_a_finished_run_spent_and_a_stopped_one_resumable(
    tmp_path: Path, finished: bool, marks: list[str]
) -> None:
    jobdir = job_with(tmp_path, RUNNING_MARK)
    leave_jobdir(str(jobdir), finished=finished)
    assert (
        sorted(
            p.name for p in jobdir.iterdir() if p.name.startswith(".") and p.name != VERSION_MARK
        )
        == marks
    )
    assert (jobdir / "spider.state").exists()


def test_without_a_jobdir_nothing_happens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    prepare_jobdir(None)
    prepare_jobdir("")
    leave_jobdir(None, finished=True)
    leave_jobdir(str(tmp_path / "gone"), finished=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("version", "said"), [(None, "version none"), (f"{JOBDIR_VERSION + 1}", "another release")]
)
def test_a_stopped_run_of_another_release_is_started_afresh_with_one_info_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, version: str | None, said: str
) -> None:
    # Before JOBDIRs were versioned (no mark), or by a newer release: never resumed.
    jobdir = job_with(tmp_path, version=version)
    with caplog.at_level(logging.INFO, logger="caci_spider.jobdir"):
        prepare_jobdir(str(jobdir))
    assert sorted(p.name for p in jobdir.iterdir()) == MARKS
    assert (jobdir / VERSION_MARK).read_text() == f"{JOBDIR_VERSION}\n"
    assert [(r.levelname, said in r.getMessage()) for r in caplog.records] == [("INFO", True)]
    assert str(jobdir.resolve()) in caplog.text


def test_an_empty_jobdir_is_not_reported(tmp_path: Path, caplog) -> None:
    (tmp_path / "job").mkdir()  # as the preflight's writability check leaves it
    with caplog.at_level(logging.INFO, logger="caci_spider.jobdir"):
        prepare_jobdir(str(tmp_path / "job"))
    assert caplog.records == []
