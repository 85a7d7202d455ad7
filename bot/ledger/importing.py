"""Bringing in a member's network from a file: what it would add (the preview), then adding it.

Each person read from the file is matched, in order: by email to a Slack user of the
workspace (then to the member's contact for that user, if any), else by name to an outside
contact (the organisation must agree when both have one). A person the file names only by
an e-mail address is named by it (``bot.ledger.import_files``); one with neither a name nor an
address is skipped, and says so. The preview says how many are new,
how many are already in the network and what is skipped and why; the import adds only the
new ones, so importing the same file twice adds nothing. A name or organisation longer than
Ally keeps is cut to fit (and the preview says how many were), so no row can fail the rest.

A guest's file is matched by name only, among their own contacts: never by email against the
workspace's directory, which Slack does not show guests.

Each member has one file read at a time (``claim``, across processes: a column of their
``members`` row, with a lease in case a process dies mid-read) and ``DAILY_FILES`` a day.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.errors import AllyError, InvalidInput
from bot.ledger.import_files import ReadFile
from bot.ledger.people import MemberRef, OutsidePerson, Person, SlackPerson, outside_person
from bot.ledger.service import KEY_MAX, open_member
from bot.platform.uow import Units, committed
from storage.models import NAME_MAX, Contact, Member
from storage.repository import MemberData

log = logging.getLogger(__name__)
DAILY_FILES = 20  # files a member may send Ally in a day (UTC)
IMPORT_LEASE = timedelta(minutes=10)  # a read not done by then was lost with its process


@dataclass(frozen=True)
class Plan:
    """What importing a file would do."""

    source: str
    new: list[Person] = field(default_factory=list)
    matched: int = 0  # already in the network
    matched_by_email: int = 0  # of those and the new, found in Slack by email
    known_by_email: int = 0  # of those already in the network, known by email (else by name)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> how many
    home_changed: bool = False  # people were added
    cut: int = 0  # people whose name or organisation was cut to fit
    encoding: str = "read as UTF-8"  # which text encoding the file was read in, and why
    # The addresses of each new outside person (by key), kept to recognise them in a calendar.
    emails: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
            add_people(data, found.new, now, found.emails)
            return replace(found, home_changed=True)
        return found

    try:
        try:
            return committed(units, work)
        except IntegrityError:
            # Someone joined the network while this ran (another import, /ally add): plan
            # again, and they count as already there.
            return committed(units, work)
    except SQLAlchemyError as error:
        raise not_saved(error, confirmed=confirmed) from None


def not_saved(error: SQLAlchemyError, *, confirmed: bool) -> NotSaved:
    log.warning("importing: the database failed (%s)", type(error).__name__)
    return NotSaved(
        "I couldn't reach my database just now. "
        + ("Press Import again in a minute." if confirmed else "Send the file again soon.")
    )


class NotSaved(AllyError):
    """The database failed while reading or adding the people of a file: nothing was added."""


def _fit(text: str) -> str:
    return text[:NAME_MAX].rstrip()


def _fit_key(person: OutsidePerson) -> OutsidePerson:
    """``person`` with a name short enough for its key (case folding can lengthen it)."""
    name = person.name
    while len(OutsidePerson(name).key) > KEY_MAX:
        name = name[:-1].rstrip()
    return OutsidePerson(name, person.organisation)


def match_people(data: MemberData, read: ReadFile, emails: Mapping[str, SlackPerson]) -> Plan:
    """Match every person in ``read`` against the member's network; writes nothing."""
    rows = data.contact_rows()
    keys = {row.key: row for row in rows}
    plan = Plan(read.source)
    seen: set[str] = set()
    emails_of: dict[str, tuple[str, ...]] = {}
    kept = _kept_emails(data)
    matched = by_email = known_by_email = cut = 0
    for found in read.people:
        if not found.name:
            plan.skipped["no name or e-mail address"] += 1
            continue
        person: Person | None = None
        for email in found.emails:
            user = emails.get(email.casefold())
            if user is not None:
                person = user
                break
        known = next((kept[e.casefold()] for e in found.emails if e.casefold() in kept), None)
        if person is None and known is not None:
            # An outside contact an earlier file brought in, known by an address it kept
            # (under whatever name this file gives them).
            if known not in seen:
                seen.add(known)
                matched += 1
                known_by_email += 1
            continue
        if isinstance(person, SlackPerson):
            if person.user_id == data.member.user_id:
                plan.skipped["that's you"] += 1
                continue
            by_email += 1
        else:
            name, organisation = _fit(found.name), _fit(found.organisation or "") or None
            try:
                person = outside_person(name)
            except InvalidInput:
                plan.skipped["a name Ally can't keep (a Slack link)"] += 1
                continue
            fitted = _fit_key(OutsidePerson(person.name, organisation or person.organisation))
            if (name, organisation, fitted.name) != (
                found.name,
                found.organisation or None,
                person.name,
            ):
                cut += 1
            person = fitted
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
            known_by_email += isinstance(person, SlackPerson)
            continue
        plan.new.append(person)
        if isinstance(person, OutsidePerson) and found.emails:
            emails_of[person.key] = found.emails
    return Plan(
        plan.source,
        plan.new,
        matched,
        by_email,
        known_by_email,
        plan.skipped,
        cut=cut,
        encoding=read.encoding,
        emails=emails_of,
    )


