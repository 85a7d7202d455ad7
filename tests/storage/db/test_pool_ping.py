"""PostgreSQL connections idle in the pool are checked before use; busy ones are not."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, exc, text

from storage import db


def pooled_backend_pid(engine: Engine) -> int:
    """Use one connection and return it to the pool; its server process id."""
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(engine: Engine, pid: int) -> None:
    """End that server process from another connection, as a restart or idle timeout would."""
    other = db.make_engine(engine.url.render_as_string(hide_password=False))
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()
    other.dispose()


def test_an_idle_connection_that_died_is_replaced_before_use(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = db.make_engine(pg_url, pool_size=1)
    try:
        dead = pooled_backend_pid(engine)
        terminate(engine, dead)
        # The next checkout pings, finds it gone and connects afresh: no error reaches us.
        assert pooled_backend_pid(engine) != dead
    finally:
        engine.dispose()


def test_a_connection_back_a_moment_ago_is_used_without_a_ping(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = db.make_engine(pg_url, pool_size=1)
    try:
        terminate(engine, pooled_backend_pid(engine))
        # Not pinged: the dead connection is used and the disconnect surfaces once...
        with pytest.raises(exc.DBAPIError) as raised:
            pooled_backend_pid(engine)
        assert raised.value.connection_invalidated
        # ...after which SQLAlchemy has dropped it and the next use works.
        assert pooled_backend_pid(engine) > 0
    finally:
        engine.dispose()
