"""The two DMs about a meeting plan, as Block Kit (``slack_sdk.models``): the reminder on the
planned day, with questions to bring, and the "did you meet?" follow-up the day after, whose
buttons (Yes / Not yet / Skip) carry the plan's id."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot import ids
from bot.blocks import actions, button, clip, context, section
from bot.nudges.meeting_plans import PlanView
from bot.slack_text import mrkdwn as escape

ANSWER_BLOCK = "plan_answer"


def reminder(plan: PlanView, questions: Sequence[str]) -> tuple[str, list[Block]]:
    """On the planned day: who, what, and a few questions to bring."""
    text = f"Today: {plan.doing} with {plan.label}."
    blocks: list[Block] = [section(f":calendar: *Today: {escape(plan.doing)} with* {plan.who}")]
    if questions:
        lines = "\n".join(f"{i}. {escape(q)}" for i, q in enumerate(questions, 1))
        blocks.append(section(f"*Questions to bring*\n{lines}"))
    blocks.append(
        context(
            "Offer something too: a useful link, an introduction, a hand with their work. "
            "Tomorrow I'll ask how it went."
        )
    )
    return clip(text), blocks


def follow_up(plan: PlanView) -> tuple[str, list[Block]]:
    """The day after: did you meet? Yes / Not yet / Skip."""
    text = f"Did you meet {plan.label}?"
    blocks: list[Block] = [
        section(f"*Did you meet* {plan.who}? You planned a {escape(plan.doing)} on {plan.when}."),
        actions(
            button("Yes", ids.PLAN_MET, str(plan.id), "primary"),
            button("Not yet", ids.PLAN_NOT_YET, str(plan.id)),
            button("Skip", ids.PLAN_SKIP, str(plan.id)),
            block_id=ANSWER_BLOCK,
        ),
    ]
    return clip(text), blocks
