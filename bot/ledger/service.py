"""The private two-way ledger: favours, introductions and catch-ups, and what they add up to.

Services take a session, the member and ``now``; they validate, write and return plain values
for the handlers to render. They never commit: the caller's transaction does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound
from bot.ledger.directory import Named, Uows, Wanted, with_people
from bot.ledger.network import (
    ALLY_DEFAULTS,
    DefaultCadences,
    Placement,
    Review,
    Touch,
    TouchState,
    cadence_days,
    chosen_cadences,
    default_cadences,
    review,
    touch_state,
)
from bot.ledger.people import (
    MemberRef,
    OutsidePerson,
    Person,
    SlackPerson,
    contact_label,
    label_of,
    person_of,
)
from bot.platform.uow import committed
from bot.slack_text import clean_text
from storage.models import (
    LINK_MAX,
    NAME_MAX,
    NOTES_MAX,
    WHAT_MAX,
    Bond,
    Contact,
    Interaction,
    InteractionKind,
    Level,
    Member,
)
from storage.repository import (
    ContactRow,
    LineRow,
    MemberData,
    MemberRows,
    SectionLine,
    get_or_create_member,
    member_key_of,
)

if TYPE_CHECKING:
    from bot.ledger.listing import Cell

MAX_CADENCE_DAYS = 365 * 2
KEY_MAX = NAME_MAX + 1  # contacts.key: "~" and the case-folded name, which can grow (ß -> ss)


def open_member(session: Session, ref: MemberRef, now: datetime) -> MemberData:
    """The member's repository, creating the member on first use."""
    member = get_or_create_member(session, ref.enterprise_id, ref.team_id, ref.user_id, now)
    return MemberData(session, member)


@dataclass(frozen=True)
class ContactInfo:
    """A contact as read: the one shape every service hands the views for a contact.

    How the member placed them, their stay-in-touch clock, who the member met them through
    (``met_through``: that person's label, and ``met_through_user``: their Slack user id when
    they are one), and the give-and-take ``balance``. ``notes`` and ``met_through`` are None
    where the read left them out (lists do not read notes). ``default_days`` is the member's
    default cadence for the contact's bond (Settings), so ``ideal_days`` and ``touch_at``
    follow the member's choice, not only Ally's.
    """

    id: int
    key: str
    name: str
    slack_user_id: str | None
    organisation: str | None
    networks: int
    level: str | None
    bond: str | None
    cadence_days: int | None
    notes: str | None
    met_through: str | None
    last_touch_at: datetime | None
    snoozed_until: date | None
    met_through_user: str | None = None
    balance: int = 0  # favours and intros given minus received
    default_days: int | None = None  # None: Ally's default for the bond
    added_at: datetime | None = None  # when the contact was added (the clock's start until a touch)

    @property
    def label(self) -> str:
        return contact_label(self)

    @property
    def person(self) -> Person:
        """The contact as a person the ledger services accept."""
        return person_of(self)

    @property
    def default_cadence(self) -> int:
        """The cadence the contact has without one of their own (the form's "Default")."""
        return self.default_days or cadence_days(None, self.bond)

    @property
    def ideal_days(self) -> int:
        """The ideal gap between touches: the contact's own cadence, else the default."""
        return self.cadence_days or self.default_cadence

    def touch_at(self, now: datetime) -> Touch:
        """Where the contact stands on the stay-in-touch clock at ``now``."""
        return touch_state(
            self.last_touch_at,
            self.ideal_days,
            self.bond,
            now,
            self.snoozed_until,
            added=self.added_at,
        )

    @classmethod
    def of(cls, contact: Contact, defaults: DefaultCadences | None = None) -> ContactInfo:
        """A stored contact, with its member's default cadences unless ``defaults`` are given."""
        through = contact.met_through
        return cls.of_row(
            contact,
            default_cadences(contact.member) if defaults is None else defaults,
            notes=contact.notes,
            met_through=contact_label(through) if through else None,
            met_through_user=through.slack_user_id if through else None,
        )

    @classmethod
    def of_row(
        cls,
        row: ContactRow | Contact,
        defaults: DefaultCadences = ALLY_DEFAULTS,
        *,
        notes: str | None = None,
        met_through: str | None = None,
        met_through_user: str | None = None,
    ) -> ContactInfo:
        """A contact read as plain columns, with the member's default cadences ``defaults``."""
        return cls(
            id=row.id,
            key=row.key,
            name=row.name,
            slack_user_id=row.slack_user_id,
            organisation=row.organisation,
            networks=row.networks,
            level=row.level,
            bond=row.bond,
            cadence_days=row.cadence_days,
            notes=notes,
            met_through=met_through,
            last_touch_at=row.last_touch_at,
            snoozed_until=row.snoozed_until,
            met_through_user=met_through_user,
            balance=row.balance,
            default_days=cadence_days(None, row.bond, defaults),
            added_at=row.created_at,
        )


