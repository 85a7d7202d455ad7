"""``app_uninstalled`` erases all of that workspace's data in one transaction (and nothing of
any other workspace), with a log line that says how much; ``tokens_revoked`` drops tokens. The
two may arrive in either order, and repeats change nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from slack_bolt import App
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

import handlers
from bot.ledger.people import MemberRef
from bot.platform.app import create_app
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import counts, give_data, member_counts, rows_of_workspace
from tests.support.oauth import OAUTH, install, oauth_answer
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver

T1_A = MemberRef(team_id="T1", user_id="U1")
T1_B = MemberRef(team_id="T1", user_id="U3")
T2_A = MemberRef(team_id="T2", user_id="U1")
UNINSTALLED = {"type": "app_uninstalled"}
REVOKED = {"type": "tokens_revoked", "tokens": {"oauth": ["UADMIN"], "bot": ["UBOT"]}}


def uninstall_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("app uninstalled")]


@pytest.mark.parametrize("order", ["uninstall first", "revoke first"])
def test_uninstall_erases_only_that_workspace(
    db_runtime: Runtime, clock: FrozenClock, caplog: pytest.LogCaptureFixture, order: str
) -> None:
    for ref in (T1_A, T1_B, T2_A):
        give_data(db_runtime.sessions, ref, clock())
    before = counts(db_runtime.sessions)
    t2_only = member_counts(db_runtime.sessions, T2_A)
    slack = SlackDriver(create_app(db_runtime, register=[handlers.register]), SECRET, team="T1")

    caplog.set_level(logging.INFO)
    events = [UNINSTALLED, REVOKED] if order == "uninstall first" else [REVOKED, UNINSTALLED]
    for event in events:
        assert slack.event(event).status == 200

    after = counts(db_runtime.sessions)
    assert after["members"] == 1 and after["slack_users"] == 1 and after["home_visits"] == 1
    assert member_counts(db_runtime.sessions, T2_A) == t2_only
    assert member_counts(db_runtime.sessions, T1_A) == {}
    [line] = uninstall_lines(caplog)
    erased = line.ally_fields  # type: ignore[attr-defined]
    assert erased["team"] == "T1"
    assert erased["members"] == 2
    assert erased["contacts"] == before["contacts"] - after["contacts"]
    assert erased["interactions"] == before["interactions"] - after["interactions"]
    assert erased["nudges"] == 2 and erased["questions_asked"] == 2
    assert erased["slack_users"] == 2 and erased["home_visits"] == 2
    assert erased["rows"] == sum(before.values()) - sum(after.values())


def test_a_repeated_uninstall_changes_nothing(db_runtime: Runtime, clock: FrozenClock) -> None:
    give_data(db_runtime.sessions, T2_A, clock())
    slack = SlackDriver(create_app(db_runtime, register=[handlers.register]), SECRET, team="T1")
    slack.event(UNINSTALLED)
    before = counts(db_runtime.sessions)
    assert slack.event(UNINSTALLED).status == 200
    assert counts(db_runtime.sessions) == before


def test_a_failed_erasure_deletes_nothing(
    db_runtime: Runtime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing: a failure half-way leaves every row in place."""
    from storage import models

    give_data(db_runtime.sessions, T1_A, clock())
    before = counts(db_runtime.sessions)
    # Make the last table of the erasure fail after the member tables were emptied.
    monkeypatch.setattr(models.SlackUser, "__table__", _broken_table(models.SlackUser))
    slack = SlackDriver(create_app(db_runtime, register=[handlers.register]), SECRET, team="T1")
    assert slack.event(UNINSTALLED).status == 503  # so that Slack retries it
    monkeypatch.undo()
    assert counts(db_runtime.sessions) == before


def _broken_table(model: type) -> object:
    from sqlalchemy import Column, Integer, MetaData, Table

    return Table(
        "no_such_table", MetaData(), Column("enterprise_id", Integer), Column("team_id", Integer)
    )


# -- with OAuth: the installation goes too -------------------------------------------------


def _installation(team: str) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=None,
        team_id=team,
        bot_token=f"xoxb-for-{team}",
        bot_id="BBOT",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        user_id="UADMIN",
        user_token=f"xoxp-for-{team}",
        installed_at=1_700_000_000.0,
    )


@pytest.fixture
def oauth_app(make_runtime: MakeRuntime, db_url: str) -> App:
    runtime = make_runtime(db_url, SLACK_CLIENT_ID="1111.2222", SLACK_CLIENT_SECRET="client-secret")
    return create_app(runtime, register=[handlers.register])


