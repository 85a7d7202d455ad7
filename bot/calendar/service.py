"""A member's calendar feed: connect it, show it, sync it now or when due, remove it.

A sync claims the feed (``claimed_by`` with a short lease, as the weekly DM claims its row), so
however many processes run the scheduler, each feed is read by one at a time. The feed is read
and parsed before any unit of work opens; the catch-ups it finds are written in one.

What is logged: each meeting that ended since the last sync (30 days back on the first), not
all-day, not cancelled, not declined by the member, with 2 to 10 people, once for each of the
member's contacts in it, matched by email: a Slack user by their Slack profile email, an outside
contact by an email from an imported address book. The member's own address is never a contact.
Each occurrence is logged once (its UID and original start), so a second sync, a moved
occurrence or a changed title adds nothing.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.calendar import events
from bot.calendar.fetch import FeedError, check_address, fetch
from bot.errors import AllyError
from bot.ledger import directory
from bot.ledger.people import MemberRef, SlackPerson
from bot.ledger.service import open_member
from bot.platform.runtime import Runtime
from bot.platform.uow import committed
from storage.db import transaction
from storage.models import CalendarFeed, Contact, Interaction, InteractionKind, Member
from storage.repository import MemberData, find_member
from storage.sealed import Sealer

if typing.TYPE_CHECKING:
    from bot.platform.oauth import WorkspaceClients

log = logging.getLogger(__name__)
EVERY = timedelta(hours=4)
FIRST_SYNC_BACK = timedelta(days=30)
LEASE = timedelta(minutes=5)
SOURCE = "calendar"


class NoKey(AllyError):
    """Ally has no ``ALLY_ENCRYPTION_KEY`` to seal a feed's address with."""


@dataclass(frozen=True)
class FeedStatus:
    host: str
    connected_at: datetime
    last_synced_at: datetime | None
    last_logged: int
    last_error: str | None
    failing_since: datetime | None


@dataclass(frozen=True)
class Synced:
    """One sync: how many catch-ups it logged, with whom (names), or why it failed."""

    logged: int = 0
    names: tuple[str, ...] = ()
    error: str | None = None
    busy: bool = False  # another process is syncing this feed right now


def _sealer(runtime: Runtime) -> Sealer:
    if not runtime.settings.encryption_keys:
        raise NoKey(
            "Calendar feeds are stored encrypted, and Ally has no ALLY_ENCRYPTION_KEY: "
            "ask whoever runs Ally to set one (`ally-bot keygen` prints a key)."
        )
    return Sealer(runtime.settings.encryption_keys)


def check_can_seal(runtime: Runtime) -> None:
    """NoKey unless Ally can seal a feed's address."""
    _sealer(runtime)


def _member_row(session: Session, ref: MemberRef) -> Member | None:
    return find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)


def _feed_of(session: Session, member_id: int) -> CalendarFeed | None:
    return session.scalars(
        select(CalendarFeed).where(CalendarFeed.member_id == member_id)
    ).one_or_none()


def connect(
    runtime: Runtime, client: WebClient | None, ref: MemberRef, url: str, now: datetime
) -> Synced:
    """Save ``url`` as the member's feed (replacing one they had) once it reads as a calendar,
    then sync it. A feed that fails to read changes nothing (FeedError)."""
    sealer = _sealer(runtime)
    hosts = runtime.settings.calendar_http_hosts
    address = check_address(url, hosts)
    data = fetch(address.url, hosts)
    events.read(data)  # refuses what is not a calendar, before anything is saved
    worker = _worker()

    def save(session: Session) -> int:
        member = open_member(session, ref, now).member
        feed = _feed_of(session, member.id)
        if feed is None:
            feed = CalendarFeed(member_id=member.id, created_at=now, last_logged=0)
            session.add(feed)
        feed.url_sealed = sealer.seal(address.url) or ""
        feed.host = address.host[:255]
        feed.next_sync_at = now
        feed.synced_until = None
        feed.last_synced_at = None
        feed.last_error = None
        feed.failing_since = None
        feed.failure_reported_at = None
        feed.last_logged = 0
        # Claimed at once: this request reads it first, with what it just fetched.
        feed.claimed_by = worker
        feed.claimed_until = now + LEASE
        session.flush()
        return feed.id

    feed_id = committed(runtime.unit_of_work, save)
    return _sync_claimed(runtime, client, feed_id, worker, now, fetched=data)


