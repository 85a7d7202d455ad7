"""Modals as the tests see them: the view Ally opened, its fields, and form state as Slack sends
it in ``view_submission`` (the Record and contact forms); the ledger read back afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.service import History, history
from bot.platform.runtime import Runtime
from storage.db import transaction
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_requests import TEAM, SlackDriver

ANA = MemberRef(team_id=TEAM, user_id="U1")


def wait_for_calls(
    fake: FakeSlack, method: str, count: int = 1, timeout: float = 5.0
) -> list[Call]:
    """The fake's calls to ``method`` once there are ``count`` (sent after the ack, lazily)."""
    deadline = time.monotonic() + timeout
    while True:
        calls = fake.calls_to(method)
        if len(calls) >= count or time.monotonic() > deadline:
            assert len(calls) >= count, f"{method} was called {len(calls)} times, not {count}"
            return calls
        time.sleep(0.01)


def opened_view(fake: FakeSlack, trigger_id: str | None = None) -> dict[str, Any]:
    calls = fake.calls_to("views.open")
    assert calls, "views.open was not called"
    call = calls[-1]
    if trigger_id is not None:
        assert call["trigger_id"] == trigger_id
    return call["view"]


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return block["element"]


def log_values(
    *,
    who_user: str | None = None,
    who_name: str | None = None,
    direction: str | None = "helped_me",
    what: str | None = None,
    with_user: str | None = None,
    with_name: str | None = None,
    day: str | None = "2026-11-16",
    networks: tuple[str, ...] = (),
) -> dict[str, dict[str, Any]]:
    """A Record form's state as Slack sends it in view_submission."""
    radio = {"value": direction, "text": {"type": "plain_text", "text": direction}}
    return {
        "who_user": {"who_user": {"type": "users_select", "selected_user": who_user}},
        "who_name": {"who_name": {"type": "plain_text_input", "value": who_name}},
        "direction": {
            "direction": {"type": "radio_buttons", "selected_option": radio if direction else None}
        },
        "what": {"what": {"type": "plain_text_input", "value": what}},
        "with_user": {"with_user": {"type": "users_select", "selected_user": with_user}},
        "with_name": {"with_name": {"type": "plain_text_input", "value": with_name}},
        "when": {"when": {"type": "datepicker", "selected_date": day}},
        "networks": {
            "networks": {
                "type": "checkboxes",
                "selected_options": [
                    {"value": n, "text": {"type": "plain_text", "text": n}} for n in networks
                ],
            }
        },
    }


def read(runtime: Runtime, fn: Callable[..., Any], *args: Any) -> Any:
    with transaction(runtime.sessions) as session:
        return fn(session, *args)


def history_with(
    runtime: Runtime, person: SlackPerson | OutsidePerson, member: MemberRef = ANA
) -> History:
    return read(runtime, lambda s: history(s, member, person, runtime.clock()))


def contact_values(
    *,
    networks: tuple[str, ...] = (),
    level: str | None = None,
    bond: str | None = None,
    cadence: str | None = None,
    notes: str | None = None,
    met_user: str | None = None,
    met_name: str | None = None,
) -> dict[str, dict[str, Any]]:
    """A contact form's state as Slack sends it in view_submission."""

    def option(value: str | None) -> dict[str, Any] | None:
        return {"value": value, "text": {"type": "plain_text", "text": value}} if value else None

    return {
        "networks": {
            "networks": {"type": "checkboxes", "selected_options": [option(n) for n in networks]}
        },
        "level": {"level": {"type": "radio_buttons", "selected_option": option(level)}},
        "bond": {"bond": {"type": "radio_buttons", "selected_option": option(bond)}},
        "cadence": {"cadence": {"type": "static_select", "selected_option": option(cadence)}},
        "notes": {"notes": {"type": "plain_text_input", "value": notes}},
        "met_user": {"met_user": {"type": "users_select", "selected_user": met_user}},
        "met_name": {"met_name": {"type": "plain_text_input", "value": met_name}},
    }


def open_and_metadata(slack: SlackDriver, fake: FakeSlack, user: str = "U1") -> str:
    """Open the Record form with ``/ally log``; its private metadata, as a submission carries it."""
    assert slack.command("log", user=user).status == 200
    return opened_view(fake, slack.last_trigger)["private_metadata"]


HOME = {"view": {"type": "home", "id": "VHOME"}}


def opened(fake_slack: FakeSlack) -> dict[str, Any]:
    return fake_slack.calls_to("views.open")[-1]["view"]


def settings_values(
    *,
    enabled: bool = True,
    weekday: str | None = "4",
    time: str | None = "16:30",
    pause: str | None = None,
    emoji: str | None = ":raised_hands:",
) -> dict[str, Any]:
    on = [{"value": "on", "text": {"type": "plain_text", "text": "on"}}] if enabled else []
    day = {"value": weekday, "text": {"type": "plain_text", "text": weekday}} if weekday else None
    return {
        "enabled": {"enabled": {"type": "checkboxes", "selected_options": on}},
        "weekday": {"weekday": {"type": "static_select", "selected_option": day}},
        "time": {"time": {"type": "timepicker", "selected_time": time}},
        "pause": {"pause": {"type": "datepicker", "selected_date": pause}},
        "emoji": {"emoji": {"type": "plain_text_input", "value": emoji}},
    }
