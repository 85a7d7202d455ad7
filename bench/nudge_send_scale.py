"""``nudge_send_scale``: a whole workspace's weekly DMs at Slack's own rate limits.

Every member of the generated data is moved into one workspace (or two of half the size each),
with nudges on, the same slot and a time zone checked this week: a routine Monday 09:00 where
everyone is due at once. The sender is the real ``bot.nudges.delivery.Delivery`` with the app's own
clients (each workspace's token from the OAuth installation store), against the fake Slack with
Slack's rate limits on (tests/support/fake_slack_limits.py) and its clock scaled: one Slack minute
lasts ``slack_minute`` seconds here. The app's clock (leases) and sleeps (Retry-After) run on the
same scaled time, so every figure below is in Slack time.

- ``minutes_to_last_dm``: from the slot (the run's start) to the last DM Slack accepted.
- ``lower_bound_minutes``: what Slack's limits alone allow for that many DMs: the
  workspace-wide ``chat.postMessage`` limit (its burst at once, then the sustained rate), each
  workspace on its own (tests/support/fake_slack_limits.lower_bound_minutes).
- ``ratio``: the first over the second. ``calls_per_dm``: every Web API call the run made
  (429s included) per DM delivered. ``duplicates``: DMs beyond the first per member.
  ``missing``: members with something to say (per ``bot.nudges.planning.planned_batches``
  before the run) and no DM.
- ``scenario``: ``one_workspace``, ``two_workspaces`` (half the members each, sent in
  parallel), or ``sender_killed``: the first sender dies half-way (between two posts, its last
  claim still held) and a second process's scheduler job (``take_over``, as
  ``bot.nudges.scheduler`` runs it), waking every five minutes from then on, finishes the job,
  taking the dead sender's rows once their short lease has run out.

``slack_minute`` must leave Ally faster than Slack, or the figures measure the machine: at 6 s a
Slack minute, Slack's 300 DMs a minute are 50 a second here, which a 2-core machine shared with
other work does not always keep up with (two workspaces at once read 1.36-1.48x there, 1.03x at
18 s). The quick preset uses ``QUICK_SLACK_MINUTE``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from bench import datagen
from bench.nudge_plan import PLAN_AT
from tests.support.fake_slack import FakeSlack, Params, dm_channel
from tests.support.fake_slack_limits import RateLimits, lower_bound_minutes

SECRET = "bench-signing-secret"
SLACK_MINUTE = 6.0
# The quick preset's: slow enough that Slack's limits, not this machine, set the pace.
QUICK_SLACK_MINUTE = 18.0
SCENARIOS = ("one_workspace", "two_workspaces", "sender_killed")
# The nudge scheduler's wake-up interval (bot/nudges/scheduler.py), in Slack time.
SCHEDULER_EVERY = timedelta(minutes=5)


class Killed(BaseException):
    """The first sender's process dies (raised from its progress callback)."""


@dataclass
class Recorder:
    """chat.postMessage as the fake answers it, with the Slack time of each accepted DM."""

    fake: FakeSlack
    limits: RateLimits
    accepted: Counter[str] = field(default_factory=Counter)
    last_at: float = 0.0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.fake.on("chat.postMessage", self.post)

    def post(self, params: Params) -> Any:
        answer = self.fake._chat_postMessage(params)
        with self.lock:
            self.accepted[dm_channel(str(params.get("channel")))] += 1
            self.last_at = max(self.last_at, self.limits.now())
        return answer


def prepare(url: str, workspaces: int) -> list[tuple[str, str]]:
    """Put every member in ``workspaces`` workspaces, due now, zones fresh; (team, user) each."""
    teams = [f"TSCALE{i}" for i in range(workspaces)]
    with datagen_engine(url) as connection:
        connection.execute(
            text(
                "UPDATE members SET nudges_enabled = :on, nudges_paused_until = NULL, "
                "nudge_weekday = 6, nudge_minute = 540, tz = 'UTC', tz_checked_at = :checked"
            ),
            {"on": True, "checked": PLAN_AT - timedelta(days=1)},
        )
        ids = [i for (i,) in connection.execute(text("SELECT id FROM members ORDER BY id"))]
        half = (len(ids) + workspaces - 1) // workspaces
        for n, team in enumerate(teams):
            chunk = ids[n * half : (n + 1) * half]
            if chunk:
                connection.execute(
                    text("UPDATE members SET team_id = :team WHERE id >= :low AND id <= :high"),
                    {"team": team, "low": chunk[0], "high": chunk[-1]},
                )
        connection.execute(text("DELETE FROM nudges"))
        rows = connection.execute(text("SELECT team_id, user_id FROM members")).all()
    return [(str(t), str(u)) for t, u in rows]


class datagen_engine:
    """A connection in a transaction on ``url``, closed (and the engine disposed) after."""

    def __init__(self, url: str) -> None:
        from storage.db import make_engine

        self.engine = make_engine(url)

    def __enter__(self) -> Any:
        self.context = self.engine.begin()
        return self.context.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.context.__exit__(*exc)
        self.engine.dispose()