@pytest.mark.parametrize("order", ["uninstall first", "revoke first"])
def test_uninstall_removes_the_installation(oauth_app: App, order: str) -> None:
    store = oauth_app.installation_store
    assert isinstance(store, SQLAlchemyInstallationStore)
    for team in ("T1", "T2"):
        store.save(_installation(team))
    slack = SlackDriver(oauth_app, SECRET, team="T1")
    events = [UNINSTALLED, REVOKED] if order == "uninstall first" else [REVOKED, UNINSTALLED]
    slack.event(events[0])
    if order == "revoke first":
        assert store.find_bot(enterprise_id=None, team_id="T1") is None
    slack.event(events[1])
    assert store.find_installation(enterprise_id=None, team_id="T1") is None
    assert store.find_bot(enterprise_id=None, team_id="T1") is None
    kept = store.find_installation(enterprise_id=None, team_id="T2")
    assert kept is not None and kept.bot_token == "xoxb-for-T2"


def test_lines_never_carry_tokens(oauth_app: App, caplog: pytest.LogCaptureFixture) -> None:
    store = oauth_app.installation_store
    assert store is not None
    store.save(_installation("T1"))
    caplog.set_level(logging.DEBUG)
    SlackDriver(oauth_app, SECRET, team="T1").event(REVOKED)
    lines = json.dumps([r.getMessage() for r in caplog.records], default=str)
    assert "xoxb-for-T1" not in lines and "xoxp-for-T1" not in lines


# -- tokens_revoked: erased when the workspace's last bot token is gone ------------------------

REVOKED_BOT = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
REVOKED_USER = {"type": "tokens_revoked", "tokens": {"oauth": ["UADMIN"], "bot": []}}


@pytest.fixture
def installed_t1(
    make_runtime: MakeRuntime, db_url: str, fake_slack: FakeSlack
) -> Iterator[tuple[App, Runtime]]:
    """Ally installed in T1 through /slack/install, T1 and T2 with favours logged in Slack."""
    runtime = make_runtime(db_url, SLACK_BOT_TOKEN="", **OAUTH)
    app = create_app(runtime, register=[handlers.register])
    for team in ("T1", "T2"):
        install(app, runtime, fake_slack, f"code-{team}", oauth_answer(team, f"xoxb-for-{team}"))
        slack = SlackDriver(app, SECRET, team=team)
        assert "<@U2>" in slack.command("thanks <@U2> for the launch review").text
    yield app, runtime
    app.listener_runner.listener_executor.shutdown(wait=True)


def test_revoking_the_last_bot_token_erases_the_workspace(
    installed_t1: tuple[App, Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    app, runtime = installed_t1
    t2_before = rows_of_workspace(runtime.sessions, "T2")
    caplog.set_level(logging.INFO)

    assert SlackDriver(app, SECRET, team="T1").event(REVOKED_BOT).status == 200

    assert set(rows_of_workspace(runtime.sessions, "T1").values()) == {0}
    assert rows_of_workspace(runtime.sessions, "T2") == t2_before
    [line] = [r for r in caplog.records if r.getMessage().startswith("tokens revoked")]
    said = line.ally_fields  # type: ignore[attr-defined]
    assert said["team"] == "T1" and said["members"] == 1 and said["rows"] > 0


def test_revoking_a_user_token_only_erases_nothing(installed_t1: tuple[App, Runtime]) -> None:
    app, runtime = installed_t1

    def data() -> dict[str, dict[str, int]]:
        # The installer's own row goes with their user token (Bolt); the data stays.
        return {
            team: {
                table: rows
                for table, rows in rows_of_workspace(runtime.sessions, team).items()
                if table != "slack_installations"
            }
            for team in ("T1", "T2")
        }

    before = data()
    assert before["T1"]["slack_bots"] == 1 and before["T1"]["interactions"] == 1

    assert SlackDriver(app, SECRET, team="T1").event(REVOKED_USER).status == 200

    assert data() == before
    # Ally still works there with the workspace's bot token.
    reply = SlackDriver(app, SECRET, team="T1").command("who <@U2>")
    assert "launch review" in reply.text


def test_a_bot_token_left_at_the_organisation_keeps_the_workspace(
    make_runtime: MakeRuntime, db_url: str, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    """Enterprise Grid: a workspace's own bot token revoked while the organisation-wide install
    still serves it: Ally has not left."""
    runtime = make_runtime(db_url, SLACK_BOT_TOKEN="", **OAUTH)
    app = create_app(runtime, register=[handlers.register])
    org = oauth_answer(None, "xoxb-for-E1", enterprise="E1", org_install=True)
    install(app, runtime, fake_slack, "code-E1", org)
    install(app, runtime, fake_slack, "code-T5", oauth_answer("T5", "xoxb-for-T5", enterprise="E1"))
    member = MemberRef(team_id="T5", user_id="U1", enterprise_id="E1")
    give_data(runtime.sessions, member, clock())
    before = member_counts(runtime.sessions, member)

    event = SlackDriver(app, SECRET, team="T5").event(REVOKED_BOT, enterprise_id="E1")
    assert event.status == 200

    assert member_counts(runtime.sessions, member) == before
