"""Block Kit for the ledger: pure functions from bot/ledger's plain values to ``Reply`` / ``View``.

Nothing here talks to Slack or the database, so each builder is tested by calling it. Every
message stays within Slack's limits however much a member has logged: long lists are cut to
what fits in one section, with a count of the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.ledger.listing import Cell
from bot.ledger.network import (
    Touch,
    TouchState,
    level_label,
    network_label,
    networks_of,
)
from bot.ledger.service import (
    THANKS_WORDS_MAX,
    ContactInfo,
    History,
    LedgerLine,
    NetworkOverview,
    Recorded,
    ThanksTarget,
)
from handlers.kit.blocks import TEXT_MAX, Reply, actions, button, clip, context, escape, section
from handlers.kit.forms import modal
from handlers.kit.mentions import person_mrkdwn
from handlers.ledger.people_views import cell_buttons
from handlers.ledger.review_text import alliances_text, connections_text, network_text
from storage.models import InteractionKind

THANKS_BLOCK = "message"
LINE_MAX = 400  # one ledger line in a list; the section holds several

_SAFE_LINK = re.compile(r"^https://[^\s|<>]+$")


# -- small pieces ---------------------------------------------------------------------------------


def name(contact: ContactInfo) -> str:
    """A contact in a sentence, stressed: a Slack user as a mention, anyone else in bold."""
    return bold(contact.label, contact.slack_user_id)


def bold(label: str, slack_user_id: str | None) -> str:
    return person_mrkdwn(label, slack_user_id) if slack_user_id else f"*{escape(label)}*"


def who(contact: ContactInfo) -> str:
    """A contact in a sentence: a Slack user as a mention (current name, clickable)."""
    return person_mrkdwn(contact.label, contact.slack_user_id)


def line_who(line: LedgerLine) -> str:
    return person_mrkdwn(line.contact, line.contact_user)


def line_other(line: LedgerLine, missing: str = "?") -> str:
    return person_mrkdwn(line.related, line.related_user) if line.related else missing


def day(value: date | datetime | None) -> str:
    if value is None:
        return "never"
    return f"{value:%a} {value.day} {value:%b %Y}"


def balance_text(balance: int, who: str) -> str:
    """The reciprocity balance in words: given minus received, favours and introductions."""
    if balance > 0:
        times = "once" if balance == 1 else f"{balance} times"
        return f"You've helped {who} {times} more than they've helped you."
    if balance < 0:
        times = "once" if balance == -1 else f"{-balance} times"
        return f"{who} has helped you {times} more than you've helped them: a chance to give back."
    return f"You and {who} are even."


def touch_text(touch: Touch, contact: ContactInfo) -> str:
    if touch.state == TouchState.NEW:
        return "No catch-up logged yet: a good moment to reach out."
    ago = "today" if not touch.days_since else f"{touch.days_since} days ago"
    every = touch.ideal_days or contact.ideal_days
    # Never met: the clock counts from the day they were added.
    since = f"No catch-up logged yet (added {ago})" if touch.never_met else f"Last touch {ago}"
    text = f"{since}; next due {day(touch.next_due)} (every {every} days)"
    if touch.state in (TouchState.OK, TouchState.SNOOZED):
        return text + ("." if touch.state == TouchState.OK else ", snoozed.")
    return f"{text}: *{touch.state.value}*."


def placement_text(contact: ContactInfo) -> str:
    networks = ", ".join(network_label(n) for n in networks_of(contact.networks)) or "none yet"
    parts = [f"Networks: {networks}", f"Level: {level_label(contact.level)}"]
    parts.append(f"Bond: {contact.bond or 'not set'}")
    every = contact.ideal_days
    parts.append(f"every {every} days" + ("" if contact.cadence_days else " (default)"))
    text = " · ".join(parts)
    if contact.met_through:
        text += f"\nMet through {person_mrkdwn(contact.met_through, contact.met_through_user)}"
    return text


def line_text(line: LedgerLine) -> str:
    """One ledger entry, as seen from the contact whose history it is in."""
    what = escape(line.what)
    if line.kind == InteractionKind.INTRO_RECEIVED:
        text = f"{line_who(line)} introduced you to {line_other(line)}"
        text += f": {what}" if what else ""
    elif line.kind == InteractionKind.INTRO_MADE:
        text = f"you introduced {line_who(line)} to {line_other(line)}"
        text += f": {what}" if what else ""
    elif line.kind == InteractionKind.THANKS:
        text = f"you said thanks: “{what}”" if what else "you said thanks"
    elif line.kind == InteractionKind.CATCH_UP:
        text = f"catch-up: {what}" if what else "catch-up"
    else:
        text = what
    if line.message_link and _SAFE_LINK.match(line.message_link):
        text += f" (<{line.message_link}|message>)"
    if line.kind == InteractionKind.FAVOUR_RECEIVED and line.thanked:
        text += " :white_check_mark: thanked"
    if line.source == "calendar":
        text += " (from your calendar)"
    return clip(f"• {day(line.occurred_at)}: {text}", LINE_MAX)


def bullets(lines: Sequence[str], total: int, *, heading: str, limit: int = TEXT_MAX) -> str:
    """``heading`` and as many ``lines`` as fit in one text field, then "…and N more"."""
    shown: list[str] = []
    used = len(heading)
    reserve = 40  # room for the "…and N more" line
    for line in lines:
        if used + 1 + len(line) + reserve > limit:
            break
        shown.append(line)
        used += 1 + len(line)
    more = max(total, len(lines)) - len(shown)
    if more > 0:
        shown.append(f"…and {more} more")
    return "\n".join([heading, *shown])


# -- confirmations after a write --------------------------------------------------------------


def _new(recorded: Recorded) -> str:
    return " (new in your network)" if recorded.new_contact else ""


def favour_received(recorded: Recorded) -> Reply:
    """Confirm a favour received and offer to thank the ally, when Ally can message them."""
    contact = recorded.contact
    line = recorded.lines[0]
    text = f"Noted: {name(contact)}{_new(recorded)} helped you: {escape(line.what)}"
    blocks: list[Block] = [
        section(text),
        context(balance_text(recorded.balance, who(contact))),
    ]
    if contact.slack_user_id:
        blocks.append(
            actions(button("Say thanks", ids.SAY_THANKS, value=str(line.id), style="primary"))
        )
    else:
        blocks.append(
            context(
                f"{escape(contact.label)} isn't in Slack, so thank them your usual way "
                "(a note goes a long way)."
            )
        )
    return Reply(text=f"Noted: {who(contact)} helped you.", blocks=blocks)


def favour_given(recorded: Recorded) -> Reply:
    contact = recorded.contact
    line = recorded.lines[0]
    text = f"Noted: you helped {name(contact)}{_new(recorded)}: {escape(line.what)}"
    return Reply(
        text=f"Noted: you helped {who(contact)}.",
        blocks=[section(text), context(balance_text(recorded.balance, who(contact)))],
    )


def intro_received(recorded: Recorded) -> Reply:
    """``recorded.contact`` is the person met; the line's contact is the introducer."""
    met = recorded.contact
    line = recorded.lines[0]
    by = line_who(line)
    text = f"Noted: {bold(line.contact, line.contact_user)} introduced you to {name(met)}."
    if line.what:
        text += f"\n{escape(line.what)}"
    through = (
        f", met through {person_mrkdwn(met.met_through, met.met_through_user)}"
        if met.met_through
        else ""
    )
    joined = (
        f"{who(met)} joins your network{through}."
        if recorded.new_contact
        else f"{who(met)} was already in your network{through}."
    )
    introducer = recorded.other
    thank = (
        actions(button(f"Say thanks to {line.contact}", ids.SAY_THANKS, value=str(line.id)))
        if introducer is not None and introducer.slack_user_id
        else context(f"{by} isn't in Slack: thank them your usual way.")
    )
    return Reply(
        text=f"Noted: {by} introduced you to {who(met)}.",
        blocks=[section(text), context(joined), thank],
    )


