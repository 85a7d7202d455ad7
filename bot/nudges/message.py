"""The weekly DM as Block Kit (``slack_sdk.models``, so Slack's limits are checked before sending)
and as plain text for ``ally-bot nudges preview``.

Each part of the content gets its own blocks; every button's block has a stable ``block_id``
so a pressed button's block can be replaced in place with what was done.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block, ButtonElement

from bot import ids
from bot.blocks import actions, button, clip, context, section
from bot.nudges.planning import STAY_IN_TOUCH_MAX, THANKS_SHOWN, NudgeContent, Schedule
from bot.nudges.sentences import Sentence, mrkdwn
from bot.nudges.weekly_person import ContactFacts, Reason
from bot.slack_text import mrkdwn as escape

FOOTER_BLOCK = "nudge_footer"
DM_BLOCKS_MAX = 19  # a DM that reads at a glance: under 20 blocks (Slack allows 50)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"


@dataclass
class _Entry:
    """Everything the DM says about one person, so each appears once: ``lines`` are their
    parts in the DM's order, ``buttons`` theirs, merged into one row."""

    contact: ContactFacts
    lines: list[str] = field(default_factory=list)
    buttons: list[ButtonElement] = field(default_factory=list)
    block_id: str = ""
    person: bool = False
    touch: bool = False
    thanks: bool = False

    @property
    def blocks(self) -> list[Block]:
        if self.contact.slack_user_id:
            name = f"<@{self.contact.slack_user_id}>"
            head = f"*This week's person:* {name}" if self.person else name
        else:
            name = escape(self.contact.label)
            head = f"*This week's person: {name}*" if self.person else f"*{name}*"
        said = section(head + "\n" + "\n".join(self.lines))
        if not self.buttons:
            return [said]
        return [said, actions(*self.buttons, block_id=self.block_id)]


def _entries(content: NudgeContent) -> list[_Entry]:
    """One entry per person, each placed where they first come up: an unmet project ally
    first, then stay in touch, thanks, give first and this week's person."""
    found: dict[int, _Entry] = {}

    def entry(contact: ContactFacts) -> _Entry:
        if contact.id not in found:
            found[contact.id] = _Entry(contact)
        return found[contact.id]

    p = content.person
    if p is not None and p.reason is Reason.PROJECT:
        entry(p.contact)
    for s in content.stay_in_touch[:STAY_IN_TOUCH_MAX]:
        e = entry(s.contact)
        e.touch = True
        # The person is named in the sentence, so two people as late as each other read apart.
        name, aim = s.contact.label, f"you aim for every {_days(s.cadence)}"
        if s.never_met:
            ago = "today" if not s.days_since else f"{_days(s.days_since)} ago"
            said = f"you added {name} {ago} and haven't logged a conversation yet; {aim}."
        else:
            said = f"{_days(s.days_since)} since you last talked with {name}; {aim}."
        e.lines.append(f"*Stay in touch:* {mrkdwn(Sentence(said, name, s.contact.slack_user_id))}")
    # One line per person for last week's favours, each favour said once (with how many times
    # it was logged, when more than once).
    favours: dict[int, Counter[str]] = {}
    for f in content.thanks[:THANKS_SHOWN]:
        e = entry(f.contact)
        favours.setdefault(f.contact.id, Counter())[escape(f.what) if f.what else "a favour"] += 1
        if not e.thanks:  # one Say thanks per person: their latest favour
            e.thanks = True
            e.lines.append("")  # filled in below, in the DM's order
            e.buttons.append(button("Say thanks", ids.SAY_THANKS, str(f.interaction_id)))
            e.block_id = f"thanks:{f.interaction_id}"
    for contact_id, whats in favours.items():
        e = found[contact_id]
        said = "; ".join(what if n == 1 else f"{what} ({_times(n)})" for what, n in whats.items())
        # Named, so two people thanked for the same thing read apart.
        to = Sentence(e.contact.label, e.contact.label, e.contact.slack_user_id).mrkdwn
        e.lines[e.lines.index("")] = f"*Say thank you* to {to} for last week's help: {said}"
    g = content.give_first
    if g is not None:
        entry(g.contact).lines.append(f"*Give first:* {mrkdwn(g.reason)} {mrkdwn(g.way)}")
    if p is not None:
        e = entry(p.contact)
        e.person = True
        # Out of touch (or never met) is said once, by the stay-in-touch line, when the person
        # has one; and a reason the person's other parts already gave is not given again.
        told = e.touch and p.reason in (Reason.OUT_OF_TOUCH, Reason.NEVER_MET)
        why = "" if told or any(mrkdwn(p.why) in line for line in e.lines) else f"{mrkdwn(p.why)}\n"
        e.lines.append(f"{why}*Next step:* {mrkdwn(p.next_step)}")
        if content.questions:
            asks = "\n".join(f"{i}. {escape(q)}" for i, q in enumerate(content.questions, 1))
            e.lines.append(f"*Three questions to ask*\n{asks}")
    for e in found.values():
        key = e.contact.key
        first: list[ButtonElement] = []
        if e.person:
            first.append(button("Plan it", ids.PLAN_IT, key, "primary"))
        if e.person or e.touch:
            first.append(button("Log a catch-up", ids.NUDGE_LOG_CATCH_UP, key))
        last: list[ButtonElement] = []
        if e.touch:
            last.append(button("Snooze 2 weeks", ids.NUDGE_SNOOZE, key))
        if e.person:
            last.append(button("Keep for next week", ids.NUDGE_KEEP_PERSON, key))
        e.buttons = first + e.buttons + last
        if e.person:
            e.block_id = f"person:{e.contact.id}"
        elif e.touch:
            e.block_id = f"touch:{e.contact.id}"
    return list(found.values())


