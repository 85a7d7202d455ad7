"""Merging and linking contacts lose nothing, for every table that names a contact, on SQLite
and PostgreSQL.

The tables are not named here: every column that names a contact (a foreign key to
``contacts.id``, or a column marked as holding a contact's key) is found in the models'
metadata, and rows are made for those tables, their parents and their children from their
columns' types. A new table that names a contact is filled and checked without changing this
file. After a merge or a link, each row that named the contact that went names the contact
kept, with everything else as it was, or was joined into an equivalent row (the same on a
unique constraint) that kept its content; the other member's rows do not change; and the
counts the reply gives are the rows that moved.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.ledger import corrections
from bot.ledger.people import MemberRef, SlackPerson
from bot.ledger.service import open_member
from storage.contact_refs import (
    CONTACT_KEY,
    Reference,
    UnhandledReference,
    contact_references,
    discover,
)
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Base, Contact, Member

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
_MEMBERS = itertools.count(1)
REFS = contact_references()
CONTACTS = Base.metadata.tables["contacts"]
MEMBERS = Base.metadata.tables["members"]


def _filled() -> list[Table]:
    """The tables to fill: those naming a contact, their children, and the parents either
    needs (members excepted: each example has its own), in dependency order."""
    wanted = {ref.table for ref in REFS}
    grown = True
    while grown:
        before = len(wanted)
        for table in Base.metadata.sorted_tables:
            parents = {fk.column.table for fk in table.foreign_keys}
            if parents & wanted:
                wanted.add(table)  # a child of a table naming a contact
        for table in list(wanted):
            wanted |= {fk.column.table for fk in table.foreign_keys}  # the parents it needs
        grown = len(wanted) > before
    wanted.discard(MEMBERS)
    return [t for t in Base.metadata.sorted_tables if t in wanted]


FILLED = _filled()
TEXTS = ["a", "b"]
NOTES = ["a note", "another note"]
INSTANTS = [NOW, datetime(2026, 11, 2, 8, 30, tzinfo=UTC)]
DAYS = [date(2026, 11, 19), date(2026, 11, 26)]


def _pk(table: Table) -> Column[Any]:
    [pk] = table.primary_key.columns
    return pk


def _owned_key(column: Column[Any]) -> bool:
    return column.info.get("refers_to") == CONTACT_KEY


def _value(
    data: st.DataObject, column: Column[Any], member_id: int, rows: dict[str, list[Any]]
) -> tuple[bool, Any]:
    """A value for one column, drawn from a small set so that rows often collide; (False, _)
    when the row can't be made (a parent it needs has no row)."""
    options: list[Any]
    fks = list(column.foreign_keys)
    if fks:
        parent = fks[0].column.table
        assert isinstance(parent, Table)
        options = [member_id] if parent is MEMBERS else list(rows[parent.name])
    elif _owned_key(column):
        options = [*rows["contact keys"], ""]
    else:
        stored = column.type
        if isinstance(stored, TypeDecorator):
            stored = stored.impl_instance
        kind = stored.python_type
        if kind is bool:
            options = [False, True]
        elif kind is int:
            options = [0, 1, 2]
        elif kind is datetime:
            options = INSTANTS
        elif kind is date:
            options = DAYS
        elif kind is str:
            options = NOTES if isinstance(column.type, Text) else TEXTS
        else:
            raise AssertionError(f"no values for {column} ({kind})")
    if column.nullable:
        options = [*options, None]
    if not options:
        return False, None
    return True, data.draw(st.sampled_from(options), label=str(column))


def _insert(session: Session, table: Table, values: dict[str, Any]) -> Any | None:
    """Insert one row inside a savepoint; None when a constraint refuses it."""
    try:
        with session.begin_nested():
            return session.execute(table.insert().values(values).returning(_pk(table))).scalar()
    except IntegrityError:
        return None


