"""Installing Ally into several workspaces through OAuth (``SLACK_CLIENT_ID`` set): the
install page, the callback against the fake Slack's ``oauth.v2.access``, the installation in
the app's own database, and requests from each workspace using that workspace's own token; the
install, success and failure pages are Ally's own and say what happened."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse

import pytest
import yaml
from slack_bolt import App
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import select

import handlers
from bot.ledger.people import MemberRef
from bot.nudges.delivery import send_due
from bot.platform.app import create_app
from bot.platform.oauth import BOT_SCOPES, installation_store, oauth_settings
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.member_data import give_data
from tests.support.nudge_fixtures import add_member, nudges
from tests.support.oauth import CLIENT_ID, install, oauth_answer, wsgi_get
from tests.support.runtime import MakeRuntime
from tests.support.settings import SECRET
from tests.support.slack_requests import SlackDriver, command_body
from tests.support.waiting import wait_for


@pytest.fixture
def oauth_runtime(make_runtime: MakeRuntime, db_url: str) -> Runtime:
    return make_runtime(db_url, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET="client-secret")


@pytest.fixture
def oauth_app(oauth_runtime: Runtime) -> App:
    return create_app(oauth_runtime, register=[handlers.register])


def tokens_used(fake: FakeSlack, method: str) -> list[str]:
    return [c.headers.get("Authorization", "") for c in fake.calls_to(method)]


def test_install_then_requests_use_each_workspace_token(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    install(oauth_app, oauth_runtime, fake_slack, "code-2", oauth_answer("T2", "xoxb-for-T2"))
    install(oauth_app, oauth_runtime, fake_slack, "code-3", oauth_answer("T3", "xoxb-for-T3"))
    exchange = fake_slack.calls_to("oauth.v2.access")[0]
    assert exchange["code"] == "code-2"

    store = installation_store(oauth_runtime)
    found = store.find_installation(enterprise_id=None, team_id="T2")
    assert found is not None and found.bot_token == "xoxb-for-T2"
    # The SDK's own store, reading the rows as they are, sees only sealed tokens.
    raw = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=oauth_runtime.engine)
    stored = raw.find_installation(enterprise_id=None, team_id="T2")
    assert stored is not None and str(stored.bot_token).startswith("fernet:")

    for team, token in (("T2", "xoxb-for-T2"), ("T3", "xoxb-for-T3")):
        fake_slack.reset()
        reply = SlackDriver(oauth_app, SECRET, team=team).command("export", user="U1")
        assert "direct message" in reply.text, reply.text
        wait_for(lambda: fake_slack.calls_to("files.completeUploadExternal"))
        assert tokens_used(fake_slack, "conversations.open") == [f"Bearer {token}"]
        assert tokens_used(fake_slack, "files.completeUploadExternal") == [f"Bearer {token}"]


def test_a_workspace_that_never_installed_is_told_to_install(
    oauth_app: App, fake_slack: FakeSlack
) -> None:
    fields = dict(parse_qsl(command_body("export", user="U1", team="T9")))
    fields["response_url"] = fake_slack.response_url("respond")
    reply = SlackDriver(oauth_app, SECRET, team="T9").send(
        urlencode(fields), "application/x-www-form-urlencoded"
    )
    assert reply.status == 200
    # Bolt answers through the response URL: the workspace has no installation.
    [answer] = fake_slack.calls_to("respond")
    assert "reinstall" in answer["text"]
    assert fake_slack.calls_to("conversations.open") == []


def test_a_forged_or_reused_state_installs_nothing(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    fake_slack.oauth_codes["code-x"] = oauth_answer("T2", "xoxb-for-T2")
    status, _, _ = wsgi_get(
        oauth_app,
        oauth_runtime,
        "/slack/oauth_redirect",
        urlencode({"code": "code-x", "state": "made-up"}),
        cookie="slack-app-oauth-state=made-up",
    )
    assert status >= 400
    assert fake_slack.calls_to("oauth.v2.access") == []
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=oauth_runtime.engine)
    assert store.find_installation(enterprise_id=None, team_id="T2") is None


def test_enterprise_grid_org_install_keys_members_by_enterprise(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    answer = oauth_answer(None, "xoxb-for-E1", enterprise="E1", org_install=True)
    install(oauth_app, oauth_runtime, fake_slack, "code-e", answer)
    # Org-wide: a Grid user is one member across the org's workspaces (handlers.kit.members).
    grid_member = MemberRef(team_id="", user_id="U1", enterprise_id="E1")
    give_data(oauth_runtime.sessions, grid_member, clock())
    # The same user id in a workspace of no enterprise is someone else's data.
    give_data(oauth_runtime.sessions, MemberRef(team_id="T5", user_id="U1"), clock(), secret="x")

    fake_slack.reset()
    body = (
        command_body("export", user="U1", team="T5")
        + "&"
        + urlencode(
            {"enterprise_id": "E1", "enterprise_name": "Grid", "is_enterprise_install": "true"}
        )
    )
    reply = SlackDriver(oauth_app, SECRET, team="T5").send(
        body, "application/x-www-form-urlencoded"
    )
    assert "direct message" in reply.text, reply.text
    oauth_app.listener_runner.listener_executor.shutdown(wait=True)  # the file is sent after
    assert tokens_used(fake_slack, "conversations.open") == ["Bearer xoxb-for-E1"]
    exported = json.loads(next(iter(fake_slack.uploads.values())))
    assert exported["workspace"] == {"enterprise_id": "E1", "team_id": ""}
    assert len(exported["contacts"]) == 2
    assert "notes: private" in json.dumps(exported)
    assert "notes: x" not in json.dumps(exported)


def test_bot_scopes_match_the_manifest() -> None:
    with open("manifest.yml") as file:
        manifest = yaml.safe_load(file)
    assert set(BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_uninstalled", "tokens_revoked"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"]
    )


def test_installation_rows_live_in_the_app_database(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    install(oauth_app, oauth_runtime, fake_slack, "code-2", oauth_answer("T2", "xoxb-for-T2"))
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=oauth_runtime.engine)
    with oauth_runtime.engine.connect() as connection:
        teams = connection.execute(select(store.bots.c.team_id)).scalars().all()
    assert teams == ["T2"]


def test_weekly_nudges_use_each_workspace_token(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    install(oauth_app, oauth_runtime, fake_slack, "code-2", oauth_answer("T2", "xoxb-for-T2"))
    install(oauth_app, oauth_runtime, fake_slack, "code-3", oauth_answer("T3", "xoxb-for-T3"))
    add_member(oauth_runtime, "U2", "Europe/London", team_id="T2")
    add_member(oauth_runtime, "U3", "Europe/London", team_id="T3")
    add_member(oauth_runtime, "U9", "Europe/London", team_id="T9")  # never installed
    fake_slack.reset()

    summary = send_due(oauth_runtime, clock.now)

    assert (summary.sent, summary.skipped) == (2, 1)
    posted = {
        c["channel"]: c.headers.get("Authorization")
        for c in fake_slack.calls_to("chat.postMessage")
    }
    # Each to the member's user id: Slack posts it in the app's DM with them.
    assert posted == {"U2": "Bearer xoxb-for-T2", "U3": "Bearer xoxb-for-T3"}
    [skipped] = [n for n in nudges(oauth_runtime) if n.status == "skipped"]
    assert skipped.error == "Ally is not installed in this workspace"


# -- the install pages: Ally's own install page, success and failure pages ------------------

COOKIE = "slack-app-oauth-state"


def start(app: App, runtime: Runtime) -> tuple[str, dict[str, str], str]:
    """Open the install page; returns the page, its headers and the state it issued."""
    status, headers, page = wsgi_get(app, runtime, "/slack/install")
    assert status == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None, page
    state = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)["state"][0]
    return page, headers, state


def test_the_install_page_is_allys_own(oauth_app: App, oauth_runtime: Runtime) -> None:
    page, headers, _ = start(oauth_app, oauth_runtime)

    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Add Ally to your Slack workspace · Ally</title>" in page
    assert '<a class="button" href="https://slack.com/oauth/v2/authorize?' in page
    assert ">Add to Slack</a>" in page
    assert "Everything a member logs is private to them" in page
    assert "Send each member a short weekly DM" in page


def test_success_page_names_the_workspace_and_the_next_step(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    answer = oauth_answer("T2", "xoxb-for-T2")
    answer["team"]["name"] = "Acme <Research> & Co"
    page = install(oauth_app, oauth_runtime, fake_slack, "code-2", answer)

    assert "<h1>Ally is installed</h1>" in page
    assert "<strong>Acme &lt;Research&gt; &amp; Co</strong>" in page
    assert 'href="slack://app?team=T2&amp;id=A1">Open Ally in Slack</a>' in page
    assert 'href="https://app.slack.com/client/T2"' in page
    assert "<code>/ally help</code>" in page
    assert "<code>/invite @Ally</code>" in page


def test_cancelling_on_slack_shows_a_clear_failure_page(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    _, _, state = start(oauth_app, oauth_runtime)
    status, headers, page = wsgi_get(
        oauth_app,
        oauth_runtime,
        "/slack/oauth_redirect",
        urlencode({"error": "access_denied", "state": state}),
        cookie=f"{COOKIE}={state}",
    )

    assert status == 200
    assert "<h1>Ally was not installed</h1>" in page
    assert "The install was cancelled" in page
    assert '<a class="button" href="/slack/install">Try again</a>' in page
    assert "<code>access_denied</code>" in page
    # The state cookie is cleared whatever the outcome.
    assert headers["set-cookie"].startswith(f"{COOKIE}=deleted;")
    assert fake_slack.calls_to("oauth.v2.access") == []


def test_a_code_slack_refuses_installs_nothing_and_says_so(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    _, _, state = start(oauth_app, oauth_runtime)
    status, _, page = wsgi_get(
        oauth_app,
        oauth_runtime,
        "/slack/oauth_redirect",
        urlencode({"code": "not-a-code", "state": state}),
        cookie=f"{COOKIE}={state}",
    )

    assert status == 401  # Bolt's suggested status for a refused code
    assert "Slack did not accept the authorisation code" in page
    assert "<code>invalid_code</code>" in page
    assert len(fake_slack.calls_to("oauth.v2.access")) == 1
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=oauth_runtime.engine)
    assert store.find_installation(enterprise_id=None, team_id="T2") is None


def test_a_redirect_in_another_browser_says_to_start_again(
    oauth_app: App, oauth_runtime: Runtime, fake_slack: FakeSlack
) -> None:
    _, _, state = start(oauth_app, oauth_runtime)
    status, _, page = wsgi_get(
        oauth_app,
        oauth_runtime,
        "/slack/oauth_redirect",
        urlencode({"code": "code-2", "state": state}),
    )

    assert status == 400
    assert "This install was started in another browser" in page
    assert "<script" not in page
    assert fake_slack.calls_to("oauth.v2.access") == []


def test_the_manifest_redirects_installers_to_the_callback_ally_serves(
    oauth_runtime: Runtime,
) -> None:
    manifest = yaml.safe_load((Path(__file__).parents[3] / "manifest.yml").read_text())
    settings = oauth_settings(oauth_runtime)
    assert settings is not None
    [url] = manifest["oauth_config"]["redirect_urls"]
    parsed = urlparse(url)
    # Slack requires HTTPS redirect URLs, even for local development (as Auth.js's Slack
    # provider notes: authjs.dev/getting-started/providers/slack).
    assert parsed.scheme == "https"
    assert parsed.path == settings.redirect_uri_path == "/slack/oauth_redirect"