@dataclass(frozen=True)
class Standing:
    """A contact and where they stand on the stay-in-touch clock at one moment: a person in a
    list, on Home, or due in the network review."""

    contact: ContactInfo
    touch: Touch

    @classmethod
    def at(cls, contact: ContactInfo, now: datetime) -> Standing:
        return cls(contact, contact.touch_at(now))


@dataclass(frozen=True)
class LedgerLine:
    id: int
    kind: InteractionKind
    contact: str  # the contact's label
    related: str | None  # for introductions, the other person
    contact_id: int
    related_id: int | None
    what: str
    occurred_at: datetime
    message_link: str | None
    thanked: bool
    # The Slack user ids of the contact and the other person, when they are Slack users.
    contact_user: str | None = None
    related_user: str | None = None
    source: str | None = None  # "calendar": logged from the member's calendar feed

    @classmethod
    def of(cls, interaction: Interaction) -> LedgerLine:
        """A stored entry, its people named through its relationships."""
        # Only the labels: building a whole ContactInfo would load "met through" per line.
        labels = {interaction.contact_id: contact_label(interaction.contact)}
        users = {interaction.contact_id: interaction.contact.slack_user_id}
        related = interaction.related_contact
        if related is not None:
            labels[related.id] = contact_label(related)
            users[related.id] = related.slack_user_id
        return cls.of_row(interaction, labels, users)

    @classmethod
    def of_row(
        cls,
        line: LineRow | Interaction,
        labels: Mapping[int, str],
        users: Mapping[int, str | None] | None = None,
    ) -> LedgerLine:
        """An entry read as plain columns, its people named from ``labels`` (label by id) and
        ``users`` (Slack user id by contact id)."""
        related = line.related_contact_id
        users = users or {}
        return cls(
            id=line.id,
            kind=InteractionKind(line.kind),
            contact=labels[line.contact_id],
            related=labels.get(related) if related is not None else None,
            contact_id=line.contact_id,
            related_id=related,
            what=line.what,
            occurred_at=line.occurred_at,
            message_link=line.message_link,
            thanked=line.thanked_at is not None,
            contact_user=users.get(line.contact_id),
            related_user=users.get(related) if related is not None else None,
            source=line.source,
        )


@dataclass(frozen=True)
class Recorded:
    """What a write did, for the confirmation message."""

    contact: ContactInfo
    lines: list[LedgerLine]
    new_contact: bool
    balance: int
    # The other person in an introduction: who introduced the member, or the second person.
    other: ContactInfo | None = None
    # Every write changes what the member's Home shows (a contact, the ledger, or both).
    home_changed: bool = True


def check_what(what: str, *, field: str = "what", required: bool = True) -> str:
    """A description of what happened: one line, present when ``required``, not too long."""
    what = clean_text(what)
    if required and not what:
        raise InvalidInput(field, "Say what happened, e.g. “for the custom report”.")
    if len(what) > WHAT_MAX:
        raise InvalidInput(
            field, f"That's {len(what)} characters; keep it under {WHAT_MAX} (a sentence or two)."
        )
    return what


def check_when(when: datetime, now: datetime, *, field: str = "when") -> datetime:
    """Refuse a day after today; "today" is the calendar day in ``when``'s own time zone, so a
    date a member picked in their local zone is checked against their local date."""
    today = now.astimezone(when.tzinfo).date() if when.tzinfo else now.date()
    if when.date() > today:
        raise InvalidInput(field, "That date is in the future: pick today or an earlier day.")
    return when


