"""Names and time zones of Slack users, from ``users.info``, cached in the database.

A name is fetched at most once a day per user, so a busy command never waits on Slack for it.
Slack's ``user_change`` event keeps names and members' time zones fresh in between.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger.people import MemberRef, OutsidePerson, Person, SlackPerson
from bot.platform.uow import UnitOfWork, committed
from storage.db import dialect_insert
from storage.models import NAME_MAX, Contact, Member, SlackUser

CACHE_FOR = timedelta(days=1)
log = logging.getLogger(__name__)
T = TypeVar("T")


def _display_name(user: dict) -> str:
    profile = user.get("profile") or {}
    for candidate in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if candidate and str(candidate).strip():
            return str(candidate).strip()[:NAME_MAX]
    return str(user.get("id", ""))


def _cached(session: Session, ref: MemberRef, user_ids: Iterable[str]) -> dict[str, SlackUser]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(SlackUser).where(
            SlackUser.enterprise_id == ref.enterprise_id,
            SlackUser.team_id == ref.team_id,
            SlackUser.user_id.in_(ids),
        )
    )
    return {row.user_id: row for row in rows}


def _fetched(
    client: WebClient, user_id: str, now: datetime, field: str, *, stale: bool
) -> dict | None:
    """What ``users.info`` says of ``user_id``, as the cache keeps it; None when Slack failed
    and a ``stale`` cached record can stand in."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        if code in ("user_not_found", "users_not_found"):
            raise InvalidInput(field, "I can't find that person in this workspace.") from None
        if stale:
            log.warning("users.info failed (%s); using the cached name for %s", code, user_id)
            return None
        raise
    return {
        "name": _display_name(user),
        "tz": user.get("tz"),
        "is_bot": bool(user.get("is_bot")) or user_id == "USLACKBOT",
        "deleted": bool(user.get("deleted")),
        "guest": is_guest(user),
        "fetched_at": now,
    }


def is_guest(user: dict) -> bool:
    """A Slack user object of a guest: ``is_restricted`` (a multi-channel guest) or
    ``is_ultra_restricted`` (a single-channel guest)."""
    return bool(user.get("is_restricted") or user.get("is_ultra_restricted"))


def _save(session: Session, ref: MemberRef, user_id: str, values: dict) -> None:
    """Cache what Slack said of a user, in one atomic upsert: several processes may cache the
    same user at once, and on SQLite a read-then-write here could not upgrade its lock."""
    keys = {"enterprise_id": ref.enterprise_id, "team_id": ref.team_id, "user_id": user_id}
    statement = dialect_insert(session, SlackUser).values(**keys, **values)
    session.execute(
        statement.on_conflict_do_update(index_elements=list(keys), set_=values),
        execution_options={"synchronize_session": False},
    )


def lookup(
    session: Session,
    client: WebClient,
    ref: MemberRef,
    user_id: str,
    now: datetime,
    *,
    field: str = "who",
    refresh: bool = False,
) -> SlackUser:
    """The cached record of ``user_id``, fetched from ``users.info`` when missing or stale."""
    row = _cached(session, ref, [user_id]).get(user_id)
    if row is not None and not refresh and now - row.fetched_at < CACHE_FOR:
        return row
    values = _fetched(client, user_id, now, field, stale=row is not None)
    if values is None and row is not None:
        return row
    _save(session, ref, user_id, values or {})
    if row is not None:
        session.expire(row)
    return _cached(session, ref, [user_id])[user_id]


def _checked(user_id: str, name: str, is_bot: bool, deleted: bool, field: str) -> SlackPerson:
    """A Slack user as a person a member can log: real, active and human."""
    if is_bot:
        raise InvalidInput(field, f"{name} is a bot: allies are people.")
    if deleted:
        raise InvalidInput(field, f"{name}'s account is deactivated.")
    return SlackPerson(user_id=user_id, name=name)


@dataclass(frozen=True)
class Named:
    """A Slack user a request names, and the field (or word) that named them.

    ``active``: they must be a real, active human (someone to log); False to read an old
    history with a bot or a deactivated account.
    """

    user_id: str
    field: str = "who"
    active: bool = True


# Who a request names: a Slack user to look up, or a person outside Slack as typed.
Wanted = Named | OutsidePerson
Uows = Callable[[], UnitOfWork]


