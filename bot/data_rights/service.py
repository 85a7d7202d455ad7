"""A member's rights over their data: take it all out (export) or erase it (forget); and a
workspace's data erased when Ally is uninstalled from it.

The functions on a session never commit; the services run them in one unit of work each, so
an erasure is all or nothing. In the same transaction, an erasure lists Ally's own copies in
Slack (every DM it posted to the member: the weekly DMs, the plans' reminders and follow-ups,
its answers in their DM; and the export files it uploaded) in ``slack_deletions``, which
bot.data_rights.deletions deletes in Slack afterwards, until Slack confirms.

A thank-you Ally delivered on a member's behalf is not one of them: it was sent to a colleague,
is the colleague's message now, and stays in their DM with Ally.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.data_rights.deletions import Copy, record
from bot.ledger.people import MemberRef
from bot.platform.uow import Units, committed
from storage.db import dialect_insert
from storage.models import (
    CalendarFeed,
    Contact,
    ExportFile,
    ExportStatus,
    HomeVisit,
    Interaction,
    MeetingPlan,
    Member,
    Nudge,
    PlanMessage,
    Project,
    ProjectAlly,
    QuestionAsked,
    SentMessage,
    SlackUser,
)
from storage.repository import find_member

EXPORT_FORMAT = "ally-export/1"
# Deleted children first, so an erasure does not depend on the database cascading for it.
MEMBER_TABLES = (
    CalendarFeed,
    Nudge,
    PlanMessage,
    MeetingPlan,
    ProjectAlly,
    Project,
    QuestionAsked,
    Interaction,
    Contact,
)
# Tables keyed by Slack identity rather than by member.
IDENTITY_TABLES = (Member, SlackUser, HomeVisit, ExportFile, SentMessage)


@dataclass(frozen=True)
class Erased:
    """How many rows an erasure deleted, per table, and how many of Ally's copies in Slack
    (messages and files) it listed for deletion."""

    counts: dict[str, int]
    copies: int = 0
    home_changed: bool = True  # whoever was erased has an empty Home now

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


IDENTITY = ("id", "enterprise_id", "team_id", "user_id")


def export(session: Session, ref: MemberRef, now: datetime) -> dict[str, Any]:
    """Everything Ally holds about ``ref``: settings, contacts, ledger, questions, nudges,
    projects and meeting plans, their cached Slack profile, their Home visits and their past
    exports.

    Read-only: a member who never used Ally gets an export that says so, and no row is created.
    """
    who = (ref.enterprise_id, ref.team_id, ref.user_id)
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
        "calendar_feeds": [],
    }
    identity_tables: tuple[tuple[str, Any, Any], ...] = (
        ("slack_profile", SlackUser, SlackUser.id),
        ("home_visits", HomeVisit, HomeVisit.id),
        ("export_files", ExportFile, ExportFile.requested_at),
        ("sent_messages", SentMessage, SentMessage.sent_at),
    )
    for name, table, ordering in identity_tables:
        found = session.scalars(select(table).where(table.user_is(*who)).order_by(ordering))
        result[name] = [_row(row, skip=IDENTITY) for row in found]
    member = find_member(session, *who)
    if member is None:
        return result
    internal = ("member_id",)
    result["member"] = _row(member, skip=IDENTITY)
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
    # The feed's address is shown as its host only, here as everywhere: the sealed address
    # is of no use outside Ally, and the plain one is the member's secret.
    feeds = session.scalars(select(CalendarFeed).where(CalendarFeed.member_id == member.id))
    result["calendar_feeds"] = [
        _row(feed, skip=(*internal, "url_sealed", "claimed_by", "claimed_until")) for feed in feeds
    ]
    return result


# -- export: asked for once, sent once ---------------------------------------------------------


def request_key(response_url: str) -> str:
    """The key of one ``/ally export`` command: a digest of its response URL, which Slack makes
    unique per command."""
    return hashlib.sha256(response_url.encode()).hexdigest()


def request_export(session: Session, ref: MemberRef, key: str, now: datetime) -> bool:
    """Record that ``ref`` asked for an export; False when this command was already recorded."""
    inserted = session.execute(
        dialect_insert(session, ExportFile)
        .values(
            enterprise_id=ref.enterprise_id,
            team_id=ref.team_id,
            user_id=ref.user_id,
            request_key=key,
            status=ExportStatus.PENDING,
            requested_at=now,
        )
        .on_conflict_do_nothing()
        .returning(ExportFile.id)
    ).first()
    return inserted is not None


def _this_export(ref: MemberRef, key: str) -> ColumnElement[bool]:
    return ExportFile.user_is(ref.enterprise_id, ref.team_id, ref.user_id) & (
        ExportFile.request_key == key
    )


def claim_export(session: Session, ref: MemberRef, key: str) -> bool:
    """Take the export to send it; only one caller ever gets True for one request."""
    result = session.execute(
        update(ExportFile)
        .where(_this_export(ref, key), ExportFile.status == ExportStatus.PENDING)
        .values(status=ExportStatus.SENDING)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def export_sent(
    session: Session, ref: MemberRef, key: str, channel_id: str, file_id: str | None, now: datetime
) -> None:
    session.execute(
        update(ExportFile)
        .where(_this_export(ref, key))
        .values(status=ExportStatus.SENT, channel_id=channel_id, file_id=file_id, sent_at=now)
    )


def export_failed(session: Session, ref: MemberRef, key: str) -> None:
    session.execute(
        update(ExportFile).where(_this_export(ref, key)).values(status=ExportStatus.FAILED)
    )


# -- erasure -----------------------------------------------------------------------------------


def _copies(session: Session, whose: Callable[[Any], ColumnElement[bool]]) -> list[Copy]:
    """Every DM Ally posted to the members ``whose`` rows these are (weekly DMs, plan reminders
    and follow-ups, its answers in their DM) and every export file it uploaded for them, each
    with its workspace."""
    found: list[Copy] = []
    for model in (Nudge, PlanMessage):
        rows = session.execute(
            select(Member.enterprise_id, Member.team_id, model.channel_id, model.message_ts)
            .join(Member, Member.id == model.member_id)
            .where(whose(Member), model.channel_id.is_not(None), model.message_ts.is_not(None))
            .order_by(model.id)
        ).all()
        found += [Copy(str(e or ""), str(t), str(c), str(ts)) for e, t, c, ts in rows]
    answers = session.execute(
        select(
            SentMessage.enterprise_id,
            SentMessage.team_id,
            SentMessage.channel_id,
            SentMessage.message_ts,
        )
        .where(whose(SentMessage))
        .order_by(SentMessage.id)
    ).all()
    found += [Copy(str(e or ""), str(t), str(c), str(ts)) for e, t, c, ts in answers]
    files = session.execute(
        select(ExportFile.enterprise_id, ExportFile.team_id, ExportFile.file_id)
        .where(whose(ExportFile), ExportFile.file_id.is_not(None))
        .order_by(ExportFile.id)
    ).all()
    found += [Copy(str(e or ""), str(t), file_id=str(f)) for e, t, f in files]
    return found


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


def forget(session: Session, ref: MemberRef, now: datetime) -> Erased:
    """Delete every row about ``ref``: their settings, contacts, ledger, questions, nudges, when
    they last entered Home, their cached Slack profile and their exports; and list Ally's DMs
    and files to them for deletion in Slack. Other members' own notes are theirs and stay."""
    who = (ref.enterprise_id, ref.team_id, ref.user_id)
    copies = record(session, _copies(session, lambda model: model.user_is(*who)), now)
    counts = _erase_members(session, Member.user_is(*who))
    for model in (HomeVisit, SlackUser, ExportFile, SentMessage):
        counts[model.__tablename__] = _delete(session, model, model.user_is(*who))
    return Erased(counts, copies)


