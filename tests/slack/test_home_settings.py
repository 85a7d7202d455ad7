"""Home's buttons and the settings that go with them, through the real Bolt app: Add a contact
opens an empty contact form; Settings is a form; snoozed contacts are listed and woken; the
weekly DM's buttons say what they do and do it."""

from __future__ import annotations

from typing import Any

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Contact
from tests.fake_slack import FakeSlack
from tests.slack.test_modals_contact import contact_values
from tests.slack_requests import Reply, SlackDriver

HOME = {"view": {"type": "home", "id": "VHOME"}}


def opened(fake_slack: FakeSlack) -> dict[str, Any]:
    return fake_slack.calls_to("views.open")[-1]["view"]


def new_contact(user: str | None = None, name: str | None = None, **placed: Any) -> dict:
    values = contact_values(**placed)
    values["contact_user"] = {"contact_user": {"type": "users_select", "selected_user": user}}
    values["contact_name"] = {"contact_name": {"type": "plain_text_input", "value": name}}
    return values


def contact_keys(runtime: Runtime) -> dict[str, tuple[int, str | None]]:
    with transaction(runtime.sessions) as session:
        return {c.key: (c.networks, c.level) for c in session.query(Contact)}


def test_add_a_contact_opens_an_empty_form_for_a_slack_user_or_an_outside_name(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    assert slack.action("open_contact_modal", extra=HOME).status == 200
    view = opened(fake_slack)
    assert view["title"]["text"] == "Add a contact" and view["submit"]["text"] == "Add"
    blocks = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert blocks[:2] == ["contact_user", "contact_name"]
    assert fake_slack.calls_to("chat.postMessage") == []  # no "not in your network" any more
    meta = view["private_metadata"]

    def submit(values: dict) -> Reply:
        return slack.submit("contact_modal", values, private_metadata=meta)

    assert "Pick someone in Slack" in submit(new_contact()).body
    assert "keep just one" in submit(new_contact("U2", "Dana Lee")).body
    assert "is a bot" in submit(new_contact("UBOTX")).body
    assert "That's you" in submit(new_contact("U1")).body
    assert contact_keys(runtime) == {}
    assert submit(new_contact("U2", networks=("strategic",), level="above")).body == ""
    assert submit(new_contact(name="Dana Lee (Acme)", level="peer")).body == ""
    assert contact_keys(runtime) == {"U2": (1, "above"), "~dana lee": (0, "peer")}
