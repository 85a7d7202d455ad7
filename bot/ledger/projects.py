"""Project alliances (seed 001): one to three allies for a current project or initiative,
each to be met within 30 days of naming them.

An ally counts as met once a catch-up with them is logged on or after the day the project
started (``/ally met``, the DM's "Log a catch-up", a plan's "Yes"): the ledger is the record,
so a project can never say someone is unmet after the member logged meeting them.
The domain functions take a session, the member and ``now``, and never commit; ``listed``,
``started`` and ``closed`` are the services a request calls, each in one unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound
from bot.ledger.directory import Wanted, with_people
from bot.ledger.people import MemberRef, Person, contact_label
from bot.ledger.service import contact_for, open_member
from bot.platform.uow import Units, committed
from bot.slack_text import clean_text
from storage.models import (
    NAME_MAX,
    Bond,
    Contact,
    Interaction,
    InteractionKind,
    Project,
    ProjectAlly,
)
from storage.repository import find_member

ALLIES_MAX = 3
MEET_WITHIN_DAYS = 30
PROJECTS_MAX = 10  # active at once: a goal list, not a project tracker


@dataclass(frozen=True)
class ProjectAllyView:
    contact_id: int
    key: str
    label: str
    met: bool


@dataclass(frozen=True)
class ProjectView:
    name: str
    started_at: datetime
    days_left: int  # until the 30 days are up; negative once past them
    allies: list[ProjectAllyView]

    @property
    def unmet(self) -> list[ProjectAllyView]:
        return [a for a in self.allies if not a.met]

    @property
    def when(self) -> str:
        """How the 30-day clock stands, as a phrase."""
        if self.days_left > 1:
            return f"{self.days_left} days left"
        if self.days_left == 1:
            return "1 day left"
        if self.days_left == 0:
            return "last day"
        late = -self.days_left
        return f"{late} day{'s' if late != 1 else ''} past the 30"


@dataclass(frozen=True)
class Changed:
    """A project as started, updated or closed; it always changes what Home shows."""

    view: ProjectView
    new: bool = False
    home_changed: bool = True


def project_key(name: str) -> str:
    return " ".join(name.split()).casefold()[:NAME_MAX]


def check_name(name: str) -> str:
    name = clean_text(name)
    if not name:
        raise InvalidInput(
            "project", 'Name the project in quotes, e.g. `/ally project "Q3 launch" @maria`.'
        )
    if len(name) > NAME_MAX:
        raise InvalidInput("project", f"Keep the project's name under {NAME_MAX} characters.")
    return name


def check_allies(people: Sequence[Person]) -> None:
    if not people:
        raise InvalidInput(
            "allies", "Name one to three allies for it, with @mention or an outside name in quotes."
        )
    if len(people) > ALLIES_MAX:
        raise InvalidInput(
            "allies",
            f"One to three allies per project: you named {len(people)}. Pick the three "
            "whose advice or help the project needs most.",
        )
    if len({p.key for p in people}) != len(people):
        raise InvalidInput("allies", "You named the same person twice.")


def start(
    session: Session, ref: MemberRef, name: str, people: Sequence[Person], now: datetime
) -> tuple[ProjectView, bool]:
    """Start a project with its allies (or add allies to an active one of the same name).

    Returns the project and whether it is new. A project closed earlier under the same name
    starts again, with a fresh 30-day clock. Allies not yet classified become alliances.
    """
    name = check_name(name)
    check_allies(people)
    data = open_member(session, ref, now)
    member = data.member
    project = session.scalars(
        select(Project).where(Project.member_id == member.id, Project.key == project_key(name))
    ).one_or_none()
    new = project is None or project.done_at is not None
    if project is None:
        active = session.scalar(
            select(func.count(Project.id)).where(
                Project.member_id == member.id, Project.done_at.is_(None)
            )
        )
        if (active or 0) >= PROJECTS_MAX:
            raise InvalidInput(
                "project",
                f"You have {PROJECTS_MAX} active projects: close one first with "
                '`/ally project done "<name>"`.',
            )
        project = Project(member_id=member.id, key=project_key(name), name=name, started_at=now)
        session.add(project)
    elif project.done_at is not None:
        project.done_at = None
        project.started_at = now
        project.name = name
        project.allies.clear()
    contacts = [contact_for(data, person, now, field="allies")[0] for person in people]
    session.flush()
    have = {a.contact_id for a in project.allies}
    if len(have | {c.id for c in contacts}) > ALLIES_MAX:
        raise InvalidInput(
            "allies",
            f"“{name}” already has {len(have)} of its {ALLIES_MAX} allies. Close it and start "
            "again to change them.",
        )
    for contact in contacts:
        if contact.bond is None:
            contact.bond = Bond.ALLIANCE.value
        if contact.id not in have:
            project.allies.append(ProjectAlly(member_id=member.id, contact_id=contact.id))
    session.flush()
    return _views(session, member.id, [project], now)[0], new


def finish(session: Session, ref: MemberRef, name: str, now: datetime) -> ProjectView:
    """Close the active project called ``name``."""
    name = check_name(name)
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    project = None
    if member is not None:
        project = session.scalars(
            select(Project).where(
                Project.member_id == member.id,
                Project.key == project_key(name),
                Project.done_at.is_(None),
            )
        ).one_or_none()
    if member is None or project is None:
        raise NotFound(f"You have no active project called “{name}”. `/ally project` lists them.")
    view = _views(session, member.id, [project], now)[0]
    project.done_at = now
    return view


def active(session: Session, ref: MemberRef, now: datetime) -> list[ProjectView]:
    """The member's active projects, oldest first, each with who is met."""
    member = find_member(session, ref.enterprise_id, ref.team_id, ref.user_id)
    if member is None:
        return []
    return active_of(session, member.id, now)