def check_link(link: str | None) -> str | None:
    if link is not None and len(link) > LINK_MAX:
        raise InvalidInput("link", "That message link is too long to keep.")
    return link


def _check_not_self(ref: MemberRef | Member, person: Person, field: str) -> None:
    """The one check that a member does not name themselves."""
    if isinstance(person, SlackPerson) and person.user_id == ref.user_id:
        raise InvalidInput(field, "That's you! Name someone else.")


def contact_for(
    data: MemberData, person: Person, now: datetime, *, field: str = "who"
) -> tuple[Contact, bool]:
    """The member's contact for ``person``, created on first mention; refreshes a Slack name."""
    _check_not_self(data.member, person, field)
    if len(person.key) > KEY_MAX:
        raise InvalidInput(field, f"That name is too long: keep it under {NAME_MAX} characters.")
    contact = data.contact_by_key(person.key)
    if contact is not None:
        if isinstance(person, SlackPerson) and person.name and contact.name != person.name:
            contact.name = person.name
        return contact, False
    contact = Contact(
        key=person.key,
        slack_user_id=person.user_id if isinstance(person, SlackPerson) else None,
        name=person.name or (person.user_id if isinstance(person, SlackPerson) else ""),
        organisation=person.organisation if isinstance(person, OutsidePerson) else None,
        networks=0,
        created_at=now,
    )
    return data.add_contact(contact), True


def _record(
    data: MemberData,
    contact: Contact,
    kind: InteractionKind,
    what: str,
    when: datetime,
    now: datetime,
    link: str | None = None,
    related: Contact | None = None,
) -> Interaction:
    return data.add_interaction(
        Interaction(
            contact=contact,
            kind=kind.value,
            what=what,
            occurred_at=when,
            message_link=link,
            related_contact=related,
            created_at=now,
        )
    )


@dataclass(frozen=True)
class Entry:
    """One ledger entry as a request states it, before anyone is looked up: its kind, what
    happened (optional for introductions and catch-ups), the day (``now`` when not given), the
    Slack message it came from, and networks (bits) the person logged with joins."""

    kind: InteractionKind
    what: str = ""
    when: datetime | None = None
    link: str | None = None
    networks: int = 0


_FAVOURS = (InteractionKind.FAVOUR_RECEIVED, InteractionKind.FAVOUR_GIVEN)
# The introductions, which name two people, and what to say when both are the same one.
_SAME_PERSON = {
    InteractionKind.INTRO_RECEIVED: "Pick two different people: who introduced you, and to whom.",
    InteractionKind.INTRO_MADE: "Pick two different people to introduce to each other.",
}


def _same_person(first: Person | Wanted, second: Person | Wanted) -> bool:
    def key(one: Person | Wanted) -> str:
        return one.user_id if isinstance(one, Named) else one.key

    return key(first) == key(second)


def _checked(entry: Entry, people: Sequence[Person | Wanted], now: datetime) -> Entry:
    """``entry`` with its text, day and link checked (before anyone is looked up)."""
    if entry.kind in _SAME_PERSON and _same_person(people[0], people[1]):
        raise InvalidInput("introduced", _SAME_PERSON[entry.kind])
    return replace(
        entry,
        what=check_what(entry.what, required=entry.kind in _FAVOURS),
        when=check_when(entry.when or now, now),
        link=check_link(entry.link),
    )


