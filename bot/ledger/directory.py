"""Names and time zones of Slack users, from ``users.info``, cached in the database.

A name is fetched at most once a day per user, so a busy command never waits on Slack for it.
Slack's ``user_change`` event keeps names and members' time zones fresh in between.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.ledger.people import MemberRef, SlackPerson
from storage.db import dialect_insert
from storage.models import NAME_MAX, Member, SlackUser

CACHE_FOR = timedelta(days=1)
log = logging.getLogger(__name__)


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
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        if code in ("user_not_found", "users_not_found"):
            raise InvalidInput(field, "I can't find that person in this workspace.") from None
        if row is not None:
            log.warning("users.info failed (%s); using the cached name for %s", code, user_id)
            return row
        raise
    values = {
        "name": _display_name(user),
        "tz": user.get("tz"),
        "is_bot": bool(user.get("is_bot")) or user_id == "USLACKBOT",
        "deleted": bool(user.get("deleted")),
        "fetched_at": now,
    }
    # One atomic upsert: several processes may cache the same user at once, and on SQLite a
    # read-then-write here could not upgrade its lock after Slack answered.
    keys = {"enterprise_id": ref.enterprise_id, "team_id": ref.team_id, "user_id": user_id}
    statement = dialect_insert(session, SlackUser).values(**keys, **values)
    session.execute(
        statement.on_conflict_do_update(index_elements=list(keys), set_=values),
        execution_options={"synchronize_session": False},
    )
    if row is not None:
        session.expire(row)
    saved = _cached(session, ref, [user_id])[user_id]
    return saved


def person(
    session: Session,
    client: WebClient,
    ref: MemberRef,
    user_id: str,
    now: datetime,
    *,
    field: str = "who",
) -> SlackPerson:
    """A Slack user as a person a member can log: real, active and human."""
    row = lookup(session, client, ref, user_id, now, field=field)
    if row.is_bot:
        raise InvalidInput(field, f"{row.name} is a bot: allies are people.")
    if row.deleted:
        raise InvalidInput(field, f"{row.name}'s account is deactivated.")
    return SlackPerson(user_id=user_id, name=row.name)


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
