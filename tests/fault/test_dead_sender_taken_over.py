"""A sender that dies between two DMs, its claim still held: another process's scheduler job
sends what it had claimed about a minute after it died (in the fake Slack's time, with the app's
clock and sleeps on it), and every member gets exactly one DM."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.nudges import scheduler
from bot.nudges.delivery import Delivery, Summary
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.models import Member, NudgeStatus
from tests.support.clock import START
from tests.support.fake_slack import FakeSlack, Params, dm_channel
from tests.support.fake_slack_limits import RateLimits
from tests.support.nudge_fixtures import add_member, nudges
from tests.support.runtime import MakeRuntime

MEMBERS = [f"UD{i:02d}" for i in range(12)]
CLAIM = 6
DIES_AFTER = 3  # DMs the first sender posts before it dies, three of its claim still held
# Seconds of the test per Slack minute: posts take a few Slack seconds, a lease a few seconds.
SLACK_MINUTE = 3.0
# "About a minute" after the sender died, in Slack seconds.
ABOUT_A_MINUTE = 75.0


class Killed(BaseException):
    """The first sender's process dies (raised from its progress callback, between posts)."""


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(limits=RateLimits(slack_minute=SLACK_MINUTE)).start()
    fake.add_user("U1", "Ana Silva", tz="Europe/London")
    for user in MEMBERS:
        fake.add_user(user, f"Member {user}", tz="Europe/London")
    yield fake
    fake.stop()


@pytest.fixture
def slack_runtime(make_runtime: MakeRuntime, db_url: str, fake_slack: FakeSlack) -> Runtime:
    """The app on the fake Slack's time: its clock (leases) and sleeps run at Slack's pace."""
    limits = fake_slack.limits
    assert limits is not None
    started = limits.now()

    def slack_clock() -> datetime:
        return START + timedelta(seconds=limits.now() - started)

    return make_runtime(db_url, clock=slack_clock, sleep=fake_slack.sleep)


class PostTimes:
    """When (in the fake Slack's seconds) each member's DMs were accepted."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.at: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        fake.on("chat.postMessage", self.post)

    def post(self, params: Params) -> dict:
        answer = self.fake._chat_postMessage(params)
        assert self.fake.limits is not None
        with self.lock:
            user = dm_channel(str(params.get("channel"))).removeprefix("D")
            self.at.setdefault(user, []).append(self.fake.limits.now())
        return answer


def test_a_dead_senders_claim_is_sent_by_the_next_job_about_a_minute_later(
    slack_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    runtime = slack_runtime
    for user in MEMBERS:
        add_member(runtime, user, "Europe/London", contacts=2)  # due: Monday 09:00 has passed
    posts = PostTimes(fake_slack)
    limits = fake_slack.limits
    assert limits is not None

    def die(summary: Summary) -> None:
        if summary.sent >= DIES_AFTER:
            raise Killed

    first = Delivery(runtime, web_client(runtime), worker="first", claim_size=CLAIM, progress=die)
    with pytest.raises(Killed):
        first.run(runtime.clock())
    died_at = limits.now()
    held = [n for n in nudges(runtime) if n.claimed_by == "first"]
    assert len(held) == CLAIM - DIES_AFTER and len(posts.at) == DIES_AFTER

    # Another process's scheduler job, straight after: it sends everyone else at once, then
    # what the dead sender held, once its short lease has run out.
    scheduler.send_nudges(runtime)

    assert [n.status for n in nudges(runtime)] == [NudgeStatus.SENT] * len(MEMBERS)
    assert {user: len(at) for user, at in posts.at.items()} == {user: 1 for user in MEMBERS}
    users = user_ids(runtime)
    taken = [posts.at[users[n.member_id]][0] - died_at for n in held]
    # About a minute: the lease, renewed at the dead sender's last post, then a moment.
    assert all(0 < after <= ABOUT_A_MINUTE for after in taken), taken


def user_ids(runtime: Runtime) -> dict[int, str]:
    with runtime.sessions() as session:
        return {i: u for i, u in session.execute(select(Member.id, Member.user_id))}


def test_a_slow_live_sender_keeps_its_claim_while_another_job_waits(
    slack_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    # Each DM takes Slack half a minute: the first sender's claim of four takes two minutes,
    # twice its lease, which each post renews, so the other job takes none of it.
    runtime = slack_runtime
    members = MEMBERS[:4]
    for user in members:
        add_member(runtime, user, "Europe/London", contacts=2)
    limits = fake_slack.limits
    assert limits is not None
    posted: list[str] = []
    first_posted = threading.Event()

    def slow_post(params: Params) -> dict:
        limits.sleep(30)
        answer = fake_slack._chat_postMessage(params)
        posted.append(str(params.get("channel")))
        first_posted.set()
        return answer

    fake_slack.on("chat.postMessage", slow_post)
    first = Delivery(runtime, web_client(runtime), worker="first", claim_size=len(members))
    sent: list[Summary] = []
    sender = threading.Thread(target=lambda: sent.append(first.run(runtime.clock())))
    sender.start()
    try:
        assert first_posted.wait(30)
        other = Delivery(runtime, web_client(runtime), worker="other", take_over=True)
        summary = other.run(runtime.clock())
    finally:
        sender.join(60)
    assert summary.sent == 0 and sent[0].sent == len(members)
    assert sorted(posted) == sorted(members)
    assert {n.status for n in nudges(runtime)} == {NudgeStatus.SENT}
