"""Weekly nudges: who is due at a given instant, and what their DM says.

Planning is pure over a frozen clock. ``due`` turns a member's schedule (weekday, minute, time
zone, pause) into the instant their nudge falls due in the current ISO week of their own
calendar; once that instant has passed the nudge stays due for the rest of that local week, so
a process that was down at the slot catches up the same week (and never sends last week's later).
``compose`` turns plain facts about one member's network into the DM's content.

``plan`` reads those facts for a batch of members at a time with a fixed number of queries
(members, finished weeks, contacts with their kept balances, favours, last week's person,
unmet project allies and their catch-ups, whom each member ever gave to), so
the cost of a run grows with the number of batches, never with contacts, and memory holds one
batch.
"""

from __future__ import annotations

import gc
import heapq
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

from bot.calendar.service import read_offers
from bot.ledger.network import (
    DefaultCadences,
    Gap,
    Placement,
    TouchState,
    cadence_days,
    chosen_cadences,
    gap_step,
    review,
)
from bot.ledger.people import MemberRef
from bot.ledger.projects import ProjectGoal, unmet_goals
from bot.nudges.give_first import GiveFirst, give_first
from bot.nudges.sentences import Sentence
from bot.nudges.weekly_person import ContactFacts, Pick, choose, touches
from storage.models import CalendarFeed, Contact, Interaction, Member, Nudge, NudgeStatus
from storage.repository import GIVEN_KINDS, RECEIVED_KINDS
from storage.types import DayNumber

