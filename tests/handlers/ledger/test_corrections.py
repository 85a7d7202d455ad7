"""Fixing mistakes through the real Bolt app against the fake Slack: the menu on each ledger line
(edit in a form, delete after a confirmation), ``/ally undo``, deleting, merging and linking
contacts, and clearing a choice in the contact form."""

from __future__ import annotations

import time
from typing import Any

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Contact, Interaction
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.modals import contact_values
from tests.support.slack_requests import Reply, SlackDriver
from tests.support.waiting import wait_for


def ok(reply: Reply) -> Reply:
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    return reply


def contacts(runtime: Runtime) -> dict[str, tuple[int, str | None]]:
    """Each contact's key: (kept balance, last touch day)."""
    with transaction(runtime.sessions) as session:
        return {
            c.key: (c.balance, c.last_touch_at.date().isoformat() if c.last_touch_at else None)
            for c in session.query(Contact)
        }


def entries(runtime: Runtime) -> list[tuple[str, str, str]]:
    with transaction(runtime.sessions) as session:
        rows = session.query(Interaction).order_by(Interaction.id).all()
        return [(row.kind, row.contact.key, row.what) for row in rows]


def line_menus(reply: Reply) -> dict[str, list[str]]:
    """Each ledger line's text in ``/ally who``, with its menu's option values."""
    return {
        block["text"]["text"]: [o["value"] for o in block["accessory"]["options"]]
        for block in reply.json["blocks"]
        if block.get("accessory", {}).get("action_id") == "ledger_line_menu"
    }


def pick(slack: SlackDriver, value: str, hook: str) -> Reply:
    """Choose ``value`` in a ledger line's menu, in an ephemeral message."""
    action = {
        "action_id": "ledger_line_menu",
        "block_id": "b",
        "type": "overflow",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
        "action_ts": f"{time.time():.6f}",
    }
    return slack.action("ledger_line_menu", extra={"actions": [action], "response_url": hook})


