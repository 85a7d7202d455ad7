"""Fixing mistakes: edit or delete one ledger entry, undo the last one, delete a contact, merge
two contacts, link an outside contact to their Slack user.

The ledger is the truth. Every correction ends by computing each touched contact's kept balance
and last touch again from the ledger (``MemberData.resync``), so they stay exactly the
ledger's. The functions on a session validate, write and return plain values; the services at
the end each run one of them in its own unit of work and commit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound
from bot.ledger.directory import Wanted, with_people
from bot.ledger.people import MemberRef, Person, SlackPerson
from bot.ledger.service import (
    ContactInfo,
    LedgerLine,
    check_what,
    check_when,
    contact_for,
    open_member,
)
from bot.platform.uow import Units, committed
from storage.contact_refs import Counts
from storage.models import NOTES_MAX, Contact, Interaction, InteractionKind
from storage.repository import MemberData

# Entries whose "what" may be empty (a catch-up, an introduction's note).
WHAT_OPTIONAL = {
    InteractionKind.CATCH_UP.value,
    InteractionKind.INTRO_RECEIVED.value,
    InteractionKind.INTRO_MADE.value,
}


def _entry(data: MemberData, interaction_id: int) -> Interaction:
    found = data.interaction_by_id(interaction_id)
    if found is None:
        raise NotFound("I can't find that entry in your ledger any more.")
    return found


def _touched(entry: Interaction) -> set[int]:
    """The contacts whose balance or last touch an entry counts toward."""
    ids = {entry.contact_id}
    if entry.related_contact_id is not None:
        ids.add(entry.related_contact_id)
    return ids


def entry_line(session: Session, ref: MemberRef, interaction_id: int, now: datetime) -> LedgerLine:
    """One of the member's entries, as a line to show or edit; ``NotFound`` otherwise."""
    return LedgerLine.of(_entry(open_member(session, ref, now), interaction_id))


@dataclass(frozen=True)
class Removed:
    """An entry that was deleted, and where its contact stands now."""

    line: LedgerLine
    contact: ContactInfo
    balance: int
    home_changed: bool = True


def _remove(data: MemberData, entry: Interaction) -> Removed:
    twin = data.intro_twin(entry)
    if twin is not None and twin.id < entry.id:
        entry, twin = twin, entry  # name the introduction as it was logged: first person first
    line = LedgerLine.of(entry)
    contact = entry.contact
    touched = _touched(entry)
    data.session.delete(entry)
    if twin is not None:
        touched |= _touched(twin)
        data.session.delete(twin)
    data.session.flush()
    data.resync(touched)
    return Removed(line, ContactInfo.of(contact), contact.balance)


def delete_entry(session: Session, ref: MemberRef, interaction_id: int, now: datetime) -> Removed:
    """Delete one of the member's entries (both rows of an introduction they made)."""
    data = open_member(session, ref, now)
    return _remove(data, _entry(data, interaction_id))


def undo(session: Session, ref: MemberRef, now: datetime) -> Removed:
    """Delete the member's most recently logged entry; ``NotFound`` when there is none."""
    data = open_member(session, ref, now)
    newest = data.newest_entry()
    if newest is None:
        raise NotFound("There's nothing to undo: your ledger is empty.")
    return _remove(data, newest)


def edit_entry(
    session: Session,
    ref: MemberRef,
    interaction_id: int,
    what: str,
    when: datetime,
    now: datetime,
) -> LedgerLine:
    """Change what an entry says and when it happened (both rows of an introduction made)."""
    data = open_member(session, ref, now)
    entry = _entry(data, interaction_id)
    what = check_what(what, required=entry.kind not in WHAT_OPTIONAL)
    when = check_when(when, now)
    twin = data.intro_twin(entry)
    touched = _touched(entry)
    for row in (entry, twin):
        if row is not None:
            row.what = what
            row.occurred_at = when
            touched |= _touched(row)
    session.flush()
    data.resync(touched)
    return LedgerLine.of(entry)


def contact_with_key(
    data: MemberData, key: str, gone: str = "That person is not in your network any more."
) -> Contact:
    """The member's contact with ``key``; ``NotFound``, saying ``gone``, when there is none."""
    contact = data.contact_by_key(key)
    if contact is None:
        raise NotFound(gone)
    return contact


# The tables whose rows belong to a contact, in the order a reply names them.
COUNT_ORDER = ("interactions", "meeting_plans", "project_allies", "questions_asked")


def counted(counts: Counts) -> tuple[tuple[str, int], ...]:
    """Rows per table, non-zero only, the ledger's entries first, then plans, projects and
    questions, then any other table by name."""
    order = {table: i for i, table in enumerate(COUNT_ORDER)}
    shown = sorted(
        (item for item in counts.items() if item[1]),
        key=lambda item: (order.get(item[0], len(order)), item[0]),
    )
    return tuple(shown)


@dataclass(frozen=True)
class ContactSize:
    """A contact and how many rows of each table belong to them (what deleting them removes):
    ``held`` pairs a table's name with its count, non-zero only (``counted``)."""

    contact: ContactInfo
    held: tuple[tuple[str, int], ...]
    home_changed: bool = False  # True once the contact is deleted

    @property
    def entries(self) -> int:
        return dict(self.held).get("interactions", 0)


def contact_size(session: Session, ref: MemberRef, key: str, now: datetime) -> ContactSize:
    data = open_member(session, ref, now)
    contact = contact_with_key(data, key)
    return ContactSize(ContactInfo.of(contact), counted(data.held_by(contact)))


