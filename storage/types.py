"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back as an aware UTC datetime.

    SQLite keeps no time zone, so every instant is normalised to UTC on the way in; naive
    values are refused rather than guessed at.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite returns str only for raw SQL
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


class DayNumber(FunctionElement[int]):
    """The day of a date or UTC timestamp column as Python's ``date.toordinal()``, in SQL.

    Reading a day as a small int costs the driver far less than reading a date (SQLite hands
    dates over as text to be parsed), and two day numbers subtract to a number of days.
    ``NULL`` stays ``NULL``.
    """

    type = Integer()
    inherit_cache = True


# 0001-01-01, day 1 of ``date.toordinal()``, is Julian day 1721425.5.
_JULIAN_DAY_OF_ORDINAL_ZERO = 1721424.5


@compiles(DayNumber, "sqlite")
def _day_number_sqlite(element: DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    # date() first, so that a time of day never rounds up into the next day.
    column = compiler.process(element.clauses, **kw)
    return f"CAST(julianday(date({column})) - {_JULIAN_DAY_OF_ORDINAL_ZERO} AS INTEGER)"


@compiles(DayNumber)
def _day_number_default(element: DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    # A date minus a date is a number of days (PostgreSQL); timestamps are naive UTC.
    column = compiler.process(element.clauses, **kw)
    return f"(CAST({column} AS DATE) - DATE '0001-01-01' + 1)"