EMAILS_KEPT = 5  # addresses kept for one outside person


def _kept_emails(data: MemberData) -> dict[str, str]:
    """The addresses kept for the member's outside contacts (from files they imported), each
    to its contact's key."""
    rows = data.session.execute(
        select(Contact.key, Contact.emails).where(
            Contact.member_id == data.member.id, Contact.emails.is_not(None)
        )
    )
    return {email: key for key, text in rows for email in str(text).split("\n") if email}


def _emails_text(emails: tuple[str, ...]) -> str | None:
    kept = list(dict.fromkeys(e.strip().casefold() for e in emails if "@" in e))
    return "\n".join(e[:254] for e in kept[:EMAILS_KEPT]) or None


def add_people(
    data: MemberData,
    people: list[Person],
    now: datetime,
    emails: Mapping[str, tuple[str, ...]] | None = None,
) -> None:
    """Add ``people`` (new to the member) to their network, unplaced, each outside person with
    the addresses the file gave (``emails``, by key)."""
    data.session.add_all(
        Contact(
            member_id=data.member_id,
            key=person.key,
            slack_user_id=person.user_id if isinstance(person, SlackPerson) else None,
            name=person.name or (person.user_id if isinstance(person, SlackPerson) else ""),
            organisation=person.organisation if isinstance(person, OutsidePerson) else None,
            networks=0,
            balance=0,
            emails=_emails_text((emails or {}).get(person.key, ())),
            created_at=now,
        )
        for person in people
    )
    data.session.flush()


class Claim(enum.Enum):
    GRANTED = "granted"
    BUSY = "busy"  # another of the member's files is being read
    DAILY_CAP = "daily cap"  # DAILY_FILES files already today


def claim(units: Units, ref: MemberRef, now: datetime, *, new_file: bool) -> Claim:
    """Take the member's one import slot (``new_file``: a file sent, which counts toward the
    daily cap; else the Import button on a preview). Atomic: of two processes claiming at
    once, one is granted. ``NotSaved`` when the database fails."""
    today = now.date()
    expired = now - IMPORT_LEASE
    free = or_(Member.import_started_at.is_(None), Member.import_started_at < expired)
    under_cap = or_(
        Member.import_day.is_(None),
        Member.import_day != today,
        Member.imports_on_day < DAILY_FILES,
    )
    counted = case(
        (and_(Member.import_day.is_not(None), Member.import_day == today), Member.imports_on_day),
        else_=0,
    )

    def work(session: Session) -> Claim:
        data = open_member(session, ref, now)
        values: dict[str, object] = {"import_started_at": now}
        where = [Member.id == data.member_id, free]
        if new_file:
            values |= {"import_day": today, "imports_on_day": counted + 1}
            where.append(under_cap)
        result = session.execute(
            update(Member)
            .where(*where)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if int(result.rowcount):  # type: ignore[attr-defined]
            return Claim.GRANTED
        session.refresh(data.member)
        started = data.member.import_started_at
        return Claim.BUSY if started is not None and started >= expired else Claim.DAILY_CAP

    try:
        try:
            return committed(units, work)
        except IntegrityError:
            # The member's first files, sent at once, each created the member: one did.
            return committed(units, work)
    except SQLAlchemyError as error:
        raise not_saved(error, confirmed=not new_file) from None


def release(units: Units, ref: MemberRef, now: datetime) -> None:
    """Give the member's import slot back."""

    def work(session: Session) -> None:
        session.execute(
            update(Member)
            .where(Member.user_is(ref.enterprise_id, ref.team_id, ref.user_id))
            .values(import_started_at=None)
            .execution_options(synchronize_session=False)
        )

    try:
        committed(units, work)
    except SQLAlchemyError as error:
        # The slot frees itself when its lease runs out.
        log.warning("importing: releasing the slot failed (%s)", type(error).__name__)
