"""The ``/ally`` slash command: read the text, call bot/, answer with an ephemeral reply.

Each subcommand is a function ``(Command) -> Reply | None`` in the module named for what it
does; this module only dispatches, shows help and turns errors into friendly replies.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.errors import AllyError, InvalidInput
from bot.ledger.people import MemberRef
from bot.platform.runtime import Runtime
from bot.slack_text import clean_text, typed
from handlers.kit.blocks import Reply, actions, button, context, escape, say, section
from handlers.kit.members import home_changed, member_of
from handlers.kit.slack_errors import error_code, explain

log = logging.getLogger(__name__)

ARGS_MAX = 4000  # Slack sends at most a few thousand characters; anything longer is not typed


@dataclass(frozen=True)
class Command:
    """One ``/ally`` invocation, already read out of Slack's payload."""

    runtime: Runtime
    client: WebClient
    member: MemberRef
    now: datetime
    args: str
    trigger_id: str | None
    channel_id: str | None
    # Where to answer later (up to 30 minutes), and a way to run work after Slack has its
    # answer (Bolt's listener executor); both absent outside a Slack request.
    response_url: str | None = None
    later: Callable[[Callable[[], None]], object] | None = None
    context: BoltContext | None = None  # the request's, for ``home_changed``

    def home_changed(self, changed: bool = True) -> None:
        """Say the command changed what the member's Home shows (see ``kit.members``)."""
        if self.context is not None:
            home_changed(self.context, changed)


Handler = Callable[[Command], Reply | None]


@dataclass(frozen=True)
class Subcommand:
    handler: Handler
    usage: str  # e.g. "/ally thanks @person [for] <what>"
    summary: str


def subcommands() -> dict[str, Subcommand]:
    """Every ``/ally`` subcommand, by name, from the modules that implement them."""
    from handlers.calendar import commands as calendar
    from handlers.data_rights import commands as data_rights
    from handlers.ledger import commands as ledger_commands
    from handlers.ledger import corrections, log_modal, people, reactions
    from handlers.ledger import projects as ledger_projects
    from handlers.nudges import dm as nudges
    from handlers.nudges import plans
    from handlers.questions import commands as questions

    table: dict[str, Subcommand] = {}
    for module in (
        ledger_commands,
        ledger_projects,
        people,
        corrections,
        log_modal,
        questions,
        reactions,
        plans,
        data_rights,
        nudges,
        calendar,
    ):
        table.update(module.SUBCOMMANDS)
    return table


# The method in a few lines, as /ally help and the Home tab tell it.
METHOD = (
    "*How it works*\n"
    "• *Allies for your project:* name one to three people whose advice your current project "
    "needs, and meet each within 30 days (`/ally project`).\n"
    "• *Six connections:* two above you, two at your level, two below (`/ally network`).\n"
    "• *One person a week:* decide when and what (*Plan it*, `/ally plan`); I remind you on "
    "the day and ask afterwards what you learned and who else to talk to.\n"
    "• *Give first:* help before you need anything; I suggest one concrete way each week."
)


def help_reply(table: dict[str, Subcommand]) -> Reply:
    lines = "\n".join(f"`{sub.usage}`  {sub.summary}" for sub in table.values())
    return Reply(
        text="Ally keeps a private ledger of who helped you and whom you helped.",
        blocks=[
            section(
                "*Ally* keeps a private, two-way ledger of favours and introductions, "
                "and helps you stay in touch with the people your work depends on. "
                "Only you can see what you log."
            ),
            section(METHOD),
            section(lines),
            actions(
                button("Record who helped you", ids.OPEN_LOG_MODAL, style="primary"),
                button("Review my network", ids.SHOW_NETWORK),
            ),
            context(
                'Mention people with @, or put an outside name in quotes: "Dana Lee (Acme)". '
                "To import your network, send Ally LinkedIn's Connections.csv, a Google, "
                "Outlook, Thunderbird or Windows Live Mail CSV, or a vCard (.vcf) in a DM."
            ),
        ],
    )


def usage_reply(word: str, table: dict[str, Subcommand]) -> Reply:
    """A friendly answer to text Ally can't read, naming the closest subcommand."""
    closest = difflib.get_close_matches(word.casefold(), list(table), n=1, cutoff=0.0)
    sub = table[closest[0]] if closest else None
    hint = f" Did you mean `{sub.usage}`?" if sub else ""
    shown = escape(word if len(word) <= 40 else word[:40] + "…")
    return say(f"I don't know `/ally {shown}`.{hint} Type `/ally help` to see everything I can do.")


def command_text(text: str) -> str:
    """A subcommand's text, cleaned once for every parser: one line, without control characters,
    of a sane length."""
    if len(text) > ARGS_MAX:
        raise InvalidInput("what", f"That's {len(text)} characters: keep it to a sentence or two.")
    return clean_text(text)


def dispatch(command: Command, table: dict[str, Subcommand]) -> Reply | None:
    word, _, rest = command.args.strip().partition(" ")
    name = word.casefold()
    if name in ("", "help"):
        return help_reply(table)
    sub = table.get(name)
    if sub is None:
        return usage_reply(word, table)
    try:
        return sub.handler(Command(**{**command.__dict__, "args": command_text(rest)}))
    except AllyError as error:
        # Messages are plain text (modals show them as field errors): escaped for mrkdwn here.
        return say(f"{escape(error.message)}\nUsage: `{sub.usage}`")
    except SlackApiError as error:
        # Not a rate limit (the client retries those): a refusal the member should hear about.
        log.warning("/ally %s: Slack refused a call (%s)", name, error_code(error))
        return say(explain(error))


def register(app: App, runtime: Runtime) -> None:
    table = subcommands()

    def on_ally(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        member = member_of(context)
        if member is None:
            ack(response_type="ephemeral", text="I can't tell who you are from this request.")
            return
        command = Command(
            runtime=runtime,
            client=client,
            member=member,
            now=runtime.clock(),
            # Read once here: every subcommand sees what the member typed.
            args=typed(body.get("text") or ""),
            trigger_id=body.get("trigger_id"),
            channel_id=body.get("channel_id"),
            response_url=body.get("response_url"),
            later=app.listener_runner.listener_executor.submit,
            context=context,
        )
        try:
            reply = dispatch(command, table)
        except Exception:
            log.exception(
                "/ally failed for team=%s user=%s", command.member.team_id, command.member.user_id
            )
            reply = say(
                "Sorry, something went wrong on my side and nothing was saved. "
                "Please try again in a moment."
            )
        if reply is None:
            ack()
        else:
            ack(response_type="ephemeral", **reply.as_kwargs())

    app.command("/ally")(on_ally)
