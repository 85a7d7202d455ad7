"""The two DMs about a meeting plan, as Block Kit (``slack_sdk.models``): the reminder on the
planned day, with questions to bring, and the "did you meet?" follow-up the day after, whose
buttons (Yes / Not yet / Skip) carry the plan's id."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids
from bot.nudges.meeting_plans import PlanView
from bot.nudges.message import escape

ANSWER_BLOCK = "plan_answer"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:3000]))


def reminder(plan: PlanView, questions: Sequence[str]) -> tuple[str, list[Block]]:
    """On the planned day: who, what, and a few questions to bring."""
    text = f"Today: {plan.doing} with {plan.label}."
    blocks: list[Block] = [_section(f":calendar: *Today: {escape(plan.doing)} with* {plan.who}")]
    if questions:
        lines = "\n".join(f"{i}. {escape(q)}" for i, q in enumerate(questions, 1))
        blocks.append(_section(f"*Questions to bring*\n{lines}"))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Offer something too: a useful link, an introduction, a hand with "
                    "their work. Tomorrow I'll ask how it went."
                )
            ]
        )
    )
    return text[:3000], blocks


def follow_up(plan: PlanView) -> tuple[str, list[Block]]:
    """The day after: did you meet? Yes / Not yet / Skip."""
    text = f"Did you meet {plan.label}?"
    blocks: list[Block] = [
        _section(f"*Did you meet* {plan.who}? You planned a {escape(plan.doing)} on {plan.when}."),
        ActionsBlock(
            block_id=ANSWER_BLOCK,
            elements=[
                ButtonElement(
                    text="Yes", action_id=ids.PLAN_MET, value=str(plan.id), style="primary"
                ),
                ButtonElement(text="Not yet", action_id=ids.PLAN_NOT_YET, value=str(plan.id)),
                ButtonElement(text="Skip", action_id=ids.PLAN_SKIP, value=str(plan.id)),
            ],
        ),
    ]
    return text[:3000], blocks
