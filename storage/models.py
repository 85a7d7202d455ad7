"""Ally's tables.

Everything a member logs hangs off their ``members`` row, so every query is scoped to
(workspace, member) by joining through ``member_id`` and deleting a member cascades.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SlackId = Annotated[str, mapped_column(String(32))]
Instant = Annotated[datetime, mapped_column(UTCDateTime())]
MaybeInstant = Annotated[datetime | None, mapped_column(UTCDateTime(), nullable=True)]

# Limits enforced by the domain before anything is written, and by the columns after.
NAME_MAX = 200
WHAT_MAX = 1000
NOTES_MAX = 3000
FOCUS_MAX = 300
LINK_MAX = 500


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class InteractionKind(enum.StrEnum):
    """What happened between a member and a contact."""

    FAVOUR_RECEIVED = "favour_received"
    FAVOUR_GIVEN = "favour_given"
    INTRO_RECEIVED = "intro_received"
    INTRO_MADE = "intro_made"
    CATCH_UP = "catch_up"
    THANKS = "thanks"


class Network(enum.IntFlag):
    """Seed 003's three networks; a contact may belong to several."""

    STRATEGIC = 1
    OPERATIONAL = 2
    DEVELOPMENTAL = 4


class Level(enum.StrEnum):
    """Seed 001's levels relative to the member: two above, two at your level, two below."""

    ABOVE = "above"
    PEER = "peer"
    BELOW = "below"


class Bond(enum.StrEnum):
    """Seed 001: alliances help you deliver; connections get your work noticed."""

    ALLIANCE = "alliance"
    CONNECTION = "connection"


class NudgeStatus(enum.StrEnum):
    PLANNED = "planned"
    SENT = "sent"
    SKIPPED = "skipped"


class SlackIdentity:
    """Columns naming one Slack user in one workspace (and its Enterprise Grid organisation, or
    ""): whom a member, a cached directory entry and a Home visit belong to. Each table keeps
    the three unique together."""

    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    team_id: Mapped[SlackId]
    user_id: Mapped[SlackId]

    @classmethod
    def workspace_is(cls, enterprise_id: str, team_id: str | None) -> ColumnElement[bool]:
        """This table's rows of one workspace, or of the whole organisation when ``team_id`` is
        None (an organisation-wide install)."""
        which = cls.enterprise_id == enterprise_id
        return which if team_id is None else and_(which, cls.team_id == team_id)

    @classmethod
    def user_is(cls, enterprise_id: str, team_id: str, user_id: str) -> ColumnElement[bool]:
        """This table's rows of one Slack user in one workspace."""
        return and_(cls.workspace_is(enterprise_id, team_id), cls.user_id == user_id)