def buttons(message: dict[str, Any]) -> dict[str, str | None]:
    return {
        e["action_id"]: e.get("value")
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


def test_each_line_of_who_can_be_deleted_after_a_confirmation(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    hook = fake_slack.response_url("response_hook")
    ok(slack.command("thanks <@U2> for the custom report"))
    clock.advance(days=2)
    ok(slack.command("gave <@U2> a launch review"))
    who = ok(slack.command("who <@U2>"))
    menus = line_menus(who)
    assert len(menus) == 2
    [review] = [options for text, options in menus.items() if "a launch review" in text]
    assert review[0].startswith("edit:") and review[1].startswith("delete:")
    assert buttons(who.json)["delete_contact"] == "U2"

    pick(slack, review[1], hook)
    [confirm] = fake_slack.calls_to("response_hook")
    assert "Delete this entry with <@U2>?" in str(confirm["blocks"])
    assert "a launch review" in str(confirm["blocks"])
    # Keeping it changes nothing.
    slack.action("correction_cancel", extra={"response_url": hook})
    assert fake_slack.calls_to("response_hook")[-1]["text"] == "Nothing was deleted."
    assert len(entries(runtime)) == 2

    entry_id = buttons(confirm)["delete_entry_confirm"]
    slack.action("delete_entry_confirm", value=entry_id, extra={"response_url": hook})
    done = fake_slack.calls_to("response_hook")[-1]
    assert done["replace_original"] is True
    assert "Deleted, with <@U2>" in str(done["blocks"]) and "a launch review" in str(done["blocks"])
    assert "<@U2> has helped you once more" in str(done["blocks"])
    assert entries(runtime) == [("favour_received", "U2", "the custom report")]
    # The balance and the last touch are the remaining ledger's.
    assert contacts(runtime) == {"U2": (-1, "2026-11-16")}
    # Pressing it again (or someone else's id) is answered, not a traceback.
    slack.action("delete_entry_confirm", value=entry_id, extra={"response_url": hook})
    assert "can't find that entry" in fake_slack.calls_to("response_hook")[-1]["text"]


def test_a_line_is_edited_in_a_form(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    hook = fake_slack.response_url("response_hook")
    ok(slack.command("thanks <@U2> for the custom reprot"))
    clock.advance(days=3)
    ok(slack.command("met <@U2> coffee"))
    menus = line_menus(ok(slack.command("who <@U2>")))
    [typo] = [options for text, options in menus.items() if "reprot" in text]
    pick(slack, typo[0], hook)
    [opened] = fake_slack.calls_to("views.open")
    view = opened["view"]
    assert view["callback_id"] == "edit_entry_modal"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["what"]["initial_value"] == "the custom reprot"
    assert inputs["when"]["initial_date"] == "2026-11-16"

    def submit(what: str | None, day: str) -> Reply:
        values = {
            "what": {"what": {"type": "plain_text_input", "value": what}},
            "when": {"when": {"type": "datepicker", "selected_date": day}},
        }
        return slack.submit("edit_entry_modal", values, private_metadata=view["private_metadata"])

    # A favour needs a "what"; a day after today is refused; both as field errors.
    assert '"what"' in submit("", "2026-11-16").body
    assert "in the future" in submit("the report", "2026-12-25").body
    assert submit("the custom report", "2026-11-10").body == ""
    assert entries(runtime)[0] == ("favour_received", "U2", "the custom report")
    with transaction(runtime.sessions) as session:
        moved = session.query(Interaction).filter_by(kind="favour_received").one()
        assert moved.occurred_at.date().isoformat() == "2026-11-10"
        assert moved.occurred_at.time() == clock().time()  # the time of day is kept
    assert contacts(runtime) == {"U2": (-1, "2026-11-19")}
    confirmed = wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
    assert "Updated your entry with <@U2>" in confirmed[-1]["text"]


def test_undo_removes_the_last_entry_and_says_which(
    slack: SlackDriver, runtime: Runtime, clock: FrozenClock
) -> None:
    ok(slack.command("thanks <@U2> for the custom report"))
    clock.advance(days=1)
    ok(slack.command('introduced <@U3> to "Dana Lee (Acme)" design crit'))
    reply = ok(slack.command("undo"))
    assert "Undone: your last entry, with <@U3>" in reply.text
    assert "you introduced <@U3> to Dana Lee (Acme): design crit" in reply.text
    # Both rows of the introduction went; everything else is as it was, people included.
    assert entries(runtime) == [("favour_received", "U2", "the custom report")]
    assert contacts(runtime) == {"U2": (-1, "2026-11-16"), "U3": (0, None), "~dana lee": (0, None)}
    assert "Undone" in ok(slack.command("undo")).text
    empty = ok(slack.command("undo"))
    assert "nothing to undo" in empty.text and "Usage: `/ally undo`" in empty.text
    assert "takes no options" in ok(slack.command("undo everything")).text


def test_a_contact_is_deleted_with_its_history_after_saying_how_much(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    hook = fake_slack.response_url("response_hook")
    ok(slack.command('thanks "Dana Lee (Acme)" for the intro deck'))
    ok(slack.command('gave "Dana Lee (Acme)" a reference'))
    ok(slack.command('intro "Dana Lee (Acme)" <@U3> at the offsite'))
    ok(slack.command("thanks <@U2> for a review"))
    ask = ok(slack.command('delete "Dana Lee"'))
    assert "Delete *Dana Lee (Acme)* with everything you have with them: 3 entries?" in ask.text
    assert buttons(ask.json) == {"delete_contact_confirm": "~dana lee", "correction_cancel": None}
    slack.action("delete_contact_confirm", value="~dana lee", extra={"response_url": hook})
    assert (
        fake_slack.calls_to("response_hook")[-1]["text"]
        == "Deleted Dana Lee (Acme) with 3 entries."
    )
    assert entries(runtime) == [("favour_received", "U2", "a review")]
    # Bob was met through Dana: now on his own, and his last touch (the intro) went with it.
    with transaction(runtime.sessions) as session:
        bob = session.query(Contact).filter_by(key="U3").one()
        assert bob.met_through_id is None and bob.last_touch_at is None
    # From who's Delete contact button: a confirmation first.
    slack.action("delete_contact", value="U2", extra={"response_url": hook})
    assert "Delete <@U2> with everything you have with them: 1 entry?" in str(
        fake_slack.calls_to("response_hook")[-1]["blocks"]
    )
    assert "not in your network" in ok(slack.command('delete "Nobody"')).text


def test_merge_and_link_move_the_whole_history(slack: SlackDriver, runtime: Runtime) -> None:
    ok(slack.command('thanks "D. Lee" for the intro deck'))
    ok(slack.command('add "Dana Lee (Acme)" strategic above'))
    ok(slack.command('intro "D. Lee" <@U3> at the offsite'))
    merged = ok(slack.command('merge "D. Lee" into "Dana Lee (Acme)"'))
    assert (
        "Merged *D. Lee* into *Dana Lee (Acme)*: moved 2 entries to *Dana Lee (Acme)*."
        in merged.text
    )
    assert contacts(runtime)["~dana lee"] == (-2, "2026-11-16")
    assert "~d. lee" not in contacts(runtime)

    linked = ok(slack.command('link "Dana Lee" <@U4>'))
    assert (
        "Linked *Dana Lee (Acme)* to <@U4>'s Slack account: moved 2 entries to <@U4>."
        in linked.text
    )
    keys = contacts(runtime)
    assert keys["U4"] == (-2, "2026-11-16") and "~dana lee" not in keys
    who = ok(slack.command("who <@U3>")).text
    assert "Met through <@U4>" in who  # "met through" followed the link
    assert "Networks: strategic" in ok(slack.command("who <@U4>")).text

    cases = {
        'merge "Dana" into "Dana"': "same person",
        "merge <@U4> into <@U9>": "not in your network",
        'link "Nobody" <@U2>': "not in your network",
        "link <@U4> <@U2>": "already a Slack user",
        'link "Bob" <@UBOTX>': "is a bot",
        "merge <@U4>": "Name someone",
    }
    for text, message in cases.items():
        reply = ok(slack.command(text))
        assert message in reply.text, text
    assert contacts(runtime)["U4"] == (-2, "2026-11-16")


def test_the_contact_form_can_clear_level_bond_and_cadence(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    ok(slack.command("add <@U2> strategic above alliance every 2 weeks"))
    slack.action("open_contact_modal", value="U2")
    view = fake_slack.calls_to("views.open")[-1]["view"]
    radios = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert radios["level"]["options"][-1]["value"] == "none"
    assert radios["bond"]["options"][-1]["value"] == "none"
    assert radios["cadence"]["options"][0]["value"] == "default"
    values = contact_values(level="none", bond="none", cadence="default")
    reply = slack.submit("contact_modal", values, private_metadata=view["private_metadata"])
    assert reply.body == ""
    with transaction(runtime.sessions) as session:
        maria = session.query(Contact).filter_by(key="U2").one()
        assert (maria.networks, maria.level, maria.bond, maria.cadence_days) == (
            0,
            None,
            None,
            None,
        )
    # Opened again, the form shows them as not set.
    slack.action("open_contact_modal", value="U2")
    again = fake_slack.calls_to("views.open")[-1]["view"]
    chosen = {
        b["block_id"]: (b["element"].get("initial_option") or {}).get("value")
        for b in again["blocks"]
        if b["type"] == "input" and b["block_id"] in ("level", "bond", "cadence")
    }
    assert chosen == {"level": "none", "bond": "none", "cadence": "default"}