def people(
    uows: Uows, client: WebClient, ref: MemberRef, wanted: Sequence[Wanted], now: datetime
) -> list[Person]:
    """The people a request names, with their names (for a service that runs after)."""
    return with_people(uows, client, ref, wanted, now, lambda _session, found: found)


def zone_of(uows: Uows, client: WebClient, ref: MemberRef, now: datetime) -> str | None:
    """The member's own Slack time zone, from the cache or (on a miss) ``users.info``."""
    return with_people(
        uows,
        client,
        ref,
        [Named(ref.user_id, active=False)],
        now,
        lambda session, _found: session.scalar(_ZONE, _user_key(ref, ref.user_id)),
    )


def user_changed_in(uows: Uows, enterprise_id: str, team_id: str, user: dict, now: datetime) -> int:
    """``user_changed`` in one unit of work of its own."""
    return committed(uows, lambda session: user_changed(session, enterprise_id, team_id, user, now))


class _Known(NamedTuple):
    name: str
    is_bot: bool
    deleted: bool
    fetched_at: datetime
    guest: bool | None


_ZONE = select(SlackUser.tz).where(
    SlackUser.enterprise_id == bindparam("enterprise_id"),
    SlackUser.team_id == bindparam("team_id"),
    SlackUser.user_id == bindparam("user_id"),
)


def _user_key(ref: MemberRef, user_id: str) -> dict[str, str]:
    return {"enterprise_id": ref.enterprise_id, "team_id": ref.team_id, "user_id": user_id}


_KNOWN = select(
    SlackUser.user_id,
    SlackUser.name,
    SlackUser.is_bot,
    SlackUser.deleted,
    SlackUser.fetched_at,
    SlackUser.guest,
).where(
    SlackUser.enterprise_id == bindparam("enterprise_id"),
    SlackUser.team_id == bindparam("team_id"),
    SlackUser.user_id.in_(bindparam("user_ids", expanding=True)),
)