def _write(
    session: Session, ref: MemberRef, entry: Entry, people: Sequence[Person], now: datetime
) -> Recorded:
    """Write a checked ``entry`` with ``people`` (one, or two for an introduction)."""
    what, when, link = entry.what, entry.when or now, entry.link
    data = open_member(session, ref, now)
    if entry.kind not in _SAME_PERSON:
        contact, new = contact_for(data, people[0], now)
        if entry.networks:
            contact.networks |= entry.networks
        line = _record(data, contact, entry.kind, what, when, now, link)
        return Recorded(ContactInfo.of(contact), [LedgerLine.of(line)], new, contact.balance)
    first, _ = contact_for(data, people[0], now, field="who")
    second, new = contact_for(data, people[1], now, field="introduced")
    if entry.kind == InteractionKind.INTRO_MADE:
        lines = [
            _record(data, first, entry.kind, what, when, now, link, related=second),
            _record(data, second, entry.kind, what, when, now, link, related=first),
        ]
        return Recorded(
            ContactInfo.of(first),
            [LedgerLine.of(x) for x in lines],
            new,
            first.balance,
            ContactInfo.of(second),
        )
    # An introduction received: the person introduced joins as "met through" the introducer.
    if second.met_through_id is None:
        second.met_through = first
    if entry.networks:
        second.networks |= entry.networks
    line = _record(data, first, entry.kind, what, when, now, link, related=second)
    # Meeting someone through an introduction is a touch with them too.
    if second.last_touch_at is None or when > second.last_touch_at:
        second.last_touch_at = when
    return Recorded(
        ContactInfo.of(second), [LedgerLine.of(line)], new, first.balance, ContactInfo.of(first)
    )


def record_entry(
    session: Session, ref: MemberRef, entry: Entry, people: Sequence[Person], now: datetime
) -> Recorded:
    """Record ``entry`` with ``people``: a favour received or given, a catch-up or a thank-you
    with one person; an introduction with two (who introduced the member, and to whom; or the
    two the member introduced to each other, a favour given to each)."""
    return _write(session, ref, _checked(entry, people, now), people, now)


def log_entry(
    uows: Uows,
    client: WebClient,
    ref: MemberRef,
    entry: Entry,
    wanted: Sequence[Wanted],
    now: datetime,
) -> Recorded:
    """``record_entry`` with whoever the request names, in one unit of work of its own."""
    checked = _checked(entry, wanted, now)
    return with_people(
        uows,
        client,
        ref,
        wanted,
        now,
        lambda session, people: _write(session, ref, checked, people, now),
    )


def record_favour(
    session: Session,
    ref: MemberRef,
    person: Person,
    kind: InteractionKind,
    what: str,
    now: datetime,
    *,
    when: datetime | None = None,
    link: str | None = None,
    networks: int = 0,
) -> Recorded:
    """Record a favour received or given, a catch-up or a thank-you with ``person``."""
    return record_entry(session, ref, Entry(kind, what, when, link, networks), [person], now)


@dataclass(frozen=True)
class ContactUpdate:
    """Fields to change on a contact; ``None`` leaves a field as it is."""

    networks: int | None = None
    level: Level | None = None
    bond: Bond | None = None
    cadence_days: int | None = None
    notes: str | None = None
    met_through: Person | None = None
    clear_met_through: bool = False
    # Set a field back to nothing (the contact form's "Not set" and "Default").
    clear_level: bool = False
    clear_bond: bool = False
    clear_cadence: bool = False


def check_cadence(days: int, *, field: str = "cadence") -> int:
    if not 1 <= days <= MAX_CADENCE_DAYS:
        raise InvalidInput(field, f"Pick a cadence from 1 day to {MAX_CADENCE_DAYS // 7} weeks.")
    return days


def update_contact(
    session: Session, ref: MemberRef, person: Person, update: ContactUpdate, now: datetime
) -> Recorded:
    """Add ``person`` to the network or change how they are placed."""
    data = open_member(session, ref, now)
    contact, new = contact_for(data, person, now)
    if update.networks is not None:
        contact.networks = update.networks
    if update.clear_level:
        contact.level = None
    if update.clear_bond:
        contact.bond = None
    if update.clear_cadence:
        contact.cadence_days = None
    if update.level is not None:
        contact.level = update.level.value
    if update.bond is not None:
        contact.bond = update.bond.value
    if update.cadence_days is not None:
        contact.cadence_days = check_cadence(update.cadence_days)
    if update.notes is not None:
        notes = update.notes.strip()
        if len(notes) > NOTES_MAX:
            raise InvalidInput("notes", f"Keep notes under {NOTES_MAX} characters.")
        contact.notes = notes or None
    if update.clear_met_through:
        contact.met_through = None
    elif update.met_through is not None:
        through, _ = contact_for(data, update.met_through, now, field="met_through")
        if through.id == contact.id:
            raise InvalidInput("met_through", "Someone can't be met through themselves.")
        contact.met_through = through
    session.flush()
    return Recorded(ContactInfo.of(contact), [], new, contact.balance)


