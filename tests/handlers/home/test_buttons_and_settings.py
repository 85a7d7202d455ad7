"""Home's buttons and the settings that go with them, through the real Bolt app: Add a contact
opens an empty contact form; Settings is a form; snoozed contacts are listed and woken; the
weekly DM's buttons say what they do and do it."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Contact
from tests.support.fake_slack import FakeSlack
from tests.support.modals import HOME, contact_values, opened, settings_values
from tests.support.slack_requests import Reply, SlackDriver


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


def member_settings(runtime: Runtime) -> tuple[Any, ...]:
    from storage.models import Member

    with transaction(runtime.sessions) as session:
        m = session.query(Member).filter_by(user_id="U1").one()
        return (
            m.nudges_enabled,
            m.nudge_weekday,
            m.nudge_minute,
            m.nudges_paused_until and m.nudges_paused_until.isoformat(),
            m.reaction_emoji,
        )


def test_settings_is_a_form_that_changes_every_setting(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    from tests.support.waiting import wait_for

    assert slack.action("nudge_settings", extra=HOME).status == 200
    view = opened(fake_slack)
    assert view["callback_id"] == "settings_modal" and view["title"]["text"] == "Settings"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["weekday"]["initial_option"]["value"] == "0"
    assert inputs["time"]["initial_time"] == "09:00"
    assert inputs["emoji"]["initial_value"] == ":pray:"
    assert "initial_date" not in inputs["pause"]
    meta = view["private_metadata"]

    def submit(**changes: Any) -> Reply:
        return slack.submit("settings_modal", settings_values(**changes), private_metadata=meta)

    assert "after today" in submit(pause="2026-11-01").body
    assert "Give one emoji" in submit(emoji="not an emoji!").body
    assert "Pick a day" in submit(weekday=None).body
    assert member_settings(runtime) == (True, 0, 540, None, "pray")
    assert submit(pause="2026-12-01").body == ""
    assert member_settings(runtime) == (True, 4, 990, "2026-12-01", "raised_hands")
    saved = wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
    assert "Saved." in str(saved[-1]["blocks"]) and "Fridays at 16:30" in saved[-1]["text"]
    # Opened again, the form shows what was saved; unticked, the DM is off; no pause.
    slack.action("nudge_settings", extra=HOME)
    again = {
        b["block_id"]: b["element"] for b in opened(fake_slack)["blocks"] if b["type"] == "input"
    }
    assert again["pause"]["initial_date"] == "2026-12-01"
    assert again["emoji"]["initial_value"] == ":raised_hands:"
    assert submit(enabled=False, pause=None).body == ""
    assert member_settings(runtime) == (False, 4, 990, None, "raised_hands")


def test_snoozed_contacts_are_listed_and_can_be_woken(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    import json

    slack.command("met <@U2> coffee")
    slack.command('met "Dana Lee (Acme)" lunch')
    with transaction(runtime.sessions) as session:
        session.query(Contact).filter_by(key="U2").update({"snoozed_until": date(2026, 12, 10)})
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    home = fake_slack.calls_to("views.publish")[-1]["view"]
    [snoozed] = [
        e
        for b in home["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "people_page" and "Snoozed" in e["text"]["text"]
    ]
    assert snoozed["text"]["text"] == "Snoozed (1)"
    slack.action("people_page", value=snoozed["value"], extra=HOME)
    [listed] = fake_slack.calls_to("chat.postMessage")
    shown = json.dumps(listed["blocks"], ensure_ascii=False)
    assert "1 person matching snoozed" in listed["text"] and ":zzz: snoozed until" in shown
    [wake] = [
        b["accessory"]
        for b in listed["blocks"]
        if b.get("accessory", {}).get("text", {}).get("text") == "Wake up"
    ]
    assert wake["value"] == "U2"
    hook = fake_slack.response_url("response_hook")
    slack.action("wake_contact", value="U2", extra={"response_url": hook})
    assert "<@U2> is awake" in fake_slack.calls_to("response_hook")[-1]["text"]
    with transaction(runtime.sessions) as session:
        assert session.query(Contact).filter_by(key="U2").one().snoozed_until is None
    slack.action("wake_contact", value="~nobody", extra={"response_url": hook})
    assert "no longer in your network" in fake_slack.calls_to("response_hook")[-1]["text"]