def run(
    backend: str, size: datagen.Size, scenario: str, slack_minute: float = SLACK_MINUTE
) -> dict[str, Any]:
    from bench.nudge_send import dms_recorded, members_with_news
    from bot.nudges.delivery import Delivery
    from bot.platform.config import settings_from_env
    from bot.platform.oauth import WorkspaceClients
    from bot.platform.runtime import Runtime
    from storage.sealed import new_key
    from tests.support.nudge_fixtures import install_workspace

    logging.getLogger("bot").setLevel(logging.ERROR)
    url = datagen.work_copy(backend, size, f"scale-{scenario}")
    limits = RateLimits(slack_minute=slack_minute)
    fake = FakeSlack(limits=limits).start()
    try:
        people = prepare(url, 2 if scenario == "two_workspaces" else 1)
        for _, user in people:
            fake.add_user(user, f"Member {user}", tz="UTC")
        teams = sorted({team for team, _ in people})
        recorder = Recorder(fake, limits)
        settings = settings_from_env(
            {
                "SLACK_CLIENT_ID": "1111.2222",
                "SLACK_CLIENT_SECRET": "bench-client-secret",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.base_url,
                "DATABASE_URL": url,
                "ALLY_SCHEDULER": "off",
                "ALLY_ENCRYPTION_KEY": new_key(),
            }
        )

        def slack_clock() -> datetime:
            # The app's clock runs on Slack's scaled time, from the slot on.
            return PLAN_AT + timedelta(seconds=limits.now() - started)

        started = limits.now()
        runtime = Runtime.start(settings, clock=slack_clock, sleep=limits.sleep)
        try:
            for team in teams:
                install_workspace(runtime, team, f"xoxb-{team}")
            expected = members_with_news(runtime)
            fake.reset()
            started = limits.now()
            recorder.last_at = started
            wall = time.perf_counter()
            if scenario == "sender_killed":
                summaries = _killed_then_finished(runtime, len(expected), limits)
            else:
                summaries = [Delivery(runtime, WorkspaceClients(runtime)).run(PLAN_AT)]
            wall = time.perf_counter() - wall
            recorded = dms_recorded(runtime)
        finally:
            runtime.close()
        calls = len(fake.calls)
    finally:
        fake.stop()
        datagen.discard(url)
    delivered = sum(recorder.accepted.values())
    reached = {channel.removeprefix("D") for channel in recorder.accepted}
    per_workspace = Counter(team for team, user in people if user in expected)
    minutes = (recorder.last_at - started) / 60
    bound = lower_bound_minutes(list(per_workspace.values()))
    return {
        "name": "nudge_send_scale",
        "scenario": scenario,
        "backend": backend,
        "members": size.members,
        "workspaces": len(teams),
        "dms": delivered,
        "minutes_to_last_dm": round(minutes, 2),
        "lower_bound_minutes": round(bound, 2),
        "ratio": round(minutes / bound, 3) if bound else None,
        "calls_per_dm": round(calls / delivered, 3) if delivered else None,
        "rate_limited": limits.limited,
        "duplicates": sum(n - 1 for n in recorder.accepted.values() if n > 1),
        "missing": len(expected - reached),
        "recorded_sent": recorded,
        "slack_minute_seconds": slack_minute,
        "wall_seconds": round(wall, 1),
        "summary": " | ".join(str(s) for s in summaries),
    }


def _killed_then_finished(runtime: Any, due: int, limits: RateLimits) -> list[Any]:
    """The first sender dies half-way; a second one's scheduler finishes from then on."""
    from bot.nudges.delivery import CLAIM_SIZE, Delivery, Summary
    from bot.platform.oauth import WorkspaceClients

    def die_half_way(summary: Summary) -> None:
        # Half-way, in the middle of a claim: what it still holds waits for its lease to end.
        if summary.sent >= due // 2 + CLAIM_SIZE // 2:
            raise Killed

    summaries: list[Summary] = []
    first = Delivery(runtime, WorkspaceClients(runtime), worker="first", progress=die_half_way)
    with contextlib.suppress(Killed):
        summaries.append(first.run(PLAN_AT))
    second = Delivery(runtime, WorkspaceClients(runtime), worker="second", take_over=True)
    while True:
        woke = limits.now()
        summaries.append(second.run(PLAN_AT))
        if not _planned(runtime):
            return summaries
        # The scheduler's next wake-up, SCHEDULER_EVERY after this one began.
        limits.sleep(max(0.0, woke + SCHEDULER_EVERY.total_seconds() - limits.now()))


def _planned(runtime: Any) -> int:
    """Nudges still waiting to go out."""
    from sqlalchemy import func, select

    from storage.models import Nudge, NudgeStatus

    with runtime.sessions() as session:
        query = select(func.count()).where(Nudge.status == NudgeStatus.PLANNED.value)
        return int(session.scalar(query) or 0)
