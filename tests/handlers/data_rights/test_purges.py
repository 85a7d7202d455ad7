"""Purges that cannot be lost: a failed ``app_uninstalled`` or ``tokens_revoked`` is answered 5xx
(so Slack retries it) and gives its replay keys back (so the retry is handled, not dropped as a
duplicate); and the sweep (scheduler and ``ally-bot sweep``) erases every workspace left with
data but no installation, says so in the log, and finds nothing the second time."""

from __future__ import annotations

import io
import logging
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from slack_bolt import App
from slack_sdk.oauth.installation_store import Installation

import handlers
from bot.data_rights.sweep import sweep_uninstalled
from bot.ledger.people import MemberRef
from bot.nudges.scheduler import SWEEP_JOB_ID, start, stop
from bot.platform import cli
from bot.platform.app import create_app
from bot.platform.oauth import SealedInstallationStore, installation_store
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.member_data import counts, give_data, member_counts
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET, TEST_ENCRYPTION_KEY
from tests.support.slack_requests import SlackDriver

CLIENT_ID = "1111.2222"
T1 = MemberRef(team_id="T1", user_id="U1")
T2 = MemberRef(team_id="T2", user_id="U1")
T3 = MemberRef(team_id="T3", user_id="U3")
GRID = MemberRef(team_id="", user_id="U4", enterprise_id="E1")
UNINSTALLED = {"type": "app_uninstalled"}
REVOKED = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}


def installation(team: str | None, enterprise: str | None = None) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=enterprise,
        team_id=team,
        bot_token=f"xoxb-for-{team or enterprise}",
        bot_id="BBOT",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        user_id="UADMIN",
        is_enterprise_install=team is None,
        installed_at=1_700_000_000.0,
    )


@pytest.fixture
def oauth_runtime(make_runtime: MakeRuntime, db_url: str) -> Runtime:
    return make_runtime(db_url, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET="client-secret")


@pytest.fixture
def oauth_app(oauth_runtime: Runtime) -> App:
    return create_app(oauth_runtime, register=[handlers.register])


def store_of(app: App) -> SealedInstallationStore:
    store = app.installation_store
    assert isinstance(store, SealedInstallationStore)
    return store


def test_a_failed_uninstall_is_retried_by_slack_and_then_erases(
    oauth_app: App, oauth_runtime: Runtime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_of(oauth_app).save(installation("T1"))
    give_data(oauth_runtime.sessions, T1, clock())
    slack = SlackDriver(oauth_app, SECRET, team="T1")

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr("bot.data_rights.service.erase_workspace", unreachable)
    first = slack.event(UNINSTALLED, event_id="EvGone1")
    assert first.status >= 500
    monkeypatch.undo()
    assert member_counts(oauth_runtime.sessions, T1) != {}

    # Slack's retry: the same event id, a new signature, X-Slack-Retry-Num.
    retry = slack.event(UNINSTALLED, event_id="EvGone1", headers={"X-Slack-Retry-Num": "1"})
    assert retry.status == 200
    assert member_counts(oauth_runtime.sessions, T1) == {}
    assert store_of(oauth_app).find_installation(enterprise_id=None, team_id="T1") is None


def test_a_failed_revocation_is_retried_by_slack(
    oauth_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_of(oauth_app)
    store.save(installation("T1"))
    slack = SlackDriver(oauth_app, SECRET, team="T1")

    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(SealedInstallationStore, "delete_bot", broken)
    assert slack.event(REVOKED, event_id="EvRevoked").status >= 500
    monkeypatch.undo()
    assert store.find_bot(enterprise_id=None, team_id="T1") is not None
    retry = slack.event(REVOKED, event_id="EvRevoked", headers={"X-Slack-Retry-Num": "1"})
    assert retry.status == 200
    assert store.find_bot(enterprise_id=None, team_id="T1") is None


def test_the_sweep_erases_workspaces_with_no_installation_once(
    oauth_runtime: Runtime, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = installation_store(oauth_runtime)
    store.save(installation("T1"))
    store.save(installation(None, enterprise="E1"))  # an org-wide install covers GRID
    for ref in (T1, T2, T3, GRID):
        give_data(oauth_runtime.sessions, ref, clock())
    # T2 lost its bot token but its install row is left: still installed.
    store.save(installation("T2"))
    store.delete_bot(enterprise_id=None, team_id="T2")
    kept = {ref: member_counts(oauth_runtime.sessions, ref) for ref in (T1, T2, GRID)}

    caplog.set_level(logging.INFO)
    swept = sweep_uninstalled(oauth_runtime)

    assert [(s.enterprise_id, s.team_id) for s in swept] == [("", "T3")]
    assert member_counts(oauth_runtime.sessions, T3) == {}
    assert {ref: member_counts(oauth_runtime.sessions, ref) for ref in kept} == kept
    [line] = [r for r in caplog.records if r.getMessage().startswith("uninstalled workspace")]
    assert line.ally_fields["team"] == "T3" and line.ally_fields["members"] == 1  # type: ignore[attr-defined]
    assert line.ally_fields["slack_users"] == 1 and line.ally_fields["home_visits"] == 1  # type: ignore[attr-defined]

    before = counts(oauth_runtime.sessions)
    assert sweep_uninstalled(oauth_runtime) == []
    assert counts(oauth_runtime.sessions) == before


def test_the_sweep_from_the_command_line(
    oauth_runtime: Runtime,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    give_data(oauth_runtime.sessions, T3, clock())
    monkeypatch.chdir(tmp_path)  # no .env
    for name, value in {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": "s",
        "DATABASE_URL": oauth_runtime.settings.database_url,
        "ALLY_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["sweep"]) == 0
        assert cli.main(["sweep"]) == 0
    said = out.getvalue().splitlines()
    assert said[0].startswith("ally-bot: erased") and said[0].endswith("workspace T3")
    assert said[1] == "ally-bot: every workspace with data is still installed"
    assert member_counts(oauth_runtime.sessions, T3) == {}


def test_the_scheduler_runs_the_sweep_with_oauth(oauth_runtime: Runtime) -> None:
    from datetime import timedelta

    scheduler = start(oauth_runtime, first_run_in=timedelta(hours=1))
    try:
        job = scheduler.get_job(SWEEP_JOB_ID)
        assert job is not None and job.args == (oauth_runtime,)
    finally:
        stop(scheduler)


def test_single_workspace_mode_sweeps_nothing(runtime: Runtime, clock: FrozenClock) -> None:
    give_data(runtime.sessions, T3, clock())
    assert sweep_uninstalled(runtime) == []
    assert member_counts(runtime.sessions, T3) != {}
