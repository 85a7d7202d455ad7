"""The unit of work: the one transaction a service call opens, commits and closes.

Services own their transactions (handlers parse, call one service, render)::

    with runtime.unit_of_work() as uow:
        ...  # read and write through uow.session
        uow.commit()

Leaving the block without ``commit()`` rolls everything back, so an error half way through a
service never leaves half a write. The rule for Slack calls around a write is the same
everywhere: call Slack before the unit of work opens or after it has committed, never inside
it, so a transaction never waits on the network (and never holds SQLite's one writer).

Whether a call changed what a member sees on Home is an explicit part of the service's result
(a ``home_changed`` field), which the handler passes on to ``handlers.kit.replies.home_changed``;
nothing is inferred from session events.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class UnitOfWork:
    """One transaction: ``with uow: ...; uow.commit()``; anything not committed is rolled back."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its with block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._sessions()
        self._session.begin()
        return self

    def commit(self) -> None:
        self.session.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.rollback()  # a no-op after commit()
            finally:
                session.close()


# How a service opens its unit of work: ``Runtime.unit_of_work``, or any factory of one.
Units = Callable[[], UnitOfWork]


def committed(units: Units, work: Callable[[Session], T]) -> T:
    """``work(session)`` in one new unit of work, committed; returns what ``work`` returned.

    A service whose whole job is one domain call on a session says it in one line with this.
    """
    with units() as uow:
        result = work(uow.session)
        uow.commit()
        return result
