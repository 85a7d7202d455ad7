"""Installing Ally through its OAuth pages, as a workspace admin does: the install page, Slack's
redirect back with a code, the fake Slack's ``oauth.v2.access`` issuing the workspace's token."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse
from wsgiref.util import setup_testing_defaults

from slack_bolt import App

from bot.platform.oauth import BOT_SCOPES
from bot.platform.runtime import Runtime
from bot.platform.server import AllyWSGI
from tests.support.fake_slack import FakeSlack

CLIENT_ID = "1111.2222"
# What a runtime needs on top of the tests' settings to install through OAuth.
OAUTH = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "client-secret"}


def wsgi_get(app: App, runtime: Runtime, path: str, query: str = "", cookie: str = "") -> tuple:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(b""),
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    setup_testing_defaults(environ)
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), headers

    body = b"".join(AllyWSGI(app, runtime)(environ, start_response)).decode()
    return answer["status"], {k.lower(): v for k, v in answer["headers"]}, body


def oauth_answer(
    team: str | None, token: str, *, enterprise: str | None = None, org_install: bool = False
) -> dict:
    return {
        "ok": True,
        "app_id": "A1",
        "authed_user": {"id": "UADMIN"},
        "scope": ",".join(BOT_SCOPES),
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": "UBOT",
        "team": {"id": team, "name": f"Team {team}"} if team else None,
        "enterprise": {"id": enterprise, "name": "Grid"} if enterprise else None,
        "is_enterprise_install": org_install,
    }


def install(app: App, runtime: Runtime, fake: FakeSlack, code: str, answer: dict) -> str:
    """Walk the install page and the redirect back from Slack; returns the success page."""
    fake.oauth_codes[code] = answer
    status, headers, page = wsgi_get(app, runtime, "/slack/install")
    assert status == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None, page
    query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    state = query["state"][0]
    assert state in headers["set-cookie"]
    status, _, page = wsgi_get(
        app,
        runtime,
        "/slack/oauth_redirect",
        urlencode({"code": code, "state": state}),
        cookie=f"slack-app-oauth-state={state}",
    )
    assert status == 200, page
    return page
