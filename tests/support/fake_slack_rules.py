"""What the fake Slack accepts: the methods it knows, and Slack's limits on messages and views.

``refusal(method, params)`` returns Slack's error body for a call that real Slack would refuse,
or None. Blocks and views are parsed with ``slack_sdk.models`` and checked with ``to_dict()``
(which runs the SDK's own validators, nested elements included); the limits the SDK does not
check are checked here. Each limit names the Slack page it comes from, so it can be re-checked:

- BLOCKS: https://api.slack.com/reference/block-kit/blocks
- ELEMENTS: https://api.slack.com/reference/block-kit/block-elements
- OBJECTS: https://api.slack.com/reference/block-kit/composition-objects
- VIEWS: https://api.slack.com/reference/surfaces/views
- POST: https://api.slack.com/methods/chat.postMessage (errors: ``msg_too_long``, ``no_text``,
  ``invalid_blocks``, ``invalid_arguments``)
- VIEWS_OPEN: https://api.slack.com/methods/views.open (``invalid_arguments``, ``invalid_blocks``)
- METHODS: https://api.slack.com/web ("unknown_method": HTTP 200 with ``ok: false``)
- AUTH: https://api.slack.com/methods/auth.test ("checks authentication and tells you who you
  are": the token's own ``team_id``, ``user_id``, ``bot_id``, and ``enterprise_id`` within
  Enterprise Grid). Its errors: ``invalid_auth`` ("either the provided token is invalid or the
  request originates from an IP address disallowed from making the request"), ``not_authed``
  (no token), ``account_inactive`` ("authentication token is for a deleted user or workspace
  when using a bot token"), ``token_revoked`` ("... or the app has been removed"),
  ``token_expired`` (a rotating token past its expiry).

- CHANNELS: https://api.slack.com/methods/chat.postMessage and
  https://api.slack.com/methods/chat.postEphemeral ("channel_not_found: Value passed for channel
  was invalid"; "not_in_channel: Cannot post user messages to a channel they are not in";
  "is_archived: Channel has been archived"). A DM the app opened (conversations.open), or a
  user id as ``channel`` (the app's DM with them), is the app's own.
- CHAT_UPDATE: https://api.slack.com/methods/chat.update (``channel`` "For direct messages,
  ensure that this value is a DM ID (starts with D) instead of a User ID"; "message_not_found:
  No message exists with the requested timestamp"; "cant_update_message: Authenticated user does
  not have permission to update this message"; "is_inactive: The message cannot be edited
  within a frozen, archived or deleted channel").
- CONVERSATIONS_OPEN: https://api.slack.com/methods/conversations.open ("user_not_found:
  Value(s) passed for users was invalid"; "user_disabled: A specified user has been disabled";
  "user_not_visible: The calling user is restricted from seeing the requested user").
- RESPONSE_URL: https://api.slack.com/interactivity/handling#message_responses ("You can use a
  response_url to ... up to 5 times within 30 minutes of receiving the payload"). Past that
  Slack answers HTTP 404 with the plain-text body ``Expired url`` (getsentry/sentry,
  src/sentry/integrations/slack/utils: "Yes the error string has a space in it", matched
  against what Slack answers an expired response_url). Each post's message is held to POST's
  limits; Slack answers a refused one with HTTP 400 (``invalid_blocks``, ``no_text``...).
- ACK: https://api.slack.com/interactivity/handling#responses and
  https://api.slack.com/surfaces/modals#responding (a command's or action's HTTP answer is a
  message with POST's limits; a view submission's is ``response_action`` ``errors`` (an
  object of block_id -> message), ``update`` / ``push`` (a view, VIEWS' limits) or ``clear``).

Users, as the fake shows them (tests/support/fake_slack.py):

- MISSING_TZ: a user object does not always carry ``tz`` / ``tz_label`` / ``tz_offset``:
  slackhq/slack-api-docs#11 ("it's unclear when `tz` is null and when it's set"),
  caiosba/slack-timezone-converter#6 (a bot token's own user "will always fail due to having
  no timezone set"), ornicar/zulip-remind#11 (users with no timezone, e.g. bots).

- GUESTS: https://docs.slack.dev/reference/objects/user-object (``is_restricted``: a
  multi-channel guest; ``is_ultra_restricted``: a single-channel guest, also restricted;
  ``is_app_user``: an authorised user of the calling app)
- EMAIL_SCOPE: https://docs.slack.dev/reference/scopes/users.read.email ("view email addresses
  of people in a workspace"; without it ``profile.email`` is left out of users.info and
  users.list)
- SLACKBOT: https://docs.slack.dev/reference/methods/users.list (every workspace lists
  ``USLACKBOT``, with ``is_bot`` false)
- USERS_CONVERSATIONS: https://docs.slack.dev/reference/methods/users.conversations (``user``
  browses another user's public channels; private ones only where the caller is a member too;
  ``channels:read`` for public, ``groups:read`` for private channels; ``missing_scope``
  otherwise; ``limit`` at most 999)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Set
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.platform.oauth import BOT_SCOPES as BOT_SCOPES

# Every Web API method the fake answers; anything else gets ``unknown_method`` (METHODS).
KNOWN_METHODS = frozenset(
    {
        "apps.connections.open",
        "auth.test",
        "chat.delete",
        "chat.getPermalink",
        "chat.postEphemeral",
        "chat.postMessage",
        "chat.update",
        "conversations.history",
        "conversations.open",
        "files.completeUploadExternal",
        "files.delete",
        "files.getUploadURLExternal",
        "files.info",
        "oauth.v2.access",
        "users.conversations",
        "users.info",
        "users.list",
        "views.open",
        "views.publish",
        "views.push",
        "views.update",
    }
)

# AUTH: the errors Slack answers for a token it does not (or no longer) accept.
TOKEN_REFUSALS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)

MESSAGE_TEXT_MAX = 40_000  # POST: "truncated ... 40,000 characters"; over it, msg_too_long
MESSAGE_BLOCKS_MAX = 50  # BLOCKS: "up to 50 blocks in each message" (the SDK does not check it)
VIEW_BLOCKS_MAX = 100  # BLOCKS / VIEWS: "up to 100 blocks in modals or Home tabs"
TEXT_OBJECT_MIN = 1  # OBJECTS, text object: "minimum length of 1"
INPUT_MAX_LENGTH = 3000  # ELEMENTS, plain_text_input: max_length / min_length at most 3000
OPTION_TEXT_MAX = 75  # OBJECTS, option: text 75 characters
OPTION_VALUE_MAX = 150  # OBJECTS, option: value 150 characters

_MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")
_VIEW_METHODS = ("views.open", "views.publish", "views.push", "views.update")
# Arguments each method needs (POST, VIEWS_OPEN and each method's page: "Required arguments").
_REQUIRED = {
    "chat.postMessage": ("channel",),
    "chat.postEphemeral": ("channel", "user"),
    "chat.update": ("channel", "ts"),
    "chat.getPermalink": ("channel", "message_ts"),
    "conversations.history": ("channel",),
    "conversations.open": ("users",),
    "users.info": ("user",),
    "views.open": ("trigger_id", "view"),
    "views.push": ("trigger_id", "view"),
    "views.publish": ("user_id", "view"),
    "views.update": ("view",),
}


class Refused(Exception):
    """Slack's ``error`` code for a call it refuses, with why (for the test's failure message)."""

    def __init__(self, error: str, why: str) -> None:
        super().__init__(f"{error}: {why}")
        self.error = error
        self.why = why


def refusal(method: str, params: dict[str, Any], known: Set[str]) -> dict[str, Any] | None:
    """Slack's answer body when it would refuse this call; None when the call is fine."""
    if method not in known:
        return {"ok": False, "error": "unknown_method", "req_method": method}
    try:
        _check(method, params)
    except Refused as refused:
        return {"ok": False, "error": refused.error, "fake_slack_reason": refused.why}
    return None


