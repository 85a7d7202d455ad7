"""Everything that points at a contact, found from the tables' metadata.

A row refers to a contact by id (a foreign key to ``contacts.id``) or by key (a column whose
``info`` has ``{"refers_to": "contacts.key"}``, such as the questions suggested for someone).
A new table with either is handled here without being named.

Merging two contacts moves every such row to the contact kept. Where a unique constraint would
then hold two rows that say the same thing (the kept contact is already an ally of the same
project, the same question was suggested for both), the two become one row: the kept row
fills in what it lacks from the other, unbounded text (a note) keeps both, and rows pointing
at the other row move to the kept one. Deleting a contact removes the rows that belong to it
(the foreign key cascades, and the key references), unsets the others, and says how many of
each went.

Every statement is scoped to one member: rows of tables with a ``member_id`` are only read and
written for that member, and key references must have one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    true,
    update,
)
from sqlalchemy.engine import CursorResult, Result, RowMapping
from sqlalchemy.orm import Session

from storage.models import Base, Contact

CONTACT_KEY = "contacts.key"
OWNED = "CASCADE"  # rows deleted with their contact belong to it
UNSET = "SET NULL"  # rows that only mention a contact forget it when it goes

Value = int | str


@dataclass(frozen=True)
class Reference:
    """One column that names a contact: by id (``by_key`` False) or by key."""

    column: Column[Any]
    by_key: bool
    ondelete: str

    @property
    def table(self) -> Table:
        table = self.column.table
        assert isinstance(table, Table)
        return table

    @property
    def owned(self) -> bool:
        """Rows that belong to the contact: they go when it is deleted and are counted."""
        return self.ondelete == OWNED

    def __str__(self) -> str:
        return f"{self.table.name}.{self.column.name}"


class UnhandledReference(Exception):
    """A column names a contact without saying what becomes of it when the contact goes."""


def discover(metadata: MetaData) -> list[Reference]:
    """Every column in ``metadata`` that names a contact, in dependency order."""
    found: list[Reference] = []
    contacts = metadata.tables[Contact.__tablename__]
    for table in metadata.sorted_tables:
        for column in table.columns:
            if column.info.get("refers_to") == CONTACT_KEY:
                if "member_id" not in table.c:
                    raise UnhandledReference(f"{table.name}.{column.name} has no member_id")
                found.append(Reference(column, True, OWNED))
            for fk in column.foreign_keys:
                if fk.column is not contacts.c.id:
                    continue
                ondelete = (fk.ondelete or "").upper()
                if ondelete not in (OWNED, UNSET):
                    raise UnhandledReference(
                        f"{table.name}.{column.name} must cascade or be set null"
                    )
                found.append(Reference(column, False, ondelete))
    return found


@lru_cache(maxsize=1)
def contact_references() -> tuple[Reference, ...]:
    """Every column of Ally's tables that names a contact."""
    return tuple(discover(Base.metadata))


def _key(table: Table) -> Column[Any]:
    [pk] = table.primary_key.columns
    return pk


def _mine(table: Table, member_id: int) -> ColumnElement[bool]:
    return table.c.member_id == member_id if "member_id" in table.c else true()


def _unique_sets(column: Column[Any]) -> list[list[Column[Any]]]:
    """The column sets of the unique constraints and indexes that include ``column``."""
    table = column.table
    sets = [
        list(c.columns)
        for c in table.constraints
        if isinstance(c, UniqueConstraint) and any(col is column for col in c.columns)
    ]
    sets += [
        list(ix.columns)
        for ix in getattr(table, "indexes", ())
        if ix.unique and any(col is column for col in ix.columns)
    ]
    return sets


def _value(ref: Reference, contact: Contact) -> Value:
    return contact.key if ref.by_key else contact.id


def _twin(
    session: Session, column: Column[Any], row: RowMapping, new: Value, member_id: int
) -> RowMapping | None:
    """The row that ``row`` would collide with once ``column`` is ``new``, if any."""
    table = column.table
    assert isinstance(table, Table)
    pk = _key(table)
    for cols in _unique_sets(column):
        others = [c for c in cols if c is not column]
        if any(row[c.key] is None for c in others):
            continue  # NULLs never collide
        match = [c == row[c.key] for c in others]
        found = (
            session.execute(
                select(table).where(
                    _mine(table, member_id), column == new, pk != row[pk.key], *match
                )
            )
            .mappings()
            .first()
        )
        if found is not None:
            return found
    return None


