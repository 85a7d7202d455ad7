"""Everything the Home tab shows, assembled in a constant number of queries.

``home(session, ref, now)`` reads the member, their contacts, their reciprocity balances, their
recent ledger and the people their weekly DMs named this week and last (five queries, whatever
the size of the network) and returns plain values; the handlers layer turns them into Block Kit.
It never writes: opening Home creates nothing.

This week's person is the weekly DM's (``bot.nudges.weekly_person``): once this week's DM has
gone out, the person it named; before that, the one it will name. With nobody to name, Home
suggests the most important gap in the network instead.

Whether a request changed what a member's Home shows is part of the result of the service it
called (``home_changed``); the handlers republish Home after such a request, and only for a
member who may be looking at it (``may_be_looking``: they entered Home within ``LOOKING``).
Slack sends ``app_home_opened`` every time someone enters Home, and that publishes it fresh,
so anyone else would never see a republish before the next one replaced it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.ledger import projects
from bot.ledger.listing import Cell, cells, most_relevant
from bot.ledger.network import (
    DefaultCadences,
    Gap,
    Placement,
    Review,
    TouchState,
    day_number,
    default_cadences,
    review,
)
from bot.ledger.people import MemberRef, contact_label
from bot.ledger.projects import ProjectView
from bot.ledger.service import ContactInfo, LedgerLine, Standing
from bot.nudges.give_first import GiveFirst, give_first
from bot.nudges.planning import SentPeople, fill_gap, given_to, sent_people
from bot.nudges.weekly_person import ContactFacts, Pick, this_weeks_person
from bot.platform.runtime import Runtime
from storage.models import InteractionKind, Member
from storage.repository import (
    ContactRow,
    LineRow,
    MemberData,
    find_member,
    home_seen_since,
    record_home_visit,
)

RECENT_DAYS = 90
PEOPLE_SHOWN = 5  # Home's People section; "See all people" lists the rest
RECENT_FETCH = 40  # the newest ledger lines read; favours among them are shown
FAVOUR_KINDS = (
    InteractionKind.FAVOUR_RECEIVED,
    InteractionKind.FAVOUR_GIVEN,
    InteractionKind.INTRO_RECEIVED,
    InteractionKind.INTRO_MADE,
)
RECEIVED = (InteractionKind.FAVOUR_RECEIVED, InteractionKind.INTRO_RECEIVED)
URGENCY = {TouchState.OVERDUE: 0, TouchState.DUE: 1, TouchState.DUE_SOON: 2}
# How long after entering Home a member may still have it on screen (working from its buttons
# and the modals they open, or with Home in a window of its own).
LOOKING = timedelta(minutes=30)


@dataclass(frozen=True)
class Introducer:
    """Someone through whom the member met others (the snowball of seed 002)."""

    label: str
    introduced: list[str]
    slack_user_id: str | None = None
    introduced_users: list[str | None] = field(default_factory=list)  # by ``introduced``


@dataclass(frozen=True)
class Suggestion:
    """This week's person (or, with nobody to name, the gap to fill) and a concrete next step."""

    contact: ContactInfo | None
    gap: Gap | None
    reason: str
    next_step: str


@dataclass(frozen=True)
class HomeData:
    member: MemberRef
    focus: str | None
    reaction_emoji: str
    contacts: int
    review: Review
    attention: list[Standing]  # overdue, due, due soon: most urgent first
    never_met: int  # contacts with nothing logged yet
    received: list[LedgerLine]  # recent favours and intros received, newest first
    given: list[LedgerLine]
    balance: int  # across everyone: given minus received
    # Whom to give to first, why and how: the weekly DM's rule, so both name the same person.
    give_first: GiveFirst | None
    introducers: list[Introducer] = field(default_factory=list)
    this_week: Suggestion | None = None
    projects: list[ProjectView] = field(default_factory=list)  # active, oldest first
    people: list[Standing] = field(default_factory=list)  # the most relevant few
    cells: list[Cell] = field(default_factory=list)  # who is in each network-by-level cell
    snoozed: int = 0  # contacts left out of reminders for now


