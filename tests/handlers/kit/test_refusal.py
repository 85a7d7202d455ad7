"""A domain error told to the member in mrkdwn never lets what they typed become markup."""

from __future__ import annotations

from bot.errors import InvalidInput, NotFound
from handlers.kit.blocks import refusal


def test_a_refusal_escapes_what_the_member_typed_and_keeps_the_rest() -> None:
    reply = refusal(NotFound('Nothing logged with "Dana <!channel> & Co" yet. Try `/ally add`.'))
    expected = 'Nothing logged with "Dana &lt;!channel&gt; &amp; Co" yet. Try `/ally add`.'
    assert reply.text == expected
    [block] = reply.blocks
    assert block.to_dict()["text"] == {"type": "mrkdwn", "text": expected}


def test_a_refusal_keeps_a_plain_message_as_it_is() -> None:
    assert refusal(InvalidInput("who", "That's you! Name someone else.")).text == (
        "That's you! Name someone else."
    )