def response_refusal(params: dict[str, Any]) -> dict[str, Any] | None:
    """Slack's answer to a message posted to a ``response_url`` that breaks its limits."""
    try:
        if params.get("text") or params.get("blocks"):
            check_message(params)
    except Refused as refused:
        return {"ok": False, "error": refused.error, "fake_slack_reason": refused.why}
    return None


def request_kind(body: str, content_type: str) -> str:
    """What Slack sent: ``command``, an interaction's ``type`` (``block_actions``,
    ``view_submission``...), or ``event``."""
    if "json" in content_type:
        return "event"
    fields = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in fields:
        try:
            return str(json.loads(fields["payload"]).get("type") or "")
        except ValueError:
            return ""
    return "command" if "command" in fields else ""


def ack_refusal(kind: str, body: str) -> str | None:
    """Why Slack would refuse what an app answered in the HTTP ack of a ``kind`` request, or
    None (ACK). A command's or an action's answer is a message (POST's limits); a view
    submission's is a ``response_action``: ``errors`` (block_id -> message), ``update`` or
    ``push`` (a modal, VIEWS' limits) or ``clear``."""
    if not body or kind in ("", "event") or not body.lstrip().startswith("{"):
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return "invalid_arguments: the answer is not JSON"
    try:
        if kind == "view_submission":
            _check_response_action(answer)
        elif answer.get("text") or answer.get("blocks") or answer.get("attachments"):
            check_message(answer)
    except Refused as refused:
        return str(refused)
    return None