BATCH_SIZE = 500
STAY_IN_TOUCH_MAX = 3
THANKS_SHOWN = 3
THANKS_WINDOW = timedelta(days=7)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# -- when ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A member's nudge settings: on/off, weekday (Monday = 0), minute of the day, zone."""

    enabled: bool = True
    weekday: int = 0
    minute: int = 9 * 60
    tz: str = "UTC"
    paused_until: date | None = None

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]}s at {self.minute // 60:02d}:{self.minute % 60:02d}"


@dataclass(frozen=True)
class Slot:
    """One week's nudge slot: the ISO week key in the member's calendar and the UTC instant."""

    week: str
    due_at: datetime
    local: datetime


def zone(name: str | None) -> ZoneInfo:
    """The member's zone; an unknown or empty name falls back to UTC rather than failing."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def slot_in_week(schedule: Schedule, year: int, week: int) -> Slot:
    """The schedule's slot in ISO week ``year``-``week`` of the member's own calendar.

    A wall time that does not exist (the hour skipped when clocks go forward) lands just after
    the gap; one that happens twice (clocks go back) is its first occurrence.
    """
    tz = zone(schedule.tz)
    day = date.fromisocalendar(year, week, schedule.weekday + 1)
    wall = datetime.combine(day, time(schedule.minute // 60, schedule.minute % 60), tzinfo=tz)
    due_at = wall.astimezone(UTC)
    return Slot(week=week_key(day), due_at=due_at, local=due_at.astimezone(tz))


def current_slot(schedule: Schedule, now: datetime) -> Slot:
    """This week's slot, where "this week" is the ISO week of ``now`` in the member's zone."""
    year, week, _ = now.astimezone(zone(schedule.tz)).isocalendar()
    return slot_in_week(schedule, year, week)


def paused(schedule: Schedule, slot: Slot) -> bool:
    """A pause covers every week whose slot falls before the day it ends."""
    return schedule.paused_until is not None and slot.local.date() < schedule.paused_until


def due(schedule: Schedule, now: datetime) -> Slot | None:
    """This week's slot if the member's nudge is due at ``now``, else None."""
    if not schedule.enabled:
        return None
    slot = current_slot(schedule, now)
    if now < slot.due_at or paused(schedule, slot):
        return None
    return slot


def next_slot(schedule: Schedule, now: datetime, *, sent_this_week: bool = False) -> Slot | None:
    """When the next nudge will go out (None when nudges are off)."""
    if not schedule.enabled:
        return None
    slot = current_slot(schedule, now)
    for _ in range(60):  # a pause is at most a few weeks; stop rather than loop forever
        if not paused(schedule, slot) and not (
            sent_this_week and slot == current_slot(schedule, now)
        ):
            return slot
        after = slot.local + timedelta(days=7)
        year, week, _ = after.isocalendar()
        slot = slot_in_week(schedule, year, week)
    return None


# -- what ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Favour:
    """A favour received in the last week and not thanked yet."""

    interaction_id: int
    contact: ContactFacts
    what: str
    occurred_at: datetime


@dataclass(frozen=True)
class StayInTouch:
    contact: ContactFacts
    state: TouchState
    days_since: int  # since the last touch, or since they were added when ``never_met``
    cadence: int

    @property
    def never_met(self) -> bool:
        return self.contact.last_touch_day is None


@dataclass(frozen=True)
class CalendarTrouble:
    """A member's calendar feed that has failed for ``CALENDAR_FAILING_FOR`` or longer."""

    host: str
    since: datetime
    error: str


CALENDAR_FAILING_FOR = timedelta(days=7)


@dataclass(frozen=True)
class NudgeContent:
    """Everything one member's DM says; each part is empty when it has nothing to say."""

    start_here: bool = False
    stay_in_touch: list[StayInTouch] = field(default_factory=list)
    thanks: list[Favour] = field(default_factory=list)
    give_first: GiveFirst | None = None
    gap: GapSuggestion | None = None  # with no person to name: the review's biggest gap
    person: Pick | None = None
    questions: list[str] = field(default_factory=list)
    # Said once: the DM that says it marks the feed as reported.
    calendar_trouble: CalendarTrouble | None = None
    # People met in calendar meetings who are not contacts yet (at most three), each a dict:
    # "u" (a Slack user's id) or "e" (an outside person's email), and "n" (a name).
    met: list[dict[str, str]] = field(default_factory=list)

    @property
    def has_news(self) -> bool:
        return bool(
            self.calendar_trouble
            or self.met
            or self.start_here
            or self.stay_in_touch
            or self.thanks
            or self.give_first
            or self.person
            or self.gap
        )


def stay_in_touch(
    contacts: Sequence[ContactFacts],
    now: datetime,
    touched: Sequence[tuple[TouchState, int | None]] | None = None,
) -> list[StayInTouch]:
    """The most overdue contacts (due or overdue, not snoozed), most days past due first;
    someone never met counts from the day they were added.

    ``touched`` is ``weekly_person.touches(contacts, now)`` when the caller has it already.
    """
    if touched is None:
        touched = touches(contacts, now)
    # Most days past due first, then by name, then the contact added first: the same list
    # whatever order the contacts come in. Names are only read for the few that could be kept.
    found: list[tuple[int, int, TouchState, int, int]] = []
    for i, (c, (state, days_since)) in enumerate(zip(contacts, touched, strict=True)):
        if (state is TouchState.OVERDUE or state is TouchState.DUE) and days_since is not None:
            cadence = cadence_days(c.cadence_days, c.bond)
            found.append((cadence - days_since, i, state, days_since, cadence))
    if len(found) > STAY_IN_TOUCH_MAX:
        last_kept = heapq.nsmallest(STAY_IN_TOUCH_MAX, [f[0] for f in found])[-1]
        found = [f for f in found if f[0] <= last_kept]
    found.sort(key=lambda f: (f[0], contacts[f[1]].label.casefold(), contacts[f[1]].id))
    return [
        StayInTouch(contacts[i], state, days_since, cadence)
        for _, i, state, days_since, cadence in found[:STAY_IN_TOUCH_MAX]
    ]


def compose(
    contacts: Sequence[ContactFacts],
    favours: Sequence[Favour],
    now: datetime,
    *,
    last_person_id: int | None = None,
    keep_last: bool = False,
    goals: Sequence[ProjectGoal] = (),
    given_to: Collection[int] = (),
    focus: str | None = None,
) -> NudgeContent:
    """The DM's content for one member; an empty network gets the start-here message.

    ``goals`` are the member's unmet project allies: the first becomes this week's person.
    ``given_to`` are the contacts the member has ever given something to (for give first).
    """
    if not contacts:
        return NudgeContent(start_here=True)
    # One stay-in-touch reading per contact serves both "stay in touch" and the weekly person.
    touched = touches(contacts, now)
    person = choose(
        contacts,
        now,
        last_person_id=last_person_id,
        keep_last=keep_last,
        touched=touched,
        goals=goals,
    )
    return NudgeContent(
        stay_in_touch=stay_in_touch(contacts, now, touched),
        thanks=list(favours)[:THANKS_SHOWN],
        give_first=give_first(contacts, given_to),
        person=person,
        gap=None if person is not None else gap_suggestion(contacts, focus),
    )


@dataclass(frozen=True)
class GapSuggestion:
    """The review's biggest gap as the week's suggestion, with the snowball as the next step:
    what Home shows when it has nobody to name, so the two say the same."""

    gap: Gap
    reason: str
    next_step: str


def gap_suggestion(contacts: Sequence[ContactFacts], focus: str | None) -> GapSuggestion | None:
    """The review's biggest gap and whom to ask about it, or None when nothing is missing."""
    result = review(Placement(c.networks, c.level, c.bond) for c in contacts)
    if not result.missing:
        return None
    return fill_gap(result.missing[0], contacts, focus)


class Insider(Protocol):
    """Someone already in the network, who could say whom to talk to next."""

    @property
    def label(self) -> str: ...
    @property
    def slack_user_id(self) -> str | None: ...
    @property
    def level(self) -> str | None: ...


def fill_gap(gap: Gap, people: Sequence[Insider], focus: str | None) -> GapSuggestion:
    """``gap`` as the week's suggestion: ask the first placed person (else anyone) whom to meet
    (seed 002's snowball); the DM and Home say the same."""
    insider = next((c for c in people if c.level), None) or next(iter(people), None)
    if insider is None:
        step = Sentence(gap_step(gap, None, focus))
    else:
        step = Sentence(gap_step(gap, insider.label, focus), insider.label, insider.slack_user_id)
    return GapSuggestion(gap, f"You have {gap.describe()}.", step)


# -- reading a batch of members ----------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    id: int
    ref: MemberRef
    schedule: Schedule
    tz_checked_at: datetime | None
    focus: str | None
    # The app's DM with the member, once Slack has told us (None: post to the user id).
    dm_channel_id: str | None = None
    # The member's default cadences for alliances and connections (None: Ally's).
    alliance_days: int | None = None
    connection_days: int | None = None

    @property
    def cadences(self) -> DefaultCadences:
        return chosen_cadences(self.alliance_days, self.connection_days)


@dataclass(frozen=True)
class Workspace:
    """One Slack workspace's members (an org-wide install: the org, with an empty team)."""

    enterprise_id: str
    team_id: str

    @property
    def label(self) -> str:
        return "/".join(part for part in (self.enterprise_id, self.team_id) if part)


@dataclass(frozen=True)
class Planned:
    """A member whose nudge is due this week, with what it will say."""

    member: MemberRow
    slot: Slot
    content: NudgeContent


def schedule_of(member: Member) -> Schedule:
    """A member's nudge settings as a ``Schedule``."""
    return Schedule(
        member.nudges_enabled,
        member.nudge_weekday,
        member.nudge_minute,
        member.tz,
        member.nudges_paused_until,
    )


def _member_row(m: Member) -> MemberRow:
    return MemberRow(
        id=m.id,
        ref=MemberRef(team_id=m.team_id, user_id=m.user_id, enterprise_id=m.enterprise_id),
        schedule=schedule_of(m),
        tz_checked_at=m.tz_checked_at,
        focus=m.focus,
        dm_channel_id=m.dm_channel_id,
        alliance_days=m.alliance_cadence_days,
        connection_days=m.connection_cadence_days,
    )


def workspaces(sessions: sessionmaker[Session]) -> list[Workspace]:
    """The workspaces with at least one member whose nudges are on."""
    with sessions() as session:
        rows = session.execute(
            select(Member.enterprise_id, Member.team_id)
            .where(Member.nudges_enabled.is_(True))
            .distinct()
            .order_by(Member.enterprise_id, Member.team_id)
        ).all()
    return [Workspace(enterprise_id, team_id) for enterprise_id, team_id in rows]


def member_batches(
    sessions: sessionmaker[Session],
    batch_size: int = BATCH_SIZE,
    workspace: Workspace | None = None,
) -> Iterator[list[MemberRow]]:
    """Members with nudges on (of one workspace, or all), ``batch_size`` at a time by id."""
    scope = (
        []
        if workspace is None
        else [Member.enterprise_id == workspace.enterprise_id, Member.team_id == workspace.team_id]
    )
    after = 0
    while True:
        with sessions() as session:
            # Plain columns through the Core connection: no ORM identity map for a batch of
            # rows that only become ``MemberRow``s.
            rows = [
                MemberRow(
                    id=member_id,
                    ref=MemberRef(team_id=team_id, user_id=user_id, enterprise_id=enterprise_id),
                    schedule=Schedule(enabled, weekday, minute, tz, paused_until),
                    tz_checked_at=tz_checked_at,
                    focus=focus,
                    dm_channel_id=dm_channel_id,
                    alliance_days=alliance_days,
                    connection_days=connection_days,
                )
                for (
                    member_id,
                    team_id,
                    user_id,
                    enterprise_id,
                    enabled,
                    weekday,
                    minute,
                    tz,
                    paused_until,
                    tz_checked_at,
                    focus,
                    dm_channel_id,
                    alliance_days,
                    connection_days,
                ) in session.connection()
                .execute(
                    select(
                        Member.id,
                        Member.team_id,
                        Member.user_id,
                        Member.enterprise_id,
                        Member.nudges_enabled,
                        Member.nudge_weekday,
                        Member.nudge_minute,
                        Member.tz,
                        Member.nudges_paused_until,
                        Member.tz_checked_at,
                        Member.focus,
                        Member.dm_channel_id,
                        Member.alliance_cadence_days,
                        Member.connection_cadence_days,
                    )
                    .where(Member.id > after, Member.nudges_enabled.is_(True), *scope)
                    .order_by(Member.id)
                    .limit(batch_size)
                )
                .all()
            ]
        if not rows:
            return
        after = rows[-1].id
        yield rows


def member_row(session: Session, ref: MemberRef) -> MemberRow | None:
    member = session.scalars(
        select(Member).where(Member.user_is(ref.enterprise_id, ref.team_id, ref.user_id))
    ).one_or_none()
    return _member_row(member) if member else None


def finished(session: Session, due_now: Sequence[tuple[MemberRow, Slot]]) -> set[tuple[int, str]]:
    """(member id, week) pairs among ``due_now`` whose nudge was already sent or skipped."""
    if not due_now:
        return set()
    wanted = {(m.id, s.week) for m, s in due_now}
    rows = session.execute(
        select(Nudge.member_id, Nudge.week).where(
            Nudge.member_id.in_({m for m, _ in wanted}),
            Nudge.week.in_({w for _, w in wanted}),
            Nudge.status != NudgeStatus.PLANNED.value,
        )
    ).all()
    return {(m, w) for m, w in rows if (m, w) in wanted}


def previous_week(slot: Slot) -> str:
    return week_key(slot.local.date() - timedelta(days=7))


@dataclass(frozen=True)
class SentPeople:
    """The weekly person of the DMs already sent this week and last week (contact ids)."""

    this_week: int | None = None
    last_week: int | None = None
    keep_last: bool = False  # the member asked to keep last week's person


def sent_people(session: Session, member: Member, now: datetime) -> SentPeople:
    """Who this week's and last week's DMs named, in the member's own calendar (one query)."""
    slot = current_slot(schedule_of(member), now)
    weeks = {slot.week: "this", previous_week(slot): "last"}
    found: dict[str, tuple[int | None, bool]] = {
        weeks[week]: (person, bool(keep))
        for week, person, keep in session.execute(
            select(Nudge.week, Nudge.person_contact_id, Nudge.keep_person).where(
                Nudge.member_id == member.id,
                Nudge.week.in_(weeks),
                Nudge.status == NudgeStatus.SENT.value,
            )
        )
    }
    this_week, _ = found.get("this", (None, False))
    last_week, keep = found.get("last", (None, False))
    return SentPeople(this_week, last_week, keep and last_week is not None)


# The columns of ``ContactFacts``, field by field: days come as day numbers, a small int
# being far cheaper for a driver to hand over than a date (SQLite's are text to parse).
_FACT_COLUMNS: dict[str, ColumnElement[Any] | QueryableAttribute[Any]] = {
    "id": Contact.id,
    "member_id": Contact.member_id,
    "key": Contact.key,
    "name": Contact.name,
    "slack_user_id": Contact.slack_user_id,
    "organisation": Contact.organisation,
    "networks": Contact.networks,
    "level": Contact.level,
    "bond": Contact.bond,
    "cadence_days": Contact.cadence_days,
    "last_touch_day": DayNumber(Contact.last_touch_at),
    "snoozed_until_day": DayNumber(Contact.snoozed_until),
    "balance": Contact.balance,
    "added_day": DayNumber(Contact.created_at),
}
_CONTACT_FACTS = select(*(_FACT_COLUMNS[name] for name in ContactFacts._fields))
# A row of ``_CONTACT_FACTS`` made into a ``ContactFacts`` without a Python call per row.
_contact_facts = partial(tuple.__new__, ContactFacts)


def contents(
    session: Session, due_now: Sequence[tuple[MemberRow, Slot]], now: datetime
) -> dict[int, NudgeContent]:
    """Each due member's DM content, read with six queries whatever the batch size."""
    if not due_now:
        return {}
    ids = [m.id for m, _ in due_now]
    # Through the Core connection and straight from the driver, in one fetchall: each row is
    # already a ``ContactFacts`` in all but type, and SQLAlchemy's rows and type processing
    # would cost more than the planning done with them.
    connection = session.connection()
    result = connection.execute(_CONTACT_FACTS.where(Contact.member_id.in_(ids)))
    rows = result.cursor.fetchall()
    result.close()
    facts: dict[int, list[ContactFacts]] = defaultdict(list)
    for contact in map(_contact_facts, rows):
        facts[contact.member_id].append(contact)
    for m, _ in due_now:
        if defaults := m.cadences:
            facts[m.id] = [with_default_cadence(c, defaults) for c in facts[m.id]]
    favours: dict[int, list[Favour]] = defaultdict(list)
    for fav in connection.execute(
        select(
            Interaction.id,
            Interaction.member_id,
            Interaction.contact_id,
            Interaction.what,
            Interaction.occurred_at,
        )
        .where(
            Interaction.member_id.in_(ids),
            Interaction.kind.in_([k.value for k in RECEIVED_KINDS]),
            Interaction.occurred_at >= now - THANKS_WINDOW,
            Interaction.occurred_at <= now,
            Interaction.thanked_at.is_(None),
        )
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
    ).all():
        interaction_id, member_id, contact_id, what, occurred_at = fav
        # A week's favours are few: the contact is found among the member's own.
        contact = next(c for c in facts[member_id] if c.id == contact_id)
        favours[member_id].append(Favour(interaction_id, contact, what, occurred_at))
    previous = {m.id: previous_week(s) for m, s in due_now}
    last_person = {
        member_id: (person_id, bool(keep))
        for member_id, week, person_id, keep in connection.execute(
            select(Nudge.member_id, Nudge.week, Nudge.person_contact_id, Nudge.keep_person).where(
                Nudge.member_id.in_(ids),
                Nudge.week.in_(set(previous.values())),
                Nudge.status == NudgeStatus.SENT.value,
            )
        )
        if previous.get(member_id) == week
    }
    goals = unmet_goals(session, ids, now)
    given = given_to(session, ids)
    met = {
        member_id: read_offers(offers)
        for member_id, offers in connection.execute(
            select(CalendarFeed.member_id, CalendarFeed.offers).where(
                CalendarFeed.member_id.in_(ids), CalendarFeed.offers.is_not(None)
            )
        )
    }
    trouble = {
        member_id: CalendarTrouble(host, since or now, error or "")
        for member_id, host, since, error in connection.execute(
            select(
                CalendarFeed.member_id,
                CalendarFeed.host,
                CalendarFeed.failing_since,
                CalendarFeed.last_error,
            ).where(
                CalendarFeed.member_id.in_(ids),
                CalendarFeed.failing_since <= now - CALENDAR_FAILING_FOR,
                CalendarFeed.failure_reported_at.is_(None),
            )
        )
    }
    return {
        m.id: replace(
            compose(
                facts[m.id],
                favours[m.id],
                now,
                last_person_id=last_person.get(m.id, (None, False))[0],
                keep_last=last_person.get(m.id, (None, False))[1],
                goals=goals.get(m.id, ()),
                given_to=given.get(m.id, set()),
                focus=m.focus,
            ),
            calendar_trouble=trouble.get(m.id),
            met=met.get(m.id, []),
        )
        for m, _ in due_now
    }


def with_default_cadence(contact: ContactFacts, defaults: DefaultCadences) -> ContactFacts:
    """``contact`` with the member's default cadence for its bond when it has none of its own."""
    if contact.cadence_days or contact.bond not in defaults:
        return contact
    return contact._replace(cadence_days=defaults[contact.bond])


def given_to(session: Session, member_ids: Sequence[int]) -> dict[int, set[int]]:
    """Per member, the contacts they have ever done a favour for or introduced (one query)."""
    found: dict[int, set[int]] = defaultdict(set)
    for member_id, contact_id in session.execute(
        select(Interaction.member_id, Interaction.contact_id)
        .where(
            Interaction.member_id.in_(member_ids),
            Interaction.kind.in_([k.value for k in GIVEN_KINDS]),
        )
        .distinct()
    ):
        found[member_id].add(contact_id)
    return found


def due_members(members: Iterable[MemberRow], now: datetime) -> list[tuple[MemberRow, Slot]]:
    return [(m, slot) for m in members if (slot := due(m.schedule, now)) is not None]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off for one planning batch.

    A batch makes tens of thousands of tuples (rows, ``ContactFacts``, touch readings), none of
    them in a cycle, so reference counting frees them all. Yet each one counts towards the
    collector's next pass, and those passes over the whole heap took about a quarter of
    planning's time (``bench/``). The pause is process-wide but short, one batch; garbage
    cycles made meanwhile, by any thread, wait for the next pass. The collector comes back on
    afterwards, unless it was already off.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def planned_batches(
    sessions: sessionmaker[Session], now: datetime, batch_size: int = BATCH_SIZE
) -> Iterator[list[Planned]]:
    """Every nudge due at ``now`` and not yet sent this week, one batch at a time (no writes)."""
    for members in member_batches(sessions, batch_size):
        with sessions() as session, collector_paused():
            candidates = due_members(members, now)
            done = finished(session, candidates)
            todo = [(m, s) for m, s in candidates if (m.id, s.week) not in done]
            content = contents(session, todo, now)
        yield [Planned(m, s, content[m.id]) for m, s in todo]


def preview(
    session: Session, ref: MemberRef, now: datetime
) -> tuple[MemberRow, Slot, NudgeContent]:
    """What ``ref`` would get this week at ``now``, whether or not it is due yet."""
    member = member_row(session, ref)
    if member is None:
        member = MemberRow(0, ref, Schedule(), None, None)
        return member, current_slot(member.schedule, now), NudgeContent(start_here=True)
    slot = current_slot(member.schedule, now)
    return member, slot, contents(session, [(member, slot)], now)[member.id]


def with_questions(content: NudgeContent, questions: Sequence[str]) -> NudgeContent:
    return replace(content, questions=list(questions))