def active_of(session: Session, member_id: int, now: datetime) -> list[ProjectView]:
    projects = session.scalars(
        select(Project)
        .where(Project.member_id == member_id, Project.done_at.is_(None))
        .order_by(Project.started_at, Project.id)
    ).all()
    return _views(session, member_id, projects, now)


def _views(
    session: Session, member_id: int, projects: Sequence[Project], now: datetime
) -> list[ProjectView]:
    if not projects:
        return []
    rows = session.execute(
        select(ProjectAlly.project_id, Contact)
        .join(Contact, Contact.id == ProjectAlly.contact_id)
        .where(
            ProjectAlly.member_id == member_id,
            ProjectAlly.project_id.in_([p.id for p in projects]),
        )
        .order_by(ProjectAlly.id)
    ).all()
    met_at = _latest_catch_ups(session, [member_id], {c.id for _, c in rows})
    views = []
    for project in projects:
        start_day = project.started_at.date()
        allies = [
            ProjectAllyView(
                contact.id,
                contact.key,
                contact_label(contact),
                met_at.get(contact.id) is not None and met_at[contact.id].date() >= start_day,
            )
            for project_id, contact in rows
            if project_id == project.id
        ]
        deadline = start_day + timedelta(days=MEET_WITHIN_DAYS)
        views.append(
            ProjectView(project.name, project.started_at, (deadline - now.date()).days, allies)
        )
    return views


def _latest_catch_ups(
    session: Session, member_ids: Sequence[int], contact_ids: set[int]
) -> dict[int, datetime]:
    """Each contact's latest logged catch-up (contact ids are unique across members)."""
    if not contact_ids:
        return {}
    rows = session.execute(
        select(Interaction.contact_id, func.max(Interaction.occurred_at))
        .where(
            Interaction.member_id.in_(member_ids),
            Interaction.contact_id.in_(contact_ids),
            Interaction.kind == InteractionKind.CATCH_UP.value,
        )
        .group_by(Interaction.contact_id)
    ).all()
    return {contact_id: at for contact_id, at in rows}


# -- services: each runs in one unit of work of its own ------------------------------------------


def listed(units: Units, ref: MemberRef, now: datetime) -> list[ProjectView]:
    """``/ally project``: the member's active projects."""
    return committed(units, lambda session: active(session, ref, now))


def closed(units: Units, ref: MemberRef, name: str, now: datetime) -> Changed:
    """``/ally project done``: close the active project called ``name``."""
    return committed(units, lambda session: Changed(finish(session, ref, name, now)))


def started(
    units: Units,
    client: WebClient,
    ref: MemberRef,
    name: str,
    allies: Sequence[Wanted],
    now: datetime,
) -> Changed:
    """``/ally project "<name>" @a @b``: start the project (or add allies to it), with the
    allies' names from the directory in the same unit of work."""

    def work(session: Session, people: list[Person]) -> Changed:
        view, new = start(session, ref, checked, people, now)
        return Changed(view, new)

    checked = check_name(name)  # before any lookup in Slack
    return with_people(units, client, ref, allies, now, work)


class ProjectGoal(NamedTuple):
    """An ally of an active project not met yet: who, for which project, days left."""

    contact_id: int
    project: str
    days_left: int


def goals_of(views: Sequence[ProjectView]) -> list[ProjectGoal]:
    """The unmet allies of ``views`` as goals, closest to their 30 days first."""
    goals = [ProjectGoal(a.contact_id, p.name, p.days_left) for p in views for a in p.unmet]
    return sorted(goals, key=lambda g: g.days_left)


def unmet_goals(
    session: Session, member_ids: Sequence[int], now: datetime
) -> dict[int, list[ProjectGoal]]:
    """Each member's unmet project allies, closest to the 30 days first (two queries for any
    number of members: the weekly planning reads a batch at a time)."""
    if not member_ids:
        return {}
    rows = session.execute(
        select(ProjectAlly.member_id, ProjectAlly.contact_id, Project.name, Project.started_at)
        .join(Project, Project.id == ProjectAlly.project_id)
        .where(ProjectAlly.member_id.in_(member_ids), Project.done_at.is_(None))
        .order_by(Project.started_at, ProjectAlly.id)
    ).all()
    met_at = _latest_catch_ups(session, member_ids, {row.contact_id for row in rows})
    goals: dict[int, list[ProjectGoal]] = {}
    for member_id, contact_id, name, started_at in rows:
        met = met_at.get(contact_id)
        if met is not None and met.date() >= started_at.date():
            continue
        deadline = started_at.date() + timedelta(days=MEET_WITHIN_DAYS)
        goals.setdefault(member_id, []).append(
            ProjectGoal(contact_id, name, (deadline - now.date()).days)
        )
    for found in goals.values():
        found.sort(key=lambda g: g.days_left)
    return goals