def _fit(entries: list[_Entry], room: int) -> list[_Entry]:
    """The entries that fit in ``room`` blocks: thanks-only entries give way first, then
    stay in touch, then give first; this week's person always stays."""
    kept = list(entries)
    for drop in (
        lambda e: e.thanks and not e.touch and not e.person,
        lambda e: e.touch and not e.person,
        lambda e: not e.person,
    ):
        while sum(len(e.blocks) for e in kept) > room:
            doomed = [e for e in kept if drop(e)]
            if not doomed:
                break
            kept.remove(doomed[-1])
    return kept


def render(content: NudgeContent, schedule: Schedule) -> tuple[str, list[Block]]:
    """The DM: fallback text for notifications, and the blocks (under 20: each person once,
    in one section with one row of buttons)."""
    if content.start_here:
        return _start_here(schedule)
    head: list[Block] = [
        section("*Your week with Ally*: five minutes for the people your work depends on.")
    ]
    tail: list[Block] = []
    if content.person is None and content.gap is not None:
        tail.append(
            section(
                f"*This week: fill a gap*\n{escape(content.gap.reason)}\n"
                f"*Next step:* {mrkdwn(content.gap.next_step)}"
            )
        )
    trouble = content.calendar_trouble
    if trouble is not None:
        tail.append(
            section(
                f"*Your calendar:* I haven't been able to read it ({escape(trouble.host)}) "
                f"since {trouble.since:%-d %b}, so no meetings were logged: "
                f"{escape(trouble.error)} Connect it again with `/ally calendar <address>`, or "
                "`/ally calendar off`."
            )
        )
    if content.met:
        people = ", ".join(
            f"<@{one['u']}>" if one.get("u") else escape(one.get("n") or one.get("e", ""))
            for one in content.met
        )
        tail.append(
            section(f"*Met lately, not in your network yet:* {people}. Add them to stay in touch?")
        )
        tail.append(
            actions(
                *(
                    button(
                        clip(f"Add {one.get('n') or one.get('e') or one.get('u')}", 75),
                        ids.CALENDAR_ADD,
                        json.dumps(one, separators=(",", ":"))[:2000],
                    )
                    for one in content.met
                ),
                block_id="calendar_met",
            )
        )
    footer = _footer(schedule)
    room = DM_BLOCKS_MAX - len(head) - len(tail) - len(footer)
    entries = _fit(_entries(content), room)
    blocks = head + [b for e in entries for b in e.blocks] + tail + footer
    p = content.person
    summary: list[str] = []
    if p is not None and p.reason is Reason.PROJECT:
        summary.append(f"meet {p.contact.label} for your project")
    if content.stay_in_touch:
        summary.append(f"{len(content.stay_in_touch)} to stay in touch with")
    if content.thanks:
        summary.append(f"{len(content.thanks)} to thank")
    if content.give_first is not None:
        summary.append(f"a way to help {escape(content.give_first.contact.label)}")
    if p is not None and p.reason is not Reason.PROJECT:
        summary.append(f"this week's person: {escape(p.contact.label)}")
    if p is None and content.gap is not None:
        summary.append("a gap to fill")
    if trouble is not None:
        summary.append("your calendar needs reconnecting")
    if content.met:
        summary.append(f"{len(content.met)} met lately to add")
    text = "Your weekly Ally nudge: " + (", ".join(summary) or "a quiet week") + "."
    return clip(text), blocks


def _footer(schedule: Schedule) -> list[Block]:
    return [
        context(f"Weekly nudge, {schedule.label} ({schedule.tz}). Only you can see your ledger."),
        actions(
            button("Done for this week", ids.NUDGE_NOT_NOW),
            button("Pause 2 weeks", ids.NUDGE_SNOOZE),
            button("Settings…", ids.NUDGE_SETTINGS),
            block_id=FOOTER_BLOCK,
        ),
    ]


def _start_here(schedule: Schedule) -> tuple[str, list[Block]]:
    text = "Start here: log the first person who helped you this month."
    blocks: list[Block] = [
        section(
            "*Welcome to your weekly nudge.* Your network in Ally is empty, so here is one "
            "five-minute start:\n"
            "1. Think of someone who helped you this month and log it: "
            "`/ally thanks @person for <what they did>`.\n"
            "2. Add people you rely on, aiming for two above you, two at your level and two "
            'below: `/ally add @person` (or an outside name in quotes, "Dana Lee (Acme)").\n'
            "Next week I'll suggest who to stay in touch with."
        ),
        actions(
            button("Record who helped you", ids.OPEN_LOG_MODAL, style="primary"),
            block_id="start_here",
        ),
        *_footer(schedule),
    ]
    return text, blocks


def preview_text(content: NudgeContent, schedule: Schedule) -> str:
    """The DM as a terminal would show it (for ``ally-bot nudges preview``)."""
    text, blocks = render(content, schedule)
    # A terminal shows no mentions: each Slack user by the name Ally has for them.
    people = [s.contact for s in content.stay_in_touch] + [f.contact for f in content.thanks]
    people += [content.give_first.contact] if content.give_first is not None else []
    people += [content.person.contact] if content.person is not None else []
    names = {f"<@{c.slack_user_id}>": c.label for c in people if c.slack_user_id}
    step = content.gap.next_step if content.gap is not None else None
    if isinstance(step, Sentence) and step.slack_user_id:
        names[f"<@{step.slack_user_id}>"] = step.label
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
