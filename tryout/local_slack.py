"""A small local Slack Web API for ``ally-bot try``: one workspace, a few people, on 127.0.0.1.

It answers only the methods Ally calls in a session, keeps what Ally posts (messages, ephemeral
messages, answers to a ``response_url``, modals, Home tabs) as ``Shown`` items for the terminal,
and refuses what Slack refuses: more than 50 blocks in a message or 100 in a view
(https://api.slack.com/reference/block-kit/blocks), text over 40,000 characters
(https://api.slack.com/methods/chat.postMessage, ``msg_too_long``), a modal without a title
(https://api.slack.com/reference/surfaces/views), an unknown method (``unknown_method``), and
any token but its own (``invalid_auth``). Nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TEAM = "T0TRY"
TEAM_NAME = "Tryout"
BOT_USER = "UALLY"
TOKEN = "xoxb-try-local"
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
TITLE_MAX = 24

Params = dict[str, Any]


@dataclass(frozen=True)
class Person:
    user_id: str
    handle: str
    name: str
    tz: str
    title: str
    guest: bool = False


# The built-in workspace: a few colleagues in different time zones, and one guest.
PEOPLE = (
    Person("U0ALICE", "alice", "Alice Martin", "Europe/London", "Product manager"),
    Person("U0BOB", "bob", "Bob Okafor", "America/New_York", "Engineering lead"),
    Person("U0CARMEN", "carmen", "Carmen Ruiz", "Europe/Madrid", "Designer"),
    Person("U0DEV", "dev", "Dev Patel", "Asia/Kolkata", "Data analyst"),
    Person("U0ERIN", "erin", "Erin Walsh", "America/Los_Angeles", "VP Sales"),
    Person("U0GITA", "gita", "Gita Rao", "Asia/Singapore", "Agency consultant", guest=True),
)


class Refused(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Shown:
    """Something Ally showed a member: a message, an ephemeral message, a modal or a Home tab."""

    kind: str  # "message" (a DM), "ephemeral", "modal", "home"
    user: str  # who sees it
    body: dict[str, Any]
    channel: str = ""
    ts: str = ""
    view_id: str = ""
    response_url: str = ""
    edited: bool = False  # a message Ally changed in place (chat.update, replace_original)


@dataclass
class LocalSlack:
    """The workspace's Web API on a free local port; ``shown`` is what Ally showed, in order."""

    shown: list[Shown] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.busy = 0
        self.last_call = time.monotonic()
        self.users = {p.user_id: _user(p) for p in PEOPLE}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, Shown] = {}  # open modals and Home tabs by view id
        # response_url: user, channel, what its answers replace, that message's ts
        self.hooks: dict[str, tuple[str, str, str, str]] = {}
        self.uploads: dict[str, bytes] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- serving -------------------------------------------------------------------------------
    def start(self) -> LocalSlack:
        local = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with local.lock:
                    local.busy += 1
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    raw = self.rfile.read(length)
                    status, body = local.answer(self.path, raw, dict(self.headers))
                    payload = json.dumps(body).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    with local.lock:
                        local.busy -= 1
                        local.last_call = time.monotonic()

            def do_GET(self) -> None:
                if self.path.startswith("/files/"):
                    local.download(self)
                else:
                    self.do_POST()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll, so quitting does not wait half a second for the serving loop.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def root(self) -> str:
        assert self._server is not None
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def new_response_url(
        self, user: str, channel: str, kind: str = "ephemeral", ts: str = ""
    ) -> str:
        """A ``response_url`` for ``user``'s command or button press in ``channel``; ``kind`` is
        what its answers replace (an ephemeral message, or a message in the DM)."""
        url = f"{self.root}/hooks/{next(self._ids)}"
        with self.lock:
            self.hooks[url] = (user, channel, kind, ts)
        return url

    def new_response_url_locked(self, user: str, channel: str) -> str:
        url = f"{self.root}/hooks/{next(self._ids)}"
        self.hooks[url] = (user, channel, "ephemeral", "")
        return url

    def settle(self, quiet: float = 0.15, deadline: float = 10.0) -> None:
        """Wait until Ally has made no call for ``quiet`` seconds (work it does after the ack)."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            with self.lock:
                idle = self.busy == 0 and time.monotonic() - self.last_call >= quiet
            if idle:
                return
            time.sleep(0.03)

    # -- the Web API ---------------------------------------------------------------------------
    def answer(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if path.startswith("/upload/"):
            self.uploads[path.rsplit("/", 1)[-1]] = raw
            return 200, {"ok": True}
        params = _parse(raw.decode("utf-8", "replace"), content_type)
        if path.startswith("/hooks/"):
            return self._respond(path, params)
        method = path.rsplit("/", 1)[-1].split("?")[0]
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method"}
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        token = auth.removeprefix("Bearer ").strip() or str(params.get("token") or "")
        if token != TOKEN:
            return 200, {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        try:
            with self.lock:
                return 200, handler(params)
        except Refused as refused:
            return 200, {"ok": False, "error": refused.error}

    def _auth_test(self, params: Params) -> dict:
        return {
            "ok": True,
            "url": "https://tryout.slack.invalid/",
            "team": TEAM_NAME,
            "user": "ally",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": "B0ALLY",
            "is_enterprise_install": False,
        }

    def _team_info(self, params: Params) -> dict:
        return {"ok": True, "team": {"id": TEAM, "name": TEAM_NAME, "domain": "tryout"}}

    def _users_info(self, params: Params) -> dict:
        user = self.users.get(str(params.get("user") or ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _users_list(self, params: Params) -> dict:
        members = list(self.users.values())
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _users_conversations(self, params: Params) -> dict:
        # The built-in workspace has one public channel, #general, that everyone is in.
        return {
            "ok": True,
            "channels": [{"id": "C0GENERAL", "is_private": False}],
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_open(self, params: Params) -> dict:
        users = str(params.get("users") or "").split(",")[0]
        if users not in self.users:
            raise Refused("user_not_found")
        return {"ok": True, "channel": {"id": dm_of(users)}}

    def _conversations_history(self, params: Params) -> dict:
        posted = list(reversed(self.messages.get(str(params.get("channel")), [])))
        oldest = float(params.get("oldest") or 0)
        found = [
            {"type": "message", "ts": m["ts"], "text": m.get("text", ""), "blocks": m["blocks"]}
            for m in posted
            if float(m["ts"]) > oldest
        ]
        limit = int(params.get("limit") or 100)
        return {"ok": True, "messages": found[:limit], "has_more": len(found) > limit}

    def _chat_postMessage(self, params: Params) -> dict:
        message = _message(params)
        channel = str(params.get("channel") or "")
        if channel in self.users:
            channel = dm_of(channel)
        user = user_of_dm(channel)
        if user is None:
            raise Refused("channel_not_found")
        ts = self._next_ts()
        self.messages.setdefault(channel, []).append({**message, "ts": ts})
        self.shown.append(Shown("message", user, message, channel=channel, ts=ts))
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_postEphemeral(self, params: Params) -> dict:
        message = _message(params)
        user = str(params.get("user") or "")
        if user not in self.users:
            raise Refused("user_not_in_channel")
        channel = str(params.get("channel") or "")
        url = self.new_response_url_locked(user, channel)
        ts = self._next_ts()
        self.shown.append(Shown("ephemeral", user, message, channel, ts, response_url=url))
        return {"ok": True, "message_ts": ts}

    def _chat_update(self, params: Params) -> dict:
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        message = _message(params)
        found = [m for m in self.messages.get(channel, []) if m["ts"] == ts]
        if not found:
            raise Refused("message_not_found")
        found[0].update(message)
        user = user_of_dm(channel) or ""
        self.shown.append(Shown("message", user, message, channel=channel, ts=ts, edited=True))
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_delete(self, params: Params) -> dict:
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        posted = self.messages.get(channel, [])
        found = [m for m in posted if m["ts"] == ts]
        if not found:
            raise Refused("message_not_found")
        posted.remove(found[0])
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_getPermalink(self, params: Params) -> dict:
        channel, ts = params.get("channel", ""), str(params.get("message_ts", ""))
        link = f"https://tryout.slack.invalid/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _views_open(self, params: Params) -> dict:
        return self._modal(params, parent=None)

    def _views_push(self, params: Params) -> dict:
        return self._modal(params, parent=None)

    def _views_update(self, params: Params) -> dict:
        view_id = str(params.get("view_id") or "")
        shown = self.views.get(view_id)
        if shown is None:
            raise Refused("not_found")
        view = _view(params, modal=shown.kind == "modal")
        again = Shown(shown.kind, shown.user, view, view_id=view_id)
        self.views[view_id] = again
        self.shown.append(again)
        return {"ok": True, "view": {**view, "id": view_id}}

    def _views_publish(self, params: Params) -> dict:
        user = str(params.get("user_id") or "")
        if user not in self.users:
            raise Refused("user_not_found")
        view = _view(params, modal=False)
        view_id = f"VHOME{user}"
        shown = Shown("home", user, view, view_id=view_id)
        self.views[view_id] = shown
        self.shown.append(shown)
        return {"ok": True, "view": {**view, "id": view_id}}

    def _modal(self, params: Params, parent: str | None) -> dict:
        # The terminal session sends one trigger per request and names its member in it.
        trigger = str(params.get("trigger_id") or "")
        user = trigger.split(".", 1)[0]
        if user not in self.users:
            raise Refused("invalid_trigger_id")
        view = _view(params, modal=True)
        view_id = f"V{next(self._ids)}"
        shown = Shown("modal", user, view, view_id=view_id)
        self.views[view_id] = shown
        self.shown.append(shown)
        return {"ok": True, "view": {**view, "id": view_id}}

    def _respond(self, path: str, params: Params) -> tuple[int, dict]:
        """A post to a ``response_url``: a new ephemeral message, or the one it replaces."""
        url = self.root + path
        with self.lock:
            hook = self.hooks.get(url)
            if hook is None:
                return 404, {"ok": False, "error": "no_such_response_url"}
            user, channel, kind, ts = hook
            if params.get("delete_original"):
                self.shown.append(Shown("deleted", user, {"text": "(message removed)"}))
                return 200, {"ok": True}
            try:
                message = _message(params)
            except Refused as refused:
                return 400, {"ok": False, "error": refused.error}
            replaces = params.get("replace_original") in (True, "true")
            if kind == "message" and replaces and params.get("response_type") != "ephemeral":
                shown = Shown("message", user, message, channel, ts, response_url=url, edited=True)
                self.shown.append(shown)
            else:
                self.shown.append(Shown("ephemeral", user, message, channel, response_url=url))
        return 200, {"ok": True}

    # -- files a member shares in their DM with Ally, and files Ally uploads --------------------
    def share(self, name: str, content: bytes, size: int | None = None) -> dict[str, Any]:
        """A file the member sent Ally in their DM; ``size`` is the whole file's, when only its
        start was read."""
        file_id = f"F{next(self._ids)}"
        with self.lock:
            self.files[file_id] = (name, content)
            self.sizes[file_id] = len(content) if size is None else size
        return {"id": file_id, "name": name, "size": self.sizes[file_id]}

    def _files_info(self, params: Params) -> dict:
        file_id = str(params.get("file") or "")
        if file_id not in self.files:
            raise Refused("file_not_found")
        name, content = self.files[file_id]
        url = f"{self.root}/files/{file_id}/{name}"
        size = self.sizes.get(file_id, len(content))
        file = {"id": file_id, "name": name, "size": size, "url_private_download": url}
        return {"ok": True, "file": file}

    def download(self, request: BaseHTTPRequestHandler) -> None:
        file_id = request.path.split("/")[2]
        auth = request.headers.get("Authorization", "")
        found = self.files.get(file_id)
        status, body = (404, b"Not found") if not found else (200, found[1])
        if found and auth != f"Bearer {TOKEN}":
            status, body = 200, b"<!DOCTYPE html><html><body>Sign in</body></html>"
        request.send_response(status)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _files_getUploadURLExternal(self, params: Params) -> dict:
        file_id = f"F{next(self._ids)}"
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.root}/upload/{file_id}"}

    def _files_completeUploadExternal(self, params: Params) -> dict:
        files = params.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        listed = [f for f in files or [] if isinstance(f, dict)]
        if any(f.get("id") not in self.uploads for f in listed):
            raise Refused("file_not_found")
        channel = str(params.get("channel_id") or "")
        user = user_of_dm(channel) or ""
        for f in listed:
            size = len(self.uploads[f["id"]])
            text = f"📎 {f.get('title') or f['id']} ({size:,} bytes)"
            comment = params.get("initial_comment")
            body = {"text": f"{comment}\n{text}" if comment else text}
            self.shown.append(Shown("message", user, body, channel=channel, ts=self._next_ts()))
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in listed]}

    def _files_delete(self, params: Params) -> dict:
        if self.uploads.pop(str(params.get("file") or ""), None) is None:
            raise Refused("file_not_found")
        return {"ok": True}

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"


def dm_of(user_id: str) -> str:
    return "D" + user_id


def user_of_dm(channel: str) -> str | None:
    return channel[1:] if channel.startswith("DU") else None


def _user(person: Person) -> dict[str, Any]:
    return {
        "id": person.user_id,
        "team_id": TEAM,
        "name": person.handle,
        "real_name": person.name,
        "tz": person.tz,
        "is_bot": False,
        "is_app_user": False,
        "is_restricted": person.guest,
        "is_ultra_restricted": False,
        "deleted": False,
        "profile": {
            "display_name": person.name.split()[0],
            "real_name": person.name,
            "title": person.title,
            "email": f"{person.handle}@tryout.example",
        },
    }


def _message(params: Params) -> dict[str, Any]:
    text = params.get("text") or ""
    blocks = params.get("blocks") or []
    if not isinstance(blocks, list):
        raise Refused("invalid_blocks")
    if not text and not blocks:
        raise Refused("no_text")
    if len(str(text)) > MESSAGE_TEXT_MAX:
        raise Refused("msg_too_long")
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        raise Refused("invalid_blocks")
    return {"text": str(text), "blocks": _with_block_ids(blocks)}


def _view(params: Params, *, modal: bool) -> dict[str, Any]:
    view = params.get("view")
    if isinstance(view, str):
        view = json.loads(view)
    if not isinstance(view, dict):
        raise Refused("invalid_arguments")
    blocks = view.get("blocks") or []
    if len(blocks) > VIEW_BLOCKS_MAX:
        raise Refused("invalid_blocks")
    view = {**view, "blocks": _with_block_ids(blocks)}
    if modal:
        title = (view.get("title") or {}).get("text") or ""
        if not title or len(title) > TITLE_MAX:
            raise Refused("invalid_arguments")
    return view


def _with_block_ids(blocks: list[Any]) -> list[Any]:
    """Blocks as Slack keeps them: one without a ``block_id`` is given one."""
    if not all(isinstance(b, dict) for b in blocks):
        raise Refused("invalid_blocks")
    return [b if b.get("block_id") else {**b, "block_id": f"b{n}"} for n, b in enumerate(blocks)]


def _parse(raw: str, content_type: str) -> Params:
    if not raw:
        return {}
    if "json" in content_type:
        loaded = json.loads(raw)
        return loaded if isinstance(loaded, dict) else {}
    params: Params = dict(parse_qsl(raw, keep_blank_values=True))
    for key in ("blocks", "view", "attachments", "metadata", "files"):
        value = params.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            params[key] = json.loads(value)
    return params
