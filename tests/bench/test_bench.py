"""The benchmark suite keeps working: its data generator and one benchmark at a tiny size.

Nothing here times anything (performance is measured by ``python -m bench``, never asserted).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import datagen
from bench.measure import tree_cpu_seconds

TINY = datagen.Size(members=3, contacts=6, interactions=25, seed=3)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(datagen, "DATA_DIR", tmp_path)
    return tmp_path


def test_generator_writes_the_schema_consistently(data_dir: Path) -> None:
    path = datagen.sqlite_database(TINY)
    assert path.parent == data_dir
    db = sqlite3.connect(path)
    counts = {
        t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("members", "contacts", "interactions")
    }
    assert counts == {"members": 3, "contacts": 18, "interactions": 75}
    # Every contact's last touch is its newest interaction (or being introduced to them).
    stale = db.execute(
        """
        WITH touches AS (
            SELECT contact_id AS cid, occurred_at AS at FROM interactions
            UNION ALL
            SELECT related_contact_id, occurred_at FROM interactions
            WHERE kind = 'intro_received' AND related_contact_id IS NOT NULL
        )
        SELECT count(*) FROM contacts c
        WHERE c.last_touch_at IS NOT (SELECT max(at) FROM touches WHERE cid = c.id)
        """
    ).fetchone()[0]
    assert stale == 0
    # Every contact's kept balance is its ledger's sum, as the app keeps it.
    off = db.execute(
        """
        SELECT count(*) FROM contacts c
        WHERE c.balance != (
            SELECT coalesce(sum(CASE
                WHEN kind IN ('favour_given', 'intro_made') THEN 1
                WHEN kind IN ('favour_received', 'intro_received') THEN -1
                ELSE 0 END), 0)
            FROM interactions i WHERE i.contact_id = c.id
        )
        """
    ).fetchone()[0]
    assert off == 0
    assert db.execute("SELECT count(*) FROM contacts WHERE balance != 0").fetchone()[0] > 0
    # No member sees another's contacts: interactions point at their own member's contacts.
    crossed = db.execute(
        "SELECT count(*) FROM interactions i JOIN contacts c ON c.id = i.contact_id "
        "WHERE c.member_id != i.member_id"
    ).fetchone()[0]
    assert crossed == 0
    kinds = {k for (k,) in db.execute("SELECT DISTINCT kind FROM interactions")}
    assert {"favour_received", "favour_given", "catch_up"} <= kinds
    db.close()
    # Deterministic and cached: asking again reuses the same file.
    assert datagen.sqlite_database(TINY) == path


@pytest.mark.slow
def test_nudge_plan_prints_its_json_line(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        bench_main,
        "TINY",
        bench_main.Sizes(ack=bench_main.TINY.ack, plan=(TINY,), send=TINY, scale=TINY),
    )
    printed: list[str] = []
    out = tmp_path / "results.json"
    argv = ["--tiny", "--only", "nudge_plan", "--backend", "sqlite", "--out", str(out)]
    assert bench_main.main(argv, emit=printed.append) == 0
    lines = [json.loads(x) for x in printed]
    assert out.read_text().splitlines() == printed
    [plan] = [x for x in lines if x["name"] == "nudge_plan"]
    keys = {"name", "backend", "members", "seconds", "raw_sql_seconds", "ratio"}
    assert keys | {"peak_rss_mb", "queries"} <= plan.keys()
    assert plan["backend"] == "sqlite"
    assert plan["members"] == 3
    assert plan["queries"] > 0
    assert plan["peak_rss_mb"] > 0
    assert plan["planned"] > 0
    assert plan["runs"] == len(plan["seconds_runs"]) == len(plan["raw_sql_seconds_runs"]) == 3
    assert isinstance(plan["seconds"], float) and plan["seconds"] >= 0
    assert isinstance(plan["raw_sql_seconds"], float) and plan["raw_sql_seconds"] >= 0


def test_a_servers_cpu_counts_its_workers() -> None:
    """``tree_cpu_seconds`` adds up a process and its live children, as gunicorn's master and
    its workers (the HTTP lines' ``ally_server_cpu_ms``)."""
    # The worker burns 0.3 s of CPU, then both wait for their shared stdin to close.
    worker = (
        "import sys, time\n"
        "end = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass\n"
        "sys.stdin.read()\n"
    )
    master = (
        "import subprocess, sys\n"
        f"child = subprocess.Popen([sys.executable, '-c', {worker!r}])\n"
        "sys.stdin.read()\n"
        "child.wait()\n"
    )
    server = subprocess.Popen([sys.executable, "-c", master], stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while (tree_cpu_seconds(server.pid) or 0) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        spent = tree_cpu_seconds(server.pid)
        assert spent is not None and spent >= 0.3
    finally:
        server.communicate(timeout=20)
    assert tree_cpu_seconds(server.pid) is None  # gone


@pytest.mark.slow
def test_nudge_send_scale_prints_its_json_lines(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        bench_main,
        "TINY",
        bench_main.Sizes(ack=bench_main.TINY.ack, plan=(TINY,), send=TINY, scale=TINY),
    )
    printed: list[str] = []
    out = tmp_path / "results.json"
    argv = ["--tiny", "--only", "nudge_send_scale", "--backend", "sqlite", "--out", str(out)]
    assert bench_main.main(argv, emit=printed.append) == 0
    lines = [json.loads(x) for x in printed if json.loads(x)["name"] == "nudge_send_scale"]
    assert [x["scenario"] for x in lines] == ["one_workspace", "two_workspaces", "sender_killed"]
    keys = {"members", "workspaces", "minutes_to_last_dm", "lower_bound_minutes", "ratio"}
    for line in lines:
        assert keys | {"calls_per_dm", "duplicates", "missing"} <= line.keys()
        assert (line["duplicates"], line["missing"]) == (0, 0)
        assert line["dms"] == line["recorded_sent"] > 0
        assert 1 <= line["calls_per_dm"] <= 1.25
    assert [x["workspaces"] for x in lines] == [1, 2, 1]


def test_calendar_sync_prints_its_json_line(data_dir: Path, tmp_path: Path) -> None:
    printed: list[str] = []
    out = tmp_path / "results.json"
    argv = ["--tiny", "--only", "calendar_sync", "--backend", "sqlite", "--out", str(out)]
    assert bench_main.main(argv, emit=printed.append) == 0
    [line] = [json.loads(x) for x in printed if '"calendar_sync"' in x]
    assert (line["members"], line["events_per_feed"]) == bench_main.TINY.calendar
    assert line["synced"] == line["members"] and line["failed"] == 0
    assert line["logged"] > 0 and line["resync_logged"] == 0
    assert line["peak_rss_mb"] > 0
