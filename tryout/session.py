"""A terminal session with the real Ally app against the built-in local workspace.

Every request reaches the real Bolt app signed as Slack signs it (``v0=HMAC-SHA256(secret,
"v0:{ts}:{body}")``, slack_sdk's ``SignatureVerifier``), with the payloads Slack sends: a slash
command's form, ``block_actions``, ``view_submission`` and Events API callbacks. Ally answers
through the local Web API (``tryout.local_slack``), on a throwaway SQLite file, with a clock
that ``week`` moves on.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from rich.console import Console
from rich.markup import escape
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.ledger.people import MemberRef
from bot.platform.config import Settings
from bot.platform.runtime import Runtime
from tryout.local_slack import BOT_USER, PEOPLE, TEAM, TOKEN, LocalSlack, Shown, dm_of
from tryout.render import Pressable, Renderer, panel, plain

log = logging.getLogger(__name__)
FILE_MAX = 5 * 1024 * 1024 + 1  # read at most this much: Ally refuses more than 5 MB itself
HANDLE = re.compile(r"(?<![\w<|])@([A-Za-z][\w.-]*)")

HELP = """\
[bold]Commands[/bold]
  [cyan]/ally ...[/cyan]        what a member types in Slack, e.g. /ally thanks @bob for the review
  [cyan]as @name[/cyan]         act as someone else ({people})
  [cyan]press N[/cyan]          press button (or menu option) number N of what Ally showed last
  [cyan]home[/cyan]             open Ally's Home tab
  [cyan]week[/cyan]             move the clock to your next weekly DM and send it
  [cyan]share FILE[/cyan]       send a file to Ally in a DM (LinkedIn CSV, Google CSV or vCard)
  [cyan]help[/cyan], [cyan]quit[/cyan]
In a form, answer each field in turn; an empty answer leaves it as it is;
[cyan]cancel[/cyan] closes the form."""


class Clock:
    """The member's clock: it starts now and moves only forward, when ``week`` moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Lines:
    """Where the session reads what the member types: a terminal, or a script's lines."""

    script: Iterator[str] | None
    console: Console
    echo: bool = False

    def read(self, prompt: str) -> str | None:
        if self.script is None:
            try:
                return self.console.input(prompt)
            except EOFError:
                return None
        line = next(self.script, None)
        if line is not None and self.echo:
            self.console.print(f"{prompt}{escape(line)}", highlight=False)
        return line