def intro_made(recorded: Recorded) -> Reply:
    line = recorded.lines[0]
    first = bold(line.contact, line.contact_user)
    second = bold(line.related, line.related_user) if line.related else "?"
    text = f"Noted: you introduced {first} to {second}."
    if recorded.lines[0].what:
        text += f"\n{escape(recorded.lines[0].what)}"
    return Reply(
        text=f"Noted: you introduced {line_who(line)} to {line_other(line)}.",
        blocks=[section(text), context("That's a favour given to each of them.")],
    )


def catch_up(recorded: Recorded, now: datetime) -> Reply:
    contact = recorded.contact
    line = recorded.lines[0]
    text = f"Noted: a catch-up with {name(contact)}{_new(recorded)}."
    if line.what:
        text += f"\n{escape(line.what)}"
    return Reply(
        text=f"Noted: a catch-up with {who(contact)}.",
        blocks=[section(text), context(touch_text(contact.touch_at(now), contact))],
    )


def placement(recorded: Recorded, now: datetime, *, changed: bool) -> Reply:
    """Where a contact sits in the network, with a button to change it in a form."""
    contact = recorded.contact
    if recorded.new_contact:
        head = f"Added {name(contact)} to your network."
    else:
        head = f"Updated {name(contact)}." if changed else f"{name(contact)} is in your network."
    return Reply(
        text=f"{who(contact)}: {placement_text(contact)}",
        blocks=[
            section(f"{head}\n{placement_text(contact)}"),
            context(touch_text(contact.touch_at(now), contact)),
            actions(
                button("Edit networks, level, cadence", ids.OPEN_CONTACT_MODAL, value=contact.key)
            ),
        ],
    )


