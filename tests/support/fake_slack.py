"""A local stand-in for the Slack Web API: a stdlib HTTP server on port 0 that records calls.

Point a client at ``fake.base_url``. Every call is kept in ``fake.calls`` as (method, params).
Answers come from small built-in handlers (users, DMs, messages, views, files) that tests can
override with ``fake.on(method, handler)`` or make fail with ``fake.fail(method, ...)``. Like
Slack, it answers ``unknown_method`` for a method it does not know and refuses messages and views
that break Slack's limits (tests/support/fake_slack_rules.py lists the methods and the limits).

Slack's rate limits are on by default (``fake.limits``, see tests/support/fake_slack_limits.py): a
call over its method's limit for its token gets 429 with ``Retry-After``, on a clock where one Slack
minute lasts 0.05 s. Give the app ``fake.sleep`` (``Runtime(sleep=...)``) so it waits out
``Retry-After`` at that scale. ``FakeSlack(limits=None)`` turns them off.

Trigger ids are Slack's: ``issue_trigger`` hands one out (SlackDriver asks for one per request it
sends), and ``views.open`` / ``views.push`` take it once, within ``TRIGGER_LIFETIME`` seconds on the
fake's clock (``now``): real time, plus the whole Slack length of every ``Retry-After`` wait that
``fake.sleep`` compressed, in any thread. Otherwise Slack's errors: ``expired_trigger_id``,
``exchanged_trigger_id``, ``invalid_trigger_id`` (one it never issued). Sources:
https://api.slack.com/interactivity/handling#modal_responses ("trigger_id ... expires in 3
seconds"; "can only be used once") and the errors listed on
https://api.slack.com/methods/views.open and https://api.slack.com/methods/views.push.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.support.fake_slack_limits import RateLimits
from tests.support.fake_slack_rules import (
    BOT_SCOPES,
    KNOWN_METHODS,
    TOKEN_REFUSALS,
    refusal,
    response_refusal,
)

Params = dict[str, Any]
# Slack seconds a trigger_id can be exchanged for a view after Slack issued it.
TRIGGER_LIFETIME = 3.0
# A response_url: posts it takes, and Slack seconds it lives (RESPONSE_URL in fake_slack_rules).
RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = 30 * 60.0
# What Slack answers (HTTP 404, plain text) a post to a response_url past its time; Slack
# documents no other answer for a sixth post, so the fake gives this one for that too.
EXPIRED_URL = "Expired url"
_TRIGGER_METHODS = ("views.open", "views.push")
Answer = dict[str, Any] | tuple[int, dict[str, str], dict[str, Any]]
# The bot token the tests' single workspace (T1, "Acme") runs with (tests/support/settings.py).
TEST_TOKEN = "xoxb-test"
POLL = 0.02  # seconds between the serving loop's looks at shutdown()


def identity(
    team_id: str,
    *,
    enterprise_id: str | None = None,
    team: str | None = None,
    user_id: str = "UBOT",
    bot_id: str = "BBOT",
    enterprise_install: bool = False,
) -> dict[str, Any]:
    """What auth.test answers for a bot token of ``team_id`` (AUTH in fake_slack_rules)."""
    answer: dict[str, Any] = {
        "ok": True,
        "url": f"https://{team_id.lower()}.slack.com/",
        "team": team or f"Team {team_id}",
        "user": "ally",
        "team_id": team_id,
        "user_id": user_id,
        "bot_id": bot_id,
        "is_enterprise_install": enterprise_install,
    }
    if enterprise_id:
        answer["enterprise_id"] = enterprise_id
    return answer


class DropConnection(Exception):
    """Raised by a handler: the fake closes the connection without answering (the client sees
    the connection dropped after its request was sent, whatever the handler did by then)."""


@dataclass
class Call:
    method: str
    params: Params
    headers: dict[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int
    # Slack did the work (posted the message...) and then answered with the failure.
    done_first: bool = False


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    socket_url: str | None = None
    # OAuth codes the fake accepts, with the oauth.v2.access answer each one gets.
    oauth_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Messages posted with chat.postMessage, per channel, oldest first (for conversations.history).
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Slack's rate limits per token, on a scaled clock; None: no limits.
    limits: RateLimits | None = field(default_factory=RateLimits)
    # Tokens Slack no longer accepts, with the error it answers (token_revoked, invalid_auth).
    revoked: dict[str, str] = field(default_factory=dict)
    # Every token Slack issued, with whom auth.test says it belongs to; Slack answers
    # invalid_auth to auth.test with any other token. An OAuth install adds its token.
    tokens: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {TEST_TOKEN: identity("T1", team="Acme")}
    )
    # The bot token's scopes (manifest.yml's by default): profile emails need users:read.email.
    scopes: set[str] = field(default_factory=lambda: set(BOT_SCOPES))
    # Channels: id -> (member ids, private); the bot user is UBOT.
    channels: dict[str, tuple[set[str], bool]] = field(default_factory=dict)
    # Channels that were archived (CHANNELS in fake_slack_rules): nothing more is posted there.
    archived: set[str] = field(default_factory=set)
    # Users the bot may not see (another organisation's people, Slack Connect): conversations.open
    # answers user_not_visible.
    invisible: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, Callable[[Params], Answer]] = {}
        self._failures: dict[str, list[Failure]] = {}
        # Trigger ids issued, with when (on ``now``'s clock); the ones already exchanged.
        self.triggers: dict[str, float] = {}
        self.exchanged: set[str] = set()
        self._serial = itertools.count(1)
        self._skipped = 0.0  # Slack seconds that compressed waits skipped
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._files = itertools.count(1)
        self.uploads: dict[str, str] = {}
        self.shared_files: dict[str, tuple[str, bytes]] = {}
        self.file_sizes: dict[str, int] = {}  # files.info's size, when a test says otherwise
        # A shared file's download answered with a redirect to this address instead.
        self.file_redirects: dict[str, str] = {}
        # Tokens files.slack.com hands files to (a token without files:read is not among them).
        self.download_tokens: set[str] = {"xoxb-test"}
        # DMs opened with conversations.open (the app's DM with a user is ``"D" + user id``).
        self.opened: set[str] = set()
        # Each response_url issued ("<name>/<serial>") -> when (on ``now``'s clock); and how
        # many posts each has taken.
        self.hook_issued: dict[str, float] = {}
        self.hook_uses: dict[str, int] = {}
        # Posts to a response_url Slack refused, with its answer (they are not in ``calls``).
        self.refused_posts: list[tuple[Call, str]] = []
        self._server: ThreadingHTTPServer | None = None
        # Every workspace has Slackbot: users.info answers for it, with is_bot false.
        self.users.setdefault("USLACKBOT", slackbot())

    # -- set-up -----------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.path.startswith("/upload/"):
                    # files upload v2, step 2: the file's bytes POSTed to the issued URL.
                    status, headers, body = fake._upload(self.path.rsplit("/", 1)[-1], raw)
                elif self.path.startswith("/hooks/"):
                    path = self.path.removeprefix("/hooks/")
                    status, headers, body = fake._hook(path, raw, dict(self.headers))
                else:
                    method = self.path.rsplit("/", 1)[-1].split("?")[0]
                    try:
                        status, headers, body = fake._answer(method, raw, dict(self.headers))
                    except DropConnection:
                        self.close_connection = True
                        return
                text = isinstance(body, str)
                payload = (body if text else json.dumps(body)).encode()
                self.send_response(status)
                kind = "text/plain" if text else "application/json"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                if self.path.startswith("/files-pri/"):
                    fake._download(self)
                else:
                    self.do_POST()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for the serving loop to look up; at the default half second, every
        # test would spend that long stopping its fake Slack.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def response_url(self, name: str = "respond") -> str:
        """A new ``response_url``, as Slack puts one in each command and interaction; what is
        posted to it is a call named ``name``. Like Slack's, it takes ``RESPONSE_URL_USES``
        posts within ``RESPONSE_URL_LIFETIME`` seconds on the fake's clock (``now``), each
        message held to chat.postMessage's limits (RESPONSE_URL in fake_slack_rules)."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        serial = next(self._serial)
        with self._lock:
            self.hook_issued[f"{name}/{serial}"] = self.now_unlocked()
        return f"http://{host}:{port}/hooks/{name}/{serial}"

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str = "Europe/London",
        is_bot: bool = False,
        deleted: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        is_app_user: bool = False,
    ) -> None:
        """A user as users.info shows them: a guest is ``is_restricted`` (multi-channel) or
        ``is_ultra_restricted`` (single-channel, which Slack marks restricted too)."""
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "tz": tz,
            "is_bot": is_bot,
            "is_app_user": is_app_user,
            "is_restricted": is_restricted or is_ultra_restricted,
            "is_ultra_restricted": is_ultra_restricted,
            "deleted": deleted,
            "profile": {"display_name": name, "real_name": name},
        }

    def add_channel(self, channel_id: str, *members: str, private: bool = False) -> None:
        """A channel and its members (add ``UBOT`` for a channel Ally is in: the chat methods
        refuse the others with ``not_in_channel``)."""
        self.channels[channel_id] = (set(members), private)

    def archive(self, channel_id: str) -> None:
        """The channel is archived: chat.postMessage / postEphemeral answer ``is_archived``,
        chat.update ``is_inactive`` (CHANNELS in fake_slack_rules)."""
        self.archived.add(channel_id)

    def without_tz(self, user_id: str) -> None:
        """Slack leaves ``tz`` (and ``tz_label``, ``tz_offset``) out of some user objects
        (MISSING_TZ in fake_slack_rules): this user is shown without them."""
        for key in ("tz", "tz_label", "tz_offset"):
            self.users[user_id].pop(key, None)

    def add_email(self, user_id: str, email: str) -> None:
        """Give a user a profile email (``users.list`` shows it with ``users:read.email``)."""
        self.users[user_id]["profile"]["email"] = email

    def post_as(self, user_id: str, channel: str, text: str) -> str:
        """A message ``user_id`` wrote in ``channel`` (not the app's): returns its ts."""
        ts = f"{1700000000 + next(self._ts)}.000300"
        with self._lock:
            self.messages.setdefault(channel, []).append({"user": user_id, "text": text, "ts": ts})
        return ts

    def on(self, method: str, handler: Callable[[Params], Answer]) -> None:
        """Answer ``method`` with ``handler(params)`` (a body, or (status, headers, body))."""
        self._handlers[method] = handler

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
        done_first: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status``.

        ``done_first``: each of them does its work first (the message is posted) and then
        answers with the failure. Slack warns of exactly this: ``internal_error`` and
        ``fatal_error`` mean "It's possible some aspect of the operation succeeded before the
        error was raised" (the "Errors" of every Web API method, e.g.
        docs.slack.dev/reference/methods/chat.postMessage), so a client must not take such an
        answer, or a timeout, to mean that nothing happened.
        """
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"ok": False, "error": error}
        failure = Failure(status, body, headers, times, done_first)
        self._failures.setdefault(method, []).append(failure)

    def add_token(self, token: str, team_id: str, **who: Any) -> None:
        """Slack issued ``token`` for ``team_id`` (an install): auth.test answers that team."""
        self.tokens[token] = identity(team_id, **who)

    def recover(self) -> None:
        """Slack is well again: the failures still queued by ``fail`` are dropped."""
        with self._lock:
            self._failures.clear()

    def revoke(self, token: str, error: str = "token_revoked") -> None:
        """Answer every call made with ``token`` with ``error``: ``token_revoked`` (the app was
        removed), ``account_inactive`` (the workspace was deleted) or ``invalid_auth`` (an IP
        allow-list, a mistyped token); AUTH in fake_slack_rules lists what Slack answers."""
        if error not in TOKEN_REFUSALS:
            raise ValueError(f"Slack does not refuse a token with {error!r}")
        self.revoked[token] = error

    def sleep(self, slack_seconds: float) -> None:
        """Sleep ``slack_seconds`` of the fake's Slack time (real seconds without limits); the
        fake's clock (``now``) moves on by all of them."""
        if self.limits is None:
            time.sleep(slack_seconds)
            return
        self.limits.sleep(slack_seconds)
        with self._lock:
            self._skipped += max(0.0, slack_seconds) * (1 - self.limits.slack_second)

    def now(self) -> float:
        """The fake's clock in seconds: real time, plus what compressed waits skipped."""
        with self._lock:
            return self.now_unlocked()

    def now_unlocked(self) -> float:
        """``now`` for a caller that already holds the fake's lock."""
        return time.monotonic() + self._skipped

    def advance(self, slack_seconds: float) -> None:
        """Move the fake's clock on by ``slack_seconds`` at once (nothing sleeps)."""
        with self._lock:
            self._skipped += slack_seconds

    def issue_trigger(self, trigger_id: str | None = None) -> str:
        """A new trigger id, as Slack puts in an interaction's payload, valid from now."""
        trigger_id = trigger_id or f"{next(self._serial)}.trigger"
        now = self.now()
        with self._lock:
            if trigger_id in self.triggers:
                raise ValueError(f"{trigger_id} was issued before: Slack issues each one once")
            self.triggers[trigger_id] = now
        return trigger_id

    def exchange_trigger(self, trigger_id: str) -> str | None:
        """What views.open and views.push do with a trigger id: take it (None), or answer
        Slack's error when it was never issued, is taken already or has expired."""
        now = self.now()
        with self._lock:
            issued = self.triggers.get(trigger_id)
            if issued is None:
                return "invalid_trigger_id"
            if trigger_id in self.exchanged:
                return "exchanged_trigger_id"
            if now - issued > TRIGGER_LIFETIME:
                return "expired_trigger_id"
            self.exchanged.add(trigger_id)
        return None

    # -- inspection -------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- answering --------------------------------------------------------------------------
    def _answer(self, method: str, raw: str, headers: dict[str, str]) -> tuple[int, dict, dict]:
        params = _parse(raw, headers.get("Content-Type", ""))
        with self._lock:
            self.calls.append(Call(method, params, headers))
            queue = self._failures.get(method)
            failure = queue[0] if queue else None
            if failure is not None and queue is not None:
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
                if not failure.done_first:
                    return failure.status, failure.headers, failure.body
            refused = refusal(method, params, KNOWN_METHODS | set(self._handlers))
        if refused is not None:
            return 200, {}, refused
        token = _token(params, headers)
        if token in self.revoked:
            return 200, {}, {"ok": False, "error": self.revoked[token]}
        if self.limits is not None:
            channel = dm_channel(str(params.get("channel", "")))
            wait = self.limits.check(method, token, channel)
            if wait is not None:
                return 429, {"Retry-After": str(wait)}, {"ok": False, "error": "ratelimited"}
        if method in _TRIGGER_METHODS:
            error = self.exchange_trigger(str(params.get("trigger_id")))
            if error is not None:
                return 200, {}, {"ok": False, "error": error}
        handler = self._handlers.get(method) or getattr(self, "_" + method.replace(".", "_"))
        if method == "auth.test":
            # auth.test answers for the token it was called with, however it was passed.
            params = {**params, "token": token}
        answer = handler(params)
        if failure is not None:  # done first, failed after
            return failure.status, failure.headers, failure.body
        if isinstance(answer, tuple):
            return answer
        return 200, {}, answer

    def _hook(self, path: str, raw: str, headers: dict[str, str]) -> tuple[int, dict, Any]:
        """A post to a response_url: taken at most ``RESPONSE_URL_USES`` times within
        ``RESPONSE_URL_LIFETIME`` (after that, or for a URL the fake never issued, Slack's 404
        ``Expired url``), its message held to Slack's limits (400 with the error). An accepted
        post is a call named as the URL was; a refused one is kept in ``refused_posts``."""
        params = _parse(raw, headers.get("Content-Type", ""))
        name = path.split("/", 1)[0]
        call = Call(name, params, headers)
        refused = response_refusal(params)
        with self._lock:
            issued = self.hook_issued.get(path)
            uses = self.hook_uses.get(path, 0)
            if (
                issued is None
                or self.now_unlocked() - issued > RESPONSE_URL_LIFETIME
                or uses >= RESPONSE_URL_USES
            ):
                self.refused_posts.append((call, EXPIRED_URL))
                return 404, {}, EXPIRED_URL
            self.hook_uses[path] = uses + 1
            if refused is not None:
                # Nobody sees a refused message: it is kept apart, not among the calls.
                self.refused_posts.append((call, str(refused["error"])))
                return 400, {}, refused
            self.calls.append(call)
        return 200, {}, {"ok": True}

    def _auth_test(self, params: Params) -> dict:
        """Who the token is: its own workspace, or invalid_auth for a token Slack never issued."""
        token = str(params.get("token") or "")
        if not token:
            return {"ok": False, "error": "not_authed"}
        found = self.tokens.get(token)
        return dict(found) if found is not None else {"ok": False, "error": "invalid_auth"}

    def as_token_sees(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user object as the token may see it: ``profile.email`` only with the
        ``users:read.email`` scope (EMAIL_SCOPE in fake_slack_rules)."""
        if "users:read.email" in self.scopes or "email" not in (user.get("profile") or {}):
            return user
        profile = {k: v for k, v in user["profile"].items() if k != "email"}
        return {**user, "profile": profile}

    def _users_info(self, params: Params) -> dict:
        user = self.users.get(params.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self.as_token_sees(user)}

    def _users_conversations(self, params: Params) -> dict:
        """The channels ``user`` is in (USERS_CONVERSATIONS in fake_slack_rules): public ones
        with ``channels:read``, private ones with ``groups:read`` and only when the bot is in
        them too; ``limit`` a page with Slack's cursor."""
        types = set(str(params.get("types") or "public_channel").split(","))
        needed = {"public_channel": "channels:read", "private_channel": "groups:read"}
        lacking = sorted(needed[t] for t in types if t in needed and needed[t] not in self.scopes)
        if lacking:
            return {"ok": False, "error": "missing_scope", "needed": ",".join(lacking)}
        user = str(params.get("user") or "UBOT")
        found = [
            {"id": channel_id, "is_private": private}
            for channel_id, (members, private) in sorted(self.channels.items())
            if user in members
            and ("private_channel" if private else "public_channel") in types
            and (not private or "UBOT" in members)
        ]
        start = int(params.get("cursor") or 0)
        limit = min(int(params.get("limit") or 100), 999)
        after = start + limit
        return {
            "ok": True,
            "channels": found[start:after],
            "response_metadata": {"next_cursor": str(after) if after < len(found) else ""},
        }

    def _conversations_open(self, params: Params) -> dict:
        """https://api.slack.com/methods/conversations.open (CONVERSATIONS_OPEN): a DM with
        ``users``; ``user_not_found`` for an id Slack does not know, ``user_disabled`` for a
        deactivated user, ``user_not_visible`` for one the bot may not see."""
        users = str(params.get("users", ""))
        user_id = users.split(",")[0]
        user = self.users.get(user_id)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        if user.get("deleted"):
            return {"ok": False, "error": "user_disabled"}
        if user_id in self.invisible:
            return {"ok": False, "error": "user_not_visible"}
        channel = "D" + user_id
        with self._lock:
            self.opened.add(channel)
        return {"ok": True, "channel": {"id": channel}}

    def channel_refusal(self, channel: str, method: str) -> str | None:
        """Slack's error for posting (or updating) in ``channel``, or None (CHANNELS in
        fake_slack_rules). A DM is the app's own when it was opened with conversations.open
        or is the app's DM with a user Slack knows (a user id as ``channel`` posts there);
        a channel must exist, be unarchived and have the bot (UBOT) as a member."""
        if channel.startswith("D"):
            user = self.users.get(channel[1:])
            if channel in self.opened or (user is not None and not user.get("deleted")):
                return None
            return "channel_not_found"
        found = self.channels.get(channel)
        if found is None:
            return "channel_not_found"
        if channel in self.archived:
            return "is_inactive" if method == "chat.update" else "is_archived"
        if "UBOT" not in found[0]:
            return "not_in_channel"
        return None

    def _chat_postMessage(self, params: Params) -> dict:
        # A user id as ``channel`` posts in the app's DM with that user; Slack answers with
        # the DM's own id.
        channel = dm_channel(str(params.get("channel")))
        refused = self.channel_refusal(channel, "chat.postMessage")
        if refused is not None:
            return {"ok": False, "error": refused}
        ts = f"{1700000000 + next(self._ts)}.000100"
        with self._lock:
            self.messages.setdefault(channel, []).append({**params, "ts": ts})
        return {"ok": True, "channel": channel, "ts": ts, "message": params}

    def _users_list(self, params: Params) -> dict:
        """Every user, ``limit`` a page (at most 1,000), with Slack's cursor."""
        users = list(self.users.values())
        start = int(params.get("cursor") or 0)
        limit = min(int(params.get("limit") or 1000), 1000)
        page = [self.as_token_sees(user) for user in users[start : start + limit]]
        after = start + limit
        return {
            "ok": True,
            "members": page,
            "response_metadata": {"next_cursor": str(after) if after < len(users) else ""},
        }

    def _conversations_history(self, params: Params) -> dict:
        """A channel's messages newest first; metadata only with ``include_all_metadata``."""
        with self._lock:
            posted = list(self.messages.get(str(params.get("channel")), []))
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found: list[dict[str, Any]] = [
            {
                "type": "message",
                "ts": m["ts"],
                "text": m.get("text", ""),
                **({"blocks": m["blocks"]} if "blocks" in m else {}),
                **({"metadata": m["metadata"]} if with_metadata and "metadata" in m else {}),
            }
            for m in reversed(posted)
            if float(m["ts"]) > oldest
            and (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest)
        ]
        limit = int(params.get("limit") or 100)
        if self.limits is not None:
            limit = min(limit, self.limits.history_page_max())
        start = int(params.get("cursor") or 0)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _chat_update(self, params: Params) -> dict:
        """https://api.slack.com/methods/chat.update (CHAT_UPDATE): ``channel`` must be the
        channel's (or DM's) id, not a user id; ``message_not_found`` for a ts that is not
        there (an ephemeral message is never there); ``cant_update_message`` for a message
        the bot did not post. The message is replaced."""
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        refused = self.channel_refusal(channel, "chat.update")
        if refused is not None:
            return {"ok": False, "error": refused}
        with self._lock:
            posted = self.messages.get(channel, [])
            found = [m for m in posted if m["ts"] == ts]
            if not found:
                return {"ok": False, "error": "message_not_found"}
            if "user" in found[0]:  # written by a person (post_as), not posted by the app
                return {"ok": False, "error": "cant_update_message"}
            updated = {k: v for k, v in params.items() if k not in ("token", "channel")}
            posted[posted.index(found[0])] = {**found[0], **updated}
        return {"ok": True, "channel": channel, "ts": ts, "text": params.get("text")}

    def _chat_delete(self, params: Params) -> dict:
        """https://api.slack.com/methods/chat.delete: ``channel`` and ``ts``; "When used with a
        bot token, this method may delete only messages posted by that bot"
        (``cant_delete_message`` for anyone else's); ``message_not_found`` for one that is not
        there."""
        channel, ts = str(params.get("channel")), str(params.get("ts"))
        with self._lock:
            posted = self.messages.get(channel, [])
            found = [m for m in posted if m["ts"] == ts]
            if not found:
                return {"ok": False, "error": "message_not_found"}
            if "user" in found[0]:  # written by a person (post_as), not posted by the app
                return {"ok": False, "error": "cant_delete_message"}
            posted.remove(found[0])
        return {"ok": True, "channel": channel, "ts": ts}

    def _files_delete(self, params: Params) -> dict:
        """https://api.slack.com/methods/files.delete: ``file``; ``file_not_found`` (or
        ``file_deleted``) for one that is not there."""
        file_id = str(params.get("file"))
        with self._lock:
            if file_id not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
            del self.uploads[file_id]
        return {"ok": True}

    def _chat_postEphemeral(self, params: Params) -> dict:
        refused = self.channel_refusal(dm_channel(str(params.get("channel"))), "chat.postEphemeral")
        if refused is not None:
            return {"ok": False, "error": refused}
        return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}

    def _chat_getPermalink(self, params: Params) -> dict:
        channel, ts = params.get("channel", ""), str(params.get("message_ts", ""))
        link = f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _view(self, params: Params) -> dict:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        return {"ok": True, "view": {**(view or {}), "id": f"V{next(self._views)}"}}

    _views_open = _views_publish = _views_update = _views_push = _view

    def _files_getUploadURLExternal(self, params: Params) -> dict:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        file_id = f"F{next(self._files)}"
        return {
            "ok": True,
            "file_id": file_id,
            "upload_url": f"http://{host}:{port}/upload/{file_id}",
        }

    def _upload(self, file_id: str, content: str) -> tuple[int, dict, dict]:
        with self._lock:
            self.calls.append(Call("upload", {"file_id": file_id, "content": content}, {}))
            self.uploads[file_id] = content
        return 200, {}, {"ok": True}

    def _files_completeUploadExternal(self, params: Params) -> dict:
        files = params.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        missing = [f["id"] for f in files or [] if f.get("id") not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    # -- files a member shared, served like files.slack.com (files.info, then the download) ----
    def add_file(self, file_id: str, name: str, content: bytes, *, size: int | None = None) -> dict:
        """A file someone shared: ``files.info`` describes it, its ``url_private_download``
        serves ``content`` to a request with the bot token. Returns the event's file object."""
        self.shared_files[file_id] = (name, content)
        if size is not None:
            self.file_sizes[file_id] = size
        return {"id": file_id, "name": name, "size": len(content) if size is None else size}

    def _files_info(self, params: Params) -> dict:
        file_id = str(params.get("file", ""))
        if file_id not in self.shared_files:
            return {"ok": False, "error": "file_not_found"}
        name, content = self.shared_files[file_id]
        size = self.file_sizes.get(file_id, len(content))
        url = self.base_url.replace("/api/", f"/files-pri/T1-{file_id}/download/{name}")
        info = {"id": file_id, "name": name, "size": size, "url_private_download": url}
        return {"ok": True, "file": info}

    def _download(self, request: BaseHTTPRequestHandler) -> None:
        """``url_private_download`` as files.slack.com serves it.

        With the bot token in ``Authorization: Bearer``, the file. Without it, or with a token
        Slack does not accept, Slack does not answer 401: it answers 200 with its HTML sign-in
        page (docs.slack.dev/messaging/working-with-files, "Authentication": the URLs need the
        header; slackapi/bolt-js#2585 and slackapi/node-slack-sdk#1750 show the HTML a download
        gets without it). ``file_redirects`` answers a file's download with a 302 instead.
        """
        file_id = request.path.split("/")[2].split("-", 1)[-1]
        with self._lock:
            self.calls.append(Call("files.download", {"file": file_id}, dict(request.headers)))
            redirect = self.file_redirects.get(file_id)
        if redirect is not None:
            request.send_response(302)
            request.send_header("Location", redirect)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        found = self.shared_files.get(file_id)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        authorised = token in self.download_tokens and token not in self.revoked
        if not found:
            status, content_type, body = 404, "text/plain", b"Not found"
        elif authorised:
            status, content_type, body = 200, "application/octet-stream", found[1]
        else:
            status, content_type, body = 200, "text/html; charset=utf-8", SIGN_IN_PAGE
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _oauth_v2_access(self, params: Params) -> dict:
        """Exchange an OAuth code; tests register a code's answer with ``fake.oauth_codes``."""
        answer = self.oauth_codes.get(str(params.get("code", "")))
        if answer is None:
            return {"ok": False, "error": "invalid_code"}
        if answer.get("ok") and answer.get("access_token"):
            # The bot token now exists, and belongs to the workspace (or organisation) installed.
            team = (answer.get("team") or {}).get("id")
            enterprise = (answer.get("enterprise") or {}).get("id")
            self.add_token(
                str(answer["access_token"]),
                str(team or enterprise),
                enterprise_id=enterprise,
                user_id=str(answer.get("bot_user_id") or "UBOT"),
                enterprise_install=bool(answer.get("is_enterprise_install")),
            )
        return answer

    def _apps_connections_open(self, params: Params) -> dict:
        if self.socket_url is None:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_url}