def place(
    uows: Uows,
    client: WebClient,
    ref: MemberRef,
    who: Wanted | str,
    update: ContactUpdate,
    now: datetime,
    *,
    met_through: Wanted | None = None,
) -> Recorded:
    """``update_contact`` in one unit of work of its own: for whoever ``who`` names, or for
    the member's contact with the key ``who`` (``NotFound`` if none); ``met_through`` names
    who they met them through."""
    wanted = [one for one in (who, met_through) if one is not None and not isinstance(one, str)]

    def work(session: Session, people: list[Person]) -> Recorded:
        found = iter(people)
        person = (
            contact_card(session, ref, who, now).person if isinstance(who, str) else next(found)
        )
        changes = replace(update, met_through=next(found)) if met_through is not None else update
        return update_contact(session, ref, person, changes, now)

    return with_people(uows, client, ref, wanted, now, work)


SECTIONS: dict[str, tuple[InteractionKind, ...]] = {
    "received": (InteractionKind.FAVOUR_RECEIVED,),
    "given": (InteractionKind.FAVOUR_GIVEN,),
    "intros": (InteractionKind.INTRO_RECEIVED, InteractionKind.INTRO_MADE),
    "catch_ups": (InteractionKind.CATCH_UP, InteractionKind.THANKS),
}


def contact_card(session: Session, ref: MemberRef, key: str, now: datetime) -> ContactInfo:
    """The member's contact with ``key`` (``U123`` or ``~dana lee``); ``NotFound`` if none."""
    data = open_member(session, ref, now)
    contact = data.contact_by_key(key)
    if contact is None:
        raise NotFound("That person is not in your network any more.")
    return ContactInfo.of(contact, default_cadences(data.member))


def card_of(uows: Uows, ref: MemberRef, key: str, now: datetime) -> ContactInfo:
    """``contact_card`` in one unit of work of its own."""
    return committed(uows, lambda session: contact_card(session, ref, key, now))


@dataclass(frozen=True)
class History:
    """``/ally who``: everything the member has logged with one person.

    Each list holds the newest entries of its kind (at most the ``limit`` given to
    ``history``); ``totals`` has each section's total, so a view can say how many are not
    shown.
    """

    contact: ContactInfo
    received: list[LedgerLine] = field(default_factory=list)
    given: list[LedgerLine] = field(default_factory=list)
    intros: list[LedgerLine] = field(default_factory=list)
    catch_ups: list[LedgerLine] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    balance: int = 0
    touch: Touch = field(default_factory=lambda: Touch(TouchState.NEW, None, None))

    def total(self, section: str) -> int:
        """How many entries ``section`` ("received", "given", "intros", "catch_ups") has."""
        return self.totals.get(section, 0)


def history(
    session: Session, ref: MemberRef, person: Person, now: datetime, limit: int = 10
) -> History:
    """The member's history with ``person``: favours both ways, intros, last touch, balance.

    Read as plain columns (no ORM objects): ``/ally who`` is one of the busiest requests.
    """
    key = member_key_of(session, ref.enterprise_id, ref.team_id, ref.user_id)
    if key is None:
        member_id, defaults = open_member(session, ref, now).member_id, ALLY_DEFAULTS
    else:
        member_id, defaults = key.id, chosen_cadences(*key[1:])
    rows = MemberRows(session, member_id)
    found = rows.contact_by_key(person.key)
    if found is None:
        raise NotFound(
            f"You haven't logged anything with {person.label} yet. "
            f"Try `/ally thanks` or `/ally add` first."
        )
    contact = found.contact
    met = found.met_through
    info = ContactInfo.of_row(
        contact,
        defaults,
        notes=found.notes,
        met_through=label_of(*met) if met else None,
        met_through_user=met.slack_user_id if met else None,
    )
    # One query for every section's newest entries and totals (not one per section).
    sections = rows.ledger_sections(contact.id, SECTIONS, limit)
    return History(
        contact=info,
        totals=sections.totals,
        balance=contact.balance,
        touch=info.touch_at(now),
        **{name: [_line(one) for one in lines] for name, lines in sections.lines.items()},
    )


