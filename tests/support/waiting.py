"""Waiting for background work (Home republishes, visits) with a deadline, never a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from bot.home.service import may_be_looking
from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from storage.db import transaction

T = TypeVar("T")


def wait_for(probe: Callable[[], T], timeout: float = 5.0) -> T:
    """Return ``probe()``'s first truthy value, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.01)


def wait_until_on_home(runtime: Runtime, member: MemberRef) -> None:
    """Wait for a Home button's click to be recorded as a visit (it is, after the response)."""

    def recorded() -> bool:
        with transaction(runtime.sessions) as session:
            return may_be_looking(session, member, runtime.clock())

    wait_for(recorded)