SIGN_IN_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Slack</title></head><body>'
    b"<h1>Sign in to your workspace</h1></body></html>"
)


def slackbot() -> dict[str, Any]:
    """Slackbot as users.info shows it (SLACKBOT in fake_slack_rules): ``USLACKBOT``, with
    ``is_bot`` false, and no email."""
    return {
        "id": "USLACKBOT",
        "name": "slackbot",
        "real_name": "Slackbot",
        "tz": "America/Los_Angeles",
        "is_bot": False,
        "is_app_user": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "deleted": False,
        "profile": {"display_name": "Slackbot", "real_name": "Slackbot"},
    }


def dm_channel(channel: str) -> str:
    """The app's DM with a user when ``channel`` is a user id (as the fake names DMs)."""
    return "D" + channel if channel[:1] in ("U", "W") else channel


def _token(params: Params, headers: dict[str, str]) -> str:
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return auth.removeprefix("Bearer ").strip() or str(params.get("token", ""))


def _parse(raw: str, content_type: str) -> Params:
    if not raw:
        return {}
    if "json" in content_type:
        return json.loads(raw)
    params: Params = dict(parse_qsl(raw, keep_blank_values=True))
    for key in ("blocks", "view", "attachments", "metadata"):
        value = params.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            params[key] = json.loads(value)
    return params
