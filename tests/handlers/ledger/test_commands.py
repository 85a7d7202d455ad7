"""The ledger's ``/ally`` subcommands end to end: signed requests through the real Bolt app,
against the fake Slack Web API, on a migrated SQLite database."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.platform.runtime import Runtime
from handlers.kit.blocks import MESSAGE_BLOCKS_MAX
from storage.db import transaction
from storage.models import Contact, Interaction
from tests.support.clock import FrozenClock
from tests.support.command_text import SUBCOMMAND_NAMES, any_text
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import Reply, SlackDriver


def ok(reply: Reply) -> Reply:
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    return reply


def buttons(reply: Reply) -> dict[str, str | None]:
    return {
        element["action_id"]: element.get("value")
        for block in reply.json["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def interactions(runtime: Runtime) -> list[tuple[str, str, str]]:
    with transaction(runtime.sessions) as session:
        rows = session.query(Interaction).order_by(Interaction.id).all()
        return [(row.kind, row.contact.key, row.what) for row in rows]


def test_thanks_records_a_favour_and_offers_say_thanks(
    slack: SlackDriver, runtime: Runtime
) -> None:
    reply = ok(slack.command("thanks <@U2|maria> for the custom report"))
    # Slack users are mentions: Slack shows their current name, clickable.
    assert "Noted: <@U2> (new in your network) helped you: the custom report" in reply.text
    assert interactions(runtime) == [("favour_received", "U2", "the custom report")]
    with transaction(runtime.sessions) as session:
        favour_id = session.query(Interaction.id).scalar()
    assert buttons(reply) == {"say_thanks": str(favour_id)}


def test_outside_people_get_no_say_thanks_button(slack: SlackDriver, runtime: Runtime) -> None:
    reply = ok(slack.command("thanks “Dana Lee (Acme)” for the reference"))
    assert "Dana Lee (Acme)" in reply.text
    assert "say_thanks" not in buttons(reply)
    assert "isn't in Slack" in reply.text
    assert interactions(runtime) == [("favour_received", "~dana lee", "the reference")]


def test_gave_intro_introduced_and_met(slack: SlackDriver, runtime: Runtime) -> None:
    assert "you helped <@U2>" in ok(slack.command("gave <@U2> feedback on her talk")).text
    reply = ok(slack.command("intro <@U2|maria> <@U3|bob> at the offsite"))
    assert "<@U3> joins your network, met through <@U2>" in reply.text
    assert "say_thanks" in buttons(reply)
    reply = ok(slack.command('introduced <@U3> to "Dana Lee (Acme)" design crit'))
    assert "you introduced <@U3> to *Dana Lee (Acme)*" in reply.text
    reply = ok(slack.command("met <@U4> coffee about Q3"))
    assert "catch-up with <@U4>" in reply.text and "next due" in reply.text
    assert interactions(runtime) == [
        ("favour_given", "U2", "feedback on her talk"),
        ("intro_received", "U2", "at the offsite"),
        ("intro_made", "U3", "design crit"),
        ("intro_made", "~dana lee", "design crit"),
        ("catch_up", "U4", "coffee about Q3"),
    ]


def test_add_places_a_contact_and_offers_the_form(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    reply = ok(slack.command("add <@U2> strategic operational above alliance every 3 weeks"))
    assert "Networks: strategic, operational" in reply.text
    assert "above you" in reply.text and "alliance" in reply.text and "every 21 days" in reply.text
    assert buttons(reply) == {"open_contact_modal": "U2"}
    assert fake_slack.calls_to("views.open") == []
    # No options: opens the contact form on where they sit now, changes nothing.
    assert slack.command("add <@U2|maria>", trigger_id="trig-add").body == ""
    [opened] = fake_slack.calls_to("views.open")
    assert opened["trigger_id"] == "trig-add"
    assert opened["view"]["callback_id"] == "contact_modal"
    assert '"key":"U2"' in opened["view"]["private_metadata"]
    assert slack.command('add "Dana Lee (Acme)"').body == ""
    assert '"key":"~dana lee"' in fake_slack.calls_to("views.open")[-1]["view"]["private_metadata"]
    # When Slack refuses the form, the placement comes back as a reply with the button.
    fake_slack.fail("views.open", status=200, error="expired_trigger_id", retry_after=None)
    again = ok(slack.command("add <@U2|maria>"))
    assert "is in your network" in again.text and "every 21 days" in again.text
    assert buttons(again) == {"open_contact_modal": "U2"}
    with transaction(runtime.sessions) as session:
        maria = session.query(Contact).filter_by(key="U2").one()
        assert (maria.networks, maria.level, maria.bond, maria.cadence_days) == (
            3,
            "above",
            "alliance",
            21,
        )


def test_who_shows_back_everything_recorded(
    slack: SlackDriver, clock: FrozenClock, runtime: Runtime
) -> None:
    ok(slack.command("add <@U2> strategic above alliance every 2 weeks"))
    ok(slack.command("thanks <@U2> for the custom report"))
    ok(slack.command("thanks <@U2> for covering my on-call"))
    clock.advance(days=3)
    ok(slack.command("gave <@U2> a launch review"))
    ok(slack.command("intro <@U2> <@U3> at the offsite"))
    ok(slack.command("introduced <@U2> <@U4>"))
    clock.advance(days=2)
    ok(slack.command("met <@U2> coffee"))
    clock.advance(days=5)

    reply = ok(slack.command("who <@U2|maria>"))
    text = reply.text
    assert "Your history with <@U2>" in text
    assert "the custom report" in text and "covering my on-call" in text
    assert "a launch review" in text
    assert "<@U2> introduced you to <@U3>: at the offsite" in text
    assert "you introduced <@U2> to <@U4>" in text
    assert "catch-up: coffee" in text
    assert "Last touch 5 days ago; next due Sat 5 Dec 2026 (every 14 days)" in text
    # Given: a review and an introduction; received: two favours and an introduction.
    assert "<@U2> has helped you once more than you've helped them" in text
    assert "2 received · 1 given · 2 introductions · 1 catch-ups and thanks" in text
    assert "say_thanks" in buttons(reply) and buttons(reply)["open_contact_modal"] == "U2"

    # Bob was met through Maria; Kathy was introduced by the member: a favour given.
    bob = ok(slack.command("who <@U3>")).text
    assert "Met through <@U2>" in bob and "introduced you to <@U3>" in bob
    kathy = ok(slack.command("who <@U4>")).text
    assert "You've helped <@U4> once more than they've helped you" in kathy
    # The introduction is stored once per person and shown once, from Kathy's side.
    assert kathy.count("you introduced") == 1
    assert "you introduced <@U4> to <@U2>" in kathy


def test_who_shows_message_links_when_present(slack: SlackDriver, runtime: Runtime) -> None:
    ok(slack.command("thanks <@U2> for the answer"))
    with transaction(runtime.sessions) as session:
        session.query(Interaction).update(
            {"message_link": "https://acme.slack.com/archives/C1/p1700000000000100"}
        )
    text = ok(slack.command("who <@U2>")).json["blocks"]
    shown = str(text)
    assert "<https://acme.slack.com/archives/C1/p1700000000000100|message>" in shown


def test_who_for_someone_never_logged_is_friendly(slack: SlackDriver) -> None:
    reply = ok(slack.command("who <@U3>"))
    assert "You haven't logged anything with Bob Chen yet" in reply.text
    assert "/ally who @person" in reply.text


def test_network_reviews_the_grid_gaps_and_who_is_due(
    slack: SlackDriver, clock: FrozenClock
) -> None:
    empty = ok(slack.command("network"))
    assert "0 people" in empty.text and "no connection above you (aim for 2)" in empty.text
    assert "no one in your strategic network" in empty.text

    ok(slack.command("add <@U2> strategic above alliance"))
    ok(slack.command("add <@U3> strategic above"))
    ok(slack.command("add <@U4> strategic operational peer every 1 weeks"))
    ok(slack.command("met <@U2> coffee"))
    ok(slack.command("met <@U4> standup"))
    clock.advance(days=40)  # Maria (30 days) is due, Kathy (7 days) long overdue
    reply = ok(slack.command("network"))
    text = reply.text
    assert "3 people" in text
    # Connections: Bob above, Kathy at your level; Maria is an alliance, counted apart.
    assert "*Connections*: 2 of the 6" in text
    assert ":large_yellow_circle: above you: 1" in text
    assert ":large_yellow_circle: at your level: 1" in text
    assert ":red_circle: below you: 0" in text
    assert "*Alliances* (the people you deliver with): 1 person" in text
    assert "*Strategic*  :muscle: strongest · 3 people" in text
    assert "*Operational*  :seedling: needs work · 1 person" in text
    assert "*Developmental*  :red_circle: missing · 0 people" in text
    assert "no connection below you (aim for 2)" in text
    assert "no one in your developmental network" in text
    overdue = text.index("*Overdue*")
    due = text.index("*Due*")
    assert overdue < text.index("<@U4>: last touch", overdue) < due
    assert due < text.index("<@U2>: last touch", due)


def test_show_network_button_answers_where_it_was_pressed(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    ok(slack.command("add <@U2> operational below"))
    hook = fake_slack.response_url("response_hook")
    assert slack.action("show_network", extra={"response_url": hook}).status == 200
    [answer] = fake_slack.calls_to("response_hook")
    assert answer["response_type"] == "ephemeral" and "1 people" in answer["text"]
    # From the Home tab there is no response_url and no channel: the answer is a DM.
    assert slack.action("show_network").status == 200
    [dm] = fake_slack.calls_to("chat.postMessage")
    assert dm["channel"] == "U1" and "Operational" in str(dm["blocks"])


def test_names_come_from_the_cache_not_users_info_every_time(
    slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock, runtime: Runtime
) -> None:
    for what in ("one", "two", "three"):
        ok(slack.command(f"thanks <@U2> for {what}"))
    ok(slack.command("who <@U2>"))
    # U2's name, and once U1's own record: whether U1 is a guest, who may name only people
    # Slack shows them (asked when someone new to U1's network is named).
    assert sorted(c["user"] for c in fake_slack.calls_to("users.info")) == ["U1", "U2"]
    clock.advance(days=2)  # the cache keeps a name for a day, then asks again
    fake_slack.add_user("U2", "Maria Lopez-Garcia")
    ok(slack.command("gave <@U2> a hand"))
    assert len(fake_slack.calls_to("users.info")) == 3
    # Messages mention her (Slack shows her current name); the name kept for plain text and
    # exports follows the directory.
    with transaction(runtime.sessions) as session:
        assert session.query(Contact.name).filter_by(key="U2").scalar() == "Maria Lopez-Garcia"


def test_bad_input_gets_a_friendly_usage_reply(slack: SlackDriver, runtime: Runtime) -> None:
    cases = {
        "thanks": "Name someone with @mention",
        "thanks <@U1> for nothing": "That's you!",
        "thanks <@UBOTX> for reminders": "is a bot",
        "gave <@UGONE> a farewell card": "deactivated",
        "met <@UNOPE> coffee": "can't find that person",
        "thanks <@U2> " + "x" * 1001: "keep it under 1000",
        "add <@U2> every banana weeks": "every N days",
        "add <@U2> above below": "Pick one level",
        "add <@U2> tomorrow": "don't know the option `tomorrow`",
        "intro <@U2>": "Name someone",
        "who": "Name someone",
        'thanks "" for x': "Give the person's name",
    }
    for text, message in cases.items():
        reply = ok(slack.command(text))
        assert message in reply.text, text
        assert "Usage: `/ally" in reply.text, text
    assert interactions(runtime) == []
    assert "Did you mean `/ally thanks" in ok(slack.command("thank <@U2> x")).text


def test_a_contact_with_hundreds_of_entries_fits_one_message(
    slack: SlackDriver, runtime: Runtime
) -> None:
    ok(slack.command("thanks <@U2> for the first thing"))
    with transaction(runtime.sessions) as session:
        first = session.query(Interaction).one()
        for n in range(300):
            for kind in ("favour_received", "favour_given", "catch_up", "intro_made"):
                session.add(
                    Interaction(
                        member_id=first.member_id,
                        contact_id=first.contact_id,
                        kind=kind,
                        what=f"entry {n} " + "long words " * 40,
                        occurred_at=first.occurred_at,
                        created_at=first.created_at,
                    )
                )
    reply = ok(slack.command("who <@U2>"))
    blocks = reply.json["blocks"]
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    assert "301 received · 300 given · 300 introductions · 300 catch-ups" in reply.text
    # Each section: a heading with its total, one block per line shown (each with its menu to
    # edit or delete it), then how many more.
    headings = [
        i
        for i, block in enumerate(blocks)
        if block["type"] == "section" and re.match(r"^\*[^*]+\* \(\d+\)$", block["text"]["text"])
    ]
    assert len(headings) == 4
    for start, total in zip(headings, (301, 300, 300, 300), strict=True):
        assert blocks[start]["text"]["text"].endswith(f"({total})")
        lines = []
        for block in blocks[start + 1 :]:
            if block.get("accessory", {}).get("action_id") != "ledger_line_menu":
                break
            assert len(block["text"]["text"]) <= 3000
            lines.append(block)
        assert 0 < len(lines) <= 8
        more = blocks[start + 1 + len(lines)]
        assert more["type"] == "context"
        assert more["elements"][0]["text"] == f"…and {total - len(lines)} more"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(SUBCOMMAND_NAMES), text=any_text)
def test_any_command_text_through_bolt_gets_an_ephemeral_reply(
    slack: SlackDriver, fake_slack: FakeSlack, name: str, text: str
) -> None:
    opened = len(fake_slack.calls_to("views.open"))
    reply = slack.command(f"{name} {text}")
    if reply.status == 200 and not reply.body:
        # The one command answered with a form instead: `/ally add @person` with no options.
        assert name == "add"
        assert len(fake_slack.calls_to("views.open")) == opened + 1
        return
    ok(reply)
    assert reply.json["text"].strip()
    assert len(reply.json["blocks"]) <= MESSAGE_BLOCKS_MAX
    assert "something went wrong" not in reply.text


def test_what_members_type_is_shown_as_text_not_markup(slack: SlackDriver) -> None:
    # @channel and #x picked in Slack's composer arrive as markup; they are shown as the member
    # saw them, as text, and ping nobody.
    reply = ok(slack.command('thanks "Dana <!channel>" for the intro to <@U3|bob> & <#C1|x>'))
    shown = reply.body
    assert "<!channel>" not in shown and "Dana @channel" in shown
    assert "<#C1" not in shown and "&amp; #x" in shown
    # A mention in the description stays a mention.
    assert "the intro to <@U3>" in shown
    # The same characters typed literally arrive escaped and are shown as typed, not as markup.
    literal = 'thanks "Dana" for the &lt;!here&gt; &amp; &lt;b&gt;bold&lt;/b&gt; intro'
    typed = ok(slack.command(literal, sent=True))
    assert "<!here>" not in typed.body
    assert "&lt;!here&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in typed.body
