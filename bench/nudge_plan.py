"""``nudge_plan``: planning a week's nudges for every member, next to a raw SQL lower bound.

The planner is the nudges module's entry point ``bot.nudges.plan(sessions, now)``: it yields
each batch of due members with what their DM will say, without writing. It runs in a fresh
child process so that ``peak_rss_mb`` is the planner's own, with every statement counted by an
SQLAlchemy ``before_cursor_execute`` listener. The lower bound, in another fresh child, is one
raw SQL pass over the same tables computing each contact's last interaction.
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
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


def missing() -> str | None:
    """None when the planning entry point exists on this checkout, else what is missing."""
    if importlib.util.find_spec("bot.nudges") is None:
        return "bot.nudges (the nudges branch) is not merged: nothing to plan with"
    import bot.nudges

    if not hasattr(bot.nudges, "plan"):
        return "bot.nudges.plan(sessions, now) is missing"
    return None


def plan_in_child(url: str) -> dict[str, Any]:
    """Plan every due nudge at PLAN_AT; runs in a fresh interpreter."""
    from bot.nudges import plan
    from storage.db import make_engine, make_session_factory

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    planned = batches = with_news = 0
    cpu = cpu_seconds()
    with counting_statements(engine) as counter, stopwatch() as elapsed:
        for batch in plan(sessions, PLAN_AT):
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


def run(backend: str, size: datagen.Size) -> dict[str, Any]:
    # Planning does not write, but a private copy keeps the cache pristine whatever it does.
    url = datagen.work_copy(backend, size, "plan")
    try:
        # The lower bound first, so neither gets a page cache the other warmed up alone.
        in_child(raw_sql_in_child, url)
        raw = in_child(raw_sql_in_child, url)
        planner = in_child(plan_in_child, url)
    finally:
        datagen.discard(url)
    return {
        "name": "nudge_plan",
        "backend": backend,
        "members": size.members,
        "seconds": round(planner["seconds"], 3),
        "raw_sql_seconds": round(raw["seconds"], 3),
        "ratio": round(planner["seconds"] / raw["seconds"], 2) if raw["seconds"] else None,
        # CPU time of the planning process alone (the database server's is not in it): on a
        # shared machine this moves less than the wall clock.
        "cpu_seconds": round(planner["cpu_seconds"], 3),
        "raw_sql_cpu_seconds": round(raw["cpu_seconds"], 3),
        "peak_rss_mb": planner["peak_rss_mb"],
        "queries": planner["queries"],
        "batches": planner["batches"],
        "planned": planner["planned"],
        "with_news": planner["with_news"],
    }
