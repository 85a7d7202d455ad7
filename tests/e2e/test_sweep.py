"""``ally-bot sweep`` and ``ally-bot check`` as an operator runs them: a workspace's data is erased
only when Slack says Ally left it (``token_revoked``, ``account_inactive`` for that workspace's
own stored token); no stored token, ``invalid_auth``, other errors and silence keep it, and the
command says what it erased, what it kept and why. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_bolt import App

import handlers
from bot.ledger.people import MemberRef
from bot.platform.app import create_app
from bot.platform.oauth import installation_store
from bot.platform.runtime import Runtime
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import member_counts, rows_of_workspace
from tests.support.oauth import CLIENT_ID, OAUTH, install, oauth_answer
from tests.support.process import ALLY_BOT, ally_env, run_cli
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET, TEST_ENCRYPTION_KEY
from tests.support.slack_requests import SlackDriver

pytestmark = pytest.mark.slow

ANA_T1 = MemberRef(team_id="T1", user_id="U1")
ANA_T2 = MemberRef(team_id="T2", user_id="U1")
ANA_T3 = MemberRef(team_id="T3", user_id="U1")
# slack_sdk's installation store: Ally's record of the install, not a member's data.
INSTALLATION_TABLES = ("slack_installations", "slack_bots")
INSTALL_HINT = "install Ally there via https://<your-host>/slack/install so its token is stored"


def oauth_env(fake: FakeSlack, db_url: str) -> dict[str, str]:
    """README's "Installing in many workspaces": OAuth settings, no SLACK_BOT_TOKEN."""
    return ally_env(
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET="client-secret",
        SLACK_SIGNING_SECRET=SECRET,
        ALLY_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY,
        DATABASE_URL=db_url,
        SLACK_API_URL=fake.base_url,
        ALLY_SCHEDULER="off",
        LOG_LEVEL="WARNING",
    )


def ally(fake: FakeSlack, db_url: str, cwd: Path, *args: str) -> list[str]:
    """Run ``ally-bot <args>`` with OAuth configured; its stdout lines (it must exit 0)."""
    result = run_cli([ALLY_BOT, *args], oauth_env(fake, db_url), cwd)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout.strip().splitlines()


def log_favours(slack: SlackDriver) -> None:
    """Ana records two favours through /ally, as she would in Slack."""
    assert "<@U2>" in slack.command("thanks <@U2> for the launch review").text
    assert "<@U3>" in slack.command("gave <@U3> an intro to the design team").text


@dataclass
class Workspaces:
    """Ally installed through OAuth in T2 and T3, Ana's favours logged in each."""

    runtime: Runtime
    app: App


@pytest.fixture
def installed(
    make_runtime: MakeRuntime, db_url: str, fake_slack: FakeSlack
) -> Iterator[Workspaces]:
    runtime = make_runtime(db_url, SLACK_BOT_TOKEN="", **OAUTH)
    app = create_app(runtime, register=[handlers.register])
    for team in ("T2", "T3"):
        answer = oauth_answer(team, f"xoxb-for-{team}")
        install(app, runtime, fake_slack, f"code-{team}", answer)
        log_favours(SlackDriver(app, SECRET, team=team))
    assert member_counts(runtime.sessions, ANA_T2) and member_counts(runtime.sessions, ANA_T3)
    yield Workspaces(runtime, app)
    app.listener_runner.listener_executor.shutdown(wait=True)


# -- README: a single-token workspace, then OAuth ------------------------------------------