def delete_contact(session: Session, ref: MemberRef, key: str, now: datetime) -> ContactSize:
    """Delete a contact and everything that belongs to them: entries, plans, their place as a
    project's ally, the questions suggested for them. Introductions that name them as the
    other person stay, without them; whoever was met through them was met on their own."""
    data = open_member(session, ref, now)
    contact = contact_with_key(data, key)
    info = ContactInfo.of(contact)
    return ContactSize(info, counted(data.delete_contact(contact)), home_changed=True)


@dataclass(frozen=True)
class Merged:
    """``source`` was merged into ``into``: ``moved`` pairs each table's name with how many of
    its rows (entries, plans, places as a project's ally...) now belong to ``into``."""

    source: ContactInfo
    into: ContactInfo
    moved: tuple[tuple[str, int], ...]
    balance: int
    home_changed: bool = True

    @property
    def entries(self) -> int:
        return dict(self.moved).get("interactions", 0)


def _merge(data: MemberData, source: Contact, into: Contact) -> Merged:
    if source.id == into.id:
        raise InvalidInput("into", "Those are the same person: name two different contacts.")
    before = ContactInfo.of(source)
    into.networks |= source.networks
    into.level = into.level or source.level
    into.bond = into.bond or source.bond
    into.cadence_days = into.cadence_days or source.cadence_days
    into.organisation = into.organisation or source.organisation
    if source.notes and source.notes != into.notes:
        joined = f"{into.notes}\n{source.notes}" if into.notes else source.notes
        if len(joined) > NOTES_MAX:
            raise InvalidInput(
                "into",
                f"Their notes together are over {NOTES_MAX:,} characters: shorten one of them "
                "(the contact form) and try again, so no note is cut.",
            )
        into.notes = joined
    if into.met_through_id is None and source.met_through_id not in (None, into.id):
        into.met_through_id = source.met_through_id
    if into.snoozed_until is None:
        into.snoozed_until = source.snoozed_until
    moved = data.merge_into(source, into)
    data.resync([into.id])
    data.session.refresh(into)
    return Merged(before, ContactInfo.of(into), counted(moved), into.balance)


def merge_contacts(
    session: Session, ref: MemberRef, source_key: str, into_key: str, now: datetime
) -> Merged:
    """Merge the contact ``source_key`` into ``into_key``: everything that names it (entries,
    introductions, "met through", plans, places as a project's ally, questions) and what
    ``into`` lacks (level, bond, cadence, organisation, notes) move over."""
    data = open_member(session, ref, now)
    return _merge(data, contact_with_key(data, source_key), contact_with_key(data, into_key))


def link_contact(
    session: Session, ref: MemberRef, outside_key: str, user: Person, now: datetime
) -> Merged:
    """An outside contact is this Slack user: their history moves to the Slack user's contact
    (created, or merged into the one the member already has)."""
    if not isinstance(user, SlackPerson):
        raise InvalidInput("user", "Link them to someone in Slack: @mention them.")
    data = open_member(session, ref, now)
    source = contact_with_key(data, outside_key)
    if source.slack_user_id:
        raise InvalidInput(
            "who",
            "They are already a Slack user in your network: only outside contacts are linked.",
        )
    existing = data.contact_by_key(user.key)
    if existing is not None:
        return _merge(data, source, contact_for(data, user, now, field="user")[0])
    before = ContactInfo.of(source)
    data.rekey(source, user.key)
    source.slack_user_id = user.user_id
    source.name = user.name or user.user_id
    session.flush()
    moved = counted(data.held_by(source))
    return Merged(before, ContactInfo.of(source), moved, source.balance)


# -- services: each runs in one unit of work of its own ------------------------------------------


@dataclass(frozen=True)
class Edited:
    line: LedgerLine
    home_changed: bool = True


def undo_last(units: Units, ref: MemberRef, now: datetime) -> Removed:
    return committed(units, lambda session: undo(session, ref, now))


def read_entry(units: Units, ref: MemberRef, interaction_id: int, now: datetime) -> LedgerLine:
    return committed(units, lambda session: entry_line(session, ref, interaction_id, now))


def remove_entry(units: Units, ref: MemberRef, interaction_id: int, now: datetime) -> Removed:
    return committed(units, lambda session: delete_entry(session, ref, interaction_id, now))


def change_entry(
    units: Units, ref: MemberRef, interaction_id: int, what: str, day: date, now: datetime
) -> Edited:
    """``edit_entry`` with the entry moved to ``day``, its time of day kept."""

    def work(session: Session) -> Edited:
        old = entry_line(session, ref, interaction_id, now).occurred_at
        when = old if day == old.date() else datetime.combine(day, old.timetz())
        return Edited(edit_entry(session, ref, interaction_id, what, when, now))

    return committed(units, work)


def size_of(units: Units, ref: MemberRef, key: str, now: datetime) -> ContactSize:
    return committed(units, lambda session: contact_size(session, ref, key, now))


def remove_contact(units: Units, ref: MemberRef, key: str, now: datetime) -> ContactSize:
    return committed(units, lambda session: delete_contact(session, ref, key, now))


def merge(units: Units, ref: MemberRef, source_key: str, into_key: str, now: datetime) -> Merged:
    return committed(units, lambda s: merge_contacts(s, ref, source_key, into_key, now))


def link(
    units: Units, client: WebClient, ref: MemberRef, outside_key: str, user: Wanted, now: datetime
) -> Merged:
    """``/ally link``: the Slack user's name from the directory, and the link, in one unit of
    work when the user is known."""
    return with_people(
        units,
        client,
        ref,
        [user],
        now,
        lambda session, people: link_contact(session, ref, outside_key, people[0], now),
    )
