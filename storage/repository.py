"""Queries over one member's data. A ``MemberData`` can only see the member it was made for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Table,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from storage import contact_refs
from storage.db import dialect_insert
from storage.models import (
    Contact,
    HomeVisit,
    Interaction,
    InteractionKind,
    Member,
)

# +1 when the member helped the contact, -1 when the contact helped the member.
GIVEN_KINDS = (InteractionKind.FAVOUR_GIVEN, InteractionKind.INTRO_MADE)
RECEIVED_KINDS = (InteractionKind.FAVOUR_RECEIVED, InteractionKind.INTRO_RECEIVED)


def find_member(session: Session, enterprise_id: str, team_id: str, user_id: str) -> Member | None:
    return session.scalars(
        select(Member).where(Member.user_is(enterprise_id, team_id, user_id))
    ).one_or_none()


def get_or_create_member(
    session: Session, enterprise_id: str, team_id: str, user_id: str, now: datetime
) -> Member:
    member = find_member(session, enterprise_id, team_id, user_id)
    if member is None:
        member = Member(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            tz="UTC",
            nudges_enabled=True,
            nudge_weekday=0,
            nudge_minute=9 * 60,
            reaction_emoji="pray",
            created_at=now,
        )
        session.add(member)
        session.flush()
    return member


def record_home_visit(
    session: Session, enterprise_id: str, team_id: str, user_id: str, now: datetime
) -> None:
    """Note that this Slack user entered Home at ``now`` (one upsert, safe under concurrency)."""
    keys = {"enterprise_id": enterprise_id, "team_id": team_id, "user_id": user_id}
    statement = dialect_insert(session, HomeVisit).values(**keys, seen_at=now)
    session.execute(
        statement.on_conflict_do_update(index_elements=list(keys), set_={"seen_at": now}),
        execution_options={"synchronize_session": False},
    )


def home_seen_since(
    session: Session, enterprise_id: str, team_id: str, user_id: str, since: datetime
) -> bool:
    """Whether this Slack user entered Home at or after ``since``."""
    seen = session.scalar(
        select(HomeVisit.seen_at).where(HomeVisit.user_is(enterprise_id, team_id, user_id))
    )
    return seen is not None and seen >= since


def weight(kind: str) -> int:
    """What one interaction adds to the balance with its contact: +1 when the member helped
    them, -1 when they helped the member, 0 for catch-ups and thank-yous."""
    return _WEIGHTS.get(kind, 0)


_WEIGHTS = {k.value: 1 for k in GIVEN_KINDS} | {k.value: -1 for k in RECEIVED_KINDS}


def involving(
    member_id: int | BindParameter[int], contact_id: int | BindParameter[int]
) -> ColumnElement[bool]:
    """The member's ledger entries that involve one contact."""
    # An introduction made is stored twice (one row per person introduced), so the row where
    # the contact is the other side is left out; an introduction received is stored once,
    # against the introducer, and also belongs to the person it led to.
    return (Interaction.member_id == member_id) & (
        (Interaction.contact_id == contact_id)
        | (
            (Interaction.related_contact_id == contact_id)
            & (Interaction.kind == InteractionKind.INTRO_RECEIVED.value)
        )
    )


# The two people a ledger line names, read beside it: its contact and, for an introduction,
# the other person.
_LINE_CONTACT = aliased(Contact, name="line_contact")
_LINE_RELATED = aliased(Contact, name="line_related")


@lru_cache(maxsize=16)
def _sections_statement(sections: tuple[tuple[str, tuple[str, ...]], ...]) -> Select[Any]:
    """``MemberData.ledger_sections``' statement for one set of sections, built once: its
    parameters are ``member_id``, ``contact_id`` and ``limit``. ``/ally who`` runs it on every
    call, and building it (a CASE over the kinds, two windows, two joins) cost more Python
    than running it. Plain columns come back, never ORM objects."""
    section_of = {kind: name for name, kinds in sections for kind in kinds}
    section = case(*((Interaction.kind == kind, name) for kind, name in section_of.items()))
    ranked = (
        select(
            Interaction.id,
            section.label("section"),
            func.row_number()
            .over(
                partition_by=section,
                order_by=(Interaction.occurred_at.desc(), Interaction.id.desc()),
            )
            .label("rank"),
            func.count().over(partition_by=section).label("total"),
        )
        .where(
            involving(bindparam("member_id"), bindparam("contact_id")),
            Interaction.kind.in_(list(section_of)),
        )
        .subquery()
    )
    people = (
        _LINE_CONTACT.name,
        _LINE_CONTACT.slack_user_id,
        _LINE_CONTACT.organisation,
        _LINE_RELATED.name,
        _LINE_RELATED.slack_user_id,
        _LINE_RELATED.organisation,
    )
    return (
        _LINE_ROWS.add_columns(ranked.c.section, ranked.c.total, *people)
        .join(ranked, ranked.c.id == Interaction.id)
        .join(_LINE_CONTACT, _LINE_CONTACT.id == Interaction.contact_id)
        .outerjoin(_LINE_RELATED, _LINE_RELATED.id == Interaction.related_contact_id)
        .where(ranked.c.rank <= bindparam("limit"))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
    )