def status(runtime: Runtime, ref: MemberRef) -> FeedStatus | None:
    with runtime.unit_of_work() as uow:
        member = _member_row(uow.session, ref)
        feed = None if member is None else _feed_of(uow.session, member.id)
        if feed is None:
            return None
        return FeedStatus(
            feed.host,
            feed.created_at,
            feed.last_synced_at,
            feed.last_logged,
            feed.last_error,
            feed.failing_since,
        )


def remove(runtime: Runtime, ref: MemberRef) -> bool:
    """Remove the member's feed (what it logged stays in the ledger); whether there was one."""

    def work(session: Session) -> bool:
        member = _member_row(session, ref)
        if member is None:
            return False
        result = session.execute(delete(CalendarFeed).where(CalendarFeed.member_id == member.id))
        return bool(getattr(result, "rowcount", 0))

    return committed(runtime.unit_of_work, work)


def _worker() -> str:
    """A claim's owner: this process, and this one read of it (threads share a process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[-64:]


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(CalendarFeed.claimed_until.is_(None), CalendarFeed.claimed_until < now)


def _claim(runtime: Runtime, feed_id: int, worker: str, now: datetime, *, due: bool) -> bool:
    where = [CalendarFeed.id == feed_id, _claimable(now)]
    if due:
        where.append(CalendarFeed.next_sync_at <= now)
    with transaction(runtime.sessions) as session:
        result = session.execute(
            update(CalendarFeed)
            .where(*where)
            .values(claimed_by=worker, claimed_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0)) == 1


def sync_member(
    runtime: Runtime, client: WebClient | None, ref: MemberRef, now: datetime
) -> Synced:
    """Sync the member's feed now (``/ally calendar sync``); a failure is in ``Synced.error``
    (also when they have no feed), ``Synced.busy`` when another process is reading it."""
    with runtime.unit_of_work() as uow:
        member = _member_row(uow.session, ref)
        feed = None if member is None else _feed_of(uow.session, member.id)
        feed_id = None if feed is None else feed.id
    if feed_id is None:
        return Synced(error="no feed")
    worker = _worker()
    if not _claim(runtime, feed_id, worker, now, due=False):
        return Synced(busy=True)
    return _sync_claimed(runtime, client, feed_id, worker, now)


def sync_due(
    runtime: Runtime, now: datetime, clients: WorkspaceClients | None = None
) -> dict[str, int]:
    """Sync every feed due at ``now`` once (the scheduler every few minutes, and
    ``ally-bot calendar sync``); returns how many synced, failed and were busy."""
    from bot.platform.oauth import WorkspaceClients

    found = clients or WorkspaceClients(runtime)
    worker = _worker()
    counts = {"synced": 0, "failed": 0, "logged": 0}
    with runtime.unit_of_work() as uow:
        due = uow.session.execute(
            select(CalendarFeed.id, Member.enterprise_id, Member.team_id)
            .join(Member, Member.id == CalendarFeed.member_id)
            .where(CalendarFeed.next_sync_at <= now, _claimable(now))
            .order_by(CalendarFeed.next_sync_at, CalendarFeed.id)
        ).all()
    for feed_id, enterprise_id, team_id in due:
        if not _claim(runtime, feed_id, worker, now, due=True):
            continue  # another process took it
        try:
            done = _sync_claimed(
                runtime, found.for_workspace(enterprise_id, team_id), feed_id, worker, now
            )
        except Exception:  # one feed's surprise must not stop the others
            log.exception("calendar: reading feed %s failed", feed_id)
            done = Synced(error="failed")
        counts["failed" if done.error else "synced"] += 1
        counts["logged"] += done.logged
    return counts


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _sync_claimed(
    runtime: Runtime,
    client: WebClient | None,
    feed_id: int,
    worker: str,
    now: datetime,
    *,
    fetched: bytes | None = None,
) -> Synced:
    mine = and_(CalendarFeed.id == feed_id, CalendarFeed.claimed_by == worker)
    try:
        with runtime.unit_of_work() as uow:
            feed = uow.session.get(CalendarFeed, feed_id)
            assert feed is not None
            member = uow.session.get(Member, feed.member_id)
            assert member is not None
            ref = MemberRef(member.team_id, member.user_id, member.enterprise_id)
            sealed, after, tz = feed.url_sealed, feed.synced_until, member.tz
        url = _sealer(runtime).open(sealed) or ""
        after = after or now - FIRST_SYNC_BACK
        if fetched is None:
            fetched = fetch(url, runtime.settings.calendar_http_hosts)
        calendar = events.read(fetched)
        found = list(events.meetings(calendar, after, now, _zone(tz)))
        by_email = _slack_emails(runtime, client, ref, now) if found else {}
        logged, names = committed(
            runtime.unit_of_work, lambda session: _log(session, ref, found, by_email, now)
        )
    except (FeedError, NoKey) as error:
        _settle(runtime, mine, now, error=error.message)
        return Synced(error=error.message)
    except Exception:
        _settle(runtime, mine, now, error="Something went wrong on my side; I'll try again.")
        raise
    _settle(runtime, mine, now, logged=logged)
    return Synced(logged, names)


def _settle(
    runtime: Runtime,
    mine: ColumnElement[bool],
    now: datetime,
    *,
    error: str | None = None,
    logged: int = 0,
) -> None:
    with transaction(runtime.sessions) as session:
        feed = session.scalars(select(CalendarFeed).where(mine)).one_or_none()
        if feed is None:
            return  # removed meanwhile, or the lease ran out and another took it
        feed.claimed_by = None
        feed.claimed_until = None
        feed.next_sync_at = now + EVERY
        if error is None:
            feed.synced_until = now
            feed.last_synced_at = now
            feed.last_logged = logged
            feed.last_error = None
            feed.failing_since = None
            feed.failure_reported_at = None
        else:
            feed.last_error = error[:200]
            if feed.failing_since is None:
                feed.failing_since = now


def _slack_emails(
    runtime: Runtime, client: WebClient | None, ref: MemberRef, now: datetime
) -> Mapping[str, SlackPerson]:
    """The workspace's people by email; for a guest, only the member's own address (Slack
    shows guests no one's email, and neither does Ally)."""
    if client is None:
        return {}
    try:
        people = _INDEX.people(client, ref, now)
        if directory.member_is_guest(runtime.unit_of_work, client, ref, now):
            return {e: p for e, p in people.items() if p.user_id == ref.user_id}
    except (SlackApiError, AllyError) as error:
        log.warning("calendar: Slack's directory failed (%s)", type(error).__name__)
        raise FeedError(
            "Slack didn't tell me who is who just now, so I logged nothing: I'll try again."
        ) from None
    return people


_INDEX = directory.EmailIndex()


def _log(
    session: Session,
    ref: MemberRef,
    found: list[events.Meeting],
    by_email: Mapping[str, SlackPerson],
    now: datetime,
) -> tuple[int, tuple[str, ...]]:
    member = _member_row(session, ref)
    if member is None:  # forgotten while its feed was read: nothing to log
        return 0, ()
    data = MemberData(session, member)
    own = {email for email, person in by_email.items() if person.user_id == ref.user_id}
    contacts = list(session.scalars(select(Contact).where(Contact.member_id == data.member_id)))
    by_user = {c.slack_user_id: c for c in contacts if c.slack_user_id}
    by_address: dict[str, Contact] = {}
    for contact in contacts:
        for email in (contact.emails or "").split():
            by_address.setdefault(email, contact)
    keys = [meeting.key for meeting in found]
    seen: set[tuple[str | None, int]] = set()
    if keys:
        rows = session.execute(
            select(Interaction.calendar_key, Interaction.contact_id).where(
                Interaction.member_id == data.member_id, Interaction.calendar_key.in_(keys)
            )
        )
        seen = {(key, contact_id) for key, contact_id in rows}
    logged = 0
    names: list[str] = []
    offers: list[dict[str, str]] = []
    for meeting in sorted(found, key=lambda m: m.start):
        if own & meeting.declined:
            continue
        matched: dict[int, Contact] = {}
        called = dict(meeting.names)
        for email in sorted(meeting.people - own):
            person = by_email.get(email)
            if person is not None and person.user_id == ref.user_id:
                continue
            hit = by_user.get(person.user_id) if person else None
            hit = hit or by_address.get(email)
            if hit is not None:
                matched[hit.id] = hit
            elif person is not None:
                offers.append({"u": person.user_id, "n": person.name or person.user_id})
            else:
                offers.append({"e": email, "n": called.get(email) or email})
        for contact in matched.values():
            if (meeting.key, contact.id) in seen:
                continue
            seen.add((meeting.key, contact.id))
            _add(data, contact, meeting, now)
            logged += 1
            names.append(contact.name)
    if offers:
        _keep_offers(session, data.member_id, offers)
    return logged, tuple(names)


OFFERS_KEPT = 3


def _offer_key(offer: Mapping[str, str]) -> str:
    return offer.get("u") or offer.get("e") or ""


def read_offers(text: str | None) -> list[dict[str, str]]:
    """The people a feed offers (see ``CalendarFeed.offers``); [] for none or a bad value."""
    try:
        found = json.loads(text or "[]")
    except ValueError:
        return []
    if not isinstance(found, list):
        return []
    return [
        {k: str(v) for k, v in one.items() if k in ("u", "e", "n")}
        for one in found
        if isinstance(one, dict) and (one.get("u") or one.get("e"))
    ][:OFFERS_KEPT]


def _keep_offers(session: Session, member_id: int, new: list[dict[str, str]]) -> None:
    """Keep the ``OFFERS_KEPT`` people met most recently (``new`` is oldest first)."""
    feed = _feed_of(session, member_id)
    if feed is None:
        return
    kept: list[dict[str, str]] = []
    for offer in [*reversed(new), *read_offers(feed.offers)]:
        if all(_offer_key(offer) != _offer_key(k) for k in kept):
            kept.append(offer)
    feed.offers = json.dumps(kept[:OFFERS_KEPT])


def add_offered(
    runtime: Runtime, client: WebClient, ref: MemberRef, value: str, now: datetime
) -> str:
    """Add the person an Add button of the weekly DM offers to the member's network; returns
    how to name them. An outside person keeps the email the calendar gave."""
    from bot.ledger.directory import Named
    from bot.ledger.people import outside_person
    from bot.ledger.service import ContactUpdate, place

    [offer] = read_offers(f"[{value}]") or [{}]
    if offer.get("u"):
        place(runtime.unit_of_work, client, ref, Named(offer["u"]), ContactUpdate(), now)
        return f"<@{offer['u']}>"
    if not offer.get("e"):
        raise AllyError("That button is out of date: add them with `/ally add`.")
    person = outside_person(offer.get("n") or offer["e"])
    recorded = place(runtime.unit_of_work, client, ref, person, ContactUpdate(), now)

    def keep_email(session: Session) -> None:
        data = open_member(session, ref, now)
        contact = session.scalars(
            select(Contact).where(
                Contact.member_id == data.member_id, Contact.key == recorded.contact.key
            )
        ).one_or_none()
        if contact is not None and not contact.emails:
            contact.emails = offer["e"].casefold()

    committed(runtime.unit_of_work, keep_email)
    return person.name


def _add(data: MemberData, contact: Contact, meeting: events.Meeting, now: datetime) -> None:
    data.add_interaction(
        Interaction(
            contact=contact,
            kind=InteractionKind.CATCH_UP.value,
            what=meeting.title,
            occurred_at=meeting.start,
            source=SOURCE,
            calendar_key=meeting.key,
            created_at=now,
        )
    )
