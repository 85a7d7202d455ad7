"""The weekly send against Slack as it is: rate limits, claims that run out, posts of unknown
outcome, OAuth installs and revoked tokens; on SQLite and PostgreSQL, through the real
``Delivery`` and the rate-limited fake Slack."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.ledger import directory
from bot.nudges.delivery import Delivery, send_due
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Member, NudgeStatus
from tests.support.clock import FrozenClock
from tests.support.fake_slack import DropConnection, FakeSlack, Params, dm_channel
from tests.support.fake_slack_limits import RateLimits
from tests.support.nudge_fixtures import add_member, install_workspace, nudges
from tests.support.runtime import MakeRuntime
from tests.support.settings import TEST_ENCRYPTION_KEY

AT = "2026-11-16T10:00:00+00:00"


@pytest.fixture
def runtime(db_runtime: Runtime) -> Runtime:
    """This module's tests run on SQLite and on PostgreSQL."""
    return db_runtime


def oauth_settings_env(fake: FakeSlack, db_url: str) -> dict[str, str]:
    return {
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "SLACK_API_URL": fake.base_url,
        "DATABASE_URL": db_url,
        "ALLY_SCHEDULER": "off",
        # The installations' tokens are sealed with the tests' key.
        "ALLY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
    }


@pytest.fixture
def oauth_runtime(make_runtime: MakeRuntime, db_url: str) -> Runtime:
    """Ally installed over OAuth only (no SLACK_BOT_TOKEN) in T1 and T2, each with its token."""
    rt = make_runtime(
        db_url, SLACK_BOT_TOKEN="", SLACK_CLIENT_ID="1111.2222", SLACK_CLIENT_SECRET="client-secret"
    )
    assert rt.settings.bot_token is None
    for team in ("T1", "T2"):
        install_workspace(rt, team, f"xoxb-for-{team}")
    return rt


def posted(fake: FakeSlack) -> dict[str, int]:
    """DMs Slack accepted per DM channel."""
    return {channel: len(messages) for channel, messages in fake.messages.items()}


# -- a claim that runs out mid-batch ----------------------------------------------------------