def _line(one: SectionLine) -> LedgerLine:
    """A ledger line read as plain columns, its people named."""
    line = one.line
    labels = {line.contact_id: label_of(*one.contact)}
    users = {line.contact_id: one.contact.slack_user_id}
    if one.related is not None and line.related_contact_id is not None:
        labels[line.related_contact_id] = label_of(*one.related)
        users[line.related_contact_id] = one.related.slack_user_id
    return LedgerLine.of_row(line, labels, users)


def history_with(
    uows: Uows, client: WebClient, ref: MemberRef, who: Wanted, now: datetime, limit: int = 10
) -> History:
    """``history`` with whoever ``who`` names (a bot or a deactivated account too), in one
    unit of work of its own."""
    if isinstance(who, Named):
        _check_not_self(ref, SlackPerson(who.user_id), who.field)
        who = Named(who.user_id, who.field, active=False)
    return with_people(
        uows,
        client,
        ref,
        [who],
        now,
        lambda session, people: history(session, ref, people[0], now, limit),
    )


def touch_of(contact: Contact, now: datetime, defaults: DefaultCadences = ALLY_DEFAULTS) -> Touch:
    """Where ``contact`` stands on the stay-in-touch clock at ``now`` (with the member's
    default cadences, ``defaults``, for a contact without its own)."""
    return touch_state(
        contact.last_touch_at,
        contact.cadence_days,
        contact.bond,
        now,
        contact.snoozed_until,
        defaults,
        contact.created_at,
    )


@dataclass(frozen=True)
class NetworkOverview:
    """``/ally network``: the 2-2-2 review plus who is due or overdue."""

    review: Review
    contacts: int
    overdue: list[Standing]
    due: list[Standing]


def overview(session: Session, ref: MemberRef, now: datetime) -> NetworkOverview:
    data = open_member(session, ref, now)
    contacts = data.contacts()
    placements = [Placement(c.networks, c.level, c.bond) for c in contacts]
    overdue: list[Standing] = []
    due: list[Standing] = []
    defaults = default_cadences(data.member)
    for contact in contacts:
        touch = touch_of(contact, now, defaults)
        if touch.state == TouchState.OVERDUE:
            overdue.append(Standing(ContactInfo.of(contact, defaults), touch))
        elif touch.state == TouchState.DUE:
            due.append(Standing(ContactInfo.of(contact, defaults), touch))
    overdue.sort(key=lambda d: -(d.touch.days_since or 0))
    due.sort(key=lambda d: -(d.touch.days_since or 0))
    return NetworkOverview(review(placements), len(contacts), overdue, due)


@dataclass(frozen=True)
class NetworkReview:
    """``/ally network``: the overview and the grid of the member's network."""

    overview: NetworkOverview
    cells: list[Cell]


def network_overview(uows: Uows, ref: MemberRef, now: datetime) -> NetworkReview:
    """The network review, read in one unit of work of its own."""
    # bot.ledger.listing names contacts with this module's labels, so it is imported here.
    from bot.ledger.listing import network_cells

    def work(session: Session) -> NetworkReview:
        return NetworkReview(overview(session, ref, now), network_cells(session, ref, now))

    return committed(uows, work)


# -- saying thanks ------------------------------------------------------------------------------

THANKABLE = (InteractionKind.FAVOUR_RECEIVED, InteractionKind.INTRO_RECEIVED)
THANKS_WORDS_MAX = WHAT_MAX


@dataclass(frozen=True)
class ThanksTarget:
    """A favour the member received, and the Slack user to thank for it."""

    line: LedgerLine
    contact: ContactInfo
    slack_user_id: str
    thanked_at: datetime | None
    # True once the thank-you is logged: the member's ledger (and so Home) changed.
    home_changed: bool = False
    # When a thank-you DM that Slack may have posted without saying so was started (a 5xx or a
    # timeout answered it): the ally's DM is read before anything is posted again.
    post_started_at: datetime | None = None


