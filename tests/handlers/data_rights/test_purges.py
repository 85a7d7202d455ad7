"""Purges that cannot be lost: a failed ``app_uninstalled`` or ``tokens_revoked`` is answered 5xx
(so Slack retries it) and gives its replay keys back (so the retry is handled, not dropped as a
duplicate); and the hourly sweep erases a workspace only when Slack refuses its own stored token
with token_revoked or account_inactive, keeps every other, says which and why in the log, and
finds nothing more the second time (``ally-bot sweep``: tests/e2e/test_sweep.py)."""

from __future__ import annotations

import logging

import pytest
from slack_bolt import App
from slack_sdk.oauth.installation_store import Installation

import handlers
from bot.data_rights.sweep import sweep_uninstalled
from bot.ledger.people import MemberRef
from bot.nudges.scheduler import SWEEP_JOB_ID, start, stop, sweep
from bot.platform.app import create_app
from bot.platform.oauth import SealedInstallationStore, installation_store
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack, Params
from tests.support.member_data import counts, give_data, member_counts
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver

CLIENT_ID = "1111.2222"
T1 = MemberRef(team_id="T1", user_id="U1")
T2 = MemberRef(team_id="T2", user_id="U1")
T3 = MemberRef(team_id="T3", user_id="U3")
GRID = MemberRef(team_id="", user_id="U4", enterprise_id="E1")
UNINSTALLED = {"type": "app_uninstalled"}
REVOKED = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}


def installation(
    team: str | None,
    enterprise: str | None = None,
    *,
    token: str | None = None,
    installed_at: float = 1_700_000_000.0,
) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=enterprise,
        team_id=team,
        bot_token=token or f"xoxb-for-{team or enterprise}",
        bot_id="BBOT",
        bot_user_id="UBOT",
        bot_scopes="commands,chat:write",
        user_id="UADMIN",
        is_enterprise_install=team is None,
        installed_at=installed_at,
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


def test_the_hourly_sweep_erases_only_what_slack_says_ally_left(
    oauth_runtime: Runtime,
    fake_slack: FakeSlack,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = installation_store(oauth_runtime)
    for team, answer in (("T1", None), ("T2", "token_revoked"), ("T4", "invalid_auth")):
        store.save(installation(team))
        fake_slack.add_token(f"xoxb-for-{team}", team)
        if answer:
            fake_slack.revoke(f"xoxb-for-{team}", answer)
    store.save(installation(None, enterprise="E1"))  # an org-wide install covers GRID
    fake_slack.add_token("xoxb-for-E1", "E1", enterprise_id="E1", enterprise_install=True)
    t4 = MemberRef(team_id="T4", user_id="U1")
    for ref in (T1, T2, T3, t4, GRID):
        give_data(oauth_runtime.sessions, ref, clock())
    kept = {ref: member_counts(oauth_runtime.sessions, ref) for ref in (T1, T3, t4, GRID)}

    caplog.set_level(logging.INFO)
    sweep(oauth_runtime)  # the scheduler's hourly job

    assert member_counts(oauth_runtime.sessions, T2) == {}
    assert store.find_installation(enterprise_id=None, team_id="T2") is None
    assert {ref: member_counts(oauth_runtime.sessions, ref) for ref in kept} == kept
    [erased] = [r for r in caplog.records if r.getMessage().startswith("workspace erased")]
    said = erased.ally_fields  # type: ignore[attr-defined]
    assert said["team"] == "T2" and said["reason"] == "token_revoked" and said["members"] == 1
    assert said["slack_users"] == 1 and said["home_visits"] == 1
    kept_lines = [r for r in caplog.records if r.getMessage() == "workspace data kept by the sweep"]
    logged = [r.ally_fields for r in kept_lines]  # type: ignore[attr-defined]
    reasons = {(f.get("enterprise", ""), f.get("team", "")): f["reason"] for f in logged}
    assert reasons == {
        ("", "T1"): "installed",
        ("", "T3"): "no installation",
        ("", "T4"): "invalid_auth",
        ("E1", ""): "installed",  # GRID, through the organisation's token
    }

    before = counts(oauth_runtime.sessions)
    assert not [one for one in sweep_uninstalled(oauth_runtime) if one.erased is not None]
    assert counts(oauth_runtime.sessions) == before


def test_a_workspace_reinstalled_while_slack_is_asked_is_kept(
    oauth_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    store = installation_store(oauth_runtime)
    store.save(installation("T2"))
    give_data(oauth_runtime.sessions, T2, clock())
    before = member_counts(oauth_runtime.sessions, T2)
    again = installation("T2", token="xoxb-again-T2", installed_at=1_800_000_000.0)

    def reinstalled_meanwhile(params: Params) -> dict:
        # The admin reinstalls just as Slack answers for the old token.
        store.save(again)
        return {"ok": False, "error": "token_revoked"}

    fake_slack.on("auth.test", reinstalled_meanwhile)
    [checked] = sweep_uninstalled(oauth_runtime)

    assert checked.answer == "reinstalled" and checked.erased is None
    assert member_counts(oauth_runtime.sessions, T2) == before
    bot = store.find_bot(enterprise_id=None, team_id="T2")
    assert bot is not None and bot.bot_token == "xoxb-again-T2"


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
