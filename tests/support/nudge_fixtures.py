"""Seeding members and ledgers for the nudge tests, through the real services."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.service import record_favour
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import InteractionKind, Nudge
from storage.repository import get_or_create_member


def add_member(
    runtime: Runtime,
    user_id: str,
    tz: str,
    *,
    team_id: str = "T1",
    weekday: int = 0,
    minute: int = 9 * 60,
    checked: bool = True,
    contacts: int = 1,
    enabled: bool = True,
) -> MemberRef:
    """A member with ``contacts`` overdue outside contacts (one favour received from each)."""
    now = runtime.clock()
    ref = MemberRef(team_id=team_id, user_id=user_id)
    with transaction(runtime.sessions) as session:
        member = get_or_create_member(session, "", team_id, user_id, now)
        member.tz = tz
        member.tz_checked_at = now if checked else None
        member.nudge_weekday = weekday
        member.nudge_minute = minute
        member.nudges_enabled = enabled
        for i in range(contacts):
            record_favour(
                session,
                ref,
                OutsidePerson(f"Contact {i}", "Acme"),
                InteractionKind.FAVOUR_RECEIVED,
                f"helped with project {i}",
                now,
                when=now - timedelta(days=100 + i),
            )
    return ref


def add_favour(runtime: Runtime, ref: MemberRef, who: SlackPerson, when: datetime) -> None:
    with transaction(runtime.sessions) as session:
        record_favour(
            session,
            ref,
            who,
            InteractionKind.FAVOUR_RECEIVED,
            "reviewed my plan",
            runtime.clock(),
            when=when,
        )


def nudges(runtime: Runtime) -> list[Nudge]:
    with runtime.sessions() as session:
        from sqlalchemy import select

        return list(session.scalars(select(Nudge).order_by(Nudge.member_id, Nudge.week)))


def install_workspace(runtime: Runtime, team_id: str, bot_token: str) -> None:
    """Ally installed in ``team_id`` with ``bot_token`` (an OAuth install, as Slack sends it)."""
    from slack_sdk.oauth.installation_store import Installation

    from bot.platform.oauth import installation_store

    installation_store(runtime).save(
        Installation(
            app_id="A1",
            enterprise_id=None,
            team_id=team_id,
            bot_token=bot_token,
            bot_id="BBOT",
            bot_user_id="UBOT",
            bot_scopes="chat:write,im:history,users:read",
            user_id="UADMIN",
            installed_at=1_700_000_000.0,
        )
    )
