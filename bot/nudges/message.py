"""The weekly DM as Block Kit (``slack_sdk.models``, so Slack's limits are checked before sending)
and as plain text for ``ally-bot nudges preview``.

Each part of the content gets its own blocks; every button's block has a stable ``block_id``
so a pressed button's block can be replaced in place with what was done.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids
from bot.nudges.planning import STAY_IN_TOUCH_MAX, THANKS_MAX, NudgeContent, Schedule
from bot.nudges.weekly_person import ContactFacts

FOOTER_BLOCK = "nudge_footer"
TEXT_MAX = 3000


def _clip(text: str, limit: int = TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Show what a member typed as text, never as markup or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _who(contact: ContactFacts) -> str:
    """A contact in the DM: a Slack user as a mention (Slack shows their current name,
    clickable), anyone else by name in bold."""
    if contact.slack_user_id:
        return f"<@{contact.slack_user_id}>"
    return f"*{escape(contact.label)}*"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_clip(text)))


def _button(text: str, action_id: str, value: str = "", style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text[:75], action_id=action_id, value=value or None, style=style)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def render(content: NudgeContent, schedule: Schedule) -> tuple[str, list[Block]]:
    """The DM: fallback text for notifications, and the blocks."""
    if content.start_here:
        return _start_here(schedule)
    blocks: list[Block] = [
        _section("*Your week with Ally*: five minutes for the people your work depends on.")
    ]
    summary: list[str] = []
    if content.stay_in_touch:
        blocks.append(_section("*Stay in touch* (no agenda needed)"))
        for s in content.stay_in_touch[:STAY_IN_TOUCH_MAX]:
            blocks.append(
                _section(
                    f"{_who(s.contact)}: {_days(s.days_since)} since you last talked "
                    f"(you aim for every {_days(s.cadence)})."
                )
            )
            blocks.append(
                ActionsBlock(
                    block_id=f"touch:{s.contact.id}",
                    elements=[
                        _button("Log a catch-up", ids.NUDGE_LOG_CATCH_UP, s.contact.key, "primary"),
                        _button("Snooze 2 weeks", ids.NUDGE_SNOOZE, s.contact.key),
                    ],
                )
            )
        summary.append(f"{len(content.stay_in_touch)} to stay in touch with")
    if content.thanks:
        blocks.append(_section("*Say thank you* for last week's help"))
        for f in content.thanks[:THANKS_MAX]:
            what = f": {escape(f.what)}" if f.what else ""
            blocks.append(_section(f"{_who(f.contact)}{what}"))
            blocks.append(
                ActionsBlock(
                    block_id=f"thanks:{f.interaction_id}",
                    elements=[_button("Say thanks", ids.SAY_THANKS, str(f.interaction_id))],
                )
            )
        summary.append(f"{len(content.thanks)} to thank")
    if content.owe_most is not None:
        owed = -content.owe_most.balance
        favours = "favour" if owed == 1 else "favours"
        blocks.append(
            _section(
                f"*Give back*: you owe {_who(content.owe_most)} the most "
                f"({owed} {favours}). What could you do for them this week?"
            )
        )
    if content.person is not None:
        p = content.person
        blocks.append(DividerBlock())
        blocks.append(
            _section(
                f"*This week's person:* {_who(p.contact)}\n{escape(p.why)}\n"
                f"*Next step:* {escape(p.next_step)}"
            )
        )
        keep = f"Keep {_clip(p.contact.label, 50)} next week"
        blocks.append(
            ActionsBlock(
                block_id=f"person:{p.contact.id}",
                elements=[
                    _button("Log a catch-up", ids.NUDGE_LOG_CATCH_UP, p.contact.key, "primary"),
                    _button(keep, ids.NUDGE_KEEP_PERSON, p.contact.key),
                ],
            )
        )
        summary.append(f"this week's person: {p.contact.label}")
    if content.questions:
        c = content.person.contact if content.person else None
        who = "your next conversation" if c is None else escape(c.label)
        if c is not None and c.slack_user_id:
            who = f"<@{c.slack_user_id}>"
        lines = "\n".join(f"{i}. {escape(q)}" for i, q in enumerate(content.questions, 1))
        blocks.append(_section(f"*Three questions for {who}*\n{lines}"))
    blocks.extend(_footer(schedule))
    text = "Your weekly Ally nudge: " + (", ".join(summary) or "a quiet week") + "."
    return _clip(text), blocks


def _footer(schedule: Schedule) -> list[Block]:
    return [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Weekly nudge, {schedule.label} ({schedule.tz}). "
                    "Only you can see your ledger."
                )
            ]
        ),
        ActionsBlock(
            block_id=FOOTER_BLOCK,
            elements=[
                _button("Done for this week", ids.NUDGE_NOT_NOW),
                _button("Pause 2 weeks", ids.NUDGE_SNOOZE),
                _button("Settings…", ids.NUDGE_SETTINGS),
            ],
        ),
    ]


def _start_here(schedule: Schedule) -> tuple[str, list[Block]]:
    text = "Start here: log the first person who helped you this month."
    blocks: list[Block] = [
        _section(
            "*Welcome to your weekly nudge.* Your network in Ally is empty, so here is one "
            "five-minute start:\n"
            "1. Think of someone who helped you this month and log it: "
            "`/ally thanks @person for <what they did>`.\n"
            "2. Add people you rely on, aiming for two above you, two at your level and two "
            'below: `/ally add @person` (or an outside name in quotes, "Dana Lee (Acme)").\n'
            "Next week I'll suggest who to stay in touch with."
        ),
        ActionsBlock(
            block_id="start_here",
            elements=[_button("Record who helped you", ids.OPEN_LOG_MODAL, style="primary")],
        ),
        *_footer(schedule),
    ]
    return text, blocks


def plain_text(content: NudgeContent, schedule: Schedule) -> str:
    """The DM as a terminal would show it (for ``ally-bot nudges preview``)."""
    text, blocks = render(content, schedule)
    # A terminal shows no mentions: each Slack user by the name Ally has for them.
    people = [s.contact for s in content.stay_in_touch] + [f.contact for f in content.thanks]
    people += [c for c in (content.owe_most,) if c is not None]
    people += [content.person.contact] if content.person is not None else []
    names = {f"<@{c.slack_user_id}>": c.label for c in people if c.slack_user_id}
    lines = [text, ""]
    for block in blocks:
        data = block.to_dict()
        if data["type"] == "section":
            lines.append(data["text"]["text"])
        elif data["type"] == "context":
            lines.extend(e.get("text", "") for e in data["elements"])
        elif data["type"] == "actions":
            lines.append("  ".join(f"[{e['text']['text']}]" for e in data["elements"]))
        elif data["type"] == "divider":
            lines.append("---")
    shown = "\n".join(lines)
    for mention, label in names.items():
        shown = shown.replace(mention, label)
    return shown
