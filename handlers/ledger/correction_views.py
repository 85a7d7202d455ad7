"""Block Kit for fixing mistakes: the confirmations before a delete, the edit-entry form, and
what each correction did. Pure builders from bot/ledger/corrections' plain values."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.ledger.corrections import WHAT_OPTIONAL, ContactSize, Merged, Removed
from bot.ledger.service import LedgerLine
from handlers.kit.blocks import Reply, actions, button, clip, context, escape, section
from handlers.kit.forms import modal
from handlers.kit.mentions import person_mrkdwn
from handlers.ledger.views import balance_text, bold, line_text, line_who, name, who
from storage.models import WHAT_MAX

WHAT = "what"
WHEN = "when"


# What a contact's rows are, in a member's words (singular, plural), by table. A table not
# named here is counted as "other records", and a test fails until it is named
# (tests/handlers/ledger/test_corrections_keep_everything.py).
WORDS: dict[str, tuple[str, str]] = {
    "interactions": ("entry", "entries"),
    "meeting_plans": ("plan", "plans"),
    "project_allies": ("project", "projects"),
    "questions_asked": ("suggested question", "suggested questions"),
}
OTHER = ("other record", "other records")


def _count(table: str, n: int, *, removing: bool = False) -> str:
    one, many = WORDS.get(table, OTHER)
    counted = f"1 {one}" if n == 1 else f"{n:,} {many}"
    # Deleting someone takes them off a project; the project itself stays.
    return f"their place in {counted}" if removing and table == "project_allies" else counted


def _listed(counts: tuple[tuple[str, int], ...], *, removing: bool = False) -> str:
    """``3 entries, 1 plan and 1 project``."""
    parts = [_count(table, n, removing=removing) for table, n in counts]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def confirm_delete_entry(line: LedgerLine) -> Reply:
    text = f"Delete this entry with {bold(line.contact, line.contact_user)}?\n{line_text(line)}"
    return Reply(
        text=f"Delete this entry with {line_who(line)}?",
        blocks=[
            section(text),
            actions(
                button("Delete it", ids.DELETE_ENTRY_CONFIRM, value=str(line.id), style="danger"),
                button("Keep it", ids.CORRECTION_CANCEL),
            ),
        ],
    )


def removed(what: Removed, *, undone: bool = False) -> Reply:
    """What a delete or ``/ally undo`` removed, and where that person stands now."""
    head = "Undone: your last entry" if undone else "Deleted"
    who = person_mrkdwn(what.contact.label, what.contact.slack_user_id)
    text = f"{head}, with {name(what.contact)}:\n{line_text(what.line)}"
    return Reply(
        text=f"{head}, with {who}.",
        blocks=[section(text), context(balance_text(what.balance, who))],
    )


def confirm_delete_contact(size: ContactSize) -> Reply:
    who = name(size.contact)
    if size.held:
        text = (
            f"Delete {who} with everything you have with them: "
            f"{_listed(size.held, removing=True)}? This can't be undone."
        )
    else:
        text = f"Delete {who} from your network? Nothing is logged with them yet."
    return Reply(
        text=text.replace("*", ""),
        blocks=[
            section(text),
            actions(
                button(
                    "Delete contact",
                    ids.DELETE_CONTACT_CONFIRM,
                    value=size.contact.key,
                    style="danger",
                ),
                button("Keep them", ids.CORRECTION_CANCEL),
            ),
        ],
    )


def contact_deleted(size: ContactSize) -> Reply:
    text = f"Deleted {name(size.contact)}"
    if size.held:
        text += f" with {_listed(size.held, removing=True)}"
    text += "."
    return Reply(text=text.replace("*", ""), blocks=[section(text)])


def merged(what: Merged, *, linked: bool = False) -> Reply:
    """What a merge or a link moved to the contact kept: entries, plans, projects..."""
    into = name(what.into)
    if linked:
        text = f"Linked *{escape(what.source.label)}* to {into}'s Slack account"
    else:
        text = f"Merged {name(what.source)} into {into}"
    if what.moved:
        text += f": moved {_listed(what.moved)} to {into}."
    else:
        text += ": nothing was logged with them yet."
    return Reply(
        text=text.replace("*", ""),
        blocks=[section(text), context(balance_text(what.balance, who(what.into)))],
    )


def kept() -> Reply:
    return Reply(text="Nothing was deleted.", blocks=[section("Nothing was deleted.")])


def edit_entry_view(line: LedgerLine, channel: str | None = None) -> View:
    """The form that edits what an entry says and the day it happened."""
    blocks: list[Block] = [
        section(f"With {bold(clip(line.contact, 200), line.contact_user)}\n{line_text(line)}"),
        InputBlock(
            block_id=WHAT,
            label="What happened",
            element=PlainTextInputElement(
                action_id=WHAT,
                initial_value=line.what[:WHAT_MAX] or None,
                max_length=WHAT_MAX,
            ),
            optional=line.kind.value in WHAT_OPTIONAL,
        ),
        InputBlock(
            block_id=WHEN,
            label="When",
            element=DatePickerElement(
                action_id=WHEN, initial_date=line.occurred_at.date().isoformat()
            ),
        ),
        context("Only you can see your ledger."),
    ]
    return modal(
        ids.EDIT_ENTRY_MODAL,
        "Edit entry",
        blocks,
        submit="Save",
        private_metadata={"id": line.id, "channel": channel},
    )


def edited(line: LedgerLine) -> Reply:
    text = f"Updated your entry with {bold(line.contact, line.contact_user)}:\n{line_text(line)}"
    return Reply(text=f"Updated your entry with {line_who(line)}.", blocks=[section(text)])
