"""Say thanks: a button on a favour received opens a modal; submitting it DMs the ally.

The button's value and the modal's ``private_metadata`` hold an interaction id, which anyone
could forge, so every step looks the interaction up within the pressing member's own ledger.

Pressed in a message that stays (the weekly DM, not an ephemeral reply), the modal also carries
that message's channel and ts; once the thanks has gone out, the message is rewritten in place
(``chat.update``) so the button's block says "Thanked <name>", like the DM's other buttons.

The thank-you reaches the ally once, whatever Slack answers. The favour notes the post as
started before it is made, and the post is never retried blindly (429s only: Slack did not post
those). A 5xx, a dropped connection or a timeout may come after Slack posted it, so the note
stays and the member is told so; their next Send first reads the ally's DM for that very
post (its metadata names the favour and the attempt) and records it if it is there, posting
only if it is not. A clear refusal clears the note.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.metadata import Metadata

from bot import ids
from bot.errors import AllyError, NotFound
from bot.ledger import directory
from bot.ledger import service as ledger
from bot.ledger.people import MemberRef
from bot.platform import dm_history
from bot.platform.app import posting_client
from bot.platform.runtime import Runtime
from handlers.kit.blocks import escape, updated_blocks
from handlers.kit.members import home_changed, member_of
from handlers.kit.replies import on_press, tell
from handlers.ledger import views

log = logging.getLogger(__name__)
EVENT_TYPE = "ally_thanks"
# A view submission is answered within 3 seconds: a 429 is waited out only if it is this short.
MAX_WAIT = 1.0
# The ally's DM is read this far back (newest first, 15 a page: Tier 1 for apps outside the
# Marketplace) for a thank-you whose outcome Slack left unknown.
HISTORY_PAGES = 2
CHANNEL = re.compile(r"^[CDG][A-Z0-9]{1,30}$")
TS = re.compile(r"^\d{1,12}\.\d{1,9}$")


def interaction_id(raw: Any) -> int:
    """An interaction id from a button value or view metadata; anything else is not found."""
    text = str(raw or "").strip()
    if not (text.isdecimal() and text.isascii() and len(text) <= 18):
        raise NotFound("I can't find that favour in your ledger any more.")
    return int(text)


def target_for(runtime: Runtime, member: MemberRef, raw_id: Any) -> ledger.ThanksTarget:
    return ledger.thanks_target_in(
        runtime.unit_of_work, member, interaction_id(raw_id), runtime.clock()
    )


def reachable_target(
    runtime: Runtime, client: WebClient, member: MemberRef, raw_id: Any
) -> ledger.ThanksTarget:
    """``target_for``, refused (``InvalidInput``) when the member is a guest who shares no
    channel with the ally: Ally never DMs someone on a guest's behalf whom Slack hides."""
    target = target_for(runtime, member, raw_id)
    directory.may_message(
        runtime.unit_of_work, client, member, target.slack_user_id, runtime.clock()
    )
    return target


def pressed_in(body: dict[str, Any]) -> str:
    """``"<channel> <ts>"`` of the message a button was pressed in, when it can be updated."""
    container = body.get("container") or {}
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return ""  # the Home tab, a modal, or an ephemeral reply that chat.update can't touch
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    ts = str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
    return f"{channel} {ts}" if CHANNEL.match(channel) and TS.match(ts) else ""


def read_metadata(metadata: Any) -> tuple[str, tuple[str, str] | None]:
    """The favour's id and, when the modal came from a message, that message's channel and ts."""
    parts = str(metadata or "").split()
    if len(parts) == 3 and CHANNEL.match(parts[1]) and TS.match(parts[2]):
        return parts[0], (parts[1], parts[2])
    return (parts[0] if parts else ""), None


def show_thanked(
    client: WebClient, message: tuple[str, str], interaction: int, target: ledger.ThanksTarget
) -> None:
    """Rewrite the message the member pressed Say thanks in: that block now says it is done."""
    channel, ts = message
    done = f":white_check_mark: Thanked {views.name(target.contact)}."
    try:
        # The message as it is now (other buttons may have been pressed since the modal opened).
        history = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
        found = [m for m in history.get("messages") or [] if m.get("ts") == ts]
        if not found:
            return
        pressed = {"action_id": ids.SAY_THANKS, "value": str(interaction)}
        client.chat_update(
            channel=channel,
            ts=ts,
            text=found[0].get("text") or done,
            blocks=updated_blocks(found[0].get("blocks") or [], pressed, done),
        )
    except SlackApiError as error:
        # The thanks went out and is recorded; only the DM's note of it is missing.
        code = error.response.get("error") if error.response is not None else None
        log.warning("say thanks: could not update the message it came from: %s", code)


def submitted_words(body: dict[str, Any]) -> str:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    field = (values.get(views.THANKS_BLOCK) or {}).get(views.THANKS_BLOCK) or {}
    return str(field.get("value") or "")


class NotSent(Exception):
    """Slack clearly did not post the thank-you; ``code`` is its error, if it gave one."""

    def __init__(self, code: str | None) -> None:
        super().__init__(code or "not sent")
        self.code = code


class Unconfirmed(Exception):
    """Slack may have posted the thank-you (a 5xx, a dropped connection, a timeout)."""


class Unchecked(Exception):
    """An earlier thank-you's outcome is unknown and the ally's DM could not be read now."""


def attempt_key(started: datetime) -> str:
    return started.isoformat()