# -- who ------------------------------------------------------------------------------------------

LINES_SHOWN = 8  # per section: 4 sections of a heading, 8 lines and "…and N more" fit 50 blocks


def line_block(line: LedgerLine) -> SectionBlock:
    """One ledger line with a menu to edit or delete it."""
    menu = OverflowMenuElement(
        action_id=ids.LEDGER_LINE_MENU,
        options=[
            Option(value=f"edit:{line.id}", text="Edit"),
            Option(value=f"delete:{line.id}", text="Delete"),
        ],
    )
    return SectionBlock(text=MarkdownTextObject(text=line_text(line)), accessory=menu)


def history(h: History) -> Reply:
    """``/ally who``: placement, clock, balance, counts and the newest entries of each kind."""
    contact = h.contact
    them = who(contact)
    counts = [
        f"{h.total('received')} received",
        f"{h.total('given')} given",
        f"{h.total('intros')} introductions",
        f"{h.total('catch_ups')} catch-ups and thanks",
    ]
    blocks: list[Block] = [
        section(f"Your history with {name(contact)}\n{placement_text(contact)}"),
        section(f"{touch_text(h.touch, contact)}\n{balance_text(h.balance, them)}"),
        context(" · ".join(counts)),
    ]
    for title, lines, key in (
        ("*They helped you*", h.received, "received"),
        ("*You helped them*", h.given, "given"),
        ("*Introductions*", h.intros, "intros"),
        ("*Catch-ups and thanks*", h.catch_ups, "catch_ups"),
    ):
        if lines:
            total = h.total(key)
            shown = lines[:LINES_SHOWN]
            blocks.append(section(f"{title} ({total})"))
            blocks += [line_block(line) for line in shown]
            if total > len(shown):
                blocks.append(context(f"…and {total - len(shown)} more"))
    buttons = [button("Edit networks, level, cadence", ids.OPEN_CONTACT_MODAL, value=contact.key)]
    buttons.append(button("Delete contact", ids.DELETE_CONTACT, value=contact.key, style="danger"))
    unthanked = next((x for x in h.received if not x.thanked), None)
    if contact.slack_user_id and unthanked is not None:
        buttons.insert(0, button("Say thanks", ids.SAY_THANKS, value=str(unthanked.id)))
    blocks.append(actions(*buttons))
    return Reply(text=f"Your history with {who(contact)}", blocks=blocks)


# -- network --------------------------------------------------------------------------------------


