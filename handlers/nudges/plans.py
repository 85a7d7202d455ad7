"""Meeting plans in Slack: ``/ally plan``, the **Plan it** form (the weekly DM's and Home's
person), and the answers to "did you meet?" (Yes opens "what did you learn?")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger.people import Person
from bot.ledger.referrals import MAX_REFERRALS
from bot.nudges import meeting_plans as plans
from bot.nudges.meeting_plans import WHATS, Answer, Answered, PlanView
from bot.platform.runtime import Runtime
from handlers.commands import Command, Subcommand
from handlers.kit.blocks import Reply, clip, context, escape, section, updated_blocks
from handlers.kit.members import home_changed, member_of
from handlers.kit.mentions import mention, require_person
from handlers.kit.replies import pressed
from handlers.ledger.commands import clean, resolve
from handlers.ledger.referrals import done_view, referred_people, who_else
from storage.models import NAME_MAX, WHAT_MAX

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
    text = clean(command.args)
    if not text:
        return listing(plans.plans_of(command.runtime, command.member, command.now))
    token, rest = require_person(text, example=EXAMPLE)
    [person] = resolve(command, [(token, "who")])
    done = plans.plan_meeting(command.runtime, command.member, person, rest, command.now)
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
        InputBlock(
            block_id="other",
            label="In your own words",
            optional=True,
            element=PlainTextInputElement(
                action_id="other", max_length=WHAT_MAX, placeholder="walk to the café, demo day"
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.PLAN_MODAL,
        title="Plan it",
        submit="Plan it",
        close="Cancel",
        private_metadata=key,
        blocks=blocks,
    )


def _value(values: dict, block: str) -> dict:
    return (values.get(block) or {}).get(block) or {}


def read_plan_form(values: dict) -> tuple[date, str]:
    """The form's day and what; raises ``InvalidInput`` naming the field."""
    picked = _value(values, "when").get("selected_date")
    try:
        day = date.fromisoformat(picked or "")
    except ValueError:
        raise InvalidInput("when", "Pick a day.") from None
    choice = ((_value(values, "what").get("selected_option") or {}).get("value")) or WHATS[0]
    other = (_value(values, "other").get("value") or "").strip()
    if choice == OTHER and not other:
        raise InvalidInput("other", "Say what you'll do, e.g. “walk to the café”.")
    what = other if other else choice
    return day, plans.check_plan_what(what)


# -- what did you learn? -------------------------------------------------------------------------


def learned_view(plan: PlanView, focus: str | None) -> View:
    """Seed 002's reflection: what you learned, what you'll ask next, who else to talk to."""
    blocks: list[Block] = [
        section(f":white_check_mark: Logged your {escape(plan.doing)} with {plan.who}."),
        InputBlock(
            block_id="learned",
            label="What did you learn?",
            element=PlainTextInputElement(
                action_id="learned", multiline=True, max_length=plans.LEARNED_MAX
            ),
        ),
        InputBlock(
            block_id="next_question",
            label="What will you ask next time?",
            optional=True,
            element=PlainTextInputElement(action_id="next_question", max_length=WHAT_MAX),
        ),
        InputBlock(
            block_id="people",
            label=clip(who_else(focus), 2000),
            optional=True,
            element=UserMultiSelectElement(
                action_id="people",
                placeholder="People they suggested",
                max_selected_items=MAX_REFERRALS,
            ),
        ),
        InputBlock(
            block_id="outside",
            label="People outside Slack they suggested, one per line",
            optional=True,
            element=PlainTextInputElement(
                action_id="outside",
                multiline=True,
                placeholder="Dana Lee (Acme)",
                max_length=MAX_REFERRALS * (NAME_MAX + 3),
            ),
        ),
        context("Only you can see this. Each person suggested joins your network."),
    ]
    return View(
        type="modal",
        callback_id=ids.LEARNED_MODAL,
        title="What did you learn?",
        submit="Save",
        close="Later",
        private_metadata=str(plan.id),
        blocks=blocks,
    )


# -- listeners ----------------------------------------------------------------------------------


def register(app: App, runtime: Runtime) -> None:
    def open_plan(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        press = pressed(ack, body, context)
        if press is None or not press[1]:
            return
        member, key = press
        try:
            form = plans.plan_form(runtime, member, key, runtime.clock())
        except AllyError as error:
            view = done_view(error.message)
        else:
            view = plan_view(key, form.person, form.today)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def submit_plan(ack: Ack, body: dict, context: BoltContext) -> None:
        member = member_of(context)
        view = body["view"]
        values = view["state"]["values"]
        key = view.get("private_metadata") or ""
        assert member is not None  # view submissions always carry the user
        try:
            day, what = read_plan_form(values)
            done = plans.plan_with(runtime, member, key, day, what, runtime.clock())
        except InvalidInput as error:
            field = error.field if error.field in values else "when"
            ack(response_action="errors", errors={field: error.message})
            return
        except AllyError as error:
            ack(response_action="update", view=done_view(error.message))
            return
        ack(response_action="update", view=done_view(planned_text(done.plan, done.replaced)))
        home_changed(context, done.home_changed)

    def answer(work: Answer) -> Callable[..., None]:
        def on_press(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
            press = pressed(ack, body, context)
            if press is None:
                return
            member, plan_id = press
            learned: View | None = None
            try:
                answered = plans.answer_plan(runtime, member, plan_id, work, runtime.clock())
            except AllyError as error:
                done = error.message
            else:
                home_changed(context, answered.home_changed)
                done = answered_text(answered)
                if work is Answer.MET:
                    learned = learned_view(answered.plan, answered.focus)
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

        return on_press

    def submit_learned(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        view = body["view"]
        values = view["state"]["values"]
        plan_id = view.get("private_metadata") or ""
        now = runtime.clock()
        assert member is not None
        try:
            saved = plans.save_learned(
                runtime,
                member,
                plan_id,
                _value(values, "learned").get("value") or "",
                _value(values, "next_question").get("value") or "",
                lambda session: referred_people(session, client, member, values, now),
                now,
            )
        except InvalidInput as error:
            field = error.field if error.field in values else "learned"
            if error.field == "referrals":
                field = "people"
            ack(response_action="errors", errors={field: error.message})
            return
        except AllyError as error:
            ack(response_action="update", view=done_view(escape(error.message)))
            return
        done = saved.reflection
        text = f"Saved what you learned from {done.plan.who}."
        if done.referred:
            names = ", ".join(mention(p) for p in done.referred)
            text += f" {names} joined your network, met through {done.plan.who}: reach out next."
        ack(response_action="update", view=done_view(text))
        home_changed(context, saved.home_changed)

    app.action(ids.PLAN_IT)(open_plan)
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
