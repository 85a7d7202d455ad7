"""``nudge_plan``: planning a week's nudges for every member, next to a raw SQL lower bound.

The planner is ``bot.nudges.planning.planned_batches(sessions, now)``: it yields
each batch of due members with what their DM will say, without writing. It runs in a fresh
child process so that ``peak_rss_mb`` is the planner's own, with every statement counted by an
SQLAlchemy ``before_cursor_execute`` listener. The lower bound, in another fresh child, is one
raw SQL pass over the same tables computing each contact's last interaction. Each planning run
follows its own lower-bound run, and the line reports the medians of several such pairs.
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from statistics import median
from typing import Any

from bench import datagen
from bench.measure import counting_statements, cpu_seconds, in_child, peak_rss_mb, stopwatch

# The Sunday of the generated data's week, 10:00 UTC: in every generated time zone it is still
# that ISO week and every weekday slot (Monday to Friday, 08:00-17:00) has passed, so every
# member with nudges on is due.
PLAN_AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
# Joined on (member_id, contact_id) so it reads the (member_id, contact_id, occurred_at) index,
# the best plan either database has for it.
LAST_INTERACTION_SQL = (
    "SELECT c.id, max(i.occurred_at) FROM contacts c "
    "LEFT JOIN interactions i ON i.member_id = c.member_id AND i.contact_id = c.id "
    "GROUP BY c.id"
)
# What every child imports: loaded once by the fork server rather than by each child.
CHILD_MODULES = ("bench.nudge_plan", "bot.nudges.planning", "storage.db")


def missing() -> str | None:
    """None when the planning entry point exists on this checkout, else what is missing."""
    if importlib.util.find_spec("bot.nudges.planning") is None:
        return "bot.nudges.planning (the nudges branch) is not merged: nothing to plan with"
    import bot.nudges.planning

    if not hasattr(bot.nudges.planning, "planned_batches"):
        return "bot.nudges.planning.planned_batches(sessions, now) is missing"
    return None


def plan_in_child(url: str) -> dict[str, Any]:
    """Plan every due nudge at PLAN_AT; runs in a fresh interpreter."""
    from bot.nudges.planning import planned_batches
    from storage.db import make_engine, make_session_factory

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    planned = batches = with_news = 0
    cpu = cpu_seconds()
    with counting_statements(engine) as counter, stopwatch() as elapsed:
        for batch in planned_batches(sessions, PLAN_AT):
            batches += 1
            planned += len(batch)
            with_news += sum(1 for p in batch if p.content.has_news)
    cpu = cpu_seconds() - cpu
    engine.dispose()
    return {
        "seconds": elapsed[0],
        "cpu_seconds": cpu,
        "queries": counter.count,
        "peak_rss_mb": peak_rss_mb(),
        "planned": planned,
        "with_news": with_news,
        "batches": batches,
    }


def raw_sql_in_child(url: str) -> dict[str, Any]:
    """Each contact's last interaction in one raw statement through the DBAPI cursor."""
    from storage.db import make_engine

    engine = make_engine(url)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cpu = cpu_seconds()
        with stopwatch() as elapsed:
            cursor.execute(LAST_INTERACTION_SQL)
            rows = len(cursor.fetchall())
        cpu = cpu_seconds() - cpu
        cursor.close()
    finally:
        connection.close()
        engine.dispose()
    return {"seconds": elapsed[0], "cpu_seconds": cpu, "rows": rows}


def run(backend: str, size: datagen.Size, runs: int = 1) -> dict[str, Any]:
    """Plan ``size`` on ``backend`` ``runs`` times, each right after its lower bound.

    The machine's speed drifts between measurements minutes apart, so each planning run is
    paired with a lower-bound run just before it, and the line reports medians: ``seconds``
    and ``raw_sql_seconds`` over the runs, ``ratio`` over the pairs.
    """
    # Planning does not write, but a private copy keeps the cache pristine whatever it does.
    url = datagen.work_copy(backend, size, "plan")
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    try:
        # A lower-bound run first, not kept, so that every kept run starts on a warm cache.
        in_child(raw_sql_in_child, url, preload=CHILD_MODULES)
        for _ in range(max(1, runs)):
            raw = in_child(raw_sql_in_child, url, preload=CHILD_MODULES)
            pairs.append((raw, in_child(plan_in_child, url, preload=CHILD_MODULES)))
    finally:
        datagen.discard(url)
    raws = [raw for raw, _ in pairs]
    plans = [planner for _, planner in pairs]
    ratios = [p["seconds"] / r["seconds"] for r, p in pairs if r["seconds"]]
    last = plans[-1]
    return {
        "name": "nudge_plan",
        "backend": backend,
        "members": size.members,
        "seconds": round(median(p["seconds"] for p in plans), 3),
        "raw_sql_seconds": round(median(r["seconds"] for r in raws), 3),
        "ratio": round(median(ratios), 2) if ratios else None,
        "runs": len(pairs),
        "seconds_runs": [round(p["seconds"], 3) for p in plans],
        "raw_sql_seconds_runs": [round(r["seconds"], 3) for r in raws],
        # CPU time of the planning process alone (the database server's is not in it): on a
        # shared machine this moves less than the wall clock.
        "cpu_seconds": round(median(p["cpu_seconds"] for p in plans), 3),
        "raw_sql_cpu_seconds": round(median(r["cpu_seconds"] for r in raws), 3),
        "peak_rss_mb": max(p["peak_rss_mb"] for p in plans),
        # The same in every run (the planner is deterministic): the last run's.
        "queries": last["queries"],
        "batches": last["batches"],
        "planned": last["planned"],
        "with_news": last["with_news"],
    }