def network(o: NetworkOverview, cells: Sequence[Cell] = ()) -> Reply:
    """``/ally network``: the network x level grid naming who is in each cell (the first few,
    then a button listing the rest), strongest, needs work, missing, who is due."""
    review = o.review
    blocks: list[Block] = [
        section(
            f"*Your network*: {o.contacts} people. Seed 001's target is six connections: two "
            "above you, two at your level and two below. Alliances are counted apart."
        ),
        section(connections_text(review) + "\n" + alliances_text(review)),
        section(
            "*The three networks* (which is strongest, which needs work, which is missing)\n"
            + "\n".join(network_text(review, row, cells) for row in review.grid)
        ),
    ]
    more = cell_buttons(list(cells))
    if more:
        blocks.append(actions(*more))
    if review.gaps:
        gap_lines = [f"• {gap}" for gap in review.gaps]
        blocks.append(section(bullets(gap_lines, len(gap_lines), heading="*Missing*")))
    for title, dues in (("*Overdue*", o.overdue), ("*Due*", o.due)):
        if dues:
            due_lines = [
                f"• {name(d.contact)}: "
                + ("added" if d.touch.never_met else "last touch")
                + f" {d.touch.days_since} days ago"
                for d in dues
            ]
            blocks.append(section(bullets(due_lines, len(due_lines), heading=title)))
    if not o.overdue and not o.due and o.contacts:
        blocks.append(context("No one is due: you're in touch with everyone."))
    if review.unplaced:
        blocks.append(
            context(
                f"{review.unplaced} of your contacts have no network or level yet: "
                "place them with `/ally add @person strategic peer`."
            )
        )
    if not o.contacts:
        blocks.append(
            context("Start with `/ally add @person strategic above` or `/ally thanks @person`.")
        )
    return Reply(text=f"Your network: {o.contacts} people", blocks=blocks)


# -- say thanks -----------------------------------------------------------------------------------


def thanks_greeting(target: ThanksTarget) -> str:
    """A warm first draft of the thank-you, naming what the ally did."""
    line = target.line
    if line.kind == InteractionKind.INTRO_RECEIVED:
        text = f"Thank you for introducing me to {line.related or 'them'}!"
        if line.what:
            text += f" ({clip(line.what, 600)})"
        return text + " It means a lot."
    return f"Thank you so much for {clip(line.what, 800)}! It really made a difference."


def what_they_did(target: ThanksTarget) -> str:
    line = target.line
    if line.kind == InteractionKind.INTRO_RECEIVED:
        return f"introducing them to {line.related or 'someone'}"
    return line.what


def say_thanks_modal(target: ThanksTarget, pressed_in: str = "") -> View:
    """The modal where the member confirms or edits the words Ally sends the ally.

    ``pressed_in`` is ``"<channel> <ts>"`` of the message the button was in (the weekly DM), kept
    in ``private_metadata`` after the favour's id so that message can show what was done.
    """
    blocks: list[Block] = [
        section(
            f"I'll send this to {name(target.contact)} in a DM from Ally, on your "
            f"behalf, for: {escape(clip(what_they_did(target), 500))}"
        ),
        InputBlock(
            block_id=THANKS_BLOCK,
            label="Your message",
            element=PlainTextInputElement(
                action_id=THANKS_BLOCK,
                multiline=True,
                initial_value=thanks_greeting(target),
                max_length=THANKS_WORDS_MAX,
            ),
        ),
    ]
    if target.thanked_at is not None:
        blocks.append(context(f"You already thanked them for this on {day(target.thanked_at)}."))
    metadata = f"{target.line.id} {pressed_in}".strip()
    return modal(
        ids.SAY_THANKS_MODAL, "Say thanks", blocks, submit="Send", private_metadata=metadata
    )


def thanks_sent_modal(target: ThanksTarget) -> View:
    sent: list[Block] = [section(f"Sent. {who(target.contact)} got your thanks.")]
    return modal(ids.SAY_THANKS_DONE, "Say thanks", sent, close="Done")


def thanks_dm(member_user_id: str, target: ThanksTarget, words: str) -> Reply:
    """The DM the ally receives: who is thanking them, for what, in the member's words."""
    what = escape(clip(what_they_did(target), 800))
    quoted = "\n".join(f"> {escape(x)}" for x in words.splitlines() if x.strip())
    return Reply(
        text=f"<@{member_user_id}> wanted to say thanks for {what}",
        blocks=[
            section(f"<@{member_user_id}> wanted to say thanks for {what}:"),
            section(clip(quoted)),
            context("Sent with Ally, on their behalf."),
        ],
    )


def notice(text: str) -> Reply:
    """A one-line answer to a button press."""
    return Reply(text=text, blocks=[section(text)])
