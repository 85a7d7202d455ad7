"""Text between Slack and Ally: read what a member typed once, and write it into mrkdwn once.

Slack escapes ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;`` and ``&gt;`` in the text it sends an
app (slash command text, message text in events) and decodes only those three entities when it
shows mrkdwn; ``<...>`` with real angle brackets is its own markup (mentions, channels, links).
Source: https://api.slack.com/reference/surfaces/formatting ("Escaping text", "Linking to
channels and users") and, for slash commands, https://api.slack.com/interactivity/slash-commands
("should_escape"). Values typed into modal inputs arrive as typed and never pass through here.

Ally stores what the member typed: literal characters as themselves, a user mention as
``<@U123>`` (so it is shown with the user's current name), and other Slack markup as the text the
member saw (``#general``, ``@here``, a link's address). ``typed`` does that on the way in;
``mrkdwn`` escapes it again, once, wherever it is shown as mrkdwn. ``plain_text`` objects (modal
titles, labels, options, input values) take the stored text as it is. ``clean_text`` is the one
rule for a line Ally keeps (a note, a name, what happened): one line, no control characters.

One ambiguity is accepted: a member who types the characters ``<@U123>`` literally gets a
mention of that user, the same as picking them from Slack's autocomplete.
"""

from __future__ import annotations

import re

# A user mention as Ally stores and renders it; Slack may add ``|name`` on the way in.
USER_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]{1,30})(?:\|[^<>]*)?>")
# Any Slack markup token in incoming text: only Slack writes real angle brackets there.
_TOKEN = re.compile(r"<(?P<body>[^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_SCHEMES = ("https://", "http://", "mailto:")


def unescape(text: str) -> str:
    """Slack's three entities decoded, in one pass (so ``&amp;lt;`` becomes ``&lt;``)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def _token(body: str) -> str:
    """What the member saw for one Slack markup token ``<body>``."""
    target, bar, label = body.partition("|")
    if target.startswith("@") and USER_MENTION.fullmatch(f"<{body}>"):
        return f"<{target}>"
    if target.startswith("#"):  # a channel: <#C123|general>
        return "#" + unescape(label) if bar and label else target
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        if bar and label:
            return unescape(label)
        return "@" + target[1:].split("^", 1)[0]
    url, label = unescape(target), unescape(label)
    if not bar or not label:
        return url
    # A typed address Slack linked for the member (``example.com`` arrives as
    # <http://example.com|example.com>) reads as the label; a formatted link keeps its address.
    bare = next((url[len(s) :] for s in _SCHEMES if url.startswith(s)), url)
    return label if label in (url, bare) else f"{label} ({url})"


def clean_text(text: str) -> str:
    """``text`` on one line, without control characters (PostgreSQL refuses NUL in text), its
    runs of whitespace collapsed to single spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def typed(text: str) -> str:
    """What the member typed, from text as Slack sends it (command text, message events)."""
    out: list[str] = []
    end = 0
    for match in _TOKEN.finditer(text):
        out.append(unescape(text[end : match.start()]))
        out.append(_token(match.group("body")))
        end = match.end()
    out.append(unescape(text[end:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """What a member typed, escaped once for mrkdwn: shown as text; user mentions stay mentions."""
    out: list[str] = []
    end = 0
    for match in USER_MENTION.finditer(text):
        out.append(_escape(text[end : match.start()]))
        out.append(f"<@{match.group('id')}>")
        end = match.end()
    out.append(_escape(text[end:]))
    return "".join(out)
