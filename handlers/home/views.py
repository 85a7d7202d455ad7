"""The Home tab as pure builders: ``home_view(HomeData) -> View``.

Every list is capped and summarised ("and 1,940 more"), so the view stays well inside Slack's
100 blocks (and each text inside its limits) for a network of any size.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.home.service import HomeData, Suggestion
from bot.ledger.listing import PeopleFilter
from bot.ledger.network import (
    TouchState,
    describe_touch,
)
from bot.ledger.projects import ProjectView
from bot.ledger.service import LedgerLine, Standing
from bot.nudges.sentences import mrkdwn
from handlers.kit.blocks import actions, button, clip, context, escape, section
from handlers.kit.mentions import person_mrkdwn
from handlers.ledger.people_views import cell_buttons, page_value, person_block
from handlers.ledger.review_text import alliances_text, connections_text, network_text
from storage.models import InteractionKind

VIEW_BLOCKS_MAX = 100
FIELD_MAX = 2000
ATTENTION_SHOWN = 8
GAPS_SHOWN = 6
FAVOURS_SHOWN = 5
INTRODUCERS_SHOWN = 5
NAMES_PER_INTRODUCER = 5
PROJECTS_SHOWN = 5
METHOD_LINE = (
    "*The method:* one to three allies per project, met within 30 days · six connections, "
    "two above you, two at your level, two below · one person a week with a plan · give first."
)

TOUCH_MARK = {
    TouchState.OVERDUE: ":red_circle:",
    TouchState.DUE: ":large_orange_circle:",
    TouchState.DUE_SOON: ":large_yellow_circle:",
}


def home_view(data: HomeData) -> View:
    """The member's Home tab."""
    blocks: list[Block] = [
        HeaderBlock(text="Your network at a glance"),
        context(_summary(data)),
        context(METHOD_LINE),
        main_actions(),
        DividerBlock(),
        *network_blocks(data),
        DividerBlock(),
        *project_blocks(data.projects),
        *this_week_blocks(data.this_week),
        DividerBlock(),
        *stay_in_touch_blocks(data.attention, data.never_met),
        DividerBlock(),
        *people_blocks(data),
        DividerBlock(),
        *favour_blocks(data),
    ]
    if data.introducers:
        blocks += [DividerBlock(), *snowball_blocks(data)]
    blocks.append(
        context(
            f"React with :{data.reaction_emoji}: to someone's message to log that they helped "
            "you. Everything here is private to you."
        )
    )
    if len(blocks) > VIEW_BLOCKS_MAX:  # the caps above make this unreachable; fail loudly if not
        raise ValueError(f"Home has {len(blocks)} blocks; Slack allows {VIEW_BLOCKS_MAX}")
    return View(type="home", callback_id=ids.HOME, blocks=blocks)


def _summary(data: HomeData) -> str:
    people = f"{data.contacts:,} {'person' if data.contacts == 1 else 'people'} in your network"
    if data.focus:
        return f"{people} · Focus of inquiry: *{escape(data.focus)}*"
    return f"{people} · No focus of inquiry yet: set one with `/ally focus <topic>`"


def main_actions() -> Block:
    """A button for every action a member takes from Home."""
    return actions(
        button("Record who helped you", ids.OPEN_LOG_MODAL, style="primary"),
        button("Add a contact", ids.OPEN_CONTACT_MODAL),
        button("Log a catch-up", ids.HOME_LOG_CATCH_UP),
        button("Questions to ask", ids.SHOW_QUESTIONS),
        button("Settings", ids.NUDGE_SETTINGS),
        block_id="home_actions",
    )


# -- the three networks -------------------------------------------------------------------------


def network_blocks(data: HomeData) -> list[Block]:
    """The grid (a section per network, a field per level), strongest, needs work and gaps."""
    result = data.review
    blocks: list[Block] = [
        section(connections_text(result) + "\n" + alliances_text(result, len(data.projects))),
        section(
            "*The three networks*\n"
            + "\n".join(network_text(result, row, data.cells) for row in result.grid)
        ),
    ]
    more = cell_buttons(data.cells)
    if more:
        blocks.append(actions(*more, block_id="home_cells"))
    if result.missing and data.contacts:
        shown = [f"• {gap.describe()}" for gap in result.missing[:GAPS_SHOWN]]
        blocks.append(
            section("*Missing*\n" + "\n".join(shown) + _more(len(result.missing) - GAPS_SHOWN))
        )
    if not data.contacts:
        blocks.append(
            section(
                "Nobody here yet. Start with the people you deliver with and the people who get "
                "your work noticed: *Add a contact*, or *Record who helped you*."
            )
        )
    if result.unplaced:
        who = "person has" if result.unplaced == 1 else "people have"
        blocks.append(
            context(
                f"{result.unplaced:,} {who} no network or level yet, so the review can't "
                "count them: place them with `/ally add @person …`."
            )
        )
    return blocks


