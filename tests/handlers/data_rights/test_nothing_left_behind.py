"""Forget and uninstall leave nothing behind: every table of storage.models' metadata (and the
OAuth installation tables) is walked, so a table added later cannot be forgotten; and Ally's own
copies in Slack (the weekly DMs it posted, the export files it uploaded) are deleted too, where
the token still allows it (tests/handlers/data_rights/test_slack_deletions.py: the plans' DMs,
failures, restarts and revoked tokens)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from slack_bolt import App
from sqlalchemy import func, select, update

import handlers
from bot.ledger.people import MemberRef
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Member, Nudge, SentMessage, SlackDeletion
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import (
    NOT_PERSONAL,
    OWNERSHIP,
    SLACK_OBJECTS,
    give_data,
    metadata_tables,
    rows_about,
    rows_of_workspace,
)
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver

ANA = MemberRef(team_id="T1", user_id="U1")
BOB = MemberRef(team_id="T1", user_id="U3")
OTHER = MemberRef(team_id="T2", user_id="U1")


@pytest.fixture
def db_runtime(make_runtime: MakeRuntime, db_url: str, clock: FrozenClock) -> Runtime:
    runtime = make_runtime(db_url)
    for ref in (ANA, BOB, OTHER):
        give_data(runtime.sessions, ref, clock())
    return runtime


@pytest.fixture
def app(db_runtime: Runtime) -> Iterator[App]:
    bolt = create_app(db_runtime, register=[handlers.register])
    yield bolt
    bolt.listener_runner.listener_executor.shutdown(wait=True)


def posted_in_slack(runtime: Runtime, fake: FakeSlack, ref: MemberRef) -> tuple[str, str, str]:
    """Make ``ref``'s weekly DM, Ally's answer in their DM and their export file real in the
    fake Slack, as sending them would; returns (DM ts, answer ts, file id)."""
    ts = fake._chat_postMessage({"channel": "D" + ref.user_id, "text": "weekly"})["ts"]
    answer = fake._chat_postMessage({"channel": "D" + ref.user_id, "text": "an answer"})["ts"]
    file_id = "F-" + ref.team_id + ref.user_id  # member_data's export row
    fake.uploads[file_id] = "{}"
    with transaction(runtime.sessions) as session:
        session.execute(
            update(SentMessage)
            .where(SentMessage.user_is(ref.enterprise_id, ref.team_id, ref.user_id))
            .values(message_ts=answer)
        )
        member_id = session.query(Member.id).filter(
            Member.user_is(ref.enterprise_id, ref.team_id, ref.user_id)
        )
        session.execute(
            update(Nudge)
            .where(Nudge.member_id.in_(member_id.scalar_subquery()))
            .values(channel_id="D" + ref.user_id, message_ts=ts)
        )
    return ts, answer, file_id


def test_every_table_is_classified() -> None:
    """A new table must say how forget, uninstall and export cover it (in
    tests/support/member_data.py)."""
    assert set(metadata_tables()) == set(OWNERSHIP)


def test_forget_leaves_no_row_about_the_member_in_any_table(
    app: App, db_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    before = rows_about(db_runtime.sessions, ANA)
    assert set(before) == {
        t for t, how in OWNERSHIP.items() if how not in (NOT_PERSONAL, SLACK_OBJECTS)
    }
    assert all(before.values()), before  # the data covers every table
    bob = rows_about(db_runtime.sessions, BOB)
    ts, answer, file_id = posted_in_slack(db_runtime, fake_slack, ANA)

    reply = SlackDriver(app, SECRET).action(
        "forget_confirm",
        user="U1",
        value="U1",
        extra={"response_url": fake_slack.response_url("r")},
    )
    assert reply.status == 200
    app.listener_runner.listener_executor.shutdown(wait=True)

    assert set(rows_about(db_runtime.sessions, ANA).values()) == {0}
    assert rows_about(db_runtime.sessions, BOB) == bob
    # The list of Ally's copies to delete in Slack is empty once Slack confirmed each one.
    with db_runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SlackDeletion)) == 0
    deleted = {(c["channel"], c["ts"]) for c in fake_slack.calls_to("chat.delete")}
    assert deleted == {("DU1", ts), ("DU1", answer)}
    assert fake_slack.messages["DU1"] == []
    [removed] = fake_slack.calls_to("files.delete")
    assert removed["file"] == file_id and file_id not in fake_slack.uploads


def test_forget_leaves_no_row_hanging_off_the_members_id(
    app: App, db_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    """Counted by the id the member had, so a row left behind by a table forget does not know
    (a plan, its reminder) shows even once the member row is gone."""
    with db_runtime.sessions() as session:
        member_id = session.scalar(select(Member.id).where(Member.user_is("", "T1", "U1")))
    by_member = [table for table in metadata_tables().values() if "member_id" in table.c]
    assert {"meeting_plans", "plan_messages"} <= {table.name for table in by_member}

    def left() -> dict[str, int]:
        with db_runtime.sessions() as session:
            return {
                table.name: session.scalar(
                    select(func.count()).select_from(table).where(table.c.member_id == member_id)
                )
                or 0
                for table in by_member
            }

    assert all(left().values())  # the member has rows in every one of them
    reply = SlackDriver(app, SECRET).action(
        "forget_confirm",
        user="U1",
        value="U1",
        extra={"response_url": fake_slack.response_url("r")},
    )
    assert reply.status == 200
    assert set(left().values()) == {0}


def test_uninstall_leaves_no_row_of_the_workspace_in_any_table(
    app: App, db_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    before = rows_of_workspace(db_runtime.sessions, "T1")
    assert {"members", "contacts", "slack_users", "home_visits", "export_files"} <= set(before)
    other = rows_of_workspace(db_runtime.sessions, "T2")
    posted_in_slack(db_runtime, fake_slack, ANA)
    posted_in_slack(db_runtime, fake_slack, BOB)

    assert SlackDriver(app, SECRET).event({"type": "app_uninstalled"}).status == 200
    app.listener_runner.listener_executor.shutdown(wait=True)

    assert set(rows_of_workspace(db_runtime.sessions, "T1").values()) == {0}
    assert rows_of_workspace(db_runtime.sessions, "T2") == other
    # The single-workspace token still works here, so Ally's copies go too.
    assert len(fake_slack.calls_to("chat.delete")) == 4  # a weekly DM and an answer each
    assert len(fake_slack.calls_to("files.delete")) == 2


def test_a_revoked_token_stops_the_slack_clean_up_politely(
    app: App, db_runtime: Runtime, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    posted_in_slack(db_runtime, fake_slack, ANA)
    posted_in_slack(db_runtime, fake_slack, BOB)
    fake_slack.fail("chat.delete", status=200, error="token_revoked", retry_after=None)
    caplog.set_level(logging.INFO)
    assert SlackDriver(app, SECRET).event({"type": "app_uninstalled"}).status == 200
    app.listener_runner.listener_executor.shutdown(wait=True)
    # No call after Slack said the token is gone, and nothing is kept to try again.
    assert len(fake_slack.calls_to("chat.delete")) == 1
    assert fake_slack.calls_to("files.delete") == []
    assert rows_of_workspace(db_runtime.sessions, "T1")["slack_deletions"] == 0
    dropped = "Slack copies dropped: Slack revoked the workspace's token"
    [line] = [r for r in caplog.records if r.getMessage() == dropped]
    assert line.ally_fields == {  # type: ignore[attr-defined]
        "team": "T1",
        "slack_error": "token_revoked",
        "dropped": 6,
    }


def test_an_oauth_uninstall_leaves_no_row_in_any_table_installations_included(
    make_runtime: MakeRuntime, db_url: str, clock: FrozenClock
) -> None:
    from slack_sdk.oauth.installation_store import Installation

    from bot.platform.oauth import installation_store

    runtime = make_runtime(db_url, SLACK_CLIENT_ID="1111.2222", SLACK_CLIENT_SECRET="client-secret")
    try:
        store = installation_store(runtime)
        for team in ("T1", "T2"):
            store.save(
                Installation(
                    app_id="A1",
                    enterprise_id=None,
                    team_id=team,
                    bot_token=f"xoxb-for-{team}",
                    bot_id="BBOT",
                    bot_user_id="UBOT",
                    user_id="UADMIN",
                    installed_at=1_700_000_000.0,
                )
            )
        for ref in (ANA, BOB, OTHER):
            give_data(runtime.sessions, ref, clock())
        before = rows_of_workspace(runtime.sessions, "T1")
        assert before["slack_installations"] == 1 and before["slack_bots"] == 1
        other = rows_of_workspace(runtime.sessions, "T2")
        app = create_app(runtime, register=[handlers.register])
        assert SlackDriver(app, SECRET).event({"type": "app_uninstalled"}).status == 200
        app.listener_runner.listener_executor.shutdown(wait=True)
        assert set(rows_of_workspace(runtime.sessions, "T1").values()) == {0}
        assert rows_of_workspace(runtime.sessions, "T2") == other
    finally:
        runtime.close()
