"""Block Kit for importing an address book: the preview, what was done, and the problems."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot import ids
from bot.ledger.importing import Plan
from handlers.kit.blocks import Reply, actions, button, context, escape, section
from storage.models import NAME_MAX


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n:,} people"


def _summary(plan: Plan) -> list[str]:
    lines = [f"• *{_people(len(plan.new))}* new to your network"]
    if plan.new_in_slack:
        lines[0] += f" ({plan.new_in_slack:,} of them found in Slack by email)"
    known = f"• {_people(plan.matched)} already in your network (left as they are"
    if plan.matched:
        by_name = plan.matched - plan.known_by_email
        known += f": {plan.known_by_email:,} by email, {by_name:,} by name and organisation"
    lines.append(known + ")")
    for reason, count in plan.skipped.most_common():
        lines.append(f"• {_people(count)} skipped: {reason}")
    if plan.cut:
        lines.append(
            f"• {_people(plan.cut)} with a name or organisation over {NAME_MAX} characters: "
            "cut to fit"
        )
    return lines


def preview(filename: str, plan: Plan, file_id: str) -> Reply:
    """What importing the file would do, with a button to do it."""
    head = f"*Import {escape(filename)}* ({plan.source}, {plan.encoding})?"
    blocks: list[Block] = [section("\n".join([head, *_summary(plan)]))]
    if plan.new:
        blocks.append(
            actions(
                button(
                    f"Import {_people(len(plan.new))}",
                    ids.IMPORT_CONFIRM,
                    value=file_id,
                    style="primary",
                ),
                button("Cancel", ids.IMPORT_CANCEL),
            )
        )
        blocks.append(
            context("Nothing is added until you press Import. Only you see your network.")
        )
    else:
        blocks.append(context("There's nobody new to add, so there's nothing to import."))
    return Reply(text=f"Import {filename}: {_people(len(plan.new))} new", blocks=blocks)


def imported(filename: str, plan: Plan) -> Reply:
    head = f"Imported *{escape(filename)}*: added {_people(len(plan.new))} to your network."
    lines = _summary(plan)[1:]
    hint = "See them with `/ally people`, and place them with `/ally add @person strategic peer`."
    return Reply(
        text=f"Imported {filename}: added {_people(len(plan.new))}.",
        blocks=[section("\n".join([head, *lines])), context(hint)],
    )


def cancelled() -> Reply:
    return Reply(
        text="Import cancelled: nothing was added.",
        blocks=[section("Import cancelled: nothing was added.")],
    )


def problem(filename: str, message: str) -> Reply:
    text = f"I couldn't import {escape(filename)}: {escape(message)} Nothing was added."
    return Reply(text=text, blocks=[section(text)])


def how_to() -> Reply:
    text = (
        "Send me a file here to bring your network into Ally: LinkedIn's *Connections.csv* "
        "(Settings > Data privacy > Get a copy of your data), a CSV export of *Google Contacts*, "
        "*Outlook*, *Thunderbird* or *Windows Live Mail*, or a *vCard* (.vcf) file from a phone "
        "or address book. I'll show you what it adds before adding anything. "
        "For everything else, type `/ally help`."
    )
    return Reply(text=text, blocks=[section(text)])


def busy() -> Reply:
    text = (
        "I'm still reading your last file: I read one at a time. "
        "Send this one again once I've answered."
    )
    return Reply(text=text, blocks=[section(text)])


def daily_cap(files: int) -> Reply:
    text = (
        f"You've sent me {files} files today, the most I read for one person in a day. "
        "Send it again tomorrow."
    )
    return Reply(text=text, blocks=[section(text)])