@dataclass
class TrySession:
    console: Console
    lines: Lines
    member: str = PEOPLE[0].user_id
    pressables: list[tuple[Pressable, Shown]] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    # The member opened Home, or pressed one of its buttons: show Home's next version.
    looking_at_home: bool = False

    def __post_init__(self) -> None:
        from bot.platform.app import create_app
        from storage.migrate import upgrade

        self.folder = Path(tempfile.mkdtemp(prefix="ally-try-"))
        self.slack = LocalSlack().start()
        self.secret = secrets.token_hex(16)
        url = f"sqlite:///{self.folder / 'try.db'}"
        try:
            upgrade(url)
        except BaseException:
            self.slack.stop()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.settings = Settings(
            bot_token=TOKEN,
            signing_secret=self.secret,
            app_token=None,
            client_id=None,
            client_secret=None,
            database_url=url,
            slack_api_url=self.slack.base_url,
            port=0,
            log_level="WARNING",
            scheduler=False,
            workers=1,
        )
        self.clock = Clock(datetime.now(UTC).replace(second=0, microsecond=0))
        self.runtime = Runtime.start(self.settings, clock=self.clock)
        self.app: App = create_app(self.runtime)
        # Work Ally does after answering Slack runs here: the session waits for it to finish.
        self.work = Tracked(max_workers=4, thread_name_prefix="ally-try")
        self.app.listener_runner.listener_executor = self.work
        self.serial = itertools.count(1)

    def close(self) -> None:
        self.work.shutdown(wait=True)
        self.runtime.close()
        self.slack.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> None:
        people = ", ".join("@" + p.handle + (" (guest)" if p.guest else "") for p in PEOPLE)
        self.console.print(
            "[bold]Ally, in a local workspace[/bold] — nothing leaves this machine; the data "
            "is deleted when you quit.\n"
            f"People: {escape(people)}. Type [cyan]help[/cyan] for the commands."
        )
        while True:
            line = self.lines.read(f"{self.handle(self.member)}> ")
            if line is None:
                return
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line in ("quit", "exit"):
                return
            try:
                self.one(line)
            except Refusal as refusal:
                self.console.print(f"[yellow]{escape(str(refusal))}[/yellow]")
            except Exception as error:  # the session goes on; the log has the whole story
                log.exception("try: %r failed", line)
                self.console.print(f"[red]That failed ({escape(repr(error))}); go on.[/red]")

    def one(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word == "/ally":
            self.command(rest)
        elif word == "as":
            self.switch(rest)
        elif word == "press":
            self.press(rest)
        elif word == "home":
            self.home()
        elif word == "week":
            self.week()
        elif word == "share":
            self.share(rest)
        elif word == "help":
            people = ", ".join("@" + p.handle for p in PEOPLE)
            self.console.print(HELP.format(people=escape(people)))
        else:
            raise Refusal(f"Unknown command {word!r}: type help to see the commands.")

    # -- what a member does ----------------------------------------------------------------------
    def command(self, typed: str) -> None:
        response_url = self.slack.new_response_url(self.member, "C0GENERAL")
        body = urlencode(
            {
                "token": "legacy",
                "team_id": TEAM,
                "team_domain": "tryout",
                "channel_id": "C0GENERAL",
                "channel_name": "general",
                "user_id": self.member,
                "user_name": self.handle(self.member),
                "command": "/ally",
                "text": self.as_sent(typed),
                "api_app_id": "A0ALLY",
                "response_url": response_url,
                "trigger_id": self.trigger(),
            }
        )
        status, answer = self.send(body, "application/x-www-form-urlencoded")
        if answer.get("text") or answer.get("blocks"):
            message = {"text": answer.get("text", ""), "blocks": answer.get("blocks") or []}
            shown = Shown("ephemeral", self.member, message, "C0GENERAL", response_url=response_url)
            with self.slack.lock:
                self.slack.shown.append(shown)
        elif status != 200:
            raise Refusal(f"Ally answered {status}: nothing happened.")
        self.show()

    def switch(self, who: str) -> None:
        found = self.find(who)
        if found is None:
            raise Refusal(f"No one called {who!r} here: try one of {self.everyone()}.")
        self.member = found
        self.console.print(f"[dim]You are now {escape(self.name(found))}.[/dim]")
        self.show()

    def press(self, which: str) -> None:
        if not which.isdigit() or not 1 <= int(which) <= len(self.pressables):
            shown = f"1 to {len(self.pressables)}" if self.pressables else "none shown yet"
            raise Refusal(f"No button {which!r}: the buttons are numbered {shown}.")
        pressable, source = self.pressables[int(which) - 1]
        element = pressable.element
        action: dict[str, Any] = {
            "action_id": element.get("action_id"),
            "block_id": pressable.block_id,
            "type": element.get("type"),
            "action_ts": f"{time.time():.6f}",
        }
        if element.get("type") == "button":
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
        else:
            action["selected_option"] = pressable.option
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "tryout"},
            "user": self.user_field(),
            "api_app_id": "A0ALLY",
            "token": "legacy",
            "trigger_id": self.trigger(),
            "actions": [action],
        }
        self.looking_at_home = source.kind == "home"
        if source.kind in ("modal", "home"):
            payload["container"] = {"type": "view", "view_id": source.view_id}
            payload["view"] = self.view_payload(source, {})
        else:
            ephemeral = source.kind == "ephemeral"
            payload["container"] = {
                "type": "message",
                "message_ts": source.ts,
                "channel_id": source.channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": source.channel}
            payload["response_url"] = source.response_url or self.slack.new_response_url(
                self.member, source.channel, source.kind, source.ts
            )
            if not ephemeral:
                payload["message"] = {"type": "message", "ts": source.ts, **source.body}
        self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
        self.show()

    def home(self) -> None:
        self.looking_at_home = True
        self.event(
            {
                "type": "app_home_opened",
                "user": self.member,
                "channel": dm_of(self.member),
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            }
        )

    def week(self) -> None:
        from bot.nudges.delivery import send_due
        from bot.nudges.planning import WEEKDAYS, finished, member_row, next_slot
        from bot.nudges.plans import send_plans

        ref = MemberRef(team_id=TEAM, user_id=self.member)
        with self.runtime.sessions() as session:
            row = member_row(session, ref)
            if row is None:
                raise Refusal("Ally does not know you yet: use /ally first.")
            if row.tz_checked_at is None:
                # Ally reads the member's time zone from Slack before its first weekly DM.
                tz = next(p.tz for p in PEOPLE if p.user_id == self.member)
                row = replace(row, schedule=replace(row.schedule, tz=tz))
            now = self.clock.now
            slot = next_slot(row.schedule, now)
            if slot is not None and finished(session, [(row, slot)]):
                slot = next_slot(row.schedule, now, sent_this_week=True)
        if slot is None:
            raise Refusal("Your weekly DM is off: /ally nudges on turns it on.")
        local = slot.local
        when = f"{WEEKDAYS[local.weekday()]} {local:%d %b %H:%M} ({row.schedule.tz})"
        if slot.due_at > now:
            self.clock.now = slot.due_at
            self.console.print(f"[dim]The clock moves on to {escape(when)}: your weekly DM.[/dim]")
        else:
            self.console.print(f"[dim]Your weekly DM was due {escape(when)}: it goes now.[/dim]")
        summary = send_due(self.runtime, self.clock.now)
        send_plans(self.runtime, self.clock.now)
        if not summary.sent:
            self.console.print(f"[dim]Nothing to send ({escape(str(summary))}).[/dim]")
        self.show()

    def share(self, name: str) -> None:
        if not name:
            raise Refusal("share needs a file: share FILE, e.g. share Connections.csv.")
        path = Path(name).expanduser()
        try:
            with path.open("rb") as file:
                content = file.read(FILE_MAX)
                size = os.fstat(file.fileno()).st_size
        except OSError as error:
            raise Refusal(f"Cannot read {name}: {error.strerror or error}.") from None
        shared = self.slack.share(path.name, content, size=size)
        channel = dm_of(self.member)
        self.console.print(f"[dim]You sent {escape(path.name)} to Ally.[/dim]")
        self.event(
            {
                "type": "message",
                "subtype": "file_share",
                "channel": channel,
                "channel_type": "im",
                "user": self.member,
                "text": "",
                "ts": f"{time.time():.6f}",
                "files": [shared],
            }
        )

    # -- modals ----------------------------------------------------------------------------------
    def fill(self, modal: Shown) -> None:
        """Fill ``modal`` field by field and submit it; ask again for a field Ally says is wrong."""
        answers: dict[str, dict[str, Any]] = {}
        ask = [b for b in modal.body.get("blocks") or [] if b.get("type") == "input"]
        if not ask or not modal.body.get("submit"):
            # Nothing to fill in (a confirmation, a summary): read, and closed.
            self.slack.views.pop(modal.view_id, None)
            return
        while True:
            for block in ask:
                answer = self.field(block)
                if answer is None:
                    self.console.print("[dim]Form closed; nothing was sent.[/dim]")
                    self.slack.views.pop(modal.view_id, None)
                    return
                answers[str(block["block_id"])] = answer
            payload = {
                "type": "view_submission",
                "team": {"id": TEAM, "domain": "tryout"},
                "user": self.user_field(),
                "api_app_id": "A0ALLY",
                "token": "legacy",
                "trigger_id": self.trigger(),
                "view": self.view_payload(modal, answers),
            }
            body = urlencode({"payload": json.dumps(payload)})
            status, answer = self.send(body, "application/x-www-form-urlencoded")
            if status != 200:
                self.console.print(f"[yellow]Ally answered {status}: nothing was saved.[/yellow]")
                return
            action = answer.get("response_action")
            if action == "errors":
                errors: dict[str, str] = answer.get("errors") or {}
                blocks = modal.body.get("blocks") or []
                for block_id, error in errors.items():
                    label = next(
                        (
                            (b.get("label") or {}).get("text", block_id)
                            for b in blocks
                            if b.get("block_id") == block_id
                        ),
                        block_id,
                    )
                    self.console.print(f"[red]✗ {escape(label)}: {escape(error)}[/red]")
                ask = [b for b in blocks if b.get("block_id") in errors]
                if not ask:
                    return
                continue
            if action in ("update", "push") and isinstance(answer.get("view"), dict):
                view = {**answer["view"]}
                view["blocks"] = [
                    b if b.get("block_id") else {**b, "block_id": f"b{n}"}
                    for n, b in enumerate(view.get("blocks") or [])
                ]
                modal = Shown("modal", self.member, view, view_id=modal.view_id)
                self.slack.views[modal.view_id] = modal
                self.show_one(modal)
                self.fill(modal)
                return
            self.slack.views.pop(modal.view_id, None)
            return

    def field(self, block: dict[str, Any]) -> dict[str, Any] | None:
        """One input's answer as Slack sends it in ``state.values`` (None: the form is closed)."""
        element = block.get("element") or {}
        kind = str(element.get("type"))
        action_id = str(element.get("action_id") or "a")
        label = plain(str((block.get("label") or {}).get("text") or ""), self.name)
        options = list(element.get("options") or [])
        hint = {
            "users_select": "a person, e.g. @bob",
            "multi_users_select": "people, e.g. @bob @carmen",
            "datepicker": "a date, YYYY-MM-DD",
            "timepicker": "a time, HH:MM",
            "checkboxes": "numbers, e.g. 1 3",
            "multi_static_select": "numbers, e.g. 1 3",
        }.get(kind, "a number" if options else "")
        for n, option in enumerate(options, 1):
            text = plain(str((option.get("text") or {}).get("text") or ""), self.name)
            self.console.print(f"    [reverse] {n} [/reverse] {escape(text)}")
        while True:
            prompt = f"  {escape(label)}" + (f" ({hint})" if hint else "") + ": "
            line = self.lines.read(prompt)
            if line is None or line.strip() == "cancel":
                return None
            try:
                return {action_id: self.value(kind, element, options, line.strip())}
            except Refusal as refusal:
                self.console.print(f"  [yellow]{escape(str(refusal))}[/yellow]")

    def value(
        self, kind: str, element: dict[str, Any], options: list[dict[str, Any]], text: str
    ) -> dict[str, Any]:
        def pick(word: str) -> dict[str, Any]:
            if word.isdigit() and 1 <= int(word) <= len(options):
                return options[int(word) - 1]
            raise Refusal(f"Pick a number from 1 to {len(options)}.")

        if kind in ("static_select", "radio_buttons"):
            chosen = pick(text) if text else element.get("initial_option")
            return {"type": kind, "selected_option": chosen}
        if kind in ("checkboxes", "multi_static_select"):
            words = text.replace(",", " ").split()
            chosen_all = [pick(w) for w in words] if words else element.get("initial_options")
            return {"type": kind, "selected_options": chosen_all or []}
        if kind == "users_select":
            users = self.users_in(text) if text else []
            if text and len(users) != 1:
                raise Refusal(f"Name one person, e.g. @bob ({self.everyone()}).")
            chosen_user = users[0] if users else element.get("initial_user")
            return {"type": kind, "selected_user": chosen_user}
        if kind == "multi_users_select":
            users = self.users_in(text) if text else element.get("initial_users") or []
            return {"type": kind, "selected_users": users}
        if kind == "datepicker":
            if text:
                try:
                    date.fromisoformat(text)
                except ValueError:
                    raise Refusal("Give the date as YYYY-MM-DD, e.g. 2026-12-03.") from None
            return {"type": kind, "selected_date": text or element.get("initial_date")}
        if kind == "timepicker":
            if text and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
                raise Refusal("Give the time as HH:MM, e.g. 09:30.")
            return {"type": kind, "selected_time": text or element.get("initial_time")}
        initial = element.get("initial_value")
        return {"type": kind, "value": text or initial or None}

    def users_in(self, text: str) -> list[str]:
        found: list[str] = []
        for word in text.replace(",", " ").split():
            user = self.find(word)
            if user is None:
                raise Refusal(f"No one called {word!r} here: try one of {self.everyone()}.")
            found.append(user)
        return found

    # -- showing what Ally did ---------------------------------------------------------------------
    def show(self) -> None:
        """Show what Ally showed this member since last time; fill a form Ally opened."""
        for _ in range(3):  # a job's Slack call may start another job
            self.work.settle()
            self.slack.settle()
            if self.work.pending == 0:
                break
        with self.slack.lock:
            start = self.seen.get(self.member, 0)
            items = [s for s in self.slack.shown[start:] if s.user == self.member]
            # What Ally showed someone else waits for them: ``as @name`` shows it.
            self.seen[self.member] = len(self.slack.shown)
        fresh: list[tuple[Pressable, Shown]] = []
        modal = None
        homes = [item for item in items if item.kind == "home"]
        for item in items:
            if item.kind == "deleted":
                self.console.print("[dim](Ally removed its message.)[/dim]")
                continue
            if item.kind == "home" and (not self.looking_at_home or item is not homes[-1]):
                # Slack redraws the Home tab where the member may not be looking: say so once.
                if item is homes[-1]:
                    self.console.print("[dim](Ally updated your Home tab: home shows it.)[/dim]")
                continue
            fresh += self.show_one(item, first=len(fresh) + 1)
            if item.kind == "modal":
                modal = item
        if fresh:
            self.pressables = fresh
        self.looking_at_home = False
        if modal is not None and modal.view_id in self.slack.views:
            self.fill(modal)
            self.show()

    def show_one(self, item: Shown, first: int = 1) -> list[tuple[Pressable, Shown]]:
        renderer = Renderer(self.name, first)
        if item.kind in ("modal", "home"):
            title = plain(str((item.body.get("title") or {}).get("text") or "Ally"), self.name)
            body = renderer.blocks(item.body.get("blocks") or [], "")
            heading = f"Form: {title}" if item.kind == "modal" else "Ally › Home"
            self.console.print(panel(body, escape(heading), "magenta"))
        else:
            body = renderer.blocks(item.body.get("blocks") or [], item.body.get("text") or "")
            heading = (
                "Ally (only visible to you)" if item.kind == "ephemeral" else "Ally › DM to you"
            )
            heading += " (edited)" if item.edited else ""
            self.console.print(panel(body, heading, "cyan" if item.kind == "message" else "blue"))
        return [(p, item) for p in renderer.pressables]

    # -- Slack's side of a request -----------------------------------------------------------------
    def send(self, body: str, content_type: str) -> tuple[int, dict[str, Any]]:
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(
            timestamp=timestamp, body=body
        )
        if signature is None:
            raise Refusal("Could not sign the request.")
        headers: dict[str, str | Sequence[str]] = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        text = response.body or ""
        try:
            answer = json.loads(text) if text.startswith("{") else {"text": text}
        except ValueError:
            answer = {"text": text}
        return response.status, answer

    def event(self, event: dict[str, Any]) -> None:
        callback = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0ALLY",
            "type": "event_callback",
            "event_id": f"Ev{next(self.serial)}{secrets.token_hex(4)}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": TEAM,
                    "user_id": BOT_USER,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "event": event,
        }
        self.send(json.dumps(callback), "application/json")
        self.show()

    def view_payload(self, shown: Shown, answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
        view = shown.body
        return {
            "id": shown.view_id,
            "team_id": TEAM,
            "type": view.get("type", "modal"),
            "callback_id": view.get("callback_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view.get("blocks") or [],
            "state": {"values": answers},
            "hash": f"{time.time():.6f}.{next(self.serial)}",
            "title": view.get("title"),
        }

    def trigger(self) -> str:
        return f"{self.member}.{next(self.serial)}.{secrets.token_hex(4)}"

    def user_field(self) -> dict[str, Any]:
        handle = self.handle(self.member)
        return {"id": self.member, "username": handle, "name": handle, "team_id": TEAM}

    def as_sent(self, typed: str) -> str:
        """What Slack sends for ``typed``: ``& < >`` escaped, ``@name`` as a mention."""
        escaped = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

        def mention(match: re.Match[str]) -> str:
            user = self.find(match.group(0))
            return f"<@{user}|{match.group(1).lower()}>" if user else match.group(0)

        return HANDLE.sub(mention, escaped)

    # -- the people --------------------------------------------------------------------------------
    def find(self, who: str) -> str | None:
        key = who.strip().lstrip("@").casefold()
        for person in PEOPLE:
            if key in (person.handle, person.user_id.casefold(), person.name.casefold()):
                return person.user_id
        return None

    def name(self, user_id: str) -> str:
        person = next((p for p in PEOPLE if p.user_id == user_id), None)
        return person.name if person else user_id

    def handle(self, user_id: str) -> str:
        person = next((p for p in PEOPLE if p.user_id == user_id), None)
        return person.handle if person else user_id

    def everyone(self) -> str:
        return ", ".join("@" + p.handle for p in PEOPLE)


class Tracked(ThreadPoolExecutor):
    """A thread pool that can say when every job given to it is done."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending = 0
        self.count_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self.count_lock:
            self.pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self.count_lock:
            self.pending -= 1

    def settle(self, deadline: float = 30.0) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            with self.count_lock:
                if self.pending == 0:
                    return
            time.sleep(0.02)


class Refusal(Exception):
    """Something the member typed that the session cannot do: one line, and the session goes on."""
