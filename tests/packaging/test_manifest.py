"""manifest.yml is valid for Slack and declares everything the code uses.

The listeners are read off the real Bolt app (every matcher Bolt built for a command, shortcut or
event), and the Web API methods off the source, so a new listener or call that the manifest does
not declare fails here rather than in a workspace.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from re import Pattern
from typing import Any

import jsonschema
import pytest
import yaml
from slack_bolt import App

ROOT = Path(__file__).resolve().parents[2]
# Slack's own JSON Schema for manifests (slackapi/manifest-schema, MIT), kept in the team's
# shared folder beside this checkout; ALLY_MANIFEST_SCHEMA may point elsewhere.
SCHEMA = Path(
    os.environ.get(
        "ALLY_MANIFEST_SCHEMA", ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"
    )
)
SOURCES = ("bot", "handlers", "storage")

# The bot scope each Web API method needs (docs.slack.dev/reference/methods). A method that is
# not listed fails the test: look its scopes up and add it here, and to manifest.yml.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "apps.connections.open": set(),  # app-level token (connections:write), not a bot scope
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.getPermalink": set(),
    "conversations.open": {"im:write"},
    "conversations.history": {"im:history"},
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "users.conversations": {"channels:read", "groups:read"},
    "views.open": set(),
    "views.publish": set(),
    "views.update": set(),
    "views.push": set(),
    "files.upload_v2": {"files:write"},
    "files.info": {"files:read"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
    "files.delete": {"files:write"},  # docs.slack.dev/reference/methods/files.delete
    "reactions.get": {"reactions:read"},
    "team.info": {"team:read"},
}
# The bot scope each event subscription needs (docs.slack.dev/reference/events).
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "app_uninstalled": set(),
    "tokens_revoked": set(),
    "user_change": {"users:read"},
    "app_mention": {"app_mentions:read"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
    "message.im": {"im:history"},
    "message.channels": {"channels:history"},
}
WEB_API_CALL = re.compile(
    r"\.(admin|apps|auth|chat|conversations|files|reactions|team|users|usergroups|views)"
    r"_([A-Za-z0-9_]+)\("
)


def load_manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


@dataclass
class Uses:
    """What the code needs from the manifest."""

    commands: set[str | Pattern[str]] = field(default_factory=set)
    global_shortcuts: set[str | Pattern[str]] = field(default_factory=set)
    message_shortcuts: set[str | Pattern[str]] = field(default_factory=set)
    any_shortcuts: set[str | Pattern[str]] = field(default_factory=set)
    events: set[str | Pattern[str]] = field(default_factory=set)
    interactive: bool = False


def listener_uses(app: App) -> Uses:
    """Read the commands, shortcuts and events off every listener Bolt registered on ``app``."""
    uses = Uses()
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            if func is None or func.__module__ != "slack_bolt.listener_matcher.builtins":
                continue  # a custom matcher: nothing the manifest declares
            kind = func.__qualname__.split(".")[0]
            scope = inspect.getclosurevars(func).nonlocals
            if kind == "command":
                uses.commands.add(scope["command"])
            elif kind == "global_shortcut":
                uses.global_shortcuts.add(scope["callback_id"])
                uses.interactive = True
            elif kind == "message_shortcut":
                uses.message_shortcuts.add(scope["callback_id"])
                uses.interactive = True
            elif kind == "shortcut":
                uses.any_shortcuts.add(scope["callback_id"])
                uses.interactive = True
            elif kind in ("event", "message_event"):
                constraint = scope.get("event_type") or scope["constraints"]
                uses.events.add(constraint["type"] if isinstance(constraint, dict) else constraint)
            elif kind in ("action", "view", "view_submission", "view_closed", "options"):
                uses.interactive = True
            else:
                raise AssertionError(
                    f"Bolt matcher {kind!r} is new to this test: teach listener_uses what it "
                    "needs from the manifest."
                )
    return uses


def _declared(constraint: str | Pattern[str], names: set[str]) -> bool:
    if isinstance(constraint, Pattern):
        return any(constraint.search(name) for name in names)
    return constraint in names


def undeclared(uses: Uses, manifest: dict[str, Any]) -> list[str]:
    """Everything ``uses`` needs that ``manifest`` does not declare, one line each."""
    features = manifest.get("features", {})
    settings = manifest.get("settings", {})
    commands = {c["command"] for c in features.get("slash_commands", [])}
    shortcuts = features.get("shortcuts", [])
    by_type = {
        kind: {s["callback_id"] for s in shortcuts if s["type"] == kind}
        for kind in ("global", "message")
    }
    events = set(settings.get("event_subscriptions", {}).get("bot_events", []))
    scopes = set(manifest.get("oauth_config", {}).get("scopes", {}).get("bot", []))

    problems = [f"slash command {c}" for c in uses.commands if not _declared(c, commands)]
    problems += [
        f"global shortcut {c}" for c in uses.global_shortcuts if not _declared(c, by_type["global"])
    ]
    problems += [
        f"message shortcut {c}"
        for c in uses.message_shortcuts
        if not _declared(c, by_type["message"])
    ]
    problems += [
        f"shortcut {c}"
        for c in uses.any_shortcuts
        if not _declared(c, by_type["global"] | by_type["message"])
    ]
    for event in uses.events:
        # A listener for "message" needs at least one message.<channel type> subscription.
        names = {e.split(".")[0] for e in events} if event == "message" else events
        if not _declared(event, names):
            problems.append(f"bot event {event}")
    if (uses.commands or shortcuts) and "commands" not in scopes:
        problems.append("scope commands (slash commands and shortcuts need it)")
    if uses.interactive and not settings.get("interactivity", {}).get("is_enabled"):
        problems.append("settings.interactivity.is_enabled (buttons, modals and shortcuts)")
    return problems


def web_api_methods() -> dict[str, list[str]]:
    """Every Web API method the source calls through a client, with where it is called."""
    found: dict[str, list[str]] = {}
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                for family, name in WEB_API_CALL.findall(line):
                    where = f"{path.relative_to(ROOT)}:{number}"
                    found.setdefault(f"{family}.{name}", []).append(where)
    return found


# -- the tests --------------------------------------------------------------------------------


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    if not SCHEMA.is_file():
        pytest.skip(f"Slack's manifest schema is not at {SCHEMA} (set ALLY_MANIFEST_SCHEMA)")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = jsonschema.Draft7Validator(schema).iter_errors(manifest)
    return sorted(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_manifest_is_valid_for_slack() -> None:
    assert schema_errors(load_manifest()) == []


def test_the_schema_check_catches_a_broken_manifest() -> None:
    manifest = load_manifest()
    manifest["display_information"]["name"] = "A" * 36
    manifest["features"]["slash_commands"][0]["command"] = "ally"
    errors = schema_errors(manifest)
    assert any("display_information" in e for e in errors), errors
    assert any("slash_commands" in e for e in errors), errors


def test_every_listener_is_declared(app: App) -> None:
    uses = listener_uses(app)
    assert "/ally" in uses.commands, "the real app's listeners were not found"
    assert undeclared(uses, load_manifest()) == []


def test_every_web_api_method_has_its_scope() -> None:
    methods = web_api_methods()
    assert "users.info" in methods, "the source scan found no Web API calls"
    unknown = {m: where for m, where in methods.items() if m not in METHOD_SCOPES}
    assert not unknown, f"add these methods' scopes to METHOD_SCOPES: {unknown}"
    scopes = set(load_manifest()["oauth_config"]["scopes"]["bot"])
    missing = {m: METHOD_SCOPES[m] - scopes for m in methods if METHOD_SCOPES[m] - scopes}
    assert not missing, f"manifest.yml lacks scopes for {missing}"


def test_every_subscribed_event_has_its_scope() -> None:
    manifest = load_manifest()
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    unknown = [e for e in events if e not in EVENT_SCOPES]
    assert not unknown, f"add these events' scopes to EVENT_SCOPES: {unknown}"
    assert {e: EVENT_SCOPES[e] - scopes for e in events if EVENT_SCOPES[e] - scopes} == {}


def test_the_home_tab_is_enabled_with_its_event() -> None:
    manifest = load_manifest()
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]


def test_the_check_catches_what_the_manifest_lacks() -> None:
    app = App(token="xoxb-x", signing_secret="s", token_verification_enabled=False)

    def listener() -> None:
        pass

    app.command("/ally")(listener)
    app.command("/undeclared")(listener)
    app.event("member_joined_channel")(listener)
    app.message("hello")(listener)
    app.global_shortcut("log_favour")(listener)
    app.message_shortcut("log_favour")(listener)  # declared, but as a global shortcut
    app.shortcut(re.compile("^nothing_like_this$"))(listener)
    app.action("any_button")(listener)
    manifest = load_manifest()
    manifest["settings"]["event_subscriptions"]["bot_events"].remove("message.im")
    problems = undeclared(listener_uses(app), manifest)
    assert sorted(problems) == [
        "bot event member_joined_channel",
        "bot event message",
        "message shortcut log_favour",
        "shortcut re.compile('^nothing_like_this$')",
        "slash command /undeclared",
    ]
    manifest["settings"]["interactivity"]["is_enabled"] = False
    manifest["oauth_config"]["scopes"]["bot"].remove("commands")
    assert len(undeclared(listener_uses(app), manifest)) == len(problems) + 2


@pytest.mark.parametrize(
    ("line", "method"),
    [
        ("client.chat_postMessage(channel=dm, blocks=blocks)", "chat.postMessage"),
        ("web_client(runtime).files_upload_v2(", "files.upload_v2"),
        ("answer = runtime.users_info(user=user_id)", "users.info"),
    ],
)
def test_the_source_scan_reads_sdk_method_names(line: str, method: str) -> None:
    assert [f"{family}.{name}" for family, name in WEB_API_CALL.findall(line)] == [method]


def test_the_usage_hint_names_the_calendar_and_every_hinted_subcommand_exists() -> None:
    from handlers.commands import subcommands

    [command] = load_manifest()["features"]["slash_commands"]
    hinted = [part.split()[0] for part in command["usage_hint"].split(" | ")]
    assert "calendar" in hinted
    assert set(hinted) - {"help"} <= set(subcommands())