def home(session: Session, ref: MemberRef, now: datetime) -> HomeData:
    """Assemble a member's Home in six queries; a member who never used Ally gets an empty one."""
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    if member is None:
        return _empty(ref)
    data = MemberData(session, member)
    # Plain rows, not ORM objects: Home only reads, and reads every column of every contact.
    rows = data.contact_rows()
    balances = {row.id: row.balance for row in rows}
    lines = data.recent_lines(now - timedelta(days=RECENT_DAYS), limit=RECENT_FETCH)
    sent = sent_people(session, member, now)
    found = projects.active_of(session, member.id, now)
    given = given_to(session, [member.id]).get(member.id, set())
    return assemble(ref, member, rows, balances, lines, now, sent, found, given)


def entered_home(session: Session, ref: MemberRef, now: datetime) -> None:
    """Record that ``ref`` entered Home (or used one of its buttons) at ``now``."""
    record_home_visit(session, ref.enterprise_id, ref.team_id, ref.user_id, now)


def may_be_looking(session: Session, ref: MemberRef, now: datetime) -> bool:
    """Whether ``ref`` entered Home recently enough to have it on screen still."""
    return home_seen_since(session, ref.enterprise_id, ref.team_id, ref.user_id, now - LOOKING)


def opened_home(runtime: Runtime, ref: MemberRef, now: datetime) -> HomeData:
    """``ref`` entered Home: the visit recorded and what Home shows, in one unit of work."""
    with runtime.unit_of_work() as uow:
        entered_home(uow.session, ref, now)
        data = home(uow.session, ref, now)
        uow.commit()
    return data


def home_to_republish(
    runtime: Runtime, ref: MemberRef, now: datetime, *, on_home: bool, changed: bool
) -> HomeData | None:
    """After a request: what ``ref``'s Home shows now when ``changed`` and they may be looking
    at it (None otherwise). A click on a Home button (``on_home``) is recorded as a visit."""
    with runtime.unit_of_work() as uow:
        if on_home:
            entered_home(uow.session, ref, now)
        elif not may_be_looking(uow.session, ref, now):
            return None
        data = home(uow.session, ref, now) if changed else None
        uow.commit()
    return data


def _empty(ref: MemberRef) -> HomeData:
    empty = review([])
    return HomeData(
        ref, None, "pray", 0, empty, [], 0, [], [], 0, None, [], suggest([], None, empty, None)
    )


def assemble(
    ref: MemberRef,
    member: Member,
    rows: Sequence[ContactRow],
    balances: dict[int, int],
    lines: Sequence[LineRow],
    now: datetime,
    sent: SentPeople | None = None,
    active: Sequence[ProjectView] = (),
    given: Collection[int] = (),
) -> HomeData:
    """Turn loaded rows into ``HomeData`` (pure apart from reading the rows' attributes).

    ``sent`` is who this week's and last week's DMs named (none when no DM has gone out).
    """
    labels = {row.id: contact_label(row) for row in rows}
    users = {row.id: row.slack_user_id for row in rows}
    defaults = default_cadences(member)
    contacts = [_standing(row, labels, users, balances, now, defaults) for row in rows]
    facts = [_facts(row, balances, defaults) for row in rows]
    sent = sent or SentPeople()
    pick = this_weeks_person(
        facts,
        now,
        this_week=sent.this_week,
        last_week=sent.last_week,
        keep_last=sent.keep_last,
        goals=projects.goals_of(active),
    )
    attention = sorted(
        (c for c in contacts if c.touch.state in URGENCY),
        key=lambda c: (
            URGENCY[c.touch.state],
            c.touch.days_to_due or 0,
            c.contact.label.casefold(),
        ),
    )
    # Each line's people are named from the contacts read just before; a line about a contact
    # added in between (another request, on a database that reads committed rows) waits for
    # the next publish.
    ledger = [
        LedgerLine.of_row(line, labels, users)
        for line in lines
        if line.kind in FAVOUR_KINDS and line.contact_id in labels
    ]
    result = review(Placement(r.networks, r.level, r.bond) for r in rows)
    return HomeData(
        member=ref,
        focus=member.focus,
        reaction_emoji=member.reaction_emoji or "pray",
        contacts=len(contacts),
        review=result,
        attention=attention,
        never_met=sum(1 for c in contacts if c.touch.never_met),
        received=[line for line in ledger if line.kind in RECEIVED],
        given=[line for line in ledger if line.kind not in RECEIVED],
        balance=sum(balances.values()),
        give_first=give_first(facts, given),
        introducers=_introducers(rows, labels),
        this_week=suggest(contacts, pick, result, member.focus),
        projects=list(active),
        people=most_relevant(rows, now, PEOPLE_SHOWN, defaults),
        cells=cells(rows, now),
        snoozed=sum(1 for c in contacts if c.touch.state == TouchState.SNOOZED),
    )


