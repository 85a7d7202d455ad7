"""Answering a member privately from any listener: where they are, by DM, or after the ack.

Every reply Ally sends is visible only to the member it answers: an ephemeral message in the
channel they came from, the ``response_url`` of a pressed button, or their DM with Ally.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import AllyError
from bot.ledger.people import MemberRef
from handlers.kit.blocks import Reply, refusal, say
from handlers.kit.forms import FormErrors, metadata, values_of
from handlers.kit.members import home_changed, member_of

log = logging.getLogger(__name__)
QUICK_TIMEOUT = 1  # seconds


def tell(client: WebClient, body: dict[str, Any], respond: Respond, reply: Reply) -> None:
    """Answer a button press where the member pressed it; only they see it.

    Message buttons carry a ``response_url``; Home tab buttons do not, so the answer goes to
    the member's DM with Ally instead.
    """
    user_id = (body.get("user") or {}).get("id", "")
    if body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, **reply.as_kwargs())
        return
    channel = (body.get("channel") or {}).get("id")
    if channel:
        client.chat_postEphemeral(channel=channel, user=user_id, **reply.as_kwargs())
    else:
        client.chat_postMessage(channel=user_id, **reply.as_kwargs())


def notify(client: WebClient, user_id: str, channel: str | None, reply: Reply) -> None:
    """Tell the member privately: ephemeral where they came from, else a DM."""
    send_privately(client, user_id, channel, reply.as_kwargs())


def send_privately(
    client: WebClient, user_id: str, channel: str | None, message: dict[str, Any]
) -> None:
    """Send a built message (``text`` and ``blocks``) privately to the member."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user_id, **message)
            return
        except SlackApiError as error:
            # e.g. a DM with someone else, or a channel Ally is not in: fall back to a DM.
            log.info("postEphemeral in %s failed (%s); sending a DM", channel, error.response)
    dm = client.conversations_open(users=user_id)["channel"]["id"]
    client.chat_postMessage(channel=dm, **message)


def confirm_after_ack(
    app: App, client: WebClient, user_id: str, channel: str | None, reply: Reply
) -> None:
    """Send a saved form's confirmation once Slack has its answer, on Bolt's listener executor.

    The form's ack must not wait on ``chat.postEphemeral`` (or its rate-limit retries); Bolt's
    lazy listeners would do the same but copy the whole request for each one first.
    """
    message = reply.as_kwargs()

    def send() -> None:
        # Nothing waits on this job's result: anything it raises is logged here or lost.
        try:
            send_privately(client, user_id, channel, message)
        except Exception:
            log.exception("could not confirm a saved form to %s", user_id)

    app.listener_runner.listener_executor.submit(send)


def quick_client(client: WebClient) -> WebClient:
    """The same client without retries and with a short timeout, for calls made inside the
    3-second trigger window: waiting out a Retry-After there would lose the modal."""
    return WebClient(
        token=client.token, base_url=client.base_url, timeout=QUICK_TIMEOUT, retry_handlers=[]
    )


def answer_in_place(
    client: WebClient, body: dict[str, Any], respond: Respond, reply: Reply
) -> None:
    """Show ``reply`` in place of the message the button was on; from Home, in the DM."""
    if body.get("response_url"):
        respond(replace_original=True, **reply.as_kwargs())
    else:
        tell(client, body, respond, reply)


def pressed(ack: Ack, body: dict[str, Any], context: BoltContext) -> tuple[MemberRef, str] | None:
    """Acknowledge a button press; who pressed it and the button's value (None: no member).

    The prologue of every button listener, so each one reads the press the same way.
    """
    ack()
    member = member_of(context)
    if member is None:
        return None
    action = (body.get("actions") or [{}])[0] or {}
    return member, str(
        action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    )


# Saves a submitted form: (member, client, input values, metadata) -> (confirmation, Home changed)
Save = Callable[[MemberRef, WebClient, dict[str, Any], dict[str, Any]], tuple[Reply, bool]]


def on_form(app: App, save: Save) -> Callable[..., None]:
    """A saved form's listener: ``save`` it; ``FormErrors`` go back onto their fields, else the
    form closes and the confirmation follows after the ack, where the form was opened (the
    ``channel`` of its metadata), or by DM."""

    def listener(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
        member = member_of(context)
        if member is None:
            ack()
            return
        view = body.get("view") or {}
        meta = metadata(view)
        try:
            reply, changed = save(member, client, values_of(view), meta)
        except FormErrors as error:
            ack(response_action="errors", errors=error.errors)
            return
        ack()
        home_changed(context, changed)
        channel = meta.get("channel")
        where = channel if isinstance(channel, str) and channel else None
        confirm_after_ack(app, client, member.user_id, where, reply)

    return listener


# Opens a form: (member, client, trigger id, channel or None, the button's value)
Open = Callable[[MemberRef, WebClient, str, str | None, str], None]


def on_open(name: str, open_form: Open) -> Callable[..., None]:
    """A button's listener that opens the form ``name``: a domain error is told privately, and
    a form Slack did not open in time is said so."""

    def listener(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
        press = pressed(ack, body, context)
        if press is None:
            return
        member, value = press
        channel = (body.get("channel") or {}).get("id")
        try:
            open_form(member, client, body["trigger_id"], channel, value)
        except AllyError as error:
            notify(client, member.user_id, channel, refusal(error))
        except SlackApiError as error:
            log.warning("views.open failed for the %s: %s", name, error.response)
            notify(client, member.user_id, channel, say(NOT_OPENED))

    return listener


NOT_OPENED = "Slack didn't let me open the form in time. Please try again."

Send = Callable[[WebClient, dict[str, Any], Respond, Reply], None]


# Handles a button press: (member, the button's value, body, context, client, respond)
Press = Callable[[MemberRef, str, dict[str, Any], BoltContext, WebClient, Respond], None]


def on_press(handle: Press) -> Callable[..., None]:
    """A button's listener: ack, then ``handle`` the press of a known member."""

    def listener(
        ack: Ack, body: dict, context: BoltContext, client: WebClient, respond: Respond
    ) -> None:
        press = pressed(ack, body, context)
        if press is not None:
            handle(*press, body, context, client, respond)

    return listener


def on_button(
    work: Callable[[MemberRef, str], Reply | tuple[Reply, bool]], send: Send = tell
) -> Callable[..., None]:
    """A button's listener: ack, then ``work(member, the button's value)``, answered privately
    with ``send``; a domain error is answered with its message, never a traceback. Work that
    returns ``(reply, home_changed)`` says whether it changed the member's Home."""

    def handle(
        member: MemberRef,
        value: str,
        body: dict[str, Any],
        context: BoltContext,
        client: WebClient,
        respond: Respond,
    ) -> None:
        try:
            reply = work(member, value)
        except AllyError as error:
            reply = refusal(error)
        if isinstance(reply, tuple):
            reply, changed = reply
            home_changed(context, changed)
        send(client, body, respond, reply)

    return on_press(handle)