def test_switching_a_single_token_workspace_to_oauth_erases_nothing(
    make_runtime: MakeRuntime, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    # Ana used Ally under SLACK_BOT_TOKEN (workspace T1) ...
    single = make_runtime(db_url)
    single_app = create_app(single, register=[handlers.register])
    log_favours(SlackDriver(single_app, SECRET, team="T1"))
    single_app.listener_runner.listener_executor.shutdown(wait=True)
    before = member_counts(single.sessions, ANA_T1)
    assert before["interactions"] == 2

    # ... then the operator follows "Installing in many workspaces" and restarts with OAuth.
    fake_slack.reset()
    said = ally(fake_slack, db_url, tmp_path, "sweep")
    assert said == [
        f"ally-bot: T1: no installation: kept; {INSTALL_HINT}",
        "ally-bot: 0 installed workspace(s) with data kept",
    ]
    assert member_counts(single.sessions, ANA_T1) == before
    # Nothing to ask Slack about: no token is stored for T1.
    assert fake_slack.calls_to("auth.test") == []

    for check in (["check"], ["check", "--live"]):
        lines = ally(fake_slack, db_url, tmp_path, *check)
        assert lines[1:] == [
            f"ally-bot: workspace T1 has data but no installation: its data is kept; {INSTALL_HINT}"
        ], check

    # Installing through /slack/install in T1 stores its token: checked, installed, kept.
    oauth = make_runtime(db_url, SLACK_BOT_TOKEN="", **OAUTH)
    app = create_app(oauth, register=[handlers.register])
    install(app, oauth, fake_slack, "code-T1", oauth_answer("T1", "xoxb-for-T1"))
    assert ally(fake_slack, db_url, tmp_path, "sweep") == [
        "ally-bot: 1 installed workspace(s) with data kept"
    ]
    assert len(ally(fake_slack, db_url, tmp_path, "check")) == 1
    assert member_counts(oauth.sessions, ANA_T1) == before
    # And her data is hers again in Slack, now through the workspace's own token.
    assert "launch review" in SlackDriver(app, SECRET, team="T1").command("who <@U2>").text


def test_a_new_app_or_a_wrong_client_id_erases_nothing(
    installed: Workspaces, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = oauth_env(fake_slack, db_url) | {"SLACK_CLIENT_ID": "9999.0000"}
    result = run_cli([ALLY_BOT, "sweep"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        f"ally-bot: T2: no installation: kept; {INSTALL_HINT}",
        f"ally-bot: T3: no installation: kept; {INSTALL_HINT}",
    ]
    sessions = installed.runtime.sessions
    assert member_counts(sessions, ANA_T2) and member_counts(sessions, ANA_T3)


# -- an uninstall Ally missed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "meaning"),
    [
        ("token_revoked", "Ally was removed from it"),
        ("account_inactive", "the workspace was deleted"),
    ],
)
def test_a_missed_uninstall_is_erased_on_slacks_word(
    installed: Workspaces,
    db_url: str,
    fake_slack: FakeSlack,
    tmp_path: Path,
    answer: str,
    meaning: str,
) -> None:
    sessions = installed.runtime.sessions
    t2_tables = rows_of_workspace(sessions, "T2")
    t2_rows = sum(n for name, n in t2_tables.items() if name not in INSTALLATION_TABLES)
    assert t2_tables["slack_bots"] == 1 and t2_rows > 0
    t3_before = rows_of_workspace(sessions, "T3")
    # Ally was down for app_uninstalled and its retries: T2's installation is still stored,
    # but Slack now refuses its token.
    fake_slack.revoke("xoxb-for-T2", answer)
    fake_slack.reset()

    said = ally(fake_slack, db_url, tmp_path, "sweep")

    assert said == [
        f"ally-bot: T2: erased {t2_rows} row(s): Slack answered {answer} to its stored token "
        f"({meaning})",
        "ally-bot: 1 installed workspace(s) with data kept",
    ]
    # Every row of T2 went, its installation too; T3 is as it was.
    assert set(rows_of_workspace(sessions, "T2").values()) == {0}
    assert rows_of_workspace(sessions, "T3") == t3_before
    # Each workspace was asked about with its own token.
    asked = sorted(c.headers["Authorization"] for c in fake_slack.calls_to("auth.test"))
    assert asked == ["Bearer xoxb-for-T2", "Bearer xoxb-for-T3"]

    assert ally(fake_slack, db_url, tmp_path, "sweep") == [
        "ally-bot: 1 installed workspace(s) with data kept"
    ]


# -- what Slack did not say ------------------------------------------------------------------


def test_invalid_auth_keeps_the_data_and_is_reported(
    installed: Workspaces, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    sessions = installed.runtime.sessions
    before = member_counts(sessions, ANA_T2)
    fake_slack.revoke("xoxb-for-T2", "invalid_auth")  # e.g. an IP allow-list

    said = ally(fake_slack, db_url, tmp_path, "sweep")

    assert said[0].startswith("ally-bot: T2: invalid_auth: kept; ")
    assert "IP allow-list" in said[0] and "/slack/install" in said[0]
    assert said[1:] == ["ally-bot: 1 installed workspace(s) with data kept"]
    assert member_counts(sessions, ANA_T2) == before
    store = installation_store(installed.runtime)
    assert store.find_bot(enterprise_id=None, team_id="T2") is not None


def test_errors_and_silence_keep_the_data(
    installed: Workspaces, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    sessions = installed.runtime.sessions
    before = {ref: member_counts(sessions, ref) for ref in (ANA_T2, ANA_T3)}
    # Slack's own trouble, every attempt and retry of this run.
    fake_slack.fail("auth.test", status=500, error="internal_error", retry_after=None, times=20)
    said = ally(fake_slack, db_url, tmp_path, "sweep")
    unsaid = "internal_error: kept; Slack did not say Ally left, the next sweep asks again"
    assert said == [
        f"ally-bot: T2: {unsaid}",
        f"ally-bot: T3: {unsaid}",
        "ally-bot: 0 installed workspace(s) with data kept",
    ]
    # Slack out of reach.
    closed = FakeSlack().start()
    closed.stop()
    result = run_cli([ALLY_BOT, "sweep"], oauth_env(closed, db_url), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ally-bot: T2: Slack unreachable: kept; the next sweep asks again",
        "ally-bot: T3: Slack unreachable: kept; the next sweep asks again",
        "ally-bot: 0 installed workspace(s) with data kept",
    ]
    assert {ref: member_counts(sessions, ref) for ref in before} == before


def test_single_workspace_mode_erases_nothing_even_with_a_refused_token(
    make_runtime: MakeRuntime, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """With SLACK_BOT_TOKEN the token is the operator's (a stale paste answers token_revoked
    too): only app_uninstalled erases there."""
    single = make_runtime(db_url)
    app = create_app(single, register=[handlers.register])
    log_favours(SlackDriver(app, SECRET, team="T1"))
    app.listener_runner.listener_executor.shutdown(wait=True)
    before = member_counts(single.sessions, ANA_T1)
    fake_slack.revoke("xoxb-test", "token_revoked")
    env = ally_env(
        SLACK_BOT_TOKEN="xoxb-test",
        DATABASE_URL=db_url,
        SLACK_API_URL=fake_slack.base_url,
        LOG_LEVEL="WARNING",
    )
    result = run_cli([ALLY_BOT, "sweep"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ally-bot: nothing to sweep: with SLACK_BOT_TOKEN (one workspace) a workspace's data "
        "is erased when Slack sends app_uninstalled"
    ]
    assert member_counts(single.sessions, ANA_T1) == before


def test_check_without_live_names_nothing_it_cannot_read(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """``ally-bot check`` with OAuth reads the database to name workspaces without an
    installation, but never creates one, and a database that is down is one more line."""
    missing = tmp_path / "data" / "ally.db"
    lines = ally(fake_slack, f"sqlite:///{missing}", tmp_path, "check")
    assert lines == ["ally-bot: configuration is complete (HTTP on port 3000)"]
    assert not missing.exists()
    down = ally(fake_slack, "postgresql://postgres@127.0.0.1:1/ally", tmp_path, "check")
    assert down[0] == "ally-bot: configuration is complete (HTTP on port 3000)"
    assert down[1].startswith("ally-bot: workspaces without an installation not listed: ")
    assert len(down) == 2
