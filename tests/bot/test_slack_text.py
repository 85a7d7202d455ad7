"""Reading Slack's escaped text once (``typed``) and escaping it once for mrkdwn (``mrkdwn``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack_text import USER_MENTION, clean_text, mrkdwn, typed, unescape


@pytest.mark.parametrize(
    ("sent", "what_was_typed"),
    [
        ("the R&amp;D budget &lt;draft&gt;", "the R&D budget <draft>"),
        ("&amp;amp; and &amp;lt;", "&amp; and &lt;"),  # typed literally; decoded once only
        ("&quot;x&quot; &#39;y&#39; &nbsp;", "&quot;x&quot; &#39;y&#39; &nbsp;"),  # only three
        ("for <@U3|bob> and <@W12>", "for <@U3> and <@W12>"),
        ("in <#C1|general> or <#C2>", "in #general or #C2"),
        ("<!here> <!channel> <!subteam^S1|@design>", "@here @channel @design"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
        ("see <https://x.io/a?b=1&amp;c=2>", "see https://x.io/a?b=1&c=2"),
        ("see <http://example.com|example.com>", "see example.com"),
        ("see <https://x.io/doc|the doc &amp; notes>", "see the doc & notes (https://x.io/doc)"),
        ("mail <mailto:a@b.co|a@b.co>", "mail a@b.co"),
        ("&lt;@U3&gt; typed", "<@U3> typed"),  # literal mention syntax: read as a mention
        # Tokens with an empty label read as their target.
        ("in <#C1|> and <!here|>", "in #C1 and @here"),
        ("see <https://x.io/doc|>", "see https://x.io/doc"),
        # Special mentions without a label read as their name, whatever follows the caret.
        ("<!subteam^S1> <!date^1392734382^{date}>", "@subteam @date"),
        # A link of any other scheme keeps its address; a bad mention reads as typed.
        ("<ftp://x.io/f|files>", "files (ftp://x.io/f)"),
        ("<@nobody>", "@nobody"),
    ],
)
def test_typed_reads_what_the_member_typed(sent: str, what_was_typed: str) -> None:
    assert typed(sent) == what_was_typed


def test_mrkdwn_escapes_once_and_keeps_user_mentions() -> None:
    assert mrkdwn("the R&D budget <draft>") == "the R&amp;D budget &lt;draft&gt;"
    assert mrkdwn("&amp; typed literally") == "&amp;amp; typed literally"
    assert mrkdwn("ask <@U3> or <@U4|kathy> about <!here>") == (
        "ask <@U3> or <@U4> about &lt;!here&gt;"
    )


text_without_mentions = st.text().filter(lambda s: not USER_MENTION.search(s))


@given(text_without_mentions)
def test_what_is_escaped_for_slack_reads_back_as_typed(text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert typed(escaped) == text
    assert mrkdwn(text) == escaped
    assert unescape(mrkdwn(text)) == text


def test_clean_text_keeps_one_line_without_control_characters() -> None:
    assert clean_text("  the\x00 custom\r\nreport\t ") == "the custom report"
    assert clean_text("\u200b") == ""  # a zero-width space is not printable either
    assert clean_text(clean_text("a \x07 b")) == "a b"
