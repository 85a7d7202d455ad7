"""``/ally questions``, ``/ally focus`` and [Three more] through the real Bolt app."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ledger.people import MemberRef, SlackPerson
from bot.ledger.service import ContactUpdate, update_contact
from bot.platform.runtime import Runtime
from bot.questions.bank import BY_ID
from bot.questions.service import get_focus
from storage.db import transaction
from storage.models import FOCUS_MAX, Bond, Level, Network
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import Reply, SlackDriver

ANA = MemberRef(team_id="T1", user_id="U1")
QUESTION_BLOCK = re.compile(r"^\d\. ")


def questions_in(reply: Reply) -> list[str]:
    """The numbered questions' texts, as the member sees them."""
    texts = [b["text"]["text"] for b in reply.json["blocks"] if b["type"] == "section"]
    return [QUESTION_BLOCK.sub("", t) for t in texts if QUESTION_BLOCK.match(t)]


def three_more(reply: Reply) -> dict:
    buttons = [e for b in reply.json["blocks"] if b["type"] == "actions" for e in b["elements"]]
    (button,) = [b for b in buttons if b["action_id"] == "show_questions"]
    assert button["text"]["text"] == "Three more"
    return button


def plain_ids(texts: list[str]) -> set[str]:
    by_text = {q.plain: q.id for q in BY_ID.values()}
    return {by_text[t] for t in texts}


def test_questions_for_anyone(slack: SlackDriver) -> None:
    reply = slack.command("questions")
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    texts = questions_in(reply)
    assert len(texts) == 3 and len(plain_ids(texts)) == 3
    assert "next informational interview" in reply.text
    assert "/ally focus" in reply.text  # the why-line suggests setting a focus
    assert three_more(reply).get("value", "") == ""


