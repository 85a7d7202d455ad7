"""Reaction capture: a member's chosen emoji on someone's message offers to log a favour."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger.directory import Named, Uows, people, with_people
from bot.ledger.people import MemberRef, Person
from bot.ledger.service import Recorded, open_member, record_favour
from bot.platform.uow import committed
from storage.models import InteractionKind
from storage.repository import find_member

DEFAULT_EMOJI = "pray"
# Slack emoji names: lowercase letters, digits and _ + - ' (custom emoji included).
_EMOJI = re.compile(r"^[a-z0-9_+'\-]{1,64}$")


def base_emoji(name: str) -> str:
    """``"pray::skin-tone-3"`` -> ``"pray"``: a skin tone is the same emoji."""
    return name.split("::", 1)[0]


def reaction_emoji(session: Session, ref: MemberRef) -> str:
    """The emoji that offers to log a favour for this member (read only)."""
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    return (member.reaction_emoji if member is not None else None) or DEFAULT_EMOJI


def set_reaction_emoji(session: Session, ref: MemberRef, text: str, now: datetime) -> str:
    """Change the member's emoji from ``:name:`` or ``name``; returns the stored name."""
    name = base_emoji(text.strip().strip(":").strip().casefold())
    if not _EMOJI.match(name):
        raise InvalidInput("emoji", "Give one emoji, e.g. `:pray:` or `:raised_hands:`.")
    open_member(session, ref, now).member.reaction_emoji = name
    session.flush()
    return name


def log_reaction_favour(
    session: Session, ref: MemberRef, author: Person, emoji: str, link: str | None, now: datetime
) -> Recorded:
    """The author of a message the member reacted to helped them."""
    what = f"Their message you reacted to with :{emoji}:"
    return record_favour(
        session, ref, author, InteractionKind.FAVOUR_RECEIVED, what, now, link=link
    )


@dataclass(frozen=True)
class Emoji:
    """The member's emoji for logging a favour, and whether this call changed it."""

    name: str
    home_changed: bool = False


def react(uows: Uows, ref: MemberRef, text: str, now: datetime) -> Emoji:
    """``/ally react``: the member's emoji, changed to ``text`` when one is given."""
    if not text:
        return Emoji(committed(uows, lambda session: reaction_emoji(session, ref)))
    return Emoji(committed(uows, lambda session: set_reaction_emoji(session, ref, text, now)), True)


@dataclass(frozen=True)
class Offer:
    """A reaction that offers to log a favour: the author's name and the emoji."""

    author: str
    emoji: str


def reaction_offer(
    uows: Uows, client: WebClient, ref: MemberRef, author_id: str, reaction: str, now: datetime
) -> Offer | None:
    """The offer a reaction makes, or None: another emoji, or an author who is a bot or
    deactivated. Slack is asked for the author only once the emoji is the member's."""
    emoji = committed(uows, lambda session: reaction_emoji(session, ref))
    if base_emoji(reaction) != emoji:
        return None
    try:
        [author] = people(uows, client, ref, [Named(author_id)], now)
    except InvalidInput:
        return None
    return Offer(author.label, emoji)


def log_reaction(
    uows: Uows,
    client: WebClient,
    ref: MemberRef,
    author_id: str,
    emoji: str,
    link: str | None,
    now: datetime,
) -> Recorded:
    """The Log it button: ``log_reaction_favour`` with the author, in one unit of work."""
    return with_people(
        uows,
        client,
        ref,
        [Named(author_id)],
        now,
        lambda session, found: log_reaction_favour(session, ref, found[0], emoji, link, now),
    )