def _known(session: Session, ref: MemberRef, user_ids: Iterable[str]) -> dict[str, _Known]:
    """What the cache holds on these users (one prepared statement: every command runs it)."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    keys = {"enterprise_id": ref.enterprise_id, "team_id": ref.team_id, "user_ids": ids}
    return {row[0]: _Known(*row[1:]) for row in session.execute(_KNOWN, keys)}


def _people(wanted: Sequence[Wanted], known: dict[str, _Known]) -> list[Person]:
    people: list[Person] = []
    for one in wanted:
        if isinstance(one, OutsidePerson):
            people.append(one)
            continue
        row = known[one.user_id]
        if one.active:
            people.append(_checked(one.user_id, row.name, row.is_bot, row.deleted, one.field))
        else:
            people.append(SlackPerson(one.user_id, row.name))
    return people


def with_people(
    uows: Uows,
    client: WebClient,
    ref: MemberRef,
    wanted: Sequence[Wanted],
    now: datetime,
    work: Callable[[Session, list[Person]], T],
) -> T:
    """Run ``work`` in one unit of work, with the people a request names, and commit it.

    Names come from the directory cache inside that same unit of work. A Slack user not cached
    (or cached more than a day ago) is fetched from ``users.info`` after it has closed, outside
    any transaction, and ``work`` then runs in a second one that caches them too.

    A guest names only people Slack shows them: someone already in their network, or someone
    they share a channel with (``shares_a_channel``). Anyone else is refused with
    ``InvalidInput`` before they are looked up, so the refusal tells the guest nothing, not
    even whether that id exists.
    """
    named = [one for one in wanted if isinstance(one, Named)]
    with uows() as uow:
        known = _known(uow.session, ref, [ref.user_id, *(one.user_id for one in named)])
        missing = {
            one.user_id: one.field
            for one in named
            if one.user_id not in known or now - known[one.user_id].fetched_at >= CACHE_FOR
        }
        strangers = _strangers(uow.session, ref, named)
        if strangers and _stale(known.get(ref.user_id), now):
            missing.setdefault(ref.user_id, "who")
        guest_asks = bool(strangers) and not missing and bool(known[ref.user_id].guest)
        if not missing and not guest_asks:
            result = work(uow.session, _people(wanted, known))
            uow.commit()
            return result
    # The member first: whether they are a guest decides whether the others may be looked up.
    fetched: dict[str, dict | None] = {}
    try:
        for user_id in sorted(missing, key=lambda user_id: user_id != ref.user_id):
            if user_id != ref.user_id and strangers:
                _refuse_strangers_for_guests(client, ref, known, strangers)
                strangers = {}
            values = _fetched(client, user_id, now, missing[user_id], stale=user_id in known)
            fetched[user_id] = values
            if values is not None:
                known[user_id] = _Known(
                    values["name"],
                    values["is_bot"],
                    values["deleted"],
                    values["fetched_at"],
                    values["guest"],
                )
        if strangers:
            _refuse_strangers_for_guests(client, ref, known, strangers)
    except InvalidInput:
        _save_all(uows, ref, fetched)  # what Slack said of the member is kept all the same
        raise
    with uows() as uow:
        for user_id, values in fetched.items():
            if values is not None:
                _save(uow.session, ref, user_id, values)
        result = work(uow.session, _people(wanted, known))
        uow.commit()
        return result


def _save_all(uows: Uows, ref: MemberRef, fetched: dict[str, dict | None]) -> None:
    if any(values is not None for values in fetched.values()):
        with uows() as uow:
            for user_id, values in fetched.items():
                if values is not None:
                    _save(uow.session, ref, user_id, values)
            uow.commit()


def _refuse_strangers_for_guests(
    client: WebClient, ref: MemberRef, known: dict[str, _Known], strangers: dict[str, str]
) -> None:
    """``InvalidInput`` when the member is a guest (or Slack could not say they are not) and
    shares no channel with one of ``strangers``."""
    member = known.get(ref.user_id)
    if member is not None and member.guest is False:
        return
    for user_id, field in strangers.items():
        if not shares_a_channel(client, ref.user_id, user_id):
            raise InvalidInput(field, GUEST_REFUSAL)


GUEST_REFUSAL = (
    "You're a guest in this workspace, so I only let you name people Slack shows you: "
    "someone already in your network, or someone you share a channel with. "
    "I can't find a channel you share with that person."
)


def _stale(row: _Known | None, now: datetime) -> bool:
    """Whether the member's own record must be asked of Slack (to know whether they are a
    guest)."""
    return row is None or row.guest is None or now - row.fetched_at >= CACHE_FOR


_CONTACT_KEYS = (
    select(Contact.key)
    .join(Member, Member.id == Contact.member_id)
    .where(
        Member.enterprise_id == bindparam("enterprise_id"),
        Member.team_id == bindparam("team_id"),
        Member.user_id == bindparam("user_id"),
        Contact.key.in_(bindparam("keys", expanding=True)),
    )
)


def _strangers(session: Session, ref: MemberRef, named: Sequence[Named]) -> dict[str, str]:
    """The Slack users a request names who are neither the member nor in their network, with
    the field that named each."""
    others = {one.user_id: one.field for one in named if one.user_id != ref.user_id}
    if not others:
        return {}
    keys = {**_user_key(ref, ref.user_id), "keys": list(others)}
    for key in session.scalars(_CONTACT_KEYS, keys):
        others.pop(key, None)
    return others


def shares_a_channel(client: WebClient, user_id: str, other_id: str) -> bool:
    """Whether two users are in a channel together, as far as Ally can see: every public
    channel, and the private channels Ally is in (``users.conversations`` with ``user``, needs
    ``channels:read`` and ``groups:read``). When Slack does not answer, they do not."""
    try:
        theirs = _channels_of(client, user_id, stop=None)
        return bool(theirs) and bool(_channels_of(client, other_id, stop=theirs))
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        log.warning("users.conversations failed (%s): treating the two as strangers", code)
        return False


def _channels_of(client: WebClient, user_id: str, *, stop: set[str] | None) -> set[str]:
    """The channels ``user_id`` is in; with ``stop``, only the first of them found in ``stop``
    (paging ends there)."""
    found: set[str] = set()
    cursor: str | None = None
    while True:
        page = client.users_conversations(
            user=user_id,
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=200,
            **({"cursor": cursor} if cursor else {}),
        )
        for channel in page.get("channels") or []:
            channel_id = str(channel.get("id") or "")
            if stop is not None and channel_id in stop:
                return {channel_id}
            if stop is None and channel_id:
                found.add(channel_id)
        cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            return found if stop is None else set()


def member_is_guest(uows: Uows, client: WebClient, ref: MemberRef, now: datetime) -> bool:
    """Whether the member is a guest of the workspace (``users.info``, cached for a day)."""
    with uows() as uow:
        row = _known(uow.session, ref, [ref.user_id]).get(ref.user_id)
    if not _stale(row, now):
        return bool(row and row.guest)
    values = _fetched(client, ref.user_id, now, "who", stale=row is not None)
    if values is None:  # Slack did not answer: a guest unless it said otherwise before
        return row is None or row.guest is not False
    with uows() as uow:
        _save(uow.session, ref, ref.user_id, values)
        uow.commit()
    return bool(values["guest"])


def may_message(uows: Uows, client: WebClient, ref: MemberRef, user_id: str, now: datetime) -> None:
    """Refuse (``InvalidInput``, field ``who``) to message ``user_id`` on a guest's behalf
    unless they share a channel: being in the guest's network is not enough to be sent a DM."""
    if user_id == ref.user_id or not member_is_guest(uows, client, ref, now):
        return
    if not shares_a_channel(client, ref.user_id, user_id):
        raise InvalidInput("who", GUEST_THANKS_REFUSAL)