def test_questions_for_a_placed_person_say_why(slack: SlackDriver, runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        update_contact(
            session,
            ANA,
            SlackPerson("U2", "Maria Lopez"),
            ContactUpdate(networks=Network.STRATEGIC, level=Level.ABOVE, bond=Bond.CONNECTION),
            runtime.clock(),
        )
    reply = slack.command("questions <@U2|maria>")
    assert "<@U2>" in reply.text
    assert "above you" in reply.text and "strategic network" in reply.text
    assert "connection" in reply.text and "No repeats for <@U2>" in reply.text
    for qid in plain_ids(questions_in(reply)):
        assert Level.ABOVE in BY_ID[qid].levels
    assert three_more(reply)["value"] == "U2"


def test_three_more_replaces_the_three_with_new_ones(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    first = slack.command("questions <@U2>")
    assert "isn't in your network yet" in first.text
    value = three_more(first)["value"]
    pressed = slack.action(
        "show_questions",
        value=value,
        extra={
            "response_url": fake_slack.response_url("respond"),
            "container": {"type": "message", "is_ephemeral": True},
        },
    )
    assert pressed.status == 200
    (call,) = fake_slack.calls_to("respond")
    assert call["replace_original"] is True and call["response_type"] == "ephemeral"
    again = [b["text"]["text"] for b in call["blocks"] if b["type"] == "section"]
    more = [QUESTION_BLOCK.sub("", t) for t in again if QUESTION_BLOCK.match(t)]
    assert len(more) == 3
    assert not plain_ids(more) & plain_ids(questions_in(first))
    assert "<@U2>" in call["text"]


def test_three_more_under_a_dm_adds_below_and_from_home_goes_to_the_dm(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.action(
        "show_questions",
        value="U2",
        extra={
            "response_url": fake_slack.response_url("respond"),
            "container": {"type": "message", "is_ephemeral": False},
        },
    )
    (call,) = fake_slack.calls_to("respond")
    assert call["replace_original"] is False
    slack.action("show_questions", value="")  # the Home tab has no response_url
    (posted,) = fake_slack.calls_to("chat.postMessage")
    assert posted["channel"] == "U1" and "informational interview" in posted["text"]


def test_outside_person_and_topic(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    dana = slack.command('questions "Dana Lee (Acme)"')
    assert "Dana Lee (Acme)" in dana.text
    assert three_more(dana)["value"] == "~dana lee"
    # An outside name is escaped where Slack reads mrkdwn; a Slack user is a mention.
    odd = slack.command('questions "Lee <b> & Co"').json["blocks"][0]["text"]["text"]
    assert odd == "*Questions for your next conversation with Lee &lt;b&gt; &amp; Co*"

    topic = slack.command("questions about pricing & packaging")
    assert "Questions about pricing &amp; packaging" in topic.text
    for text in questions_in(topic):
        assert "pricing &amp; packaging" in text  # escaped for Slack, stored as typed
    value = three_more(topic)["value"]
    assert json.loads(value) == {"key": "", "topic": "pricing & packaging"}
    slack.action(
        "show_questions",
        value=value,
        extra={"response_url": fake_slack.response_url("respond")},
    )
    (call,) = fake_slack.calls_to("respond")
    assert "Questions about pricing &amp; packaging" in call["text"]
    assert all("pricing &amp; packaging" in b["text"]["text"] for b in call["blocks"][1:4])

    both = slack.command("questions <@U3|bob> about hiring")
    assert "<@U3>" in both.text and all("hiring" in t for t in questions_in(both))


def test_people_ally_cannot_ask_about(slack: SlackDriver) -> None:
    assert "can't find that person" in slack.command("questions <@UNOPE>").text
    assert "is a bot" in slack.command("questions <@UBOTX>").text
    assert "deactivated" in slack.command("questions <@UGONE>").text
    assert "That's you" in slack.command("questions <@U1>").text
    assert "Name the person first" in slack.command("questions hiring with <@U2>").text
    assert "keep a topic under" in slack.command("questions " + "x" * (FOCUS_MAX + 1)).text
    assert "Usage: `/ally questions" in slack.command('questions ""').text


def test_focus_show_set_use_clear(slack: SlackDriver, runtime: Runtime) -> None:
    assert "haven't set a focus" in slack.command("focus").text
    assert "nothing to clear" in slack.command("focus clear").text

    reply = slack.command("focus   R&D   budgets ")
    assert "now *R&amp;D budgets*" in reply.text
    assert "I'm working on a project about R&amp;D budgets" in reply.text
    with runtime.sessions() as session:
        assert get_focus(session, ANA) == "R&D budgets"
    assert "Your focus of inquiry is *R&amp;D budgets*" in slack.command("focus").text

    worded = slack.command("questions")
    assert "your focus" in worded.text
    assert all("R&amp;D budgets" in t for t in questions_in(worded))

    cleared = slack.command("focus clear")
    assert "Cleared" in cleared.text and "R&amp;D budgets" in cleared.text
    with runtime.sessions() as session:
        assert get_focus(session, ANA) is None
    assert plain_ids(questions_in(slack.command("questions")))


def test_focus_too_long_is_refused_clearly(slack: SlackDriver, runtime: Runtime) -> None:
    slack.command("focus onboarding")
    reply = slack.command("focus " + "y" * (FOCUS_MAX + 1))
    assert f"That's {FOCUS_MAX + 1} characters; keep a focus under {FOCUS_MAX}" in reply.text
    assert "Usage: `/ally focus" in reply.text
    with runtime.sessions() as session:
        assert get_focus(session, ANA) == "onboarding"  # nothing lost


def test_help_lists_questions_and_focus(slack: SlackDriver) -> None:
    text = slack.command("help").text
    assert "/ally questions [@person|topic]" in text and "/ally focus [<topic>|clear]" in text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    word=st.sampled_from(["questions", "focus", "QUESTIONS", "Focus"]),
    text=st.text(max_size=400)
    | st.sampled_from(["<@U2", "<@U2|x> <@U3>", '"', '"Dana', "“”", "<@UBOTX> about", "clear"]),
)
def test_any_text_gets_a_reply(slack: SlackDriver, word: str, text: str) -> None:
    reply = slack.command(f"{word} {text}")
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral" and reply.text.strip()
    assert "something went wrong" not in reply.text
