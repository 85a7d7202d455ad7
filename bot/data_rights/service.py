"""A member's rights over their data: take it all out (export) or erase it (forget); and a
workspace's data erased when Ally is uninstalled from it.

Services take a session and never commit: the caller's transaction makes an erasure all or
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.ledger.people import MemberRef
from storage.models import (
    Contact,
    HomeVisit,
    Interaction,
    MeetingPlan,
    Member,
    Nudge,
    PlanMessage,
    Project,
    ProjectAlly,
    QuestionAsked,
    SlackUser,
)
from storage.repository import find_member

EXPORT_FORMAT = "ally-export/1"
# Deleted children first, so an erasure does not depend on the database cascading for it.
MEMBER_TABLES = (
    Nudge,
    PlanMessage,
    MeetingPlan,
    ProjectAlly,
    Project,
    QuestionAsked,
    Interaction,
    Contact,
)


@dataclass(frozen=True)
class Erased:
    """How many rows an erasure deleted, per table."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        column.key: _plain(getattr(obj, column.key))
        for column in obj.__table__.columns
        if column.key not in skip
    }


def export(session: Session, ref: MemberRef, now: datetime) -> dict[str, Any]:
    """Everything Ally holds about ``ref``: settings, contacts, ledger, questions, nudges,
    projects and meeting plans.

    Read-only: a member who never used Ally gets an export that says so, and no row is created.
    """
    result: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "workspace": {"enterprise_id": ref.enterprise_id or None, "team_id": ref.team_id},
        "user_id": ref.user_id,
        "member": None,
        "contacts": [],
        "interactions": [],
        "questions_asked": [],
        "nudges": [],
        "projects": [],
        "project_allies": [],
        "meeting_plans": [],
        "plan_messages": [],
    }
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    if member is None:
        return result
    internal = ("member_id",)
    result["member"] = _row(member, skip=("id", "enterprise_id", "team_id", "user_id"))
    for key, model, order in (
        ("contacts", Contact, Contact.id),
        ("interactions", Interaction, Interaction.occurred_at),
        ("questions_asked", QuestionAsked, QuestionAsked.asked_at),
        ("nudges", Nudge, Nudge.week),
        ("projects", Project, Project.started_at),
        ("project_allies", ProjectAlly, ProjectAlly.project_id),
        ("meeting_plans", MeetingPlan, MeetingPlan.day),
        ("plan_messages", PlanMessage, PlanMessage.day),
    ):
        rows = session.scalars(
            select(model).where(model.member_id == member.id).order_by(order, model.id)
        )
        result[key] = [_row(row, skip=internal) for row in rows]
    return result


def _erase_members(session: Session, which: ColumnElement[bool]) -> dict[str, int]:
    member_ids = select(Member.id).where(which).scalar_subquery()
    counts: dict[str, int] = {}
    for model in MEMBER_TABLES:
        counts[model.__tablename__] = _delete(session, model, model.member_id.in_(member_ids))
    counts["members"] = _delete(session, Member, which)
    return counts


def _delete(session: Session, model: Any, which: ColumnElement[bool]) -> int:
    """Delete rows with a Core statement (no ORM objects loaded) and say how many went."""
    result = session.execute(delete(model.__table__).where(which))
    return int(getattr(result, "rowcount", 0) or 0)


def forget(session: Session, ref: MemberRef) -> Erased:
    """Delete every row that belongs to ``ref`` (their settings, contacts, ledger, questions,
    nudges, when they last entered Home). Other members' own notes are theirs and stay."""
    who = (ref.enterprise_id, ref.team_id, ref.user_id)
    counts = _erase_members(session, Member.user_is(*who))
    counts["home_visits"] = _delete(session, HomeVisit, HomeVisit.user_is(*who))
    return Erased(counts)


def erase_workspace(
    session: Session, *, enterprise_id: str, team_id: str | None, whole_enterprise: bool = False
) -> Erased:
    """Delete all of a workspace's data: every member's and the cached directory.

    ``whole_enterprise`` is for an organisation-wide (Enterprise Grid) install, which covers every
    workspace of ``enterprise_id``.
    """
    if whole_enterprise and not enterprise_id:
        raise ValueError("an organisation-wide erasure needs the enterprise id")
    if not whole_enterprise and not team_id:
        raise ValueError("a workspace erasure needs the team id")
    where = (enterprise_id, None if whole_enterprise else team_id)
    counts = _erase_members(session, Member.workspace_is(*where))
    counts["home_visits"] = _delete(session, HomeVisit, HomeVisit.workspace_is(*where))
    counts["slack_users"] = _delete(session, SlackUser, SlackUser.workspace_is(*where))
    return Erased(counts)