GUEST_THANKS_REFUSAL = (
    "You're a guest in this workspace, so I only send thanks on your behalf to people you "
    "share a channel with, and I can't find one you share with them. "
    "Thank them your usual way."
)


def user_changed(
    session: Session, enterprise_id: str, team_id: str, user: dict, now: datetime
) -> int:
    """Keep what Slack's ``user_change`` event says about a user: their zone and name.

    The member's time zone (for the weekly DM's slot) is taken as checked now, so the weekly
    send need not ask Slack for it; a cached name is refreshed. Returns the members updated.
    """
    user_id = str(user.get("id") or "")
    if not user_id:
        return 0
    member_values: dict[str, object] = {"tz_checked_at": now}
    if user.get("tz"):
        member_values["tz"] = str(user["tz"])
    updated = session.execute(
        update(Member)
        .where(Member.user_is(enterprise_id, team_id, user_id))
        .values(**member_values)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(SlackUser)
        .where(SlackUser.user_is(enterprise_id, team_id, user_id))
        .values(
            name=_display_name(user),
            tz=user.get("tz"),
            is_bot=bool(user.get("is_bot")),
            deleted=bool(user.get("deleted")),
            guest=is_guest(user),
            fetched_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(updated.rowcount)  # type: ignore[attr-defined]


def people_by_email(client: WebClient) -> dict[str, SlackPerson]:
    """Every active human in the workspace, by case-folded email (``users.list``, 200 a page;
    emails need the ``users:read.email`` scope)."""
    found: dict[str, SlackPerson] = {}
    cursor: str | None = None
    while True:
        page = (
            client.users_list(limit=200, cursor=cursor) if cursor else client.users_list(limit=200)
        )
        for user in page.get("members") or []:
            email = (user.get("profile") or {}).get("email")
            if (
                not email
                or user.get("deleted")
                or user.get("is_bot")
                or user.get("id") == "USLACKBOT"
            ):
                continue
            found[str(email).casefold()] = SlackPerson(str(user["id"]), _display_name(user))
        cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            return found


EMAILS_FOR = timedelta(minutes=10)


class EmailIndex:
    """``people_by_email`` of each workspace, kept for ``EMAILS_FOR``: files sent together or
    one after another share one walk through ``users.list`` (Tier 2), and two imports of one
    workspace at once wait for the same walk rather than each making their own."""

    def __init__(self, keep_for: timedelta = EMAILS_FOR) -> None:
        self._keep_for = keep_for
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._kept: dict[tuple[str, str], tuple[datetime, dict[str, SlackPerson]]] = {}

    def people(self, client: WebClient, ref: MemberRef, now: datetime) -> Mapping[str, SlackPerson]:
        workspace = (ref.enterprise_id, ref.team_id)
        with self._lock:
            lock = self._locks.setdefault(workspace, threading.Lock())
        with lock:
            kept = self._kept.get(workspace)
            if kept is not None and now - kept[0] < self._keep_for:
                return kept[1]
            found = people_by_email(client)
            with self._lock:
                self._kept[workspace] = (now, found)
            return found