# The columns a contact's row and the planner's facts share by name; the cadence and the
# balance are worked out (the member's default cadence, the balances read with the rows).
_SHARED = tuple(
    name
    for name in ContactFacts._fields
    if name in ContactRow._fields and name not in ("cadence_days", "balance")
)


def _facts(row: ContactRow, balances: dict[int, int], defaults: DefaultCadences) -> ContactFacts:
    return ContactFacts(
        **{name: getattr(row, name) for name in _SHARED},
        cadence_days=row.cadence_days or defaults.get(row.bond),
        last_touch_day=day_number(row.last_touch_at),
        snoozed_until_day=day_number(row.snoozed_until),
        balance=balances.get(row.id, 0),
        added_day=day_number(row.created_at),
    )


def _standing(
    row: ContactRow,
    labels: dict[int, str],
    users: dict[int, str | None],
    balances: dict[int, int],
    now: datetime,
    defaults: DefaultCadences,
) -> Standing:
    # Who they met them through by id, from the rows already loaded: no query per contact.
    through = row.met_through_id if row.met_through_id in labels else None
    contact = ContactInfo.of_row(
        row._replace(balance=balances.get(row.id, 0)),
        defaults,
        met_through=labels[through] if through is not None else None,
        met_through_user=users[through] if through is not None else None,
    )
    return Standing.at(contact, now)


def _introducers(rows: Sequence[ContactRow], labels: dict[int, str]) -> list[Introducer]:
    users = {row.id: row.slack_user_id for row in rows}
    met: dict[int, list[int]] = {}
    for row in rows:
        if row.met_through_id in labels:
            met.setdefault(row.met_through_id, []).append(row.id)
    ranked = sorted(met.items(), key=lambda item: (-len(item[1]), labels[item[0]].casefold()))
    result = []
    for cid, ids in ranked:
        ids.sort(key=lambda i: labels[i].casefold())
        result.append(
            Introducer(labels[cid], [labels[i] for i in ids], users[cid], [users[i] for i in ids])
        )
    return result


def suggest(
    contacts: Sequence[Standing], pick: Pick | None, result: Review, focus: str | None
) -> Suggestion | None:
    """This week's person (``pick``, from ``bot.nudges.weekly_person``), or the most important gap.

    With nobody to name, the review's biggest gap becomes the suggestion, with the snowball as
    the next step: ask someone already in the network whom to talk to.
    """
    if pick is not None:
        person = next(c.contact for c in contacts if c.contact.key == pick.contact.key)
        return Suggestion(person, None, pick.why, pick.next_step)
    if not result.missing:
        return None
    found = fill_gap(result.missing[0], [c.contact for c in contacts], focus)
    return Suggestion(None, found.gap, found.reason, found.next_step)
