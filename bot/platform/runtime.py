"""What a running Ally process holds: settings, the database, the clock and how it sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.platform.clock import Clock, utc_now
from bot.platform.config import Settings
from bot.platform.uow import UnitOfWork
from storage.db import make_engine, make_session_factory


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default=utc_now)
    # How the process waits out Slack's Retry-After (tests run Slack's time faster).
    sleep: Callable[[float], None] = field(default=time.sleep)

    @classmethod
    def start(
        cls,
        settings: Settings,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Runtime:
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine), clock, sleep)

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on this process's database (see ``bot.platform.uow``)."""
        return UnitOfWork(self.sessions)

    def close(self) -> None:
        self.engine.dispose()
