"""Sentences that name one person, for the weekly DM and Home.

A ``Sentence`` is the plain text itself (the person by the name Ally has for them, what a
terminal or a notification shows) and knows where the person is named, so that mrkdwn can show
a Slack user as a mention instead (Slack renders their current name, clickable).
"""

from __future__ import annotations

from bot.slack_text import mrkdwn as escape


class Sentence(str):
    """Plain text naming ``label`` (its first occurrence), who is ``slack_user_id`` in Slack."""

    person_at: int
    label: str
    slack_user_id: str | None

    def __new__(cls, text: str, label: str = "", slack_user_id: str | None = None) -> Sentence:
        sentence = super().__new__(cls, text)
        sentence.label = label
        sentence.slack_user_id = slack_user_id
        sentence.person_at = text.find(label) if label else -1
        return sentence

    @property
    def mrkdwn(self) -> str:
        """The sentence as mrkdwn: the person as ``<@U…>`` if a Slack user, escaped otherwise."""
        if self.person_at < 0:
            return escape(str(self))
        end = self.person_at + len(self.label)
        name = f"<@{self.slack_user_id}>" if self.slack_user_id else escape(self.label)
        return escape(self[: self.person_at]) + name + escape(self[end:])


def mrkdwn(text: str) -> str:
    """Any text for mrkdwn: a ``Sentence`` with its mention, other text escaped."""
    return text.mrkdwn if isinstance(text, Sentence) else escape(text)


def named(label: str, slack_user_id: str | None) -> str:
    """A person in mrkdwn: a Slack user as a mention (Slack shows their current name,
    clickable), anyone else by their escaped name in bold."""
    return f"<@{slack_user_id}>" if slack_user_id else f"*{escape(label)}*"