class Member(SlackIdentity, Base):
    """A person who uses Ally in one workspace, with their own settings."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    tz_checked_at: Mapped[MaybeInstant]
    # The app's DM with the member: it never changes, so it is kept rather than opened weekly.
    dm_channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    focus: Mapped[str | None] = mapped_column(String(FOCUS_MAX), nullable=True)
    nudges_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    nudge_weekday: Mapped[int] = mapped_column(Integer, default=0)  # Monday = 0
    nudge_minute: Mapped[int] = mapped_column(
        Integer, default=9 * 60
    )  # minutes after local midnight
    nudges_paused_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    reaction_emoji: Mapped[str] = mapped_column(String(64), default="pray")
    # The member's own stay-in-touch cadence, in days, for contacts of each bond that have none
    # of their own; None: Ally's default for the bond.
    alliance_cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    connection_cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Address books: set while one of the member's files is being read (one at a time), and
    # how many files they sent on ``import_day`` (the daily cap).
    import_started_at: Mapped[MaybeInstant]
    import_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    imports_on_day: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[Instant]

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="member", cascade="all, delete-orphan", passive_deletes=True
    )


class Contact(Base):
    """Someone in a member's network: a Slack user or an outside person."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("member_id", "key"),
        Index("ix_contacts_member_last_touch", "member_id", "last_touch_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # "U123" for a Slack user, "~dana lee" (case-folded) for an outside person.
    key: Mapped[str] = mapped_column(String(NAME_MAX + 1))
    slack_user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    organisation: Mapped[str | None] = mapped_column(String(NAME_MAX), nullable=True)
    networks: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[str | None] = mapped_column(String(10), nullable=True)
    bond: Mapped[str | None] = mapped_column(String(12), nullable=True)
    cadence_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    met_through_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    # The latest interaction's time, kept with every write so planning never scans the ledger.
    last_touch_at: Mapped[MaybeInstant]
    snoozed_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Favours and introductions given minus received (negative: the member owes them), kept
    # with every write like ``last_touch_at``: reading a balance never sums the ledger.
    balance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An outside contact's addresses from an imported address book (case-folded, one per line),
    # so that a calendar meeting with them is recognised.
    emails: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[Instant]

    member: Mapped[Member] = relationship(back_populates="contacts")
    met_through: Mapped[Contact | None] = relationship(remote_side="Contact.id")


class Interaction(Base):
    """One entry in a member's private two-way ledger."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_member_contact_time", "member_id", "contact_id", "occurred_at"),
        Index("ix_interactions_member_time", "member_id", "occurred_at"),
        Index("ix_interactions_member_calendar_key", "member_id", "calendar_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    what: Mapped[str] = mapped_column(String(WHAT_MAX), default="")
    occurred_at: Mapped[Instant]
    message_link: Mapped[str | None] = mapped_column(String(LINK_MAX), nullable=True)
    # For introductions: the other person (whom the contact introduced you to, or to whom).
    related_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    thanked_at: Mapped[MaybeInstant]
    # Set while a thank-you DM to the ally may have been posted without Slack saying so (a 5xx
    # or a timeout): the next attempt reads the ally's DM before posting (handlers/ledger/thanks).
    thanks_post_started_at: Mapped[MaybeInstant]
    # "calendar" for a catch-up logged from the member's calendar feed, with a digest of the
    # meeting's UID and its occurrence's original start, so no occurrence is logged twice.
    source: Mapped[str | None] = mapped_column(String(12), nullable=True)
    calendar_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[Instant]

    contact: Mapped[Contact] = relationship(foreign_keys=[contact_id])
    related_contact: Mapped[Contact | None] = relationship(foreign_keys=[related_contact_id])


class SlackUser(SlackIdentity, Base):
    """A cache of ``users.info`` so names are not fetched on every request."""

    __tablename__ = "slack_users"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    tz: Mapped[str | None] = mapped_column(String(64), nullable=True)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # A guest (``is_restricted`` or ``is_ultra_restricted``); None: not known, ask Slack.
    guest: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    fetched_at: Mapped[Instant]


class HomeVisit(SlackIdentity, Base):
    """When a Slack user last entered Ally's Home tab.

    Home is republished after a write only for someone who may still be looking at it; everyone
    else gets a fresh Home the next time they open it. Keyed by Slack identity, not by member:
    opening Home creates no member.
    """

    __tablename__ = "home_visits"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seen_at: Mapped[Instant]


class ExportStatus(enum.StrEnum):
    PENDING = "pending"  # asked for; Slack has its answer, the file is not sent yet
    SENDING = "sending"  # claimed by the one process that sends it
    SENT = "sent"
    FAILED = "failed"


class ExportFile(SlackIdentity, Base):
    """One ``/ally export``: asked for once per command (``request_key``), sent once, and the
    file Slack stored, so that forgetting the member deletes it from Slack too."""

    __tablename__ = "export_files"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id", "user_id", "request_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A digest of the command's response_url: the same command delivered twice is one export.
    request_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=ExportStatus.PENDING)
    requested_at: Mapped[Instant]
    sent_at: Mapped[MaybeInstant]
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    file_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class QuestionAsked(Base):
    """Which informational-interview questions were suggested for whom, so none repeats."""

    __tablename__ = "questions_asked"
    __table_args__ = (UniqueConstraint("member_id", "scope", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # A contact's key, or "" for questions asked without a person (merging, linking and
    # deleting contacts find it by this info: storage/contact_refs.py).
    scope: Mapped[str] = mapped_column(String(NAME_MAX + 1), info={"refers_to": "contacts.key"})
    question_id: Mapped[str] = mapped_column(String(40))
    asked_at: Mapped[Instant]


class Nudge(Base):
    """One member's weekly DM: planned before it is sent, marked sent after; one per ISO week."""

    __tablename__ = "nudges"
    __table_args__ = (UniqueConstraint("member_id", "week"),)
    # Server defaults are read when used, not returned by every INSERT.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W47"
    status: Mapped[str] = mapped_column(String(12), default=NudgeStatus.PLANNED)
    due_at: Mapped[Instant]
    planned_at: Mapped[Instant]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[MaybeInstant]
    # Set right before the DM is posted, cleared once Slack's answer is known: while set, the
    # post's outcome is unknown and the DM's history decides, not a second post.
    post_started_at: Mapped[MaybeInstant]
    sent_at: Mapped[MaybeInstant]
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    person_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    # The member asked to keep this week's person next week too (the DM's Keep button);
    # the database fills in false, so rows written without it (any release) stay valid.
    keep_person: Mapped[bool] = mapped_column(Boolean, server_default=false())
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Project(Base):
    """Seed 001's alliance goal: one to three allies for a current project, each to be met
    within 30 days of naming them. ``done_at`` is set when the member closes the project."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("member_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # The name case-folded with its spaces collapsed: one project per name per member.
    key: Mapped[str] = mapped_column(String(NAME_MAX))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    started_at: Mapped[Instant]
    done_at: Mapped[MaybeInstant]

    allies: Mapped[list[ProjectAlly]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ProjectAlly.id",
    )


class ProjectAlly(Base):
    """One ally named for a project. Met means a catch-up logged with them since the project
    started, read from the ledger, so nothing here can disagree with it."""

    __tablename__ = "project_allies"
    __table_args__ = (UniqueConstraint("project_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))

    project: Mapped[Project] = relationship(back_populates="allies")
    contact: Mapped[Contact] = relationship()


class PlanStatus(enum.StrEnum):
    PLANNED = "planned"  # waiting for its day, then for "did you meet?"
    MET = "met"  # the member said yes
    SKIPPED = "skipped"  # the member dropped it


class MeetingPlan(Base):
    """Seed 001's "one person a week": who, when (a day in the member's calendar) and what."""

    __tablename__ = "meeting_plans"
    __table_args__ = (Index("ix_meeting_plans_status_day", "status", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    what: Mapped[str] = mapped_column(String(WHAT_MAX), default="")
    status: Mapped[str] = mapped_column(String(12), default=PlanStatus.PLANNED)
    # Seed 002's reflection after a conversation: what was learned, what to ask next.
    learned: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_question: Mapped[str | None] = mapped_column(String(WHAT_MAX), nullable=True)
    created_at: Mapped[Instant]
    updated_at: Mapped[Instant]

    contact: Mapped[Contact] = relationship()


class PlanStep(enum.StrEnum):
    REMINDER = "reminder"  # on the planned day: the questions to bring
    FOLLOW_UP = "follow_up"  # the day after: "did you meet?"


class PlanMessage(Base):
    """One DM about a plan (its reminder or its follow-up for one planned day), claimed and
    recorded like the weekly nudge so that it goes out once whatever runs or fails."""

    __tablename__ = "plan_messages"
    __table_args__ = (UniqueConstraint("plan_id", "step", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("meeting_plans.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(12))
    day: Mapped[date] = mapped_column(Date)  # the plan's day this message is about
    status: Mapped[str] = mapped_column(String(12), default=NudgeStatus.PLANNED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[MaybeInstant]
    sent_at: Mapped[MaybeInstant]
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SentMessage(SlackIdentity, Base):
    """A message Ally posted in its DM with a Slack user in answer to something they did there
    or on Home (a file they shared, a button they pressed), so that forgetting them, or erasing
    the workspace, deletes it from Slack too. The weekly DMs and the plans' DMs are kept with
    their own rows (``nudges``, ``plan_messages``)."""

    __tablename__ = "sent_messages"
    __table_args__ = (
        Index("ix_sent_messages_enterprise_id", "enterprise_id", "team_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[SlackId]
    message_ts: Mapped[SlackId]
    sent_at: Mapped[Instant]


class SlackDeletion(Base):
    """One of Ally's own messages (``channel_id``, ``message_ts``) or uploaded files
    (``file_id``) to delete in Slack, written in the transaction that erases a member or a
    workspace and removed once Slack confirms the delete (bot.data_rights.deletions).

    It outlives the rows it was taken from, so it names only the workspace and the Slack
    object: no member id, no user id, nothing a member wrote.
    """

    __tablename__ = "slack_deletions"
    __table_args__ = (Index("ix_slack_deletions_next_attempt_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    team_id: Mapped[SlackId]
    channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    file_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[Instant]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Instant]
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[MaybeInstant]
    # Slack's error code (or the HTTP status) of the last failed attempt.
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CalendarFeed(Base):
    """A member's secret iCal address, sealed with ``ALLY_ENCRYPTION_KEY``, and how its syncs
    went. Nothing of the calendar itself is kept: what it logs are catch-ups in the ledger."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        UniqueConstraint("member_id"),
        Index("ix_calendar_feeds_next_sync_at", "next_sync_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    url_sealed: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255))  # all the address that is ever shown
    created_at: Mapped[Instant]
    next_sync_at: Mapped[Instant]
    # Meetings that ended up to here were read; None until the first sync.
    synced_until: Mapped[MaybeInstant]
    last_synced_at: Mapped[MaybeInstant]
    last_logged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    failing_since: Mapped[MaybeInstant]
    failure_reported_at: Mapped[MaybeInstant]
    # Up to three people met lately who are not contacts yet (JSON: a Slack user's id and name,
    # or an outside person's name and email), offered in the next weekly DM, then cleared.
    offers: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[MaybeInstant]
