"""Give first (seed 000: you earn an ally by being one first; allies keep no score).

Whom to give to this week, and a concrete way to do it, never a debt to pay back:

1. someone who has helped the member more than the member has helped them (the largest
   difference first, then the name, then the contact added first);
2. otherwise an alliance the member has never done anything for (the first added).

The way to give follows the relationship: an alliance gets an offer of help with their current
work (seed 001: show your willingness to reciprocate); a connection an introduction (seed 002's
snowball, the other way round); anyone else something useful to share.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.nudges.sentences import Sentence
from bot.nudges.weekly_person import ContactFacts
from storage.models import Bond


class Why(enum.StrEnum):
    RECEIVED_MORE = "received more"
    NEVER_GIVEN = "never given"


@dataclass(frozen=True)
class GiveFirst:
    contact: ContactFacts
    why: Why
    received_more: int = 0  # how many more favours received than given (RECEIVED_MORE)

    @property
    def way(self) -> Sentence:
        return way_to_give(self.contact)

    @property
    def reason(self) -> Sentence:
        """Why this person, in a sentence that keeps no score."""
        name = self.contact.label
        if self.why is Why.RECEIVED_MORE:
            times = "once" if self.received_more == 1 else f"{self.received_more} times"
            text = f"{name} has helped you {times} more than you've helped them."
        else:
            text = f"{name} is one of your alliances, and you haven't done anything for them yet."
        return Sentence(text, name, self.contact.slack_user_id)


def way_to_give(contact: ContactFacts) -> Sentence:
    """One concrete way to give to ``contact``, by the kind of relationship."""
    name = contact.label
    if contact.bond == Bond.ALLIANCE.value:
        text = f"Offer help with what {name} is working on right now, before you need anything."
    elif contact.bond == Bond.CONNECTION.value:
        text = f"Make an introduction: who in your network should {name} meet?"
    else:
        text = (
            f"Share something useful with {name}: an article, a lead or a tool that fits "
            "their work."
        )
    return Sentence(text, name, contact.slack_user_id)


def give_first(
    contacts: Iterable[ContactFacts], given_to: Collection[int] = ()
) -> GiveFirst | None:
    """Whom to give to first, by the rule in the module docstring; ``given_to`` holds the ids
    of contacts the member has ever done a favour for or introduced."""
    contacts = list(contacts)
    received = [c for c in contacts if c.balance < 0]
    if received:
        most = min(c.balance for c in received)
        person = min(
            (c for c in received if c.balance == most), key=lambda c: (c.label.casefold(), c.id)
        )
        return GiveFirst(person, Why.RECEIVED_MORE, -most)
    never = [c for c in contacts if c.bond == Bond.ALLIANCE.value and c.id not in given_to]
    if never:
        return GiveFirst(min(never, key=lambda c: c.id), Why.NEVER_GIVEN)
    return None
