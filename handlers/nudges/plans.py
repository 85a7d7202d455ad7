"""Meeting plans in Slack: ``/ally plan``, the **Plan it** form (the weekly DM's and Home's
person), and the answers to "did you meet?" (Yes opens "what did you learn?")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    Option,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger.people import MemberRef, Person
from bot.nudges import meeting_plans as plans
from bot.nudges.meeting_plans import WHATS, Answer, Answered, PlanView
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, clip, context, escape, section, updated_blocks
from handlers.kit.forms import (
    modal,
    option_value,
    picked_day,
    submission,
    text_input,
    text_value,
)
from handlers.kit.members import home_changed
from handlers.kit.mentions import mention, require_person
from handlers.kit.replies import on_press
from handlers.ledger.commands import named
from handlers.ledger.referrals import (
    answered,
    done_view,
    named_referrals,
    referral_inputs,
    who_else,
)
from storage.models import WHAT_MAX

log = logging.getLogger(__name__)
USAGE = "/ally plan @person <day> [what]"
EXAMPLE = "/ally plan @maria thursday coffee"
OTHER = "other"


# -- /ally plan ---------------------------------------------------------------------------------


def planned_text(plan: PlanView, replaced: bool) -> str:
    verb = "Moved your plan:" if replaced else "Planned:"
    return (
        f":calendar: {verb} {escape(plan.doing)} with {plan.who} on {plan.when}. "
        "I'll remind you that morning with questions to bring, and ask the day after how it went."
    )


def plan_command(command: Command) -> Reply:
    if not command.args:
        return listing(plans.plans_of(command.runtime, command.member, command.now))
    token, rest = require_person(command.args, example=EXAMPLE)
    [who] = named(command, [(token, "who")])
    done = plans.plan_meeting(
        command.runtime, command.client, command.member, who, rest, command.now
    )
    command.home_changed(done.home_changed)
    said = planned_text(done.plan, done.replaced)
    return Reply(said, [section(said)])


def listing(found: list[PlanView]) -> Reply:
    if not found:
        text = (
            "*No plans yet.* Pick one person this week and decide when and what: "
            f"`{EXAMPLE}`, or press *Plan it* on your weekly DM or Home."
        )
        return Reply("No plans yet.", [section(text)])
    lines = "\n".join(f"• {p.when}: {escape(p.doing)} with {p.who}" for p in found)
    return Reply(f"{len(found)} planned.", [section(f"*Your plans*\n{lines}")])


SUBCOMMANDS: dict[str, Subcommand] = {
    "plan": Subcommand(
        plan_command,
        USAGE,
        "plan this week's conversation: a reminder on the day, a follow-up after",
    ),
}


# -- the Plan it form ----------------------------------------------------------------------------


def plan_view(key: str, person: Person, today: date) -> View:
    """Who is fixed (the button's person); when is a date, what a choice or free text."""
    options = [Option(text=w.capitalize(), value=w) for w in WHATS]
    options.append(Option(text="Something else (say below)", value=OTHER))
    blocks: list[Block] = [
        section(f"*Who:* {mention(person)}\nOne person a week: decide when, and what you'll do."),
        InputBlock(
            block_id="when",
            label="When",
            element=DatePickerElement(action_id="when", initial_date=today.isoformat()),
        ),
        InputBlock(
            block_id="what",
            label="What",
            element=StaticSelectElement(
                action_id="what", options=options, initial_option=options[0]
            ),
        ),
        text_input(
            "other",
            "In your own words",
            max_length=WHAT_MAX,
            placeholder="walk to the café, demo day",
        ),
    ]
    return modal(ids.PLAN_MODAL, "Plan it", blocks, submit="Plan it", private_metadata=key)


def read_plan_form(values: dict[str, Any]) -> tuple[date, str]:
    """The form's day and what; raises ``InvalidInput`` naming the field."""
    day = picked_day(values, "when", "Pick a day.")
    choice = option_value(values, "what") or WHATS[0]
    other = text_value(values, "other")
    if choice == OTHER and not other:
        raise InvalidInput("other", "Say what you'll do, e.g. “walk to the café”.")
    what = other if other else choice
    return day, plans.check_plan_what(what)


# -- what did you learn? -------------------------------------------------------------------------


def learned_view(plan: PlanView, focus: str | None) -> View:
    """Seed 002's reflection: what you learned, what you'll ask next, who else to talk to."""
    blocks: list[Block] = [
        section(f":white_check_mark: Logged your {escape(plan.doing)} with {plan.who}."),
        text_input(
            "learned",
            "What did you learn?",
            optional=False,
            multiline=True,
            max_length=plans.LEARNED_MAX,
        ),
        text_input("next_question", "What will you ask next time?", max_length=WHAT_MAX),
        *referral_inputs(
            clip(who_else(focus), 2000),
            "People they suggested",
            "People outside Slack they suggested, one per line",
        ),
        context("Only you can see this. Each person suggested joins your network."),
    ]
    return modal(
        ids.LEARNED_MODAL,
        "What did you learn?",
        blocks,
        submit="Save",
        close="Later",
        private_metadata=str(plan.id),
    )


# -- listeners ----------------------------------------------------------------------------------


def register(app: App, runtime: Runtime) -> None:
    def open_plan(
        member: MemberRef, key: str, body: dict, context: BoltContext, client: WebClient, *_: Any
    ) -> None:
        if not key:
            return
        try:
            form = plans.plan_form(runtime, member, key, runtime.clock())
        except AllyError as error:
            view = done_view(escape(error.message))
        else:
            view = plan_view(key, form.person, form.today)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def submit_plan(ack: Ack, body: dict, context: BoltContext) -> None:
        member, values, key = submission(body, context)
        try:
            day, what = read_plan_form(values)
            done = plans.plan_with(runtime, member, key, day, what, runtime.clock())
        except AllyError as error:
            answered(ack, values, "when", error)
            return
        ack(response_action="update", view=done_view(planned_text(done.plan, done.replaced)))
        home_changed(context, done.home_changed)

    def answer(work: Answer) -> Callable[..., None]:
        def handle(
            member: MemberRef,
            plan_id: str,
            body: dict[str, Any],
            context: BoltContext,
            client: WebClient,
            respond: Respond,
        ) -> None:
            learned: View | None = None
            try:
                result = plans.answer_plan(runtime, member, plan_id, work, runtime.clock())
            except AllyError as error:
                done = escape(error.message)
            else:
                home_changed(context, result.home_changed)
                done = answered_text(result)
                if work is Answer.MET:
                    learned = learned_view(result.plan, result.focus)
            action = (body.get("actions") or [{}])[0]
            message = body.get("message") or {}
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
                "channel_id"
            )
            if channel and "ts" in message:
                client.chat_update(
                    channel=channel,
                    ts=message["ts"],
                    text=message.get("text") or done,
                    blocks=updated_blocks(message.get("blocks") or [], action, done),
                )
            if learned is not None and body.get("trigger_id"):
                client.views_open(trigger_id=body["trigger_id"], view=learned)

        return on_press(handle)

    def submit_learned(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member, values, plan_id = submission(body, context)
        try:
            saved = plans.save_learned(
                runtime,
                client,
                member,
                plan_id,
                text_value(values, "learned"),
                text_value(values, "next_question"),
                named_referrals(values),
                runtime.clock(),
            )
        except AllyError as error:
            answered(ack, values, "learned", error)
            return
        done = saved.reflection
        text = f"Saved what you learned from {done.plan.who}."
        if done.referred:
            names = ", ".join(mention(p) for p in done.referred)
            text += f" {names} joined your network, met through {done.plan.who}: reach out next."
        ack(response_action="update", view=done_view(text))
        home_changed(context, saved.home_changed)

    app.action(ids.PLAN_IT)(on_press(open_plan))
    app.view(ids.PLAN_MODAL)(submit_plan)
    app.action(ids.PLAN_MET)(answer(Answer.MET))
    app.action(ids.PLAN_NOT_YET)(answer(Answer.NOT_YET))
    app.action(ids.PLAN_SKIP)(answer(Answer.SKIP))
    app.view(ids.LEARNED_MODAL)(submit_learned)


def answered_text(answered: Answered) -> str:
    """What a "did you meet?" button did, in place of the buttons."""
    plan = answered.plan
    if answered.answer is Answer.MET:
        return f":white_check_mark: You met {plan.who}: logged as a catch-up."
    if answered.answer is Answer.NOT_YET:
        return (
            f":arrow_right: Moved to {plan.when}. I'll remind you that day. "
            f"(Another day? `/ally plan @person <day>`.)"
        )
    return f":wave: Dropped the plan with {plan.who}."
