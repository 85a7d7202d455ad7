"""Who a member is talking about: a Slack user or a person outside Slack."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from bot.errors import InvalidInput
from storage.models import NAME_MAX


@dataclass(frozen=True)
class MemberRef:
    """A member is one Slack user in one workspace; everything they log is scoped to this."""

    team_id: str
    user_id: str
    enterprise_id: str = ""


@dataclass(frozen=True)
class SlackPerson:
    """A Slack user, with the display name from the directory (``users.info``) when known."""

    user_id: str
    name: str = ""

    @property
    def key(self) -> str:
        return self.user_id

    @property
    def label(self) -> str:
        return self.name or self.user_id


@dataclass(frozen=True)
class OutsidePerson:
    """Someone outside the workspace: a name and, optionally, an organisation."""

    name: str
    organisation: str | None = None

    @property
    def key(self) -> str:
        return "~" + " ".join(self.name.split()).casefold()

    @property
    def label(self) -> str:
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


Person = SlackPerson | OutsidePerson


class PersonFields(Protocol):
    """What names a contact, however it was read: a stored contact, its plain columns, or
    the contact as the views get it."""

    @property
    def name(self) -> str: ...

    @property
    def slack_user_id(self) -> str | None: ...

    @property
    def organisation(self) -> str | None: ...


def person_of(contact: PersonFields) -> Person:
    """The person a contact stands for: a Slack user, or someone outside Slack."""
    if contact.slack_user_id:
        return SlackPerson(user_id=contact.slack_user_id, name=contact.name)
    return OutsidePerson(name=contact.name, organisation=contact.organisation)


def label_of(name: str, slack_user_id: str | None, organisation: str | None) -> str:
    """How a contact is named (its person's ``label``), from its plain columns: a Slack user's
    name, or an outside name with the organisation."""
    if slack_user_id:
        return name or slack_user_id
    return f"{name} ({organisation})" if organisation else name


def contact_label(contact: PersonFields) -> str:
    """``label_of`` a contact however it was read."""
    return label_of(contact.name, contact.slack_user_id, contact.organisation)


_ORG_SUFFIX = re.compile(r"^(?P<name>.*?)\s*\((?P<org>[^()]*)\)\s*$")


def outside_person(text: str, *, field: str = "who") -> OutsidePerson:
    """Parse ``"Dana Lee (Acme)"`` into a name and an organisation, checking both."""
    text = " ".join(text.split())
    name, organisation = text, None
    match = _ORG_SUFFIX.match(text)
    if match and match.group("name").strip():
        name = match.group("name").strip()
        organisation = match.group("org").strip() or None
    if not name:
        raise InvalidInput(field, 'Give the person\'s name, e.g. "Dana Lee (Acme)".')
    if len(name) > NAME_MAX or (organisation and len(organisation) > NAME_MAX):
        raise InvalidInput(field, f"That name is too long: keep it under {NAME_MAX} characters.")
    if name.startswith("<") and name.endswith(">"):
        raise InvalidInput(field, "That looks like a Slack link, not a name: use @mention instead.")
    return OutsidePerson(name=name, organisation=organisation)
