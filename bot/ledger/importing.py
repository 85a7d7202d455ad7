"""Bringing in a member's network from a file: what it would add (the preview), then adding it.

Each person read from the file is matched, in order: by email to a Slack user of the
workspace (then to the member's contact for that user, if any), else by name to an outside
contact (the organisation must agree when both have one). The preview says how many are new,
how many are already in the network and what is skipped and why; the import adds only the
new ones, so importing the same file twice adds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger.import_files import ReadFile
from bot.ledger.people import MemberRef, OutsidePerson, Person, SlackPerson, outside_person
from bot.ledger.service import KEY_MAX, open_member
from bot.platform.uow import Units, committed
from storage.models import Contact
from storage.repository import MemberData


@dataclass(frozen=True)
class Plan:
    """What importing a file would do."""

    source: str
    new: list[Person] = field(default_factory=list)
    matched: int = 0  # already in the network
    matched_by_email: int = 0  # of those and the new, found in Slack by email
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> how many
    home_changed: bool = False  # people were added

    @property
    def new_in_slack(self) -> int:
        return sum(1 for p in self.new if isinstance(p, SlackPerson))


def bring_in(
    units: Units,
    ref: MemberRef,
    read: ReadFile,
    slack_by_email: Mapping[str, SlackPerson],
    now: datetime,
    *,
    confirmed: bool,
) -> Plan:
    """What importing ``read`` would do (the preview), or, once ``confirmed``, do it: add the
    people ``match_people`` finds new (planned again now: the network may have changed since the
    preview). One unit of work; nothing is written before the member confirms."""

    def work(session: Session) -> Plan:
        data = open_member(session, ref, now)
        found = match_people(data, read, slack_by_email)
        if confirmed and found.new:
            add_people(data, found.new, now)
            return replace(found, home_changed=True)
        return found

    return committed(units, work)


def match_people(data: MemberData, read: ReadFile, emails: Mapping[str, SlackPerson]) -> Plan:
    """Match every person in ``read`` against the member's network; writes nothing."""
    rows = data.contact_rows()
    keys = {row.key: row for row in rows}
    plan = Plan(read.source)
    seen: set[str] = set()
    matched = by_email = 0
    for found in read.people:
        if not found.name:
            plan.skipped["no name"] += 1
            continue
        person: Person | None = None
        for email in found.emails:
            user = emails.get(email.casefold())
            if user is not None:
                person = user
                break
        if isinstance(person, SlackPerson):
            if person.user_id == data.member.user_id:
                plan.skipped["that's you"] += 1
                continue
            by_email += 1
        else:
            try:
                person = outside_person(found.name)
            except InvalidInput:
                plan.skipped["a name Ally can't keep (too long, or a Slack link)"] += 1
                continue
            person = OutsidePerson(person.name, found.organisation or person.organisation)
            if len(person.key) > KEY_MAX:
                plan.skipped["a name Ally can't keep (too long, or a Slack link)"] += 1
                continue
        if person.key in seen:
            plan.skipped["listed twice in the file"] += 1
            continue
        seen.add(person.key)
        existing = keys.get(person.key)
        if existing is not None:
            theirs = existing.organisation
            ours = person.organisation if isinstance(person, OutsidePerson) else None
            if theirs and ours and theirs.casefold() != ours.casefold():
                plan.skipped["someone else of the same name is in your network"] += 1
                continue
            matched += 1
            continue
        plan.new.append(person)
    return Plan(plan.source, plan.new, matched, by_email, plan.skipped)


def add_people(data: MemberData, people: list[Person], now: datetime) -> None:
    """Add ``people`` (new to the member) to their network, unplaced."""
    data.session.add_all(
        Contact(
            member_id=data.member_id,
            key=person.key,
            slack_user_id=person.user_id if isinstance(person, SlackPerson) else None,
            name=person.name or (person.user_id if isinstance(person, SlackPerson) else ""),
            organisation=person.organisation if isinstance(person, OutsidePerson) else None,
            networks=0,
            balance=0,
            created_at=now,
        )
        for person in people
    )
    data.session.flush()
