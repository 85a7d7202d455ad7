"""Block Kit for listing people: ``/ally people``, its pages, and the names in each cell of the
network review. Pure functions from bot/ledger/listing's plain values to ``Reply`` and blocks."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block, ButtonElement, SectionBlock
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from bot import ids
from bot.ledger.listing import Cell, PeopleFilter, PeoplePage, cell_filter
from bot.ledger.network import TouchState, describe_touch, level_label, network_label, networks_of
from bot.ledger.service import Standing
from handlers.kit.blocks import Reply, actions, button, clip, context, escape, section
from handlers.kit.mentions import person_mrkdwn

TOUCH_MARK = {
    TouchState.OVERDUE: ":red_circle: ",
    TouchState.DUE: ":large_orange_circle: ",
    TouchState.DUE_SOON: ":large_yellow_circle: ",
    TouchState.SNOOZED: ":zzz: ",
}


def page_value(wanted: PeopleFilter, page: int) -> str:
    """A button's value naming one page of one filtered list (well under Slack's 2,000)."""
    return json.dumps({"filter": wanted.text(), "page": page}, ensure_ascii=False)


def read_page_value(value: str | None) -> tuple[str, int]:
    """The filter words and page in a button's value; ValueError when it is not one of ours."""
    found = json.loads(value or "")
    if not isinstance(found, dict):
        raise ValueError("not a page value")
    words, page = found.get("filter", ""), found.get("page", 0)
    if not isinstance(words, str) or not isinstance(page, int) or isinstance(page, bool):
        raise ValueError("not a page value")
    return words, page


def who(person: Standing) -> str:
    return person_mrkdwn(person.contact.label, person.contact.slack_user_id)


def balance_words(balance: int) -> str:
    if balance > 0:
        return f"you gave {balance} more"
    if balance < 0:
        return f"they gave {-balance} more"
    return "even"


def last_touch(person: Standing) -> str:
    if person.contact.last_touch_at is None:
        return "no contact logged yet"
    days = person.touch.days_since or 0
    ago = "today" if days == 0 else ("yesterday" if days == 1 else f"{days:,} days ago")
    return f"last touch {ago}"


def person_text(person: Standing) -> str:
    """One person on two lines: where they sit, then the clock and the give-and-take."""
    contact = person.contact
    networks = ", ".join(network_label(n) for n in networks_of(contact.networks)) or "no network"
    placed = [networks, level_label(contact.level), contact.bond or "bond not set"]
    head = f"{who(person)} · {' · '.join(placed)}"
    state = person.touch.state
    clock = last_touch(person)
    if state in TOUCH_MARK or state == TouchState.DUE_SOON:
        clock = f"{TOUCH_MARK[state]}{describe_touch(person.touch)} · {clock}"
    return f"{head}\n{clock} · every {contact.ideal_days} days · {balance_words(contact.balance)}"


def person_block(person: Standing) -> SectionBlock:
    """A person with a History button; a snoozed person with a button to wake them."""
    if person.touch.state == TouchState.SNOOZED:
        accessory = button("Wake up", ids.WAKE_CONTACT, value=person.contact.key)
    else:
        accessory = button("History", ids.SHOW_PERSON, value=person.contact.key)
    return SectionBlock(
        text=MarkdownTextObject(text=clip(person_text(person))), accessory=accessory
    )


def people_list(found: PeoplePage) -> Reply:
    """A page of ``/ally people``: one section per person, then buttons for other pages."""
    wanted = found.filter
    what = f" matching {escape(found.filter.describe())}" if not wanted.empty else ""
    if found.total == 0:
        if found.everyone == 0:
            text = (
                "You have nobody in your network yet. Add someone with "
                "`/ally add @person strategic above`, or log a favour with `/ally thanks`."
            )
        else:
            text = (
                f"Nobody{what} among your {found.everyone:,} people. Try fewer words, or "
                "`/ally people` for everyone."
            )
        return Reply(text=text, blocks=[section(text)])
    first = found.page * found.per_page + 1
    last = first + len(found.people) - 1
    count = f"{found.total:,} {'person' if found.total == 1 else 'people'}{what}"
    if found.pages > 1:
        count += f" · {first:,}-{last:,} (page {found.page + 1} of {found.pages})"
    blocks: list[Block] = [section(f"*Your people*: {count}")]
    blocks += [person_block(person) for person in found.people]
    pager: list[ButtonElement] = []
    if found.page > 0:
        pager.append(button("Previous page", ids.PEOPLE_PAGE, page_value(wanted, found.page - 1)))
    if found.has_next:
        pager.append(
            button("Next page", ids.PEOPLE_PAGE, page_value(wanted, found.page + 1), "primary")
        )
    if pager:
        blocks.append(actions(*pager, block_id="people_pages"))
    blocks.append(
        context(
            "Filter by network, level, bond, `due`, `overdue`, `snoozed` or any word in a "
            "name, organisation or notes: `/ally people strategic above`, `/ally people acme`."
        )
    )
    return Reply(text=f"Your people: {count}", blocks=blocks)


def cell_names(cell: Cell) -> str:
    """The first few people in a cell, and how many more."""
    names = ", ".join(who(person) for person in cell.names)
    if cell.more > 0:
        names += f" and {cell.more:,} more"
    return names


def cell_buttons(cells: list[Cell]) -> list[ButtonElement]:
    """A button listing each cell whose names did not all fit."""
    return [
        button(
            f"All {cell.total:,} {network_label(cell.network)}, {level_label(cell.level.value)}",
            ids.PEOPLE_PAGE,
            page_value(cell_filter(cell.network, cell.level), 0),
        )
        for cell in cells
        if cell.more > 0
    ]