def _check_response_action(answer: dict[str, Any]) -> None:
    action = answer.get("response_action")
    if action is None:
        if answer:
            raise Refused("invalid_arguments", "a view submission's answer needs response_action")
        return
    if action == "errors":
        errors = answer.get("errors")
        if not isinstance(errors, dict) or not errors:
            raise Refused("invalid_arguments", "`errors` must be an object of block_id -> text")
        for block_id, message in errors.items():
            if not isinstance(message, str) or not message:
                raise Refused("invalid_arguments", f"error for {block_id!r} must be text")
    elif action in ("update", "push"):
        view = _json(answer.get("view"), "view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise Refused("invalid_arguments", f"response_action {action} needs a modal view")
        check_view(view)
    elif action != "clear":
        raise Refused("invalid_arguments", f"unknown response_action {action!r}")


def _check(method: str, params: dict[str, Any]) -> None:
    for name in _REQUIRED.get(method, ()):
        if params.get(name) in (None, "", [], {}):
            raise Refused("invalid_arguments", f"{method} needs `{name}`")
    if method in _MESSAGE_METHODS:
        check_message(params)
    elif method in _VIEW_METHODS:
        check_view(_json(params.get("view"), "view"))


def check_message(params: dict[str, Any]) -> None:
    """A message's text and blocks as chat.postMessage / postEphemeral / update take them."""
    text = params.get("text")
    blocks = _json(params.get("blocks"), "blocks") if params.get("blocks") else None
    if not text and not blocks and not params.get("attachments"):
        # POST: "no_text: No text provided" (one of text, blocks or attachments is required).
        raise Refused("no_text", "a message needs text, blocks or attachments")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        raise Refused("msg_too_long", f"text is {len(text)} characters (max {MESSAGE_TEXT_MAX})")
    if blocks is not None:
        if not isinstance(blocks, list):
            raise Refused("invalid_blocks", "blocks must be an array")
        if len(blocks) > MESSAGE_BLOCKS_MAX:
            raise Refused("invalid_blocks", f"{len(blocks)} blocks (max {MESSAGE_BLOCKS_MAX})")
        for block in blocks:
            check_block(block)


def check_view(view: Any) -> None:
    """A modal or Home view as views.open / push / update / publish take it (VIEWS)."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        raise Refused("invalid_arguments", "view must be an object of type modal or home")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        raise Refused("invalid_arguments", "a view needs `blocks`")
    if len(blocks) > VIEW_BLOCKS_MAX:
        raise Refused("invalid_blocks", f"{len(blocks)} blocks (max {VIEW_BLOCKS_MAX})")
    if view["type"] == "modal":
        if not view.get("title"):
            raise Refused("invalid_arguments", "a modal needs a title")  # VIEWS: title required
        # VIEWS: "submit ... required when an input block is within the blocks array".
        if any(b.get("type") == "input" for b in blocks if isinstance(b, dict)) and not view.get(
            "submit"
        ):
            raise Refused("invalid_arguments", "a modal with an input block needs `submit`")
    for block in blocks:
        check_block(block)
    try:
        # Title 24, submit/close 24, private_metadata 3000, callback_id 255, blocks 1-100.
        View(**{k: v for k, v in view.items() if k not in ("id", "hash", "state")}).to_dict()
    except (SlackObjectFormationError, TypeError) as error:
        raise Refused("invalid_arguments", f"view: {error}") from error


def check_block(block: Any) -> None:
    """One block: the SDK's validators, then what the SDK leaves unchecked."""
    if not isinstance(block, dict):
        raise Refused("invalid_blocks", f"a block must be an object, not {block!r}")
    parsed = Block.parse(block)
    if parsed is None:
        raise Refused("invalid_blocks", f"unknown block type {block.get('type')!r}")
    try:
        parsed.to_dict()
    except SlackObjectFormationError as error:
        raise Refused("invalid_blocks", f"{block.get('type')} block: {error}") from error
    for text in _text_objects(block):
        if len(str(text.get("text") or "")) < TEXT_OBJECT_MIN:
            raise Refused("invalid_blocks", f"empty text object in a {block.get('type')} block")
    for element in _elements(block):
        _check_element(element)


def _check_element(element: dict[str, Any]) -> None:
    kind = element.get("type")
    if kind == "plain_text_input":
        # ELEMENTS, plain_text_input: max_length 1-3000, min_length 0-3000, and an initial value
        # Slack would not let the member type (longer than max_length) is refused.
        max_length = element.get("max_length")
        min_length = element.get("min_length")
        if max_length is not None and not 1 <= int(max_length) <= INPUT_MAX_LENGTH:
            raise Refused("invalid_blocks", f"max_length {max_length} is outside 1-3000")
        if min_length is not None and not 0 <= int(min_length) <= INPUT_MAX_LENGTH:
            raise Refused("invalid_blocks", f"min_length {min_length} is outside 0-3000")
        initial = element.get("initial_value")
        if initial is not None and max_length is not None and len(initial) > int(max_length):
            raise Refused(
                "invalid_blocks",
                f"initial_value is {len(initial)} characters, over max_length {max_length}",
            )
    for option in _options(element):
        text = (option.get("text") or {}).get("text") or ""
        if len(text) > OPTION_TEXT_MAX:
            raise Refused("invalid_blocks", f"option text over {OPTION_TEXT_MAX} characters")
        if len(str(option.get("value") or "")) > OPTION_VALUE_MAX:
            raise Refused("invalid_blocks", f"option value over {OPTION_VALUE_MAX} characters")


def _elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("element", "accessory"):
        if isinstance(block.get(key), dict):
            yield block[key]
    for element in block.get("elements") or []:
        if isinstance(element, dict) and element.get("type") not in ("mrkdwn", "plain_text"):
            yield element


def _options(element: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for option in element.get("options") or []:
        if isinstance(option, dict):
            yield option
    for group in element.get("option_groups") or []:
        yield from _options(group if isinstance(group, dict) else {})
    for key in ("initial_option",):
        if isinstance(element.get(key), dict):
            yield element[key]
    for option in element.get("initial_options") or []:
        if isinstance(option, dict):
            yield option


def _text_objects(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The block's own text objects (text, fields, context elements, label, hint)."""
    for key in ("text", "label", "hint"):
        if isinstance(block.get(key), dict):
            yield block[key]
    for field in block.get("fields") or []:
        if isinstance(field, dict):
            yield field
    if block.get("type") == "context":
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                yield element


def _json(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as error:
            raise Refused("invalid_arguments", f"`{name}` is not JSON") from error
    return value