def already_posted(client: WebClient, channel: str, interaction: int, started: datetime) -> bool:
    """Whether the thank-you started at ``started`` is in the ally's DM (newest first)."""
    wanted = {"favour": interaction, "attempt": attempt_key(started)}
    return any(
        all(payload.get(k) == v for k, v in wanted.items())
        for _, payload in dm_history.tagged(client, channel, EVENT_TYPE, pages=HISTORY_PAGES)
    )


def send_thanks(
    runtime: Runtime,
    client: WebClient,
    member: MemberRef,
    target: ledger.ThanksTarget,
    words: str,
) -> bool:
    """DM the ally on the member's behalf, at most once: returns False when an earlier attempt
    turns out to have reached them (nothing is posted then).

    ``NotSent`` when Slack clearly did not post it; ``Unconfirmed`` when it may have;
    ``Unchecked`` when an earlier attempt's outcome could not be read."""
    quick = posting_client(client, runtime.sleep, retries=1, max_wait=MAX_WAIT)
    try:
        channel = client.conversations_open(users=target.slack_user_id)["channel"]["id"]
    except SlackApiError as error:
        raise NotSent(_code(error)) from None
    interaction = target.line.id
    if target.post_started_at is not None:
        try:
            if already_posted(quick, channel, interaction, target.post_started_at):
                return False
        except (SlackApiError, SlackClientError, OSError) as error:
            raise Unchecked(str(error)) from None
    started = runtime.clock()
    if not ledger.mark_thanks_post(
        runtime.unit_of_work, member, interaction, started, started, seen=target
    ):
        raise Unchecked("another Send of this thank-you is posting it")
    try:
        quick.chat_postMessage(
            channel=channel,
            **views.thanks_dm(member.user_id, target, words).as_kwargs(),
            metadata=Metadata(
                event_type=EVENT_TYPE,
                event_payload={"favour": interaction, "attempt": attempt_key(started)},
            ),
        )
    except SlackApiError as error:
        status = error.response.status_code if error.response is not None else 0
        if status >= 500:
            raise Unconfirmed(f"Slack answered {status}") from None
        ledger.mark_thanks_post(runtime.unit_of_work, member, interaction, None, started)
        raise NotSent(_code(error)) from None
    except (SlackClientError, OSError) as error:
        reason = error.reason if isinstance(error, URLError) else error
        if isinstance(reason, ConnectionRefusedError):  # it never reached Slack
            ledger.mark_thanks_post(runtime.unit_of_work, member, interaction, None, started)
            raise NotSent(None) from None
        raise Unconfirmed(f"{type(error).__name__}: {error}") from None
    return True


def _code(error: SlackApiError) -> str | None:
    return error.response.get("error") if error.response is not None else None


# Answers from conversations.open / chat.postMessage that no retry will fix.
CANNOT_DM = {"user_not_found", "user_disabled", "cannot_dm_bot", "account_inactive"}


def undelivered(target: ledger.ThanksTarget, code: str | None) -> str:
    """Why the thank-you did not go out, and whether pressing Send again can help."""
    if code in CANNOT_DM:
        return (
            f"I can't message {target.contact.label} (their account may be deactivated). "
            "Thank them your usual way; copy your words first."
        )
    return "I couldn't deliver that just now. Your words are still here: press Send again."


def unconfirmed(target: ledger.ThanksTarget) -> str:
    """Slack may or may not have delivered the thank-you: say so, and that Send is safe."""
    return (
        f"Slack didn't confirm that your thanks reached {target.contact.label}: it may have "
        "gone through. Press Send again and I'll check their messages first, so they never "
        "get it twice."
    )


def unchecked(target: ledger.ThanksTarget) -> str:
    return (
        f"I couldn't check yet whether your earlier thanks reached {target.contact.label}, "
        "so I haven't sent it again. Please press Send again in a minute."
    )


def register(app: App, runtime: Runtime) -> None:
    def on_say_thanks(
        member: MemberRef,
        value: str,
        body: dict,
        _context: BoltContext,
        client: WebClient,
        respond: Respond,
    ) -> None:
        try:
            target = reachable_target(runtime, client, member, value)
        except AllyError as error:
            tell(client, body, respond, views.notice(escape(error.message)))
            return
        view = views.say_thanks_modal(target, pressed_in(body))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def on_submit(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        if member is None:
            ack()
            return
        raw_id, message = read_metadata((body.get("view") or {}).get("private_metadata"))
        try:
            words = ledger.check_thanks(submitted_words(body))
            target = reachable_target(runtime, client, member, raw_id)
        except AllyError as error:
            ack(response_action="errors", errors={views.THANKS_BLOCK: error.message})
            return
        try:
            send_thanks(runtime, client, member, target, words)
        except NotSent as error:
            log.warning("say thanks: DM to %s failed: %s", target.slack_user_id, error.code)
            errors = {views.THANKS_BLOCK: undelivered(target, error.code)}
            ack(response_action="errors", errors=errors)
            return
        except Unconfirmed as error:
            log.warning("say thanks: DM to %s unconfirmed: %s", target.slack_user_id, error)
            ack(response_action="errors", errors={views.THANKS_BLOCK: unconfirmed(target)})
            return
        except Unchecked as error:
            log.warning("say thanks: DM to %s not checked: %s", target.slack_user_id, error)
            ack(response_action="errors", errors={views.THANKS_BLOCK: unchecked(target)})
            return
        done = ledger.say_thanks(
            runtime.unit_of_work, member, target.line.id, words, runtime.clock()
        )
        home_changed(context, done.home_changed)
        ack(response_action="update", view=views.thanks_sent_modal(done))
        if message is not None:
            show_thanked(client, message, done.line.id, done)

    app.action(ids.SAY_THANKS)(on_press(on_say_thanks))
    app.view(ids.SAY_THANKS_MODAL)(on_submit)