def test_a_claim_that_ran_out_mid_batch_posts_nothing_more(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    users = [f"UM{i}" for i in range(6)]
    for user in users:
        fake_slack.add_user(user, f"Member {user}")  # Slack knows every member
        add_member(runtime, user, "Europe/London")
    second: list = []

    def post_then_stall(params: Params) -> dict:
        # Slack accepts the first sender's second DM, then the first sender stalls past its
        # lease (rate limits, a slow Slack); meanwhile a second sender (cron, another worker)
        # claims what the first still holds and runs.
        answer = fake_slack._chat_postMessage(params)
        if len(fake_slack.calls_to("chat.postMessage")) == 2 and not second:
            clock.advance(minutes=11)
            second.append(Delivery(runtime, web_client(runtime), worker="second").run(clock.now))
        return answer

    fake_slack.on("chat.postMessage", post_then_stall)
    first = Delivery(runtime, web_client(runtime), worker="first").run(clock.now)

    assert posted(fake_slack) == {f"D{user}": 1 for user in users}  # nobody got two
    assert [n.status for n in nudges(runtime)] == [NudgeStatus.SENT] * len(users)
    # The first sender posted two DMs; the second found the second DM in the history and
    # recorded it, and the first, its claims run out, left the rest to the second.
    assert (first.sent, first.skipped) == (1, len(users) - 1)
    assert second[0].sent == len(users) - 1
    assert len(fake_slack.calls_to("conversations.history")) == 1
    assert {n.claimed_by for n in nudges(runtime)} == {None}


def test_sent_is_recorded_only_by_the_claims_holder(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London")
    stolen = False

    def post_then_lose_the_claim(params: Params) -> dict:
        nonlocal stolen
        answer = fake_slack._chat_postMessage(params)
        if not stolen:
            stolen = True
            with transaction(runtime.sessions) as session:
                # The lease ran out while Slack answered and another sender took the row.
                from storage.models import Nudge

                session.execute(update(Nudge).values(claimed_by="other"))
        return answer

    fake_slack.on("chat.postMessage", post_then_lose_the_claim)
    Delivery(runtime, web_client(runtime), worker="first").run(clock.now)
    [row] = nudges(runtime)
    assert (row.status, row.claimed_by) == (NudgeStatus.PLANNED, "other")
    assert row.post_started_at is not None  # the holder reconciles it from the history

    # The holder's lease runs out too; whoever claims next finds the DM and records it.
    summary = Delivery(runtime, web_client(runtime)).run(clock.advance(minutes=11))
    assert summary.sent == 1
    assert posted(fake_slack) == {"DU1": 1}
    assert nudges(runtime)[0].status == NudgeStatus.SENT


# -- a post whose outcome is unknown ----------------------------------------------------------


@pytest.mark.parametrize("failure", ["500", "dropped connection"])
def test_a_post_slack_may_have_made_is_reconciled_not_sent_again(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, failure: str
) -> None:
    add_member(runtime, "U1", "Europe/London")
    add_member(runtime, "U2", "Europe/London")
    failed_once = threading.Event()

    def post_then_fail(params: Params) -> dict | tuple:
        answer = fake_slack._chat_postMessage(params)  # Slack posted the DM...
        if dm_channel(params["channel"]) == "DU1" and not failed_once.is_set():
            failed_once.set()
            if failure == "500":  # ...then answered 500
                return 500, {}, {"ok": False, "error": "internal_error"}
            raise DropConnection  # ...or the connection dropped before its answer
        return answer

    fake_slack.on("chat.postMessage", post_then_fail)
    first = Delivery(runtime, web_client(runtime)).run(clock.now)
    assert (first.sent, first.failed) == (1, 1)
    assert posted(fake_slack) == {"DU1": 1, "DU2": 1}  # not posted a second time
    row = nudges(runtime)[0]
    assert row.status == NudgeStatus.PLANNED and row.post_started_at is not None

    second = Delivery(runtime, web_client(runtime)).run(clock.advance(minutes=5))
    assert (second.sent, second.failed) == (1, 0)
    assert posted(fake_slack) == {"DU1": 1, "DU2": 1}  # found in the DM's history
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    [history] = fake_slack.calls_to("conversations.history")
    assert history["channel"] == "DU1" and int(history["limit"]) <= 15
    row = nudges(runtime)[0]
    assert row.status == NudgeStatus.SENT and row.post_started_at is None
    assert row.message_ts == fake_slack.messages["DU1"][0]["ts"]


def test_a_post_slack_refused_is_posted_again_without_reading_history(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London")
    fake_slack.fail("chat.postMessage", status=200, error="fatal_error")
    assert Delivery(runtime, web_client(runtime)).run(clock.now).failed == 1
    assert nudges(runtime)[0].post_started_at is None  # Slack said no: nothing to reconcile
    assert Delivery(runtime, web_client(runtime)).run(clock.advance(minutes=5)).sent == 1
    assert fake_slack.calls_to("conversations.history") == []
    assert posted(fake_slack) == {"DU1": 1}


def test_rate_limited_posts_wait_and_go_out(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    # A workspace allowed one DM a Slack minute (0.6 s here), no burst beyond it: every DM
    # after the first is answered 429, and the sender waits Retry-After out and posts it.
    fake_slack.limits = RateLimits(slack_minute=0.6, post_per_workspace=(1, 1))
    users = [f"UR{i}" for i in range(4)]
    for user in users:
        fake_slack.add_user(user, f"Member {user}")  # Slack knows every member
        add_member(runtime, user, "Europe/London")
    summary = Delivery(runtime, web_client(runtime)).run(clock.now)
    assert (summary.sent, summary.failed) == (len(users), 0)
    assert posted(fake_slack) == {f"D{user}": 1 for user in users}
    assert fake_slack.limits.limited >= len(users) - 1
    answers = fake_slack.calls_to("chat.postMessage")
    assert len(answers) == len(users) + fake_slack.limits.limited


# -- what a routine week costs ----------------------------------------------------------------


def test_a_routine_week_costs_one_call_per_dm(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    users = [f"UW{i}" for i in range(12)]
    for user in users:
        fake_slack.add_user(user, f"Member {user}")  # Slack knows every member
        add_member(runtime, user, "Europe/London")
    Delivery(runtime, web_client(runtime)).run(clock.now)
    assert posted(fake_slack) == {f"D{user}": 1 for user in users}
    with runtime.sessions() as session:
        kept = session.scalars(select(Member.dm_channel_id).order_by(Member.id)).all()
    assert kept == [f"D{user}" for user in users]

    fake_slack.reset()
    clock.advance(days=7)
    summary = Delivery(runtime, web_client(runtime)).run(clock.now)
    assert summary.sent == len(users)
    methods = [c.method for c in fake_slack.calls]
    assert methods == ["chat.postMessage"] * len(users)  # no conversations.open, no users.info
    assert {c["channel"] for c in fake_slack.calls} == set(kept)


def test_many_stale_zones_are_read_with_paged_users_list(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    users = [f"UZ{i:02d}" for i in range(30)]
    for user in users:
        fake_slack.add_user(user, f"Member {user}", tz="Asia/Tokyo")
        add_member(runtime, user, "Europe/London", checked=False)
    Delivery(runtime, web_client(runtime)).run(clock.now)  # 10:00 UTC: 19:00 in Tokyo
    assert fake_slack.calls_to("users.info") == []
    pages = fake_slack.calls_to("users.list")
    assert 1 <= len(pages) <= 2
    with runtime.sessions() as session:
        zones = set(session.scalars(select(Member.tz)).all())
        checked = session.scalars(select(Member.tz_checked_at)).all()
    assert zones == {"Asia/Tokyo"} and None not in checked
    assert posted(fake_slack) == {f"D{user}": 1 for user in users}


def test_a_failed_users_list_sweep_keeps_the_zones_on_record_and_is_tried_again(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    users = [f"UZ{i:02d}" for i in range(12)]
    for user in users:
        fake_slack.add_user(user, f"Member {user}", tz="Asia/Tokyo")
        add_member(runtime, user, "Europe/London", checked=False)
    fake_slack.fail("users.list", status=500, error="internal_error", times=3)
    summary = Delivery(runtime, web_client(runtime)).run(clock.now)
    assert summary.sent == len(users)  # by the zones on record: London, due at 09:00
    with runtime.sessions() as session:
        assert session.scalars(select(Member.tz_checked_at)).all() == [None] * len(users)
    Delivery(runtime, web_client(runtime)).run(clock.advance(minutes=5))
    with runtime.sessions() as session:
        assert set(session.scalars(select(Member.tz)).all()) == {"Asia/Tokyo"}


# -- OAuth installs, revoked tokens, workspaces in parallel -----------------------------------


def test_nudges_send_works_with_oauth_installs_alone_and_skips_a_revoked_workspace(
    oauth_runtime: Runtime, fake_slack: FakeSlack, db_url: str, tmp_path: Path
) -> None:
    add_member(oauth_runtime, "U1", "Europe/London", team_id="T1")
    add_member(oauth_runtime, "U2", "Europe/London", team_id="T2")
    add_member(oauth_runtime, "U3", "Europe/London", team_id="T3")  # never installed
    fake_slack.revoke("xoxb-for-T2")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ALLY_"))},
        **oauth_settings_env(fake_slack, db_url),
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "nudges", "send", "--at", AT],
        cwd=tmp_path,  # no .env here: the environment above is all the configuration
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "sent 1, skipped 1, failed 0" in done.stdout  # T3's nudge: never installed
    assert "workspace T2 skipped: Slack refused its token (token_revoked)" in done.stdout
    assert posted(fake_slack) == {"DU1": 1}
    [dm] = fake_slack.calls_to("chat.postMessage")[:1]
    assert dm.headers.get("Authorization") == "Bearer xoxb-for-T1"
    by_user = {n.member_id: n for n in nudges(oauth_runtime)}
    with oauth_runtime.sessions() as session:
        ids = dict(session.execute(select(Member.user_id, Member.id)).all())
    assert by_user[ids["U1"]].status == NudgeStatus.SENT
    # T2's nudge waits (unsent, unclaimed) for Ally to be installed there again.
    waiting = by_user.get(ids["U2"])
    assert waiting is None or (waiting.status, waiting.claimed_by) == (NudgeStatus.PLANNED, None)
    assert by_user[ids["U3"]].status == NudgeStatus.SKIPPED


def test_one_workspaces_wait_does_not_hold_up_another(
    oauth_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(oauth_runtime, "U1", "Europe/London", team_id="T1")
    add_member(oauth_runtime, "U2", "Europe/London", team_id="T2")
    t2_posted = threading.Event()
    t1_saw_t2 = []

    def post(params: Params) -> dict:
        if dm_channel(params["channel"]) == "DU1":
            # T1's post is stuck (Slack slow, or T1 waiting out its limits) until T2's is in.
            t1_saw_t2.append(t2_posted.wait(timeout=30))
        answer = fake_slack._chat_postMessage(params)
        if dm_channel(params["channel"]) == "DU2":
            t2_posted.set()
        return answer

    fake_slack.on("chat.postMessage", post)
    summary = send_due(oauth_runtime, clock.now)
    assert summary.sent == 2
    assert t1_saw_t2 == [True]
    assert posted(fake_slack) == {"DU1": 1, "DU2": 1}


def test_a_member_who_moved_is_followed_from_the_user_change_event_without_asking_slack(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U2", "Europe/London", checked=False)
    with transaction(runtime.sessions) as session:
        user = {"id": "U2", "tz": "America/New_York", "profile": {"display_name": "Maria"}}
        assert directory.user_changed(session, "", "T1", user, clock.now) == 1
    # 10:00 UTC is 05:00 in New York: not due yet, and no users.info was needed to know it.
    assert Delivery(runtime, web_client(runtime)).run(clock.now).planned == 0
    assert fake_slack.calls == []
    with runtime.sessions() as session:
        assert session.scalars(select(Member.tz)).one() == "America/New_York"


def test_a_dm_slack_will_not_post_by_user_id_is_opened_once_and_kept(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    add_member(runtime, "U1", "Europe/London")
    fake_slack.fail("chat.postMessage", status=200, error="channel_not_found")
    assert Delivery(runtime, web_client(runtime)).run(clock.now).failed == 1
    with runtime.sessions() as session:
        assert session.scalars(select(Member.dm_channel_id)).one() == "DU1"
    assert Delivery(runtime, web_client(runtime)).run(clock.advance(minutes=5)).sent == 1
    assert [c["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["U1", "DU1"]
    assert posted(fake_slack) == {"DU1": 1}
