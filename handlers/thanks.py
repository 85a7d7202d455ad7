"""Say thanks: a button on a favour received opens a modal; submitting it DMs the ally.

The button's value and the modal's ``private_metadata`` hold an interaction id, which anyone
could forge, so every step looks the interaction up within the pressing member's own ledger.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ledger
from bot.errors import AllyError, NotFound
from bot.people import MemberRef
from bot.runtime import Runtime
from handlers import ledger_views as views
from handlers.ledger_commands import payload_member, tell
from storage.db import transaction

log = logging.getLogger(__name__)


def interaction_id(raw: Any) -> int:
    """An interaction id from a button value or view metadata; anything else is not found."""
    text = str(raw or "").strip()
    if not (text.isdecimal() and text.isascii() and len(text) <= 18):
        raise NotFound("I can't find that favour in your ledger any more.")
    return int(text)


def target_for(runtime: Runtime, member: MemberRef, raw_id: Any) -> ledger.ThanksTarget:
    with transaction(runtime.sessions) as session:
        return ledger.thanks_target(session, member, interaction_id(raw_id), runtime.clock())


def submitted_words(body: dict[str, Any]) -> str:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    field = (values.get(views.THANKS_BLOCK) or {}).get(views.THANKS_BLOCK) or {}
    return str(field.get("value") or "")


def deliver(client: WebClient, member: MemberRef, target: ledger.ThanksTarget, words: str) -> None:
    """DM the ally on the member's behalf."""
    channel = client.conversations_open(users=target.slack_user_id)["channel"]["id"]
    client.chat_postMessage(
        channel=channel, **views.thanks_dm(member.user_id, target, words).as_kwargs()
    )


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


def register(app: App, runtime: Runtime) -> None:
    def on_say_thanks(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        member = payload_member(body)
        value = ((body.get("actions") or [{}])[0]).get("value")
        try:
            target = target_for(runtime, member, value)
        except AllyError as error:
            tell(client, body, respond, views.notice(error.message))
            return
        client.views_open(trigger_id=body["trigger_id"], view=views.say_thanks_modal(target))

    def on_submit(ack: Ack, body: dict, client: WebClient) -> None:
        member = payload_member(body)
        metadata = (body.get("view") or {}).get("private_metadata")
        try:
            words = ledger.check_thanks(submitted_words(body))
            target = target_for(runtime, member, metadata)
        except AllyError as error:
            ack(response_action="errors", errors={views.THANKS_BLOCK: error.message})
            return
        try:
            deliver(client, member, target, words)
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            log.warning("say thanks: DM to %s failed: %s", target.slack_user_id, code)
            ack(response_action="errors", errors={views.THANKS_BLOCK: undelivered(target, code)})
            return
        with transaction(runtime.sessions) as session:
            done = ledger.record_thanks(session, member, target.line.id, words, runtime.clock())
        ack(response_action="update", view=views.thanks_sent_modal(done))

    app.action(views.THANKS_ACTION)(on_say_thanks)
    app.view(views.THANKS_VIEW)(on_submit)
