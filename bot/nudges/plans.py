"""Sending the DMs about meeting plans: each plan's reminder on its day and its "did you
meet?" the day after, exactly once each, at the member's own time of day.

Run by the scheduler's job and ``ally-bot nudges send`` right after the weekly DMs, with the
same discipline as bot/nudges/delivery.py:

1. **Due**: a plan's reminder is due on its day (in the member's zone) from the member's nudge
   time; its follow-up from the same time the day after, and stays due until answered. Nothing
   goes to a member with nudges off or paused.
2. **Plan**: a ``planned`` row per (plan, step, day), the unique key making it idempotent
   across processes (``ON CONFLICT DO NOTHING``). Moving a plan to another day gives its
   messages a new key, so the moved plan is reminded again.
3. **Claim**: a lease on planned rows in one conditional ``UPDATE`` (rows locked first with
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock makes the condition atomic).
4. **Send and record**: post, then mark ``sent`` only where this worker still holds the lease.
   A retried row first looks for its message in the DM's history, so a crash between the post
   and the record does not send it twice.

Plans are read, planned and claimed a page at a time (``PAGE_SIZE`` plans, in id order), so no
statement binds more than a page's worth of values however many plans are open: a plan whose
"did you meet?" went out and was never answered stays open for good, and a workspace gathers
them. Such a plan, whose follow-up for its day is settled, is left out by the query itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.metadata import Metadata
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.ledger.people import MemberRef
from bot.ledger.service import contact_label
from bot.nudges import plan_message
from bot.nudges.delivery import PERMANENT, Sender, Summary, posting_client
from bot.nudges.meeting_plans import PlanView
from bot.nudges.planning import zone
from bot.platform.oauth import WorkspaceClients
from bot.platform.runtime import Runtime
from bot.questions import service as questions
from storage.db import dialect_insert, transaction
from storage.models import (
    Contact,
    MeetingPlan,
    Member,
    NudgeStatus,
    PlanMessage,
    PlanStatus,
    PlanStep,
)

EVENT_TYPE = "ally_plan"
# Plans read, planned and claimed at once: every statement binds at most a few values per plan.
PAGE_SIZE = 500
LEASE = timedelta(minutes=10)
QUESTIONS = 3
log = logging.getLogger(__name__)


def due_step(
    day: date,
    tz: str,
    minute: int,
    now: datetime,
    *,
    enabled: bool = True,
    paused_until: date | None = None,
) -> PlanStep | None:
    """Which of a plan's messages is due at ``now``, if any (pure).

    The reminder belongs to the planned day itself: a run that misses the day sends none. The
    follow-up is due from the member's time the day after, and stays due until it is sent.
    """
    if not enabled:
        return None
    local = now.astimezone(zone(tz))
    today = local.date()
    if paused_until is not None and today < paused_until:
        return None
    at = time(minute // 60, minute % 60)
    if today == day and local.time() >= at:
        return PlanStep.REMINDER
    after = day + timedelta(days=1)
    if today > after or (today == after and local.time() >= at):
        return PlanStep.FOLLOW_UP
    return None


class Due(NamedTuple):
    """A plan's message to send now: the plan, whose it is, and which step (reminder or
    follow-up)."""

    plan: PlanView
    ref: MemberRef
    step: PlanStep


@dataclass(frozen=True)
class Claim:
    message_id: int
    due: Due
    attempts: int
    channel_id: str | None


def due_now(
    session: Session, now: datetime, *, after: int = 0, limit: int = PAGE_SIZE
) -> tuple[list[Due], int | None]:
    """The plan messages due at ``now`` and not yet sent or given up on, among the next
    ``limit`` open plans with an id above ``after``; and the id to read on from (None when
    there are no more plans)."""
    # Any zone's today is at most a day ahead of UTC's: plans after that are not due anywhere.
    horizon = now.date() + timedelta(days=1)
    follow_up_settled = exists().where(
        PlanMessage.plan_id == MeetingPlan.id,
        PlanMessage.step == PlanStep.FOLLOW_UP.value,
        PlanMessage.day == MeetingPlan.day,
        PlanMessage.status != NudgeStatus.PLANNED.value,
    )
    rows = session.execute(
        select(MeetingPlan, Contact, Member)
        .join(Contact, Contact.id == MeetingPlan.contact_id)
        .join(Member, Member.id == MeetingPlan.member_id)
        .where(
            MeetingPlan.id > after,
            MeetingPlan.status == PlanStatus.PLANNED.value,
            MeetingPlan.day <= horizon,
            Member.nudges_enabled.is_(True),
            ~follow_up_settled,
        )
        .order_by(MeetingPlan.id)
        .limit(limit)
    ).all()
    next_after = rows[-1][0].id if len(rows) == limit else None
    found: list[Due] = []
    for plan, contact, member in rows:
        step = due_step(
            plan.day,
            member.tz,
            member.nudge_minute,
            now,
            enabled=member.nudges_enabled,
            paused_until=member.nudges_paused_until,
        )
        if step is None:
            continue
        view = PlanView(
            plan.id, contact.key, contact_label(contact), plan.day, plan.what, plan.status
        )
        ref = MemberRef(member.team_id, member.user_id, member.enterprise_id)
        found.append(Due(view, ref, step))
    if not found:
        return [], next_after
    finished = set(
        session.execute(
            select(PlanMessage.plan_id, PlanMessage.step, PlanMessage.day).where(
                PlanMessage.plan_id.in_({d.plan.id for d in found}),
                PlanMessage.status != NudgeStatus.PLANNED.value,
            )
        ).all()
    )
    due = [d for d in found if (d.plan.id, d.step.value, d.plan.day) not in finished]
    return due, next_after


@dataclass(eq=False)
class PlanSender(Sender):
    """One run of plan messages for one process (after the weekly DMs, in the same job)."""

    table = PlanMessage

    page_size: int = field(default=PAGE_SIZE, kw_only=True)

    def run(self, now: datetime) -> Summary:
        summary = Summary()
        after: int | None = 0
        while after is not None:
            with self.runtime.sessions() as session:
                todo, after = due_now(session, now, after=after, limit=self.page_size)
            if not todo:
                continue
            summary.planned += len(todo)
            self._insert_planned(todo)
            claims = self._claim(todo)
            summary.skipped += len(todo) - len(claims)
            for claim in claims:
                outcome = self._deliver(claim, now)
                setattr(summary, outcome, getattr(summary, outcome) + 1)
        return summary

    def _insert_planned(self, todo: list[Due]) -> None:
        with transaction(self.runtime.sessions) as session:
            owners = dict(
                session.execute(
                    select(MeetingPlan.id, MeetingPlan.member_id).where(
                        MeetingPlan.id.in_({d.plan.id for d in todo})
                    )
                ).all()
            )
            rows = [
                {
                    "member_id": owners[d.plan.id],
                    "plan_id": d.plan.id,
                    "step": d.step.value,
                    "day": d.plan.day,
                    "status": NudgeStatus.PLANNED.value,
                    "attempts": 0,
                }
                for d in todo
                if d.plan.id in owners
            ]
            if rows:
                session.execute(
                    dialect_insert(session, PlanMessage)
                    .values(rows)
                    .on_conflict_do_nothing(index_elements=["plan_id", "step", "day"])
                )

    def _claim(self, todo: list[Due]) -> list[Claim]:
        """Lease the planned rows for ``todo`` that nobody else holds; return what we got."""
        by_key = {(d.plan.id, d.step.value, d.plan.day): d for d in todo}
        claimed = self.leases.claim(
            (PlanMessage.plan_id, PlanMessage.step, PlanMessage.day),
            by_key,
            PlanMessage.plan_id.in_({d.plan.id for d in todo}),
            self.real_clock(),
            LEASE,
            (
                PlanMessage.plan_id,
                PlanMessage.step,
                PlanMessage.day,
                PlanMessage.attempts,
                PlanMessage.channel_id,
            ),
            attempts=PlanMessage.attempts + 1,
        )
        return [
            Claim(row.id, by_key[(row.plan_id, row.step, row.day)], row.attempts, row.channel_id)
            for row in claimed
        ]

    def _deliver(self, claim: Claim, now: datetime) -> str:
        due = claim.due
        client = self.client_for(due.ref.enterprise_id, due.ref.team_id)
        if client is None:
            self._finish(claim, NudgeStatus.SKIPPED, "Ally is not installed in this workspace")
            return "skipped"
        try:
            channel = claim.channel_id or str(
                client.conversations_open(users=due.ref.user_id)["channel"]["id"]
            )
            if claim.attempts > 1:
                ts = self._already_posted(client, channel, claim)
                if ts is not None:
                    self._mark_sent(claim, channel, ts)
                    return "sent"
            if due.step is PlanStep.REMINDER:
                with transaction(self.runtime.sessions) as session:
                    chosen = questions.choose_questions(
                        session, due.ref, now, contact_key=due.plan.contact_key, n=QUESTIONS
                    )
                text, blocks = plan_message.reminder(due.plan, [q.text for q in chosen.questions])
            else:
                text, blocks = plan_message.follow_up(due.plan)
            response = posting_client(client, self.runtime.sleep).chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                metadata=Metadata(
                    event_type=EVENT_TYPE,
                    event_payload={"message": claim.message_id},
                ),
                unfurl_links=False,
            )
        except SlackApiError as error:
            code = str(error.response.get("error", "")) if error.response is not None else ""
            if code in PERMANENT:
                self._finish(claim, NudgeStatus.SKIPPED, f"can't DM this member: {code}")
                return "skipped"
            self._failed(claim, f"Slack said {code or error}")
            return "failed"
        except (SlackClientError, OSError) as error:
            self._failed(claim, f"{type(error).__name__}: {error}")
            return "failed"
        self._mark_sent(claim, channel, str(response["ts"]))
        return "sent"

    def _already_posted(self, client: WebClient, channel: str, claim: Claim) -> str | None:
        """The ts of this message if an earlier attempt got it into the DM (first page only:
        an attempt is retried within minutes, so its message is among the latest)."""
        page = client.conversations_history(channel=channel, limit=100, include_all_metadata=True)
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") != EVENT_TYPE:
                continue
            if (metadata.get("event_payload") or {}).get("message") == claim.message_id:
                return str(message["ts"])
        return None

    def _mark_sent(self, claim: Claim, channel: str, ts: str) -> None:
        self.leases.settle(
            [claim.message_id],
            status=NudgeStatus.SENT.value,
            sent_at=self.real_clock(),
            channel_id=channel,
            message_ts=ts,
            error=None,
        )

    def _finish(self, claim: Claim, status: NudgeStatus, why: str) -> None:
        self.leases.finish(claim.message_id, status, why)

    def _failed(self, claim: Claim, why: str) -> None:
        log.warning("plan message %s failed: %s", claim.message_id, why)
        self.leases.fail(claim.message_id, why)


def send_plans(runtime: Runtime, now: datetime) -> Summary:
    """Send every plan reminder and follow-up due at ``now``, each once."""
    return PlanSender(runtime, WorkspaceClients(runtime)).run(now)
