"""Signed Slack requests for the ack benchmark, and the two ways of sending them.

The requests are exactly what Slack sends (``tests/support/slack_requests.py`` builds and signs
them): ``/ally who @x`` and ``/ally people [filter]`` as slash commands and a "Record who helped
you" (``log_favour_modal``) view submission. They go either in-process through ``app.dispatch`` or
over HTTP to a running server from ``clients`` threads with keep-alive connections.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest

from tests.support.slack_requests import command_body, interactive_body, sign

FORM = "application/x-www-form-urlencoded"
# Ally refuses a request whose exact signature it has seen (bot/platform/replay.py), so no two
# requests may share a body: each carries its own trigger id, as Slack's do.
_TRIGGERS = itertools.count(1)
# What the app answers when a listener failed; counted as an error, like a non-200.
FAILURE_TEXTS = ("something went wrong", "Sorry, something")


@dataclass(frozen=True)
class Target:
    """A member and one of their Slack contacts, from the generated data."""

    team_id: str
    user_id: str
    contact_user_id: str
    contact_name: str


def who_body(target: Target) -> str:
    mention = f"<@{target.contact_user_id}|{target.contact_name.split()[0].lower()}>"
    return command_body(
        f"who {mention}",
        user=target.user_id,
        team=target.team_id,
        trigger_id=f"bench.{next(_TRIGGERS)}",
    )


def people_body(target: Target, words: str) -> str:
    """``/ally people [words]`` from the target member."""
    return command_body(
        f"people {words}".strip(),
        user=target.user_id,
        team=target.team_id,
        trigger_id=f"bench.{next(_TRIGGERS)}",
    )


def log_favour_body(target: Target, day: str) -> str:
    """A filled-in "Record who helped you" form: they helped me, today, with a what."""
    values: dict[str, dict[str, Any]] = {
        "who_user": {"who_user": {"type": "users_select", "selected_user": target.contact_user_id}},
        "who_name": {"who_name": {"type": "plain_text_input", "value": None}},
        "direction": {
            "direction": {"type": "radio_buttons", "selected_option": {"value": "helped_me"}}
        },
        "what": {"what": {"type": "plain_text_input", "value": "reviewed my benchmark notes"}},
        "with_user": {"with_user": {"type": "users_select", "selected_user": None}},
        "with_name": {"with_name": {"type": "plain_text_input", "value": None}},
        "when": {"when": {"type": "datepicker", "selected_date": day}},
        "networks": {"networks": {"type": "checkboxes", "selected_options": []}},
    }
    payload = {
        "type": "view_submission",
        "team": {"id": target.team_id, "domain": "acme"},
        "user": {"id": target.user_id, "team_id": target.team_id},
        "api_app_id": "A1",
        "trigger_id": f"bench.{next(_TRIGGERS)}",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "log_favour_modal",
            "private_metadata": json.dumps({"tz": "UTC"}),
            "state": {"values": values},
        },
    }
    return interactive_body(payload)


@dataclass
class Outcome:
    status: int
    body: str
    expect_body: bool = True

    @property
    def failed(self) -> bool:
        if self.status != 200:
            return True
        if self.expect_body and not self.body:
            # An empty 200 to a command means it was dropped (e.g. taken for a replay).
            return True
        if any(text in self.body for text in FAILURE_TEXTS):
            return True
        # A modal answered with field errors was not saved.
        return '"response_action": "errors"' in self.body or '"response_action":"errors"' in (
            self.body
        )


def _answers(body: str) -> bool:
    """Whether a good answer has a body: commands reply; a saved modal acks with nothing."""
    return not body.startswith("payload=")


def dispatch(app: App, secret: str, body: str, *, ally: bool = True) -> tuple[float, Outcome]:
    """Send one signed request through ``app.dispatch``; (seconds, outcome).

    ``ally``: Ally answers a command with a reply; the bare baseline acks with nothing.
    """
    headers: dict[str, str | Sequence[str]] = {"Content-Type": FORM, **sign(secret, body)}
    start = time.perf_counter()
    response = app.dispatch(BoltRequest(body=body, headers=headers))
    elapsed = time.perf_counter() - start
    return elapsed, Outcome(response.status, response.body or "", ally and _answers(body))


@dataclass
class HttpResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)


def hammer(
    url: str, secret: str, bodies: list[list[str]], *, ally: bool = True, timeout: float = 10
) -> HttpResult:
    """POST ``bodies[i]`` from client thread ``i`` concurrently; every latency and error."""
    parts = urlsplit(url)
    result = HttpResult()
    lock = threading.Lock()
    start_line = threading.Barrier(len(bodies))

    def client(mine: list[str]) -> None:
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=timeout
        )
        latencies: list[float] = []
        errors = 0
        samples: list[str] = []
        start_line.wait()
        for body in mine:
            headers = {"Content-Type": FORM, **sign(secret, body)}
            start = time.perf_counter()
            try:
                connection.request("POST", parts.path, body=body.encode(), headers=headers)
                response = connection.getresponse()
                outcome = Outcome(
                    response.status, response.read().decode(), ally and _answers(body)
                )
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                outcome = Outcome(0, f"{type(error).__name__}: {error}")
            latencies.append(time.perf_counter() - start)
            if outcome.failed:
                errors += 1
                if len(samples) < 3:
                    samples.append(f"{outcome.status} {outcome.body[:120]}")
        connection.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors
            result.samples.extend(samples)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def wait_until(check: Callable[[], bool], deadline_s: float, what: str) -> None:
    """Poll ``check`` until it is true or ``deadline_s`` passes (then raise)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {deadline_s:.0f} s")


def healthy(url: str) -> Callable[[], bool]:
    parts = urlsplit(url)

    def check() -> bool:
        try:
            connection = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port, timeout=2
            )
            connection.request("GET", "/healthz")
            ok = connection.getresponse().status == 200
            connection.close()
            return ok
        except OSError:
            return False

    return check