# -- project alliances -------------------------------------------------------------------------


def project_blocks(projects: Sequence[ProjectView]) -> list[Block]:
    """Active projects with their allies, who is met, and the days left of the 30."""
    if not projects:
        return []
    lines = [project_line(p) for p in projects[:PROJECTS_SHOWN]]
    more = len(projects) - PROJECTS_SHOWN
    if more > 0:
        lines.append(_more(more))
    return [
        section("*Project allies* (meet each within 30 days)\n" + "\n".join(lines)),
        DividerBlock(),
    ]


def project_line(project: ProjectView) -> str:
    """One project: its name, the 30-day clock and each ally, met or not."""
    allies = ", ".join(
        f"{':white_check_mark:' if a.met else ':hourglass_flowing_sand:'} "
        + person_mrkdwn(a.label, None if a.key.startswith("~") else a.key)
        for a in project.allies
    )
    return f"• *{escape(project.name)}* ({project.when}): {allies}"


# -- people -------------------------------------------------------------------------------------


def people_blocks(data: HomeData) -> list[Block]:
    """The most relevant few people (who needs a message soonest first), each with a History
    button, and a button listing everyone."""
    if not data.contacts:
        return [section("*People*\nNobody yet: *Add a contact* to start.")]
    blocks: list[Block] = [section(f"*People*   {data.contacts:,} in your network")]
    blocks += [person_block(person) for person in data.people]
    listing = [
        button(f"See all {data.contacts:,} people", ids.PEOPLE_PAGE, page_value(PeopleFilter(), 0))
    ]
    if data.snoozed:
        snoozed = PeopleFilter(states=frozenset({TouchState.SNOOZED}))
        listing.append(
            button(f"Snoozed ({data.snoozed:,})", ids.PEOPLE_PAGE, page_value(snoozed, 0))
        )
    blocks.append(actions(*listing, block_id="home_people"))
    return blocks


# -- this week's person -------------------------------------------------------------------------


def this_week_blocks(suggestion: Suggestion | None) -> list[Block]:
    """This week's person, why, the next step, and the buttons to act on it."""
    if suggestion is None:
        return [section("*This week's person*\nNobody is due and no part of the grid is empty.")]
    if suggestion.contact is None:
        return [
            section(
                f"*This week: fill a gap*\n{mrkdwn(suggestion.reason)}\n"
                f"*Next step:* {mrkdwn(suggestion.next_step)}"
            )
        ]
    contact = suggestion.contact
    return [
        section(
            f"*This week's person:* {person_mrkdwn(contact.label, contact.slack_user_id)}\n"
            f"{mrkdwn(suggestion.reason)}\n"
            f"*Next step:* {mrkdwn(suggestion.next_step)}"
        ),
        actions(
            button("Plan it", ids.PLAN_IT, value=contact.key, style="primary"),
            button("Log a catch-up", ids.HOME_LOG_CATCH_UP, value=contact.key),
            button("Questions to ask", ids.SHOW_QUESTIONS, value=contact.key),
            button("Edit contact", ids.OPEN_CONTACT_MODAL, value=contact.key),
            block_id="home_this_week",
        ),
    ]


# -- stay in touch ------------------------------------------------------------------------------