def fill(
    session: Session,
    data: st.DataObject,
    member_id: int,
    contacts: list[Contact],
    pair: tuple[Contact, Contact] | None = None,
) -> None:
    """Rows for every table in ``FILLED`` for one member; a row a constraint refuses is left
    out. With ``pair`` (the contact that goes, the one kept), a row naming the first may get
    a twin naming the second, the same but for its notes and optional values, so that merging
    them collides on any unique constraint."""
    rows: dict[str, list[Any]] = {t.name: [] for t in FILLED}
    rows["contacts"] = [c.id for c in contacts]
    rows["contact keys"] = [c.key for c in contacts]
    for table in FILLED:
        pk = _pk(table)
        for _ in range(data.draw(st.integers(0, 4), label=f"{table.name} rows")):
            values: dict[str, Any] = {}
            made = True
            for column in table.columns:
                if column is pk:
                    continue
                made, values[column.key] = _value(data, column, member_id, rows)
                if not made:
                    break
            if not made:
                continue
            made_ids = [_insert(session, table, values)]
            for ref in _refs_of(table) if pair else []:
                assert pair is not None
                gone, kept = (c.key if ref.by_key else c.id for c in pair)
                if values[ref.column.key] != gone or not data.draw(st.booleans(), label="twin"):
                    continue
                twin = {**values, ref.column.key: kept}
                for column in table.columns:
                    if column is not pk and not column.foreign_keys and column.nullable:
                        twin[column.key] = _value(data, column, member_id, rows)[1]
                made_ids.append(_insert(session, table, twin))
            for new_id in made_ids:
                if new_id is not None:
                    rows[table.name].append(new_id)
            if table is CONTACTS and made_ids[0] is not None:
                rows["contact keys"].append(values["key"])


Snapshot = dict[str, dict[Any, dict[str, Any]]]


def snapshot(session: Session, member_id: int) -> Snapshot:
    """Every filled table's rows of one member, by primary key."""
    taken: Snapshot = {}
    for table in FILLED:
        query = select(table)
        if "member_id" in table.c:
            query = query.where(table.c.member_id == member_id)
        taken[table.name] = {
            row[_pk(table).key]: dict(row) for row in session.execute(query).mappings()
        }
    return taken


def _refs_of(table: Table) -> list[Reference]:
    return [ref for ref in REFS if ref.table is table]


def check_nothing_lost(
    before: Snapshot, after: Snapshot, source: tuple[int, str], kept: tuple[int, str]
) -> dict[str, int]:
    """Each row that named ``source`` names ``kept`` or was joined into an equivalent row;
    every other row is as it was. Returns how many rows belonging to ``source`` there were,
    per table (what a reply should say moved)."""
    moved: dict[str, int] = {}
    old = {False: source[0], True: source[1]}
    new = {False: kept[0], True: kept[1]}
    for table in FILLED:
        refs = _refs_of(table)
        pk = _pk(table).key
        for key, row in before[table.name].items():
            expected = dict(row)
            for ref in refs:
                if row[ref.column.key] == old[ref.by_key]:
                    event(f"moved {ref}")
                    if ref.owned:
                        moved[table.name] = moved.get(table.name, 0) + 1
                    points_at_itself = ref.column.table is CONTACTS and key == kept[0]
                    expected[ref.column.key] = None if points_at_itself else new[ref.by_key]
            if table is CONTACTS and key in (source[0], kept[0]):
                continue  # the contacts merged: their own columns are the merge's
            now = after[table.name].get(key)
            if now is not None:
                for column, value in expected.items():
                    if now[column] != value:
                        # Kept rows may take in what a joined row had.
                        assert value is None or (
                            isinstance(table.c[column].type, Text) and value in now[column]
                        ), (table.name, column, row, now)
                continue
            # Gone: joined into a row that says the same on a unique constraint.
            twins = [
                other
                for other in after[table.name].values()
                if any(
                    all(
                        expected[c.key] is not None and other[c.key] == expected[c.key]
                        for c in columns
                    )
                    for columns in _unique_sets(table)
                )
            ]
            assert len(twins) == 1, (table.name, row, "was lost")
            event(f"joined a row of {table.name}")
            [twin] = twins
            for column, value in expected.items():
                if column == pk or value is None:
                    continue
                assert twin[column] is not None, (table.name, column, row, twin)
                if isinstance(table.c[column].type, Text):
                    assert value in twin[column], (table.name, column, row, twin)
    # Nothing names the contact that went.
    for table in FILLED:
        for ref in _refs_of(table):
            if old[ref.by_key] == new[ref.by_key]:
                continue
            named = [r for r in after[table.name].values() if r[ref.column.key] == old[ref.by_key]]
            assert named == [], (str(ref), named)
    return moved