def _thankable(data: MemberData, interaction_id: int) -> tuple[Interaction, ThanksTarget]:
    interaction = data.interaction_by_id(interaction_id)
    if interaction is None or interaction.kind not in {k.value for k in THANKABLE}:
        raise NotFound("I can't find that favour in your ledger any more.")
    contact = ContactInfo.of(interaction.contact)
    if contact.slack_user_id is None:
        raise InvalidInput(
            "message",
            f"{contact.label} isn't in this Slack workspace, so I can't message them: "
            "thank them your usual way, then log it with `/ally met`.",
        )
    target = ThanksTarget(
        LedgerLine.of(interaction),
        contact,
        contact.slack_user_id,
        interaction.thanked_at,
        post_started_at=interaction.thanks_post_started_at,
    )
    return interaction, target


def thanks_target(
    session: Session, ref: MemberRef, interaction_id: int, now: datetime
) -> ThanksTarget:
    """The favour ``interaction_id`` if it is the member's own and its ally can be messaged."""
    return _thankable(open_member(session, ref, now), interaction_id)[1]


def check_thanks(words: str, *, field: str = "message") -> str:
    """The member's thank-you message: present, and short enough to send and keep."""
    words = "".join(c for c in words if c.isprintable() or c in "\n\t").strip()
    if not words:
        raise InvalidInput(field, "Write a few words of thanks (or press Cancel).")
    if len(words) > THANKS_WORDS_MAX:
        raise InvalidInput(
            field, f"That's {len(words)} characters; keep it under {THANKS_WORDS_MAX} for a DM."
        )
    return words


def record_thanks(
    session: Session, ref: MemberRef, interaction_id: int, words: str, now: datetime
) -> ThanksTarget:
    """Mark the favour thanked (the first time) and log the thank-you as a THANKS interaction."""
    words = check_thanks(words)
    data = open_member(session, ref, now)
    interaction, target = _thankable(data, interaction_id)
    if interaction.thanked_at is None:
        interaction.thanked_at = now
    interaction.thanks_post_started_at = None
    _record(data, interaction.contact, InteractionKind.THANKS, clean_text(words), now, now)
    return ThanksTarget(
        target.line, target.contact, target.slack_user_id, interaction.thanked_at, True
    )


def thanks_target_in(
    uows: Uows, ref: MemberRef, interaction_id: int, now: datetime
) -> ThanksTarget:
    """``thanks_target`` in one unit of work of its own."""
    return committed(uows, lambda session: thanks_target(session, ref, interaction_id, now))


def say_thanks(
    uows: Uows, ref: MemberRef, interaction_id: int, words: str, now: datetime
) -> ThanksTarget:
    """``record_thanks`` in one unit of work of its own (after the DM went out)."""
    return committed(uows, lambda session: record_thanks(session, ref, interaction_id, words, now))


def _as_seen(column: Any, value: datetime | None) -> Any:
    return column.is_(None) if value is None else column == value


def mark_thanks_post(
    uows: Uows,
    ref: MemberRef,
    interaction_id: int,
    started: datetime | None,
    now: datetime,
    *,
    seen: ThanksTarget | None = None,
) -> bool:
    """Note that a thank-you DM for the favour is being posted (``started``), before the post;
    or, with None, that Slack clearly did not post it. Its own unit of work.

    A start is noted only while the favour is as ``seen`` (its mark and when it was thanked,
    read before looking at Slack): False when another Send (a double submit) has marked or
    thanked it since, and that one posts."""

    def mark(session: Session) -> bool:
        interaction, _target = _thankable(open_member(session, ref, now), interaction_id)
        if started is None:
            interaction.thanks_post_started_at = None
            return True
        mark_was = seen.post_started_at if seen is not None else None
        thanked_was = seen.thanked_at if seen is not None else None
        result = session.execute(
            update(Interaction)
            .where(
                Interaction.id == interaction.id,
                _as_seen(Interaction.thanks_post_started_at, mark_was),
                _as_seen(Interaction.thanked_at, thanked_was),
            )
            .values(thanks_post_started_at=started)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    return committed(uows, mark)
