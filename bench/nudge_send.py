"""``nudge_send``: delivering a week of nudge DMs to the fake Slack while it answers 5% with 429.

The sender is ``bot.nudges.delivery.Delivery(runtime, client).run(now)``, with the app's own
Web API client and retry policy (``bot.platform.app.web_client``). The fake Slack answers every
20th ``chat.postMessage`` with HTTP 429 and ``Retry-After: 0`` (slack_sdk still waits up to a
second of jitter before retrying). Afterwards every DM Slack accepted is counted per member:
``duplicates`` are extra DMs to anyone, ``missing`` are members who had something to say (per
``bot.nudges.planning.planned_batches`` before the run) and got no DM.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from bench import datagen
from bench.measure import stopwatch
from bench.nudge_plan import PLAN_AT
from tests.support.fake_slack import FakeSlack, Params

if TYPE_CHECKING:
    from bot.platform.runtime import Runtime

SECRET = "bench-signing-secret"
FAIL_EVERY = 20  # 5%


def missing() -> str | None:
    """None when the delivery entry point exists on this checkout, else what is missing."""
    for module in ("bot.nudges.planning", "bot.nudges.delivery"):
        if importlib.util.find_spec(module) is None:
            return f"{module} (the nudges branch) is not merged: nothing to deliver with"
    import bot.nudges.delivery

    if not hasattr(bot.nudges.delivery, "Delivery"):
        return "bot.nudges.delivery.Delivery(runtime, client).run(now) is missing"
    return None


class RateLimitedSlack:
    """Wraps the fake's chat.postMessage: every ``FAIL_EVERY``-th call is a 429."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.calls = itertools.count(1)
        self.lock = threading.Lock()
        self.limited = 0
        self.accepted: Counter[str] = Counter()
        fake.on("chat.postMessage", self.post)

    def post(self, params: Params) -> Any:
        with self.lock:
            n = next(self.calls)
        if n % FAIL_EVERY == 0:
            with self.lock:
                self.limited += 1
            return 429, {"Retry-After": "0"}, {"ok": False, "error": "ratelimited"}
        answer = self.fake._chat_postMessage(params)
        with self.lock:
            self.accepted[str(params.get("channel"))] += 1
        return answer


def members_with_news(runtime: Runtime) -> set[str]:
    """The members whose DM has something to say at ``PLAN_AT``: each should get one."""
    from bot.nudges.planning import planned_batches

    return {
        p.member.ref.user_id
        for batch in planned_batches(runtime.sessions, PLAN_AT)
        for p in batch
        if p.content.has_news
    }


def dms_recorded(runtime: Runtime) -> int:
    """How many weekly DMs the database records as sent."""
    with runtime.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM nudges WHERE status = 'sent'")
            ).scalar_one()
        )


def run(backend: str, size: datagen.Size) -> dict[str, Any]:
    from bot.nudges.delivery import Delivery
    from bot.platform.app import web_client
    from bot.platform.config import settings_from_env
    from bot.platform.runtime import Runtime

    logging.getLogger("bot").setLevel(logging.ERROR)
    url = datagen.work_copy(backend, size, "send")
    fake = FakeSlack().start()
    fake.add_token("xoxb-bench", "T1")
    try:
        engine_rows = _members(url)
        for _, user_id, tz in engine_rows:
            fake.add_user(user_id, f"Member {user_id}", tz=tz)
        limiter = RateLimitedSlack(fake)
        settings = settings_from_env(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.base_url,
                "DATABASE_URL": url,
                "ALLY_SCHEDULER": "off",
            }
        )
        runtime = Runtime.start(settings, clock=lambda: PLAN_AT, sleep=fake.sleep)
        try:
            expected = members_with_news(runtime)
            with stopwatch() as elapsed:
                summary = Delivery(runtime, web_client(runtime)).run(PLAN_AT)
            recorded = dms_recorded(runtime)
        finally:
            runtime.close()
    finally:
        fake.stop()
        datagen.discard(url)
    delivered = sum(limiter.accepted.values())
    reached = {channel.removeprefix("D") for channel in limiter.accepted}
    return {
        "name": "nudge_send",
        "backend": backend,
        "members": size.members,
        "dms": delivered,
        "seconds": round(elapsed[0], 2),
        "dms_per_second": round(delivered / elapsed[0], 1) if elapsed[0] else None,
        "duplicates": sum(n - 1 for n in limiter.accepted.values() if n > 1),
        "missing": len(expected - reached),
        "rate_limited": limiter.limited,
        "recorded_sent": recorded,
        "summary": str(summary),
    }


def _members(url: str) -> list[tuple[int, str, str]]:
    from storage.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, user_id, tz FROM members")).all()
    engine.dispose()
    return [(int(i), str(u), str(tz)) for i, u, tz in rows]
