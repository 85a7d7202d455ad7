"""The SQLite database (members' notes, workspaces' tokens) is readable by Ally's own user only:
the folder is created 0700 and the file 0600 whatever the process umask, by ``migrate`` and by
the app alike."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import upgrade


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the common default: new files readable by everyone
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_migrate_creates_a_private_folder_and_file(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "data" / "ally.db"
    upgrade(f"sqlite:///{path}")
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600
    for sidecar in path.parent.glob("ally.db-*"):  # SQLite's -wal and -shm follow the file
        assert mode(sidecar) == 0o600, sidecar.name


def test_the_app_engine_creates_a_private_file(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / "fresh" / "ally.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
