"""``DayNumber``: a stored date or UTC instant's day as ``date.toordinal()``, read alike on
SQLite and PostgreSQL, whatever the time of day."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Date, Engine, literal, select

from bot.nudges.planning import collector_paused
from storage.db import make_engine
from storage.types import DayNumber, UTCDateTime


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


instants = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2200, 12, 31),
    timezones=st.just(UTC),
) | st.dates(min_value=date(1970, 1, 1), max_value=date(2200, 12, 31)).map(
    # The last microsecond of a day: the one a rounding read would push into the next.
    lambda d: datetime.combine(d, time.max, tzinfo=UTC)
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moment=instants, day=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_day_number_is_the_days_ordinal(engine: Engine, moment: datetime, day: date) -> None:
    with engine.connect() as connection:
        read = connection.execute(
            select(
                DayNumber(literal(moment, UTCDateTime())),
                DayNumber(literal(day, Date())),
                DayNumber(literal(None, Date())),
            )
        ).one()
    assert tuple(read) == (moment.date().toordinal(), day.toordinal(), None)


def test_the_collector_comes_back_as_it_was() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a failed batch")
    assert gc.isenabled()