def _unique_sets(table: Table) -> list[list[Column[Any]]]:
    sets = [list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    return sets + [list(ix.columns) for ix in table.indexes if ix.unique]


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def _contact(session: Session, member: Member, key: str, slack_user_id: str | None) -> Contact:
    contact = Contact(
        member_id=member.id,
        key=key,
        slack_user_id=slack_user_id,
        name=key.strip("~").title(),
        created_at=NOW,
    )
    session.add(contact)
    session.flush()
    return contact


def _member(session: Session) -> tuple[MemberRef, Member]:
    ref = MemberRef("T1", f"U{7000 + next(_MEMBERS)}")
    return ref, open_member(session, ref, NOW).member


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(how=st.sampled_from(["merge", "link to a contact", "link to someone new"]), data=st.data())
def test_merge_and_link_lose_no_row_that_names_the_contact(
    sessions: sessionmaker[Session], how: str, data: st.DataObject
) -> None:
    with transaction(sessions) as session:
        ref, member = _member(session)
        _, other = _member(session)
        source = _contact(session, member, "~d. lee", None)
        into_key = "~dana lee" if how == "merge" else "U9"
        people = [source, _contact(session, member, "~sam", None)]
        if how != "link to someone new":
            people.append(_contact(session, member, into_key, None if how == "merge" else "U9"))
        pair = (source, people[-1]) if how != "link to someone new" else None
        fill(session, data, member.id, people, pair)
        # Another member's contacts with the same keys: nothing of theirs changes.
        theirs = [_contact(session, other, c.key, c.slack_user_id) for c in people]
        fill(session, data, other.id, theirs)
        member_id, other_id, source_id = member.id, other.id, source.id
    with sessions() as session:
        before, before_other = snapshot(session, member_id), snapshot(session, other_id)

    with transaction(sessions) as session:
        if how == "merge":
            done = corrections.merge_contacts(session, ref, "~d. lee", into_key, NOW)
        else:
            done = corrections.link_contact(
                session, ref, "~d. lee", SlackPerson("U9", "Dana Lee"), NOW
            )
    with sessions() as session:
        after, after_other = snapshot(session, member_id), snapshot(session, other_id)
        kept_id = session.scalars(
            select(Contact.id).where(Contact.member_id == member_id, Contact.key == into_key)
        ).one()

    if how == "link to someone new":
        assert kept_id == source_id  # the contact itself became the Slack user
    else:
        assert source_id not in after["contacts"]
    moved = check_nothing_lost(before, after, (source_id, "~d. lee"), (kept_id, into_key))
    assert dict(done.moved) == moved
    assert after_other == before_other


def test_every_column_naming_a_contact_is_found() -> None:
    """What the test above covers: today's tables, found from the metadata."""
    found = {str(ref): ref.ondelete for ref in REFS}
    assert found == {
        "contacts.met_through_id": "SET NULL",
        "interactions.contact_id": "CASCADE",
        "interactions.related_contact_id": "SET NULL",
        "questions_asked.scope": "CASCADE",
        "nudges.person_contact_id": "SET NULL",
        "project_allies.contact_id": "CASCADE",
        "meeting_plans.contact_id": "CASCADE",
    }
    assert {t.name for t in FILLED} >= {"plan_messages", "projects"}


def test_a_new_table_naming_a_contact_is_found_and_must_say_what_happens_to_it() -> None:
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table(
        "gifts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("member_id", ForeignKey("members.id", ondelete="CASCADE")),
        Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE")),
        Column("for_key", String(50), info={"refers_to": CONTACT_KEY}),
    )
    names = {str(ref) for ref in discover(metadata)}
    assert {"gifts.contact_id", "gifts.for_key"} <= names
    Table(
        "debts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("contact_id", ForeignKey("contacts.id")),  # neither cascades nor is unset
    )
    with pytest.raises(UnhandledReference, match=r"debts\.contact_id"):
        discover(metadata)
