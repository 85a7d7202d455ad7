"""What a running Ally process holds: settings, the database and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.platform.clock import Clock, utc_now
from bot.platform.config import Settings
from storage.db import make_engine, make_session_factory


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default=utc_now)

    @classmethod
    def start(cls, settings: Settings, clock: Clock = utc_now) -> Runtime:
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine), clock)

    def close(self) -> None:
        self.engine.dispose()