def repoint(session: Session, column: Column[Any], old: Value, new: Value, member_id: int) -> int:
    """Point the member's rows whose ``column`` is ``old`` at ``new``, joining any row that
    would collide with an existing one into it; returns how many rows pointed at ``old``."""
    table = column.table
    assert isinstance(table, Table)
    pk = _key(table)
    where: tuple[ColumnElement[bool], ...] = (_mine(table, member_id), column == old)
    if any(fk.column.table is table for fk in column.foreign_keys):
        # A row never points at itself: the one that is ``new`` forgets ``old`` instead.
        itself = session.execute(
            update(table)
            .where(*where, pk == new)
            .values({column.key: None})
            .execution_options(synchronize_session=False)
        )
        where = (*where, pk != new)
        done = _rowcount(itself)
    else:
        done = 0
    if not _unique_sets(column):
        # Nothing can collide: one statement, however many rows (a long ledger).
        moved = session.execute(
            update(table)
            .where(*where)
            .values({column.key: new})
            .execution_options(synchronize_session=False)
        )
        return done + _rowcount(moved)
    rows = list(session.execute(select(table).where(*where)).mappings())
    for row in rows:
        twin = _twin(session, column, row, new, member_id)
        if twin is not None:
            _join(session, table, row, twin, column, member_id)
            continue
        session.execute(
            update(table)
            .where(pk == row[pk.key])
            .values({column.key: new})
            .execution_options(synchronize_session=False)
        )
    return done + len(rows)


def _rowcount(result: Result[Any]) -> int:
    return cast("CursorResult[Any]", result).rowcount


def _join(
    session: Session,
    table: Table,
    dropped: RowMapping,
    kept: RowMapping,
    column: Column[Any],
    member_id: int,
) -> None:
    """Make ``dropped`` part of ``kept``: what ``kept`` lacks comes from ``dropped``, unbounded
    text keeps both, rows pointing at ``dropped`` point at ``kept``; then ``dropped`` goes."""
    pk = _key(table)
    filled: dict[str, Any] = {}
    for c in table.columns:
        if c.primary_key or c is column:
            continue
        mine, theirs = kept[c.key], dropped[c.key]
        if theirs is None or mine == theirs:
            continue
        if mine is None:
            filled[c.key] = theirs
        elif isinstance(c.type, Text) and isinstance(mine, str) and theirs not in mine:
            filled[c.key] = f"{mine}\n{theirs}"
    if filled:
        session.execute(
            update(table)
            .where(pk == kept[pk.key])
            .values(filled)
            .execution_options(synchronize_session=False)
        )
    for child in table.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column is pk:
                repoint(session, fk.parent, dropped[pk.key], kept[pk.key], member_id)
    session.execute(
        delete(table).where(pk == dropped[pk.key]).execution_options(synchronize_session=False)
    )


Counts = Mapping[str, int]


def _add(counts: dict[str, int], ref: Reference, n: int) -> None:
    if ref.owned and n:
        counts[ref.table.name] = counts.get(ref.table.name, 0) + n


def move_all(session: Session, member_id: int, source: Contact, target: Contact) -> Counts:
    """Point everything that names ``source`` at ``target`` (``source`` itself excepted);
    returns how many rows belonging to ``source`` moved, per table."""
    counts: dict[str, int] = {}
    for ref in contact_references():
        old, new = _value(ref, source), _value(ref, target)
        if old != new:
            _add(counts, ref, repoint(session, ref.column, old, new, member_id))
    return counts


def rekey(session: Session, member_id: int, old: str, new: str) -> None:
    """A contact's key changes from ``old`` to ``new``: rows naming it by key follow."""
    for ref in contact_references():
        if ref.by_key:
            repoint(session, ref.column, old, new, member_id)


def held(session: Session, member_id: int, contact: Contact) -> Counts:
    """How many rows belong to ``contact``, per table (what deleting it removes)."""
    counts: dict[str, int] = {}
    for ref in contact_references():
        if ref.owned:
            table = ref.table
            n = session.scalar(
                select(func.count())
                .select_from(table)
                .where(_mine(table, member_id), ref.column == _value(ref, contact))
            )
            _add(counts, ref, n or 0)
    return counts


def remove_all(session: Session, member_id: int, contact: Contact) -> Counts:
    """Delete the rows belonging to ``contact`` and unset the ones that mention it (``contact``
    itself excepted); returns how many rows were deleted, per table."""
    counts: dict[str, int] = {}
    for ref in contact_references():
        table, value = ref.table, _value(ref, contact)
        where = (_mine(table, member_id), ref.column == value)
        if ref.owned:
            done = session.execute(
                delete(table).where(*where).execution_options(synchronize_session=False)
            )
        else:
            done = session.execute(
                update(table)
                .where(*where)
                .values({ref.column.key: None})
                .execution_options(synchronize_session=False)
            )
        _add(counts, ref, _rowcount(done))
    return counts
