"""Give a member a realistic slice of data through the real services (for export, forget,
uninstall, logging and migration tests), and count what a database holds."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.home.service import entered_home
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.service import ContactUpdate, record_favour, record_intro_received, update_contact
from storage.db import transaction
from storage.models import (
    Contact,
    HomeVisit,
    Interaction,
    InteractionKind,
    Level,
    Member,
    Nudge,
    NudgeStatus,
    QuestionAsked,
    SlackUser,
)
from storage.repository import find_member

TABLES = (Member, Contact, Interaction, QuestionAsked, Nudge, HomeVisit, SlackUser)


def give_data(
    sessions: sessionmaker[Session], ref: MemberRef, now: datetime, *, secret: str = "private"
) -> None:
    """Two contacts (one with notes containing ``secret``), three ledger lines, a suggested
    question, a nudge, a visit to Home and a cached directory entry for ``ref``."""
    with transaction(sessions) as session:
        ally = SlackPerson(user_id="U2", name="Maria Lopez")
        outside = OutsidePerson(name="Dana Lee", organisation="Acme")
        record_favour(
            session, ref, ally, InteractionKind.FAVOUR_RECEIVED, f"reviewed {secret}", now
        )
        record_favour(session, ref, ally, InteractionKind.FAVOUR_GIVEN, "paired on a bug", now)
        record_intro_received(session, ref, ally, outside, "met at the offsite", now)
        update_contact(
            session,
            ref,
            ally,
            ContactUpdate(level=Level.ABOVE, notes=f"notes: {secret}", cadence_days=14),
            now,
        )
        member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
        assert member is not None
        session.add(
            QuestionAsked(member_id=member.id, scope="U2", question_id="q-first", asked_at=now)
        )
        session.add(
            Nudge(
                member_id=member.id,
                week="2026-W47",
                status=NudgeStatus.SENT,
                due_at=now,
                planned_at=now - timedelta(minutes=5),
                attempts=1,
                sent_at=now,
            )
        )
        entered_home(session, ref, now)
        cached = session.scalars(
            select(SlackUser).where(
                SlackUser.enterprise_id == ref.enterprise_id,
                SlackUser.team_id == ref.team_id,
                SlackUser.user_id == ref.user_id,
            )
        ).one_or_none()
        if cached is None:
            session.add(
                SlackUser(
                    enterprise_id=ref.enterprise_id,
                    team_id=ref.team_id,
                    user_id=ref.user_id,
                    name="Member " + ref.user_id,
                    fetched_at=now,
                )
            )


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows per table in the whole database."""
    with sessions() as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in TABLES
        }


def member_counts(sessions: sessionmaker[Session], ref: MemberRef) -> dict[str, int]:
    """Rows that belong to ``ref``: 0 everywhere once they are forgotten."""
    with sessions() as session:
        member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
        if member is None:
            return {}
        return {
            model.__tablename__: int(
                session.scalar(
                    select(func.count()).select_from(model).where(model.member_id == member.id)  # type: ignore[attr-defined]
                )
                or 0
            )
            for model in (Contact, Interaction, QuestionAsked, Nudge)
        }