class PersonColumns(NamedTuple):
    """How a contact is named, as plain columns."""

    name: str
    slack_user_id: str | None
    organisation: str | None


class SectionLine(NamedTuple):
    """One ledger line of ``MemberData.ledger_sections``, with the people it names."""

    line: LineRow
    contact: PersonColumns
    related: PersonColumns | None


class ContactRow(NamedTuple):
    """A contact's columns as plain values, for views that only read (no ORM object)."""

    id: int
    member_id: int
    key: str
    name: str
    slack_user_id: str | None
    organisation: str | None
    networks: int = 0
    level: str | None = None
    bond: str | None = None
    cadence_days: int | None = None
    met_through_id: int | None = None
    last_touch_at: datetime | None = None
    snoozed_until: date | None = None
    balance: int = 0
    # When the contact was added: their stay-in-touch clock counts from then until a touch.
    created_at: datetime | None = None


class LineRow(NamedTuple):
    """A ledger entry's columns as plain values; contacts are referred to by id."""

    id: int
    kind: str
    contact_id: int
    what: str
    occurred_at: datetime
    related_contact_id: int | None = None
    message_link: str | None = None
    thanked_at: datetime | None = None
    source: str | None = None  # "calendar": logged from the member's calendar feed


_CONTACT_ROWS = select(*(getattr(Contact, name) for name in ContactRow._fields))
_LINE_ROWS = select(*(getattr(Interaction, name) for name in LineRow._fields))


@dataclass(frozen=True)
class LedgerSections:
    """The newest ledger lines with one contact per section, and each section's total."""

    lines: dict[str, list[SectionLine]]
    totals: dict[str, int]


class MemberKey(NamedTuple):
    """A member's id and the default cadences (days) they chose for alliances and connections."""

    id: int
    alliance_cadence_days: int | None
    connection_cadence_days: int | None


def member_key_of(
    session: Session, enterprise_id: str, team_id: str, user_id: str
) -> MemberKey | None:
    """The member's id and default cadences, read as plain columns; None before their first
    use of Ally."""
    row = session.execute(
        select(Member.id, Member.alliance_cadence_days, Member.connection_cadence_days).where(
            Member.user_is(enterprise_id, team_id, user_id)
        )
    ).one_or_none()
    return MemberKey(*row) if row is not None else None


_MET = aliased(Contact, name="met")
_CONTACT_READ = _CONTACT_ROWS.add_columns(
    Contact.notes, _MET.name, _MET.slack_user_id, _MET.organisation
).outerjoin(_MET, _MET.id == Contact.met_through_id)


class ContactRead(NamedTuple):
    """A contact as plain columns, with its notes and who the member met them through."""

    contact: ContactRow
    notes: str | None
    met_through: PersonColumns | None


class MemberRows:
    """Read-only queries over one member's contacts and ledger that return plain columns, for
    the busiest reads (no ORM object is built); every query filters on the member."""

    def __init__(self, session: Session, member_id: int) -> None:
        self.session = session
        self.member_id = member_id

    def contact_by_key(self, key: str) -> ContactRead | None:
        row = self.session.execute(
            _CONTACT_READ.where(Contact.member_id == self.member_id, Contact.key == key)
        ).one_or_none()
        if row is None:
            return None
        width = len(ContactRow._fields)
        met = PersonColumns(*row[width + 1 :]) if row[width + 1] is not None else None
        return ContactRead(ContactRow(*row[:width]), row[width], met)

    def ledger_sections(
        self, contact_id: int, sections: Mapping[str, Iterable[InteractionKind]], limit: int
    ) -> LedgerSections:
        """Each section's newest ``limit`` ledger entries involving one contact (``involving``),
        newest first, and each section's total, in a single query (window functions; both
        people each line names are read beside it)."""
        key = tuple((name, tuple(kind.value for kind in kinds)) for name, kinds in sections.items())
        rows = self.session.execute(
            _sections_statement(key),
            {"member_id": self.member_id, "contact_id": contact_id, "limit": limit},
        ).all()
        found = LedgerSections({name: [] for name in sections}, dict.fromkeys(sections, 0))
        width = len(LineRow._fields)
        for row in rows:
            name, total = row[width], row[width + 1]
            contact = PersonColumns(*row[width + 2 : width + 5])
            related = PersonColumns(*row[width + 5 :]) if row[width + 5] is not None else None
            found.lines[name].append(SectionLine(LineRow(*row[:width]), contact, related))
            found.totals[name] = int(total)
        return found


_CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
_AT = bindparam("at", type_=_CONTACTS.c.last_touch_at.type)
# ``MemberData._touch``' statement, on the table (no ORM machinery), built once: every ledger
# write runs it.
_TOUCH = (
    update(_CONTACTS)
    .where(_CONTACTS.c.id == bindparam("contact_id"))
    .values(
        last_touch_at=case(
            (
                or_(_CONTACTS.c.last_touch_at.is_(None), _CONTACTS.c.last_touch_at < _AT),
                _AT,
            ),
            else_=_CONTACTS.c.last_touch_at,
        ),
        balance=_CONTACTS.c.balance + bindparam("step"),
    )
    .returning(_CONTACTS.c.last_touch_at, _CONTACTS.c.balance)
)


class MemberData:
    """The repository for one member's contacts and ledger; every query filters on them."""

    def __init__(self, session: Session, member: Member) -> None:
        self.session = session
        self.member = member

    @property
    def member_id(self) -> int:
        return self.member.id

    def contact_by_key(self, key: str) -> Contact | None:
        """The member's contact with ``key``, with who they met them through (joined in)."""
        return self.session.scalars(
            select(Contact)
            .where(Contact.member_id == self.member_id, Contact.key == key)
            .options(joinedload(Contact.met_through))
        ).one_or_none()

    def add_contact(self, contact: Contact) -> Contact:
        contact.member_id = self.member_id
        self.session.add(contact)
        self.session.flush()
        return contact

    def contacts(self) -> Sequence[Contact]:
        return self.session.scalars(
            select(Contact).where(Contact.member_id == self.member_id).order_by(Contact.name)
        ).all()

    def contact_rows(self) -> list[ContactRow]:
        """Every contact as plain rows, by name: what Home reads, without ORM objects."""
        result = self.session.execute(
            _CONTACT_ROWS.where(Contact.member_id == self.member_id).order_by(Contact.name)
        )
        return [ContactRow(*row) for row in result]

    def add_interaction(self, interaction: Interaction) -> Interaction:
        """Record an interaction, restart that contact's stay-in-touch clock and move the
        balance with them.

        The ledger is append-only (rows leave only with their contact or member), so the kept
        balance always equals the ledger's sum. A contact already in the database is updated
        in SQL, in one statement (``_touch``), so two writes at once both count.
        """
        interaction.member_id = self.member_id
        self.session.add(interaction)
        contact = interaction.contact
        step = weight(interaction.kind)
        if contact.id is None:
            if contact.last_touch_at is None or interaction.occurred_at > contact.last_touch_at:
                contact.last_touch_at = interaction.occurred_at
            contact.balance = (contact.balance or 0) + step
        else:
            self._touch(contact, interaction.occurred_at, step)
        self.session.flush()
        return interaction

    def _touch(self, contact: Contact, when: datetime, step: int) -> None:
        """One UPDATE ... RETURNING for a stored contact: the last touch becomes ``when`` if
        that is later, and the balance moves by ``step``, both computed by the database from
        the row as it is, and both come back without reloading the contact."""
        touched, balance = (
            self.session.connection()
            .execute(_TOUCH, {"contact_id": contact.id, "at": when, "step": step})
            .one()
        )
        set_committed_value(contact, "last_touch_at", touched)
        set_committed_value(contact, "balance", balance)

    def interaction_by_id(self, interaction_id: int) -> Interaction | None:
        """One of this member's interactions; ``None`` for anyone else's."""
        return self.session.scalars(
            select(Interaction).where(
                Interaction.member_id == self.member_id, Interaction.id == interaction_id
            )
        ).one_or_none()

    def recent_lines(self, since: datetime, limit: int = 20) -> list[LineRow]:
        """The newest ledger entries since ``since``, newest first, as plain rows."""
        result = self.session.execute(
            _LINE_ROWS.where(
                Interaction.member_id == self.member_id, Interaction.occurred_at >= since
            )
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
            .limit(limit)
        )
        return [LineRow(*row) for row in result]

    # -- corrections: the ledger changes, and what is kept from it is computed again ------------

    def resync(self, contact_ids: Iterable[int]) -> None:
        """Set each contact's kept balance and last touch to exactly what its ledger says (one
        UPDATE with correlated subqueries), after an entry was edited, deleted or moved."""
        ids = sorted(set(contact_ids))
        if not ids:
            return
        weights = case(
            (Interaction.kind.in_([k.value for k in GIVEN_KINDS]), 1),
            (Interaction.kind.in_([k.value for k in RECEIVED_KINDS]), -1),
            else_=0,
        )
        balance = (
            select(func.coalesce(func.sum(weights), 0))
            .where(Interaction.member_id == self.member_id, Interaction.contact_id == Contact.id)
            .scalar_subquery()
        )
        touched = (
            select(func.max(Interaction.occurred_at))
            .where(
                Interaction.member_id == self.member_id,
                (Interaction.contact_id == Contact.id)
                | (
                    (Interaction.related_contact_id == Contact.id)
                    & (Interaction.kind == InteractionKind.INTRO_RECEIVED.value)
                ),
            )
            .scalar_subquery()
        )
        self.session.execute(
            update(Contact)
            .where(Contact.member_id == self.member_id, Contact.id.in_(ids))
            .values(balance=balance, last_touch_at=touched)
            .execution_options(synchronize_session=False)
        )
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, Contact) and obj.id in ids:
                self.session.expire(obj, ["balance", "last_touch_at"])

    def newest_entry(self) -> Interaction | None:
        """The member's most recently logged entry (by when it was logged)."""
        return self.session.scalars(
            select(Interaction)
            .where(Interaction.member_id == self.member_id)
            .order_by(Interaction.created_at.desc(), Interaction.id.desc())
            .limit(1)
        ).one_or_none()

    def intro_twin(self, entry: Interaction) -> Interaction | None:
        """An introduction the member made is stored once per person introduced: the other
        row of the pair (same note, time and logging), or None."""
        if entry.kind != InteractionKind.INTRO_MADE.value or entry.related_contact_id is None:
            return None
        return self.session.scalars(
            select(Interaction)
            .where(
                Interaction.member_id == self.member_id,
                Interaction.kind == InteractionKind.INTRO_MADE.value,
                Interaction.contact_id == entry.related_contact_id,
                Interaction.related_contact_id == entry.contact_id,
                Interaction.occurred_at == entry.occurred_at,
                Interaction.created_at == entry.created_at,
                Interaction.id != entry.id,
            )
            .order_by(Interaction.id)
            .limit(1)
        ).one_or_none()

    def _forget_loaded(self, contact: Contact) -> None:
        """After rows were changed in SQL: ``contact`` (deleted) leaves the session and what
        is loaded is read again when next used."""
        self.session.expunge(contact)
        self.session.expire_all()

    def held_by(self, contact: Contact) -> contact_refs.Counts:
        """How many rows belong to a contact, per table (what deleting it removes)."""
        self.session.flush()
        return contact_refs.held(self.session, self.member_id, contact)

    def delete_contact(self, contact: Contact) -> contact_refs.Counts:
        """Delete a contact and every row that belongs to it (entries, plans, places as a
        project's ally, questions suggested for them); rows that only mention it (an
        introduction naming them, "met through") forget it. Returns how many rows of each
        table were deleted."""
        self.session.flush()
        # An introduction received from them counted as a touch with whom it introduced.
        related = self.session.scalars(
            select(Interaction.related_contact_id).where(
                Interaction.member_id == self.member_id,
                Interaction.contact_id == contact.id,
                Interaction.related_contact_id.is_not(None),
                Interaction.related_contact_id != contact.id,
            )
        ).all()
        removed = contact_refs.remove_all(self.session, self.member_id, contact)
        self.session.execute(
            delete(Contact)
            .where(Contact.member_id == self.member_id, Contact.id == contact.id)
            .execution_options(synchronize_session=False)
        )
        self._forget_loaded(contact)
        self.resync(cid for cid in related if cid is not None)
        return removed

    def merge_into(self, source: Contact, target: Contact) -> contact_refs.Counts:
        """Move every row that names ``source`` to ``target`` (joining rows that would then be
        the same row), then delete ``source``; returns how many rows belonging to ``source``
        moved, per table. The caller resyncs ``target``."""
        self.session.flush()
        moved = contact_refs.move_all(self.session, self.member_id, source, target)
        self.session.execute(
            delete(Contact)
            .where(Contact.member_id == self.member_id, Contact.id == source.id)
            .execution_options(synchronize_session=False)
        )
        self._forget_loaded(source)
        return moved

    def rekey(self, contact: Contact, key: str) -> None:
        """Give a contact a new key (an outside person who turned out to be a Slack user); what
        names them by key (the questions already suggested for them) follows."""
        contact_refs.rekey(self.session, self.member_id, contact.key, key)
        contact.key = key
