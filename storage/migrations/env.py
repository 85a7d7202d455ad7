"""Alembic environment: runs against the URL given by storage.migrate."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, event

from storage.db import make_engine
from storage.migrate import ForeignKeyViolation
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    # SQLite rebuilds a table to alter it (create, copy, drop the old one, rename): with foreign
    # keys on, dropping the old ``contacts`` would cascade-delete the whole ledger. The pragma
    # only takes effect outside a transaction, so it is set as each connection opens (after
    # storage.db's own connect hook turned it on). https://www.sqlite.org/lang_altertable.html
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    # The driver would otherwise begin transactions only before DML and leave DDL outside them;
    # with its own handling off and BEGIN issued below, a failed migration rolls back whole
    # (SQLAlchemy's recipe for pysqlite: "Serializable isolation / Savepoints / Transactional DDL").
    dbapi_connection.isolation_level = None


def _begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _check_foreign_keys(connection: Connection) -> None:
    """Fail the migration when any row breaks a foreign key (SQLite did not check them)."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        where = ", ".join(sorted({f"{row[0]} -> {row[2]}" for row in broken}))
        raise ForeignKeyViolation(
            f"the migration left {len(broken)} row(s) that break a foreign key ({where})"
        )


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(engine, "connect", _foreign_keys_off)
        event.listen(engine, "begin", _begin)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            transactional_ddl=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
