"""What to tell a member when Slack's Web API refuses a call (other than rate limits, which the
client retries): one clear sentence per error code, instead of a traceback or silence."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

GENERIC = "Slack refused that request, so nothing was sent. Please try again in a moment."

EXPLAIN = {
    "user_not_found": "I can't find that person in this workspace.",
    "users_not_found": "I can't find that person in this workspace.",
    "user_disabled": "That person's account is deactivated, so I can't message them.",
    "account_inactive": (
        "Ally's access to this workspace has been turned off (the app was removed or its "
        "token revoked). Ask an admin to reinstall Ally."
    ),
    "token_revoked": (
        "Ally's access to this workspace has been revoked. Ask an admin to reinstall Ally."
    ),
    "invalid_auth": "Ally's access to this workspace isn't valid. Ask an admin to reinstall Ally.",
    "channel_not_found": "I can't reach that conversation: it may be private or deleted.",
    "not_in_channel": "I'm not in that conversation. Invite @Ally to it, or use a DM.",
    "is_archived": "That conversation is archived, so I can't post in it.",
    "cannot_dm_bot": "That's a bot, and I can't send it a direct message.",
    "missing_scope": (
        "Ally is missing a permission it needs for that. Ask an admin to reinstall Ally."
    ),
    "file_not_found": "Slack lost the file on the way. Please try again.",
}


def error_code(error: SlackApiError) -> str:
    """Slack's error code (``user_not_found``…) from a failed Web API call."""
    response = error.response
    code = response.get("error") if response is not None else None
    return str(code or "unknown_error")


def explain(error: SlackApiError) -> str:
    """One friendly sentence for a failed Web API call."""
    return EXPLAIN.get(error_code(error), GENERIC)
