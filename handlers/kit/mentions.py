"""Reading people out of command text: Slack mentions and quoted outside names.

With ``should_escape: true`` Slack sends mentions as ``<@U123|name>`` (or ``<@U123>``). Outside
people are typed in quotes, straight or curly, since Slack clients often curl them:
``"Dana Lee (Acme)"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import InvalidInput
from bot.ledger.people import OutsidePerson, Person, SlackPerson, outside_person
from bot.nudges.sentences import named
from handlers.kit.blocks import escape

MENTION = re.compile(r"^<@(?P<id>[UW][A-Z0-9]{1,30})(?:\|(?P<label>[^>]*))?>")
QUOTED = re.compile(r'^["“”„](?P<name>[^"“”„]*)["“”„]')


@dataclass(frozen=True)
class Mention:
    """A Slack user named in the text; the name comes later from the directory."""

    user_id: str
    label: str | None = None


PersonToken = Mention | OutsidePerson


def take_person(text: str, *, field: str = "who") -> tuple[PersonToken | None, str]:
    """Read one person from the start of ``text``; return it and the rest of the text.

    Returns ``(None, text)`` when the text does not start with a mention or a quoted name.
    Raises ``InvalidInput`` for a quoted name that is empty or too long.
    """
    text = text.lstrip()
    match = MENTION.match(text)
    if match:
        return Mention(match.group("id"), match.group("label") or None), text[match.end() :]
    match = QUOTED.match(text)
    if match:
        return outside_person(match.group("name"), field=field), text[match.end() :]
    return None, text


def strip_word(text: str, word: str) -> str:
    """Drop a leading filler word (``for``, ``to``) from the rest of a command."""
    text = text.strip()
    head, _, tail = text.partition(" ")
    return tail.strip() if head.casefold() == word else text


def require_person(text: str, *, field: str = "who", example: str) -> tuple[PersonToken, str]:
    person, rest = take_person(text, field=field)
    if person is None:
        raise InvalidInput(field, f"Name someone with @mention or in quotes, e.g. `{example}`.")
    return person, rest


def person_mrkdwn(label: str, slack_user_id: str | None) -> str:
    """A person in mrkdwn: a Slack user as ``<@U…>`` (Slack shows their current name, clickable),
    anyone else as their escaped name. Where Slack renders no mentions (plain_text, exports),
    use the label itself."""
    if slack_user_id:
        return f"<@{slack_user_id}>"
    return escape(label)


def mention(person: Person) -> str:
    """A person named in a sentence: a Slack user's mention, or an outside name in bold."""
    return named(person.label, person.user_id if isinstance(person, SlackPerson) else None)
