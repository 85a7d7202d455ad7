"""A fake Slack that fails a share of calls: every third distinct call of each chosen method
fails once, in turn with a rate limit (429 with Retry-After), a server error (500) and a stall.
A retry of a failed call (the same method and parameters) goes through, so a client that
retries loses nothing and one that doesn't is caught out.

A stalled call is answered only once the client has given up on it, which the fake knows when
the client's retry of the same call arrives: however slow the machine, the stall outlasts the
client's timeout, and lasts no longer. One the client never retries is listed in ``unretried``
after ``give_up_within`` seconds."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tests.support.fake_slack import Answer, FakeSlack, Params

FAULTS = ("rate limited", "server error", "stalled", "rate limited for a second")


@dataclass
class Flaky:
    fake: FakeSlack
    every: int = 3
    give_up_within: float = 30.0
    faults: list[tuple[str, str]] = field(default_factory=list)  # (method, fault)
    answered: list[tuple[str, Params]] = field(default_factory=list)  # calls that succeeded
    unretried: list[str] = field(default_factory=list)  # stalled calls never retried

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        # Counted per method, so which calls fail does not hang on how threads interleave.
        self._distinct: dict[str, itertools.count[int]] = {}
        self._kinds = itertools.cycle(FAULTS)
        self._failed: set[str] = set()
        self._retried: dict[str, threading.Event] = {}  # a stalled call's retry has arrived

    def wrap(self, methods: Iterable[str]) -> Flaky:
        for method in methods:
            self._distinct[method] = itertools.count(1)
            self.fake.on(method, self._handler(method))
        return self

    def ok(self, method: str) -> list[Params]:
        with self._lock:
            return [params for m, params in self.answered if m == method]

    def _handler(self, method: str) -> Callable[[Params], Answer]:
        builtin = getattr(self.fake, "_" + method.replace(".", "_"), None)

        def handle(params: Params) -> Answer:
            key = method + json.dumps(params, sort_keys=True, default=str)
            with self._lock:
                fault = None
                if key in self._failed:
                    retried = self._retried.get(key)
                    if retried is not None:
                        retried.set()
                elif next(self._distinct[method]) % self.every == 0:
                    fault = next(self._kinds)
                    self._failed.add(key)
                    self.faults.append((method, fault))
                    if fault == "stalled":
                        self._retried[key] = threading.Event()
            if fault == "rate limited":
                return 429, {"Retry-After": "0"}, {"ok": False, "error": "ratelimited"}
            if fault == "rate limited for a second":
                return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
            if fault == "server error":
                return 500, {}, {"ok": False, "error": "internal_error"}
            if fault == "stalled":
                # Slack never got to it: the client gives up waiting, and nothing was done.
                if not self._retried[key].wait(self.give_up_within):
                    with self._lock:
                        self.unretried.append(method)
                return 503, {}, {"ok": False, "error": "service_unavailable"}
            answer = builtin(params) if builtin is not None else {"ok": True}
            with self._lock:
                self.answered.append((method, params))
            return answer

        return handle