def stay_in_touch_blocks(attention: Sequence[Standing], never_met: int) -> list[Block]:
    """Who is overdue, due and due soon, most urgent first, each with a catch-up button."""
    counts = {state: 0 for state in TOUCH_MARK}
    for one in attention:
        counts[one.touch.state] += 1
    if not attention:
        blocks: list[Block] = [section("*Stay in touch*\nEveryone is up to date. :sparkles:")]
    else:
        tally = " · ".join(
            f"{TOUCH_MARK[state]} {n:,} {state.value}" for state, n in counts.items() if n
        )
        blocks = [section(f"*Stay in touch*   {tally}")]
        for one in attention[:ATTENTION_SHOWN]:
            contact = one.contact
            text = (
                f"{TOUCH_MARK[one.touch.state]} {_name(contact.label, contact.slack_user_id)}: "
                f"{describe_touch(one.touch)} · every {contact.ideal_days} days"
            )
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=clip(text)),
                    accessory=button("Log a catch-up", ids.HOME_LOG_CATCH_UP, value=contact.key),
                )
            )
        hidden = len(attention) - ATTENTION_SHOWN
        if hidden > 0:
            blocks.append(context(f"and {hidden:,} more to get back in touch with"))
    if never_met:
        who = "person" if never_met == 1 else "people"
        blocks.append(context(f"{never_met:,} {who} with nothing logged yet."))
    return blocks


# -- favours both ways --------------------------------------------------------------------------


def favour_blocks(data: HomeData) -> list[Block]:
    """Recent favours received and given, and the reciprocity balance."""
    if not data.received and not data.given:
        body = "*Recent favours*\nNothing in the last 90 days. Who helped you lately?"
        return [section(body), _balance(data)]
    fields = [
        MarkdownTextObject(text=_favour_field("They helped you", data.received)),
        MarkdownTextObject(text=_favour_field("You helped", data.given)),
    ]
    return [
        SectionBlock(
            text=MarkdownTextObject(text="*Recent favours* (last 90 days)"), fields=fields
        ),
        _balance(data),
    ]


def _favour_field(title: str, lines: Sequence[LedgerLine]) -> str:
    if not lines:
        return f"*{title}*\nNothing yet."
    shown = [f"• {_favour_line(line)}" for line in lines[:FAVOURS_SHOWN]]
    return clip(f"*{title}*\n" + "\n".join(shown) + _more(len(lines) - FAVOURS_SHOWN), FIELD_MAX)


def _favour_line(line: LedgerLine) -> str:
    who = _name(line.contact, line.contact_user)
    when = f"{line.occurred_at:%-d %b}"
    if line.kind == InteractionKind.INTRO_RECEIVED:
        what = f"introduced you to {_other(line)}"
    elif line.kind == InteractionKind.INTRO_MADE:
        what = f"you introduced them to {_other(line)}"
    else:
        what = escape(clip(line.what, 80)) or "a favour"
    return f"{who}: {what} ({when})"


def _balance(data: HomeData) -> ContextBlock:
    if data.balance > 0:
        text = f"Balance: you've given {data.balance:,} more than you've received."
    elif data.balance < 0:
        text = f"Balance: you've received {-data.balance:,} more than you've given."
    else:
        text = "Balance: even."
    if data.give_first is not None:
        text += f" *Give first:* {mrkdwn(data.give_first.reason)} {mrkdwn(data.give_first.way)}"
    return context(text)


# -- the snowball -------------------------------------------------------------------------------


def snowball_blocks(data: HomeData) -> list[Block]:
    """Whom the member met through whom (referrals and introductions)."""
    lines = []
    for introducer in data.introducers[:INTRODUCERS_SHOWN]:
        users = introducer.introduced_users or [None] * len(introducer.introduced)
        pairs = list(zip(introducer.introduced, users, strict=True))[:NAMES_PER_INTRODUCER]
        names = ", ".join(person_mrkdwn(n, u) for n, u in pairs)
        extra = len(introducer.introduced) - NAMES_PER_INTRODUCER
        if extra > 0:
            names += f" and {extra:,} more"
        lines.append(f"• through {_name(introducer.label, introducer.slack_user_id)}: {names}")
    text = "*Met through*\n" + "\n".join(lines)
    return [section(text + _more(len(data.introducers) - INTRODUCERS_SHOWN))]


def _name(label: str, slack_user_id: str | None) -> str:
    """A person in a line: a Slack user as a mention (current name, clickable), else in bold."""
    return person_mrkdwn(label, slack_user_id) if slack_user_id else f"*{escape(label)}*"


def _other(line: LedgerLine) -> str:
    return person_mrkdwn(line.related, line.related_user) if line.related else "someone"


def _more(hidden: int) -> str:
    return f"\n_and {hidden:,} more_" if hidden > 0 else ""
