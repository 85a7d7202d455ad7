"""What a member types comes back exactly as typed, on every surface that shows it.

Slack sends command text escaped (``&amp; &lt; &gt;``, mentions as ``<@U123|name>``, links in
angle brackets); Ally reads it once, stores what was typed, and escapes it once for mrkdwn. The
oracle here reads mrkdwn the way Slack shows it (``reads``), independently of Ally's code.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.nudges.delivery import Delivery
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver, slack_escape
from tests.support.waiting import wait_for

_TOKEN_OR_ENTITY = re.compile(r"<(?P<token>[^<>]*)>|&(?P<entity>amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def reads(mrkdwn: str) -> str:
    """What a member reads in mrkdwn: a mention as ``@U123``, a link as its label or address,
    and Slack's three entities decoded once (https://api.slack.com/reference/surfaces/formatting).
    """

    def one(match: re.Match[str]) -> str:
        if match.group("entity"):
            return _ENTITIES[match.group("entity")]
        target, _, label = match.group("token").partition("|")
        if target.startswith("@"):
            return target
        return label or target

    return " ".join(_TOKEN_OR_ENTITY.sub(one, mrkdwn).split())


def mrkdwn_texts(value: Any) -> list[str]:
    """Every mrkdwn string in a message or view (top-level ``text`` and mrkdwn text objects)."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            found.append(value["text"])
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str) and value.get("type") != "mrkdwn":
                if value.get("type") is None:  # a message's top-level fallback text
                    found.append(inner)
            else:
                found.extend(mrkdwn_texts(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(mrkdwn_texts(inner))
    return found


def shown_in(expected: str, message: Any) -> bool:
    if any(expected in reads(text) for text in mrkdwn_texts(message)):
        return True
    raise AssertionError(f"{expected!r} is not read in any of {mrkdwn_texts(message)}")


@dataclass(frozen=True)
class Typed:
    """Text as a member types it: literal pieces, @mentions and links."""

    pieces: tuple[tuple[str, str], ...]  # ("text" | "mention" | "link", value)

    @property
    def as_sent(self) -> str:
        """As Slack sends it in a slash command (``should_escape: true``)."""
        out = []
        for kind, value in self.pieces:
            if kind == "mention":
                out.append(f"<@{value}|{value.lower()}>")
            elif kind == "link":
                out.append(f"<{slack_escape(value)}>")
            else:
                out.append(slack_escape(value))
        return " ".join(out)

    @property
    def stored(self) -> str:
        """What Ally keeps and puts in plain_text (modal inputs): mentions as ``<@U123>``."""
        return " ".join(f"<@{v}>" if k == "mention" else v for k, v in self.pieces)

    @property
    def read(self) -> str:
        """What the member reads where the text is shown as mrkdwn."""
        return " ".join(f"@{v}" if k == "mention" else v for k, v in self.pieces)


_LOOKS_LIKE_A_MENTION = re.compile(r"<@[UW][A-Z0-9]")
_CHARACTERS = [*"abcXYZ019&<>;#@!|*_~`'\"().,:/?=-", "é", "ß", "😀", "🎉", "👍🏽"]
literal = (
    st.lists(st.sampled_from([*_CHARACTERS, "&amp;", "&lt;", "<!here>"]), min_size=1, max_size=8)
    .map("".join)
    # A member typing the characters ``<@U1>`` gets a mention (bot/slack_text.py says why).
    .filter(lambda s: not _LOOKS_LIKE_A_MENTION.search(s))
    .map(lambda s: ("text", s))
)
mention = st.sampled_from(["U2", "U4"]).map(lambda u: ("mention", u))
link = st.sampled_from(
    ["https://example.com/a?b=1&c=2", "https://acme.slack.com/archives/C1/p1", "http://x.io"]
).map(lambda u: ("link", u))
HOME_WHAT_MAX = 80  # Home lists a favour's first 80 characters; longer text is cut with "…"
typed_text = (
    st.lists(st.one_of(literal, literal, mention, link), min_size=1, max_size=5)
    .map(lambda pieces: Typed(tuple(pieces)))
    .filter(lambda typed: len(typed.stored) <= HOME_WHAT_MAX)
)


def thanks_value(reply: dict[str, Any]) -> str:
    return next(
        str(e["value"])
        for b in reply["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "say_thanks"
    )


def read_back_everywhere(
    slack: SlackDriver,
    fake: FakeSlack,
    runtime: Runtime,
    clock: FrozenClock,
    user: str,
    text: Typed,
) -> None:
    """``/ally thanks @bob for <text>`` by ``user``, then every surface that shows ``text``."""
    reply = slack.command(f"thanks <@U3|bob> for {text.as_sent}", user=user, sent=True).json
    assert shown_in(text.read, reply)

    who = slack.command("who <@U3>", user=user).json
    assert shown_in(text.read, who)

    fake.reset()
    slack.event({"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"})
    homes = [c["view"] for c in fake.calls_to("views.publish") if c["user_id"] == user]
    assert homes and all(shown_in(text.read, home) for home in homes)

    Delivery(runtime, web_client(runtime)).run(clock.now)
    [weekly] = fake.messages[f"D{user}"]
    assert shown_in(text.read, weekly)

    # The thank-you: the modal's first draft (plain_text) holds the text as typed; the member
    # sends the text itself back through the modal, as typed (modal values are not escaped).
    fake.reset()
    favour = thanks_value(reply)
    slack.action("say_thanks", value=favour, user=user)
    [opened] = fake.calls_to("views.open")
    [field] = [b for b in opened["view"]["blocks"] if b["type"] == "input"]
    assert text.stored in field["element"]["initial_value"]
    slack.submit(
        "say_thanks_modal",
        {"message": {"message": {"type": "plain_text_input", "value": text.stored}}},
        user=user,
        private_metadata=favour,
    )
    [dm] = fake.calls_to("chat.postMessage")
    assert dm["channel"] == "DU3"
    assert shown_in(f"wanted to say thanks for {text.read}", dm.params)
    assert shown_in(f"> {text.read}", dm.params)

    fake.reset()
    slack.command("export", user=user)
    # The file is delivered after Slack has its answer.
    [upload] = wait_for(lambda: fake.calls_to("upload"))
    exported = json.loads(upload["content"])
    assert text.stored in {i["what"] for i in exported["interactions"]}


def test_r_and_d_budget_draft_reads_as_typed_everywhere(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    reply = slack.command("thanks <@U3> for the R&D budget <draft>")
    shown = json.dumps(reply.json)
    assert "R&amp;D budget &lt;draft&gt;" in shown and "&amp;amp;" not in shown
    typed = Typed((("text", "the R&D budget <draft>"),))
    read_back_everywhere(slack, fake_slack, runtime, clock, "U1", typed)


_members = itertools.count(1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=typed_text)
def test_any_text_comes_back_as_typed_on_every_surface(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock, text: Typed
) -> None:
    # A new member for each example, so each surface shows only this example's text.
    user = f"UP{next(_members)}"
    fake_slack.add_user(user, f"Member {user}")
    read_back_everywhere(slack, fake_slack, runtime, clock, user, text)


def test_message_shortcut_prefills_the_message_as_its_author_typed_it(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    message = {"user": "U2", "ts": "1700000123.004500", "text": "R&D <draft> &amp; <@U3>"}
    slack.message_shortcut("log_message_favour", message)
    [opened] = fake_slack.calls_to("views.open")
    values = [
        b["element"].get("initial_value")
        for b in opened["view"]["blocks"]
        if b["type"] == "input" and b["element"]["type"] == "plain_text_input"
    ]
    assert "R&D <draft> &amp; <@U3>" in values


def test_words_ally_echoes_back_are_shown_as_typed(slack: SlackDriver) -> None:
    assert "I don't know `/ally R&amp;D&lt;x&gt;`" in slack.command("R&D<x>").body
    option = slack.command("add <@U2> <weird>&co").body
    assert "I don't know the option `&lt;weird&gt;&amp;co`" in option
    day = slack.command("nudges <mon>").body
    assert "I don't know the day `&lt;mon&gt;`" in day
    name = slack.command('thanks "Ann & <Co>" for the R&D budget').body
    assert "Ann &amp; &lt;Co&gt;" in name and "&amp;amp;" not in name
