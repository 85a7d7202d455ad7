"""Give a member a realistic slice of data through the real services (for export, forget,
uninstall, logging and migration tests), and count what a database holds."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import MetaData, Table, and_, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.home.service import entered_home
from bot.ledger.people import MemberRef, OutsidePerson, SlackPerson
from bot.ledger.projects import start as start_project
from bot.ledger.service import ContactUpdate, Entry, record_entry, record_favour, update_contact
from bot.nudges.meeting_plans import make_plan
from storage.db import transaction
from storage.models import (
    Base,
    CalendarFeed,
    Contact,
    ExportFile,
    ExportStatus,
    HomeVisit,
    Interaction,
    InteractionKind,
    Level,
    MeetingPlan,
    Member,
    Nudge,
    NudgeStatus,
    PlanMessage,
    PlanStep,
    Project,
    ProjectAlly,
    QuestionAsked,
    SentMessage,
    SlackUser,
)
from storage.repository import find_member

TABLES = (
    Member,
    Contact,
    Interaction,
    QuestionAsked,
    Nudge,
    HomeVisit,
    SlackUser,
    ExportFile,
    Project,
    ProjectAlly,
    MeetingPlan,
    PlanMessage,
    SentMessage,
    CalendarFeed,
)

# How each table of storage.models' metadata relates to a member. Every table must be listed:
# a new table fails tests/handlers/data_rights/test_nothing_left_behind.py until someone says
# here whether (and how) forget, uninstall and export must cover it.
BY_MEMBER = "rows hang off members.id (member_id)"
BY_IDENTITY = "rows carry the Slack identity (enterprise_id, team_id, user_id)"
NOT_PERSONAL = "holds nothing about anyone"
# Outlives the member's rows by design, until Slack confirms each delete: so it keeps no member
# id, no user id and no content, only the workspace and the Slack object (channel and ts, or a
# file id). tests/handlers/data_rights/test_slack_deletions.py checks that it holds no more.
SLACK_OBJECTS = "Ally's own messages and files to delete in Slack: workspace and Slack ids only"
OWNERSHIP = {
    "members": BY_IDENTITY,
    "contacts": BY_MEMBER,
    "interactions": BY_MEMBER,
    "questions_asked": BY_MEMBER,
    "nudges": BY_MEMBER,
    "slack_users": BY_IDENTITY,
    "home_visits": BY_IDENTITY,
    "export_files": BY_IDENTITY,
    "projects": BY_MEMBER,
    "project_allies": BY_MEMBER,
    "meeting_plans": BY_MEMBER,
    "plan_messages": BY_MEMBER,
    "sent_messages": BY_IDENTITY,
    "calendar_feeds": BY_MEMBER,
    # Request signatures and event ids, kept 15 minutes against replays.
    "seen_requests": NOT_PERSONAL,
    "slack_deletions": SLACK_OBJECTS,
}


def give_data(
    sessions: sessionmaker[Session], ref: MemberRef, now: datetime, *, secret: str = "private"
) -> None:
    """Two contacts (one with notes containing ``secret``), three ledger lines and a catch-up
    from the calendar, a suggested question, a nudge, a project with its ally, a meeting plan
    with its reminder, a connected calendar feed, a visit to Home, a past export, an answer Ally
    posted in their DM and a cached directory entry for ``ref``."""
    with transaction(sessions) as session:
        ally = SlackPerson(user_id="U2", name="Maria Lopez")
        outside = OutsidePerson(name="Dana Lee", organisation="Acme")
        record_favour(
            session, ref, ally, InteractionKind.FAVOUR_RECEIVED, f"reviewed {secret}", now
        )
        record_favour(session, ref, ally, InteractionKind.FAVOUR_GIVEN, "paired on a bug", now)
        intro = Entry(InteractionKind.INTRO_RECEIVED, "met at the offsite")
        record_entry(session, ref, intro, [ally, outside], now)
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
        maria = session.scalars(
            select(Contact).where(Contact.member_id == member.id, Contact.key == "U2")
        ).one()
        session.add(
            Interaction(
                member_id=member.id,
                contact_id=maria.id,
                kind=InteractionKind.CATCH_UP.value,
                what=f"1:1 {secret}",
                occurred_at=now - timedelta(days=1),
                source="calendar",
                calendar_key="0" * 64,
                created_at=now,
            )
        )
        session.add(
            CalendarFeed(
                member_id=member.id,
                url_sealed="fernet:sealed-" + ref.user_id,
                host="calendar.google.com",
                created_at=now,
                next_sync_at=now,
                last_logged=1,
            )
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
        start_project(session, ref, f"launch {secret}", [ally], now)
        plan, _ = make_plan(session, ref, ally, now.date() + timedelta(days=1), "coffee", now)
        session.add(
            PlanMessage(
                member_id=member.id,
                plan_id=plan.id,
                step=PlanStep.REMINDER,
                day=plan.day,
                status=NudgeStatus.SENT,
                attempts=1,
                sent_at=now,
            )
        )
        entered_home(session, ref, now)
        session.add(
            ExportFile(
                enterprise_id=ref.enterprise_id,
                team_id=ref.team_id,
                user_id=ref.user_id,
                request_key="k-" + ref.user_id,
                status=ExportStatus.SENT,
                requested_at=now,
                sent_at=now,
                channel_id="D" + ref.user_id,
                file_id="F-" + ref.team_id + ref.user_id,
            )
        )
        session.add(
            SentMessage(
                enterprise_id=ref.enterprise_id,
                team_id=ref.team_id,
                user_id=ref.user_id,
                channel_id="D" + ref.user_id,
                message_ts="1700000999.000100",
                sent_at=now,
            )
        )
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


def metadata_tables() -> dict[str, Table]:
    return dict(Base.metadata.tables)


def rows_about(sessions: sessionmaker[Session], ref: MemberRef) -> dict[str, int]:
    """Rows about ``ref`` in every table of the metadata, found by the table's columns."""
    found: dict[str, int] = {}
    with sessions() as session:
        member_ids = select(Member.id).where(
            Member.user_is(ref.enterprise_id, ref.team_id, ref.user_id)
        )
        for name, table in metadata_tables().items():
            columns = table.c
            if "member_id" in columns:
                where = columns.member_id.in_(member_ids.scalar_subquery())
            elif {"enterprise_id", "team_id", "user_id"} <= set(columns.keys()):
                where = and_(
                    columns.enterprise_id == ref.enterprise_id,
                    columns.team_id == ref.team_id,
                    columns.user_id == ref.user_id,
                )
            else:
                continue
            found[name] = int(
                session.scalar(select(func.count()).select_from(table).where(where)) or 0
            )
    return found


def rows_of_workspace(sessions: sessionmaker[Session], team_id: str) -> dict[str, int]:
    """Rows of workspace ``team_id`` in every table that has a team column (the OAuth
    installation tables too), or that hangs off a member of that workspace."""
    found: dict[str, int] = {}
    with sessions() as session:
        bind = session.get_bind()
        reflected = MetaData()
        reflected.reflect(bind)
        member_ids = select(Member.id).where(Member.team_id == team_id).scalar_subquery()
        for name, table in reflected.tables.items():
            if name == "alembic_version":
                continue
            columns = table.c
            if "team_id" in columns:
                where = columns.team_id == team_id
            elif "member_id" in columns:
                where = columns.member_id.in_(member_ids)
            else:
                continue
            found[name] = int(
                session.scalar(select(func.count()).select_from(table).where(where)) or 0
            )
    return found
