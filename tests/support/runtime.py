"""The type of the ``make_runtime`` fixture (tests/conftest.py), for the tests that ask for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.platform.clock import Clock
from bot.platform.runtime import Runtime


class MakeRuntime(Protocol):
    """Starts a runtime on ``url``: the fake Slack's settings (``env`` added or overriding),
    the frozen clock and the fake's sleep unless given others."""

    def __call__(
        self,
        url: str,
        *,
        clock: Clock = ...,
        sleep: Callable[[float], None] = ...,
        **env: str,
    ) -> Runtime: ...
