"""The web pages of an OAuth install, in Ally's own look: the install page, the page after a
successful install and the page after a failed one.

Bolt renders plain default pages; these replace them through its extension points:
``OAuthFlow.build_install_page_html`` and ``OAuthSettings(callback_options=...)``
(slack_bolt/oauth/oauth_flow.py, slack_bolt/oauth/callback_options.py). Every value from a
request or from Slack is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation

# manifest.yml's display_information.background_color, so the pages look like the app in Slack.
BRAND = "#1d3b53"
STYLE = f"""
body {{ margin: 0; font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  background: #f4f6f8; color: #1d1c1d; }}
header {{ background: {BRAND}; color: #fff; padding: 18px 24px; font-size: 22px;
  font-weight: 700; letter-spacing: .5px; }}
main {{ max-width: 560px; margin: 32px auto; background: #fff; border-radius: 8px;
  padding: 28px 32px; box-shadow: 0 1px 3px rgba(0,0,0,.12); line-height: 1.5; }}
h1 {{ font-size: 22px; margin-top: 0; }}
.button {{ display: inline-block; background: {BRAND}; color: #fff; text-decoration: none;
  padding: 10px 18px; border-radius: 6px; font-weight: 700; margin: 8px 8px 8px 0; }}
.secondary {{ background: #fff; color: {BRAND}; border: 1px solid {BRAND}; }}
.note {{ color: #616061; font-size: 14px; }}
code {{ background: #f0f0f0; padding: 1px 4px; border-radius: 3px; }}
"""

# What each of Ally's bot scopes lets it do, in the words an installer needs.
SCOPE_USES = (
    "Add the /ally command and its shortcuts",
    "Send each member a short weekly DM, and their export when they ask for it",
    "Read members' names and time zones, so DMs arrive at their local time",
    "Notice the emoji a member reacts with to log who helped them",
    "Match the people in an address book a member sends to their Slack accounts, by email",
    "See which channels two people share, so that a guest reaches only people Slack shows them",
)

# Bolt's failure reasons (slack_bolt/oauth/oauth_flow.py handle_callback) and Slack's own
# `error` values on the redirect, in plain words; anything else gets the general line.
FAILURES = {
    "access_denied": "The install was cancelled, so Ally was not added to your workspace.",
    "invalid_browser": (
        "This install was started in another browser, or its cookie was blocked. Start again "
        "from the button below, in the browser you finish it in."
    ),
    "invalid_state": "This install link has expired or was already used. Start again below.",
    "missing_code": "Slack did not send back an authorisation code. Start again below.",
    "invalid_code": "Slack did not accept the authorisation code (it may have expired).",
    "storage_error": "Ally could not save the installation. Try again in a minute.",
}
GENERAL_FAILURE = "Slack did not complete the install."


def page(title: str, paragraphs: Iterable[str]) -> str:
    """A whole HTML page; ``paragraphs`` are HTML fragments the caller has escaped."""
    body = "\n".join(paragraphs)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Ally</title><style>{STYLE}</style></head>\n"
        f"<body><header>Ally</header><main><h1>{html.escape(title)}</h1>\n{body}\n"
        "</main></body></html>\n"
    )


def link(url: str, text: str, *, secondary: bool = False) -> str:
    css = "button secondary" if secondary else "button"
    return f'<a class="{css}" href="{html.escape(url)}">{html.escape(text)}</a>'


def install_page(authorize_url: str) -> str:
    uses = "".join(f"<li>{html.escape(use)}</li>" for use in SCOPE_USES)
    return page(
        "Add Ally to your Slack workspace",
        [
            "<p>Ally helps people build and keep the relationships their work depends on: who "
            "helped them, whom they helped, and whom to stay in touch with.</p>",
            f"<p>Slack will ask you to allow Ally to:</p><ul>{uses}</ul>",
            f"<p>{link(authorize_url, 'Add to Slack')}</p>",
            '<p class="note">Everything a member logs is private to them. Uninstalling Ally '
            "deletes all of the workspace's data.</p>",
        ],
    )


def success_page(installation: Installation) -> str:
    """The page after a successful install of ``installation`` (for a workspace or an org)."""
    team_name, team_id, app_id = installation.team_name, installation.team_id, installation.app_id
    enterprise_url = installation.enterprise_url
    org_install = bool(installation.is_enterprise_install)
    where = html.escape(team_name) if team_name else "your workspace"
    if org_install and enterprise_url and app_id:
        # An org-wide install: the admin picks the workspaces next, in the org's app settings.
        open_url = f"{enterprise_url}manage/organization/apps/profile/{app_id}/workspaces/add"
        next_step = link(open_url, "Choose the workspaces")
    else:
        open_url = (
            f"slack://app?team={team_id}&id={app_id}" if team_id and app_id else "slack://open"
        )
        next_step = link(open_url, "Open Ally in Slack") + link(
            f"https://app.slack.com/client/{team_id or ''}",
            "Open Slack in the browser",
            secondary=True,
        )
    return page(
        "Ally is installed",
        [
            f"<p>Ally is now part of <strong>{where}</strong>.</p>",
            f"<p>{next_step}</p>",
            "<p>In any channel or DM, type <code>/ally help</code> to start. To log favours "
            "by reacting to messages in a channel, invite Ally there first "
            "(<code>/invite @Ally</code>).</p>",
        ],
    )


def failure_page(reason: str, install_path: str) -> str:
    return page(
        "Ally was not installed",
        [
            f"<p>{html.escape(FAILURES.get(reason, GENERAL_FAILURE))}</p>",
            f"<p>{link(install_path, 'Try again')}</p>",
            f'<p class="note">If it keeps failing, give your Ally administrator this code: '
            f"<code>{html.escape(reason)}</code>.</p>",
        ],
    )


def _html(status: int, body: str, cookie: str) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=body,
        headers={"Content-Type": "text/html; charset=utf-8", "Set-Cookie": cookie},
    )


def _success(args: SuccessArgs) -> BoltResponse:
    body = success_page(args.installation)
    return _html(200, body, args.settings.state_utils.build_set_cookie_for_deletion())


def _failure(args: FailureArgs) -> BoltResponse:
    body = failure_page(args.reason, args.settings.install_path)
    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    return _html(args.suggested_status_code, body, cookie)


CALLBACKS = CallbackOptions(success=_success, failure=_failure)
