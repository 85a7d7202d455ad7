"""``/ally project``: one to three allies for a current project, each met within 30 days.

``/ally project "<name>" @a @b ["outside person"]`` starts one (or adds allies to it),
``/ally project`` lists the active ones and who is met, ``/ally project done "<name>"`` closes one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import InvalidInput
from bot.ledger import projects
from bot.ledger.projects import ProjectView
from handlers.commands import Command, Subcommand
from handlers.home.views import project_line
from handlers.kit.blocks import Reply, context, escape, section
from handlers.kit.mentions import QUOTED, PersonToken, take_person
from handlers.ledger.commands import named

USAGE = '/ally project ["<name>" @a @b | done "<name>"]'
EXAMPLE = '/ally project "Q3 launch" @maria "Dana Lee (Acme)"'


@dataclass(frozen=True)
class ProjectArgs:
    """What ``/ally project`` was asked: list (no name), start (name and allies) or done."""

    name: str | None = None
    allies: tuple[PersonToken, ...] = ()
    done: bool = False


def take_name(text: str) -> tuple[str, str]:
    """A quoted project name at the start of ``text``, and the rest."""
    text = text.strip()
    match = QUOTED.match(text)
    if match is None:
        raise InvalidInput("project", f"Put the project's name in quotes, e.g. `{EXAMPLE}`.")
    return match.group("name"), text[match.end() :]


def parse_project(text: str) -> ProjectArgs:
    text = text.strip()
    if not text:
        return ProjectArgs()
    head, _, rest = text.partition(" ")
    if head.casefold() == "done":
        name, rest = take_name(rest)
        if rest.strip():
            raise InvalidInput(
                "project", 'Close one project at a time: `/ally project done "<name>"`.'
            )
        return ProjectArgs(name=name, done=True)
    name, rest = take_name(text)
    allies: list[PersonToken] = []
    while rest.strip():
        person, rest = take_person(rest, field="allies")
        if person is None:
            shown = rest.strip()[:30]
            raise InvalidInput(
                "allies",
                f"I can't read `{shown}` as a person: name allies with @mention or an outside "
                f"name in quotes, e.g. `{EXAMPLE}`.",
            )
        allies.append(person)
    if not allies:
        raise InvalidInput("allies", f"Name one to three allies for it, e.g. `{EXAMPLE}`.")
    if len(allies) > projects.ALLIES_MAX:
        raise InvalidInput(
            "allies",
            f"One to three allies per project: you named {len(allies)}. Pick the three whose "
            "advice or help it needs most.",
        )
    return ProjectArgs(name=name, allies=tuple(allies))


def project(command: Command) -> Reply:
    args = parse_project(command.args)
    units, member, now = command.runtime.unit_of_work, command.member, command.now
    if args.name is None:
        return listing(projects.listed(units, member, now))
    if args.done:
        done = projects.closed(units, member, args.name, now)
        command.home_changed(done.home_changed)
        met = sum(1 for a in done.view.allies if a.met)
        return Reply(
            f"Closed {done.view.name}.",
            [
                section(
                    f"Closed *{escape(done.view.name)}*: you met {met} of its "
                    f"{len(done.view.allies)} allies. Keep them close: they stay in your network."
                )
            ],
        )
    allies = named(command, [(token, "allies") for token in args.allies])
    changed = projects.started(units, command.client, member, args.name, allies, now)
    command.home_changed(changed.home_changed)
    view = changed.view
    verb = "Started" if changed.new else "Updated"
    return Reply(
        f"{verb} {view.name}.",
        [
            section(
                f"{verb} *{escape(view.name)}*. Meet each ally within 30 days to talk through how "
                "their knowledge could support it, and offer your help in return.\n"
                + project_line(view)
            ),
            context("Until you meet them, each one comes first in your weekly DM."),
        ],
    )


def listing(found: list[ProjectView]) -> Reply:
    if not found:
        return Reply(
            "No active projects.",
            [
                section(
                    "*No active projects.* Name one to three people whose advice or help your "
                    f"current project needs, and meet each within 30 days: `{EXAMPLE}`."
                )
            ],
        )
    lines = "\n".join(project_line(p) for p in found)
    return Reply(
        f"{len(found)} active project{'s' if len(found) != 1 else ''}.",
        [
            section(f"*Your projects* (meet each ally within 30 days)\n{lines}"),
            context(
                "Log a meeting with `/ally met @person`; close a project with "
                '`/ally project done "<name>"`.'
            ),
        ],
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "project": Subcommand(
        project, USAGE, "one to three allies for a current project, each met within 30 days"
    ),
}
