"""SIGKILL at random moments, and readers during a crawl."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

import sqlite_utils

from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command
from tests.conftest import FIXTURES, GOOD_FIELD_REPORTS, REPO_ROOT, run_crawl


def check_database(path) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # FTS5's own check: raises when the index disagrees with publications.
        conn.execute("INSERT INTO publications_fts(publications_fts) VALUES('integrity-check')")
        fts, rows = (
            conn.execute("SELECT count(*) FROM publications_fts").fetchone()[0],
            conn.execute("SELECT count(*) FROM publications").fetchone()[0],
        )
        assert fts == rows


def test_sigkill_at_random_moments_loses_nothing(tmp_path) -> None:
    rng = random.Random(20261127)  # reproducible "random" moments
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        # A complete export from an earlier run: after a kill it must still be complete.
        run_crawl("field_reports", base_url, tmp_path)
        export = tmp_path / "field_reports.jsonl"
        previous = export.read_bytes()
        db = tmp_path / "caci.db"
        with sqlite3.connect(db) as conn:  # start over so that the killed runs write rows
            conn.execute("DELETE FROM publications")
        site.item_delay = 0.05
        for _ in range(3):
            process = subprocess.Popen(
                crawl_command("field_reports", base_url, tmp_path) + ["-a", "mode=full"],
                cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(rng.uniform(0.8, 2.5))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            check_database(db)
            content = export.read_bytes()
            assert content == previous or all(json.loads(x) for x in content.splitlines())
        site.item_delay = 0
        # The next run completes (a walk: a feed-first night only fetches what its feed lists).
        run_crawl("field_reports", base_url, tmp_path, "-a", "walk=listing")
    check_database(db)
    assert sqlite_utils.Database(db)["publications"].count == GOOD_FIELD_REPORTS
    assert [json.loads(line)["id"] for line in export.read_text("utf-8").splitlines()] == sorted(
        r["id"] for r in sqlite_utils.Database(db)["publications"].rows
    )


def test_a_reader_during_a_crawl_is_never_locked_out(tmp_path) -> None:
    db_path = tmp_path / "caci.db"
    errors: list[str] = []
    reads = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            if db_path.exists():
                try:
                    with sqlite3.connect(db_path, timeout=0.2) as conn:
                        conn.execute("SELECT count(*) FROM publications").fetchone()
                        conn.execute(
                            "SELECT rowid FROM publications_fts WHERE publications_fts MATCH 'the'"
                        ).fetchall()
                        reads += 1
                except sqlite3.OperationalError as error:
                    # Until the first crawl has created its tables (and their full-text index:
                    # "vtable constructor failed" while it is being built), there is nothing
                    # to read; from the first good read on, every error counts.
                    if reads and "no such table" not in str(error):
                        errors.append(str(error))
            time.sleep(0.005)

    with serve(LocalK2Site(FIXTURES)) as (base_url, _site):
        thread = threading.Thread(target=reader)
        thread.start()
        try:
            run_crawl("field_reports", base_url, tmp_path)
            run_crawl("field_reports", base_url, tmp_path, "-a", "mode=full")
        finally:
            stop.set()
            thread.join()
    assert reads > 50
    assert errors == []