def workspaces(session: Session) -> set[tuple[str, str]]:
    """Every (enterprise, team) that any table holds rows of."""
    found: set[tuple[str, str]] = set()
    for model in IDENTITY_TABLES:
        rows = session.execute(select(model.enterprise_id, model.team_id).distinct())
        found.update((str(e or ""), str(t or "")) for e, t in rows)
    return found


def erase_workspace(
    session: Session,
    *,
    enterprise_id: str,
    team_id: str | None,
    now: datetime,
    whole_enterprise: bool = False,
) -> Erased:
    """Delete all of a workspace's data: every member's, the cached directory, Home visits and
    exports; and list Ally's DMs and files there for deletion in Slack.

    ``whole_enterprise`` is for an organisation-wide (Enterprise Grid) install, which covers every
    workspace of ``enterprise_id``.
    """
    if whole_enterprise and not enterprise_id:
        raise ValueError("an organisation-wide erasure needs the enterprise id")
    # Members of an organisation-wide install are keyed with the team "" (handlers.kit.members).
    if not whole_enterprise and not team_id and not (enterprise_id and team_id == ""):
        raise ValueError("a workspace erasure needs the team id")
    where = (enterprise_id, None if whole_enterprise else team_id)
    copies = record(session, _copies(session, lambda model: model.workspace_is(*where)), now)
    counts = _erase_members(session, Member.workspace_is(*where))
    for model in (HomeVisit, SlackUser, ExportFile, SentMessage):
        counts[model.__tablename__] = _delete(session, model, model.workspace_is(*where))
    return Erased(counts, copies)


# -- services: each runs in one unit of work of its own ------------------------------------------


def ask_for_export(units: Units, ref: MemberRef, key: str, now: datetime) -> bool:
    """``request_export``, committed: False when this command was already recorded."""
    return committed(units, lambda session: request_export(session, ref, key, now))


def take_export(units: Units, ref: MemberRef, key: str, now: datetime) -> dict[str, Any] | None:
    """Claim the export and read it; None when another process has (or had) it."""

    def work(session: Session) -> dict[str, Any] | None:
        return export(session, ref, now) if claim_export(session, ref, key) else None

    return committed(units, work)


def export_delivered(
    units: Units, ref: MemberRef, key: str, channel_id: str, file_id: str | None, now: datetime
) -> None:
    committed(units, lambda session: export_sent(session, ref, key, channel_id, file_id, now))


def export_undelivered(units: Units, ref: MemberRef, key: str) -> None:
    committed(units, lambda session: export_failed(session, ref, key))


def answer_sent(units: Units, ref: MemberRef, channel_id: str, ts: str, now: datetime) -> None:
    """Keep the (channel, ts) of a message Ally posted in ``ref``'s DM in answer to something
    they did, so that forget deletes it from Slack too."""
    committed(
        units,
        lambda session: session.add(
            SentMessage(
                enterprise_id=ref.enterprise_id,
                team_id=ref.team_id,
                user_id=ref.user_id,
                channel_id=channel_id,
                message_ts=ts,
                sent_at=now,
            )
        ),
    )


def forget_member(units: Units, ref: MemberRef, now: datetime) -> Erased:
    return committed(units, lambda session: forget(session, ref, now))


def erase(
    units: Units,
    *,
    enterprise_id: str,
    team_id: str | None,
    now: datetime,
    whole_enterprise: bool = False,
) -> Erased:
    return committed(
        units,
        lambda session: erase_workspace(
            session,
            enterprise_id=enterprise_id,
            team_id=team_id,
            now=now,
            whole_enterprise=whole_enterprise,
        ),
    )
