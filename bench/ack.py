"""``ack``: how long Slack waits for Ally's answer, next to a bare Bolt app that only acks.

Three requests, each from signed request to response: ``/ally who @x`` (reads a member's ledger
with one contact), ``/ally people [filter]`` (lists and filters a network of ``PEOPLE_CONTACTS``
contacts: a few targeted members get that many) and a ``log_favour_modal`` submission (writes a
favour). Each is measured
in-process through ``app.dispatch`` (one client; Ally and the bare app interleaved request by
request so drift hits both alike) and over HTTP through the production server (``ally-bot run``,
gunicorn) with 16 concurrent clients, then the bare app behind the same server set-up.

Ally republishes a member's Home after a write only while they may be looking at it (they entered
it in the last half hour). The generated members have not, as most people typing a command in a
channel have not; an extra in-process pass (``home_open``) measures the modal again once every
targeted member has just entered Home, so each saved form also republishes it in the background.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench import datagen
from bench.bare_bolt import TOKEN, bare_app
from bench.measure import ms, percentile, tree_cpu_seconds
from bench.slack_load import (
    Target,
    dispatch,
    hammer,
    healthy,
    log_favour_body,
    people_body,
    wait_until,
    who_body,
)
from bench.slack_process import SlackProcess
from bot.home.service import entered_home
from bot.ledger.people import MemberRef
from bot.platform.app import create_app
from bot.platform.config import settings_from_env
from bot.platform.runtime import Runtime
from storage.db import make_engine, transaction
from storage.models import Contact

SECRET = "bench-signing-secret"
ROOT = Path(__file__).resolve().parent.parent
TARGETS = 400
# gunicorn workers for Ally and for the baseline alike: one per core, as deployed.
WORKERS = os.cpu_count() or 1
# In-process, the app reads this frozen clock: the generated data's "now".
NOW = datagen.NOW.replace(tzinfo=UTC)
# ``request: people`` lists the network of a member with this many contacts; the first
# PEOPLE_MEMBERS targets get them, and the requests cycle through these filters.
PEOPLE_CONTACTS = 2000
PEOPLE_MEMBERS = 8
PEOPLE_FILTERS = ("", "due", "strategic above", "acme", "overdue alliance", "operational")
# How a saved form's confirmation reaches the member.
CONFIRMATIONS = ("chat.postEphemeral", "chat.postMessage")


@dataclass(frozen=True)
class AckSize:
    data: datagen.Size
    in_process: int  # requests per kind, one client
    clients: int
    per_client: int  # HTTP requests per client per kind
    targets: int = 400  # distinct (member, contact) pairs the requests cycle through


def targets(url: str, wanted: int = TARGETS) -> list[Target]:
    """Members and one Slack contact each, spread evenly over the database."""
    engine = make_engine(url)
    with engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM members")).scalar_one()
        step = max(1, total // wanted)
        rows = connection.execute(
            text(
                "SELECT m.team_id, m.user_id, c.slack_user_id, c.name FROM members m "
                "JOIN contacts c ON c.member_id = m.id "
                "WHERE m.id % :step = 0 AND c.slack_user_id IS NOT NULL "
                "AND c.last_touch_at IS NOT NULL ORDER BY m.id, c.id"
            ),
            {"step": step},
        ).all()
    engine.dispose()
    seen: set[str] = set()
    chosen = []
    for team, user, contact, name in rows:
        if user not in seen:
            seen.add(user)
            chosen.append(Target(team, user, contact, name))
    return chosen[:wanted]


def fake_slack_for(chosen: list[Target]) -> SlackProcess:
    """The fake Slack, in its own process, knowing every member and contact targeted."""
    users = []
    for target in chosen:
        users.append((target.user_id, f"Member {target.user_id}", "Europe/London"))
        users.append((target.contact_user_id, target.contact_name, "Europe/London"))
    return SlackProcess(users)


def settings(fake: SlackProcess, url: str) -> Any:
    return settings_from_env(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.base_url,
            "DATABASE_URL": url,
            "ALLY_SCHEDULER": "off",
            "LOG_LEVEL": "WARNING",
        }
    )


def grow_networks(url: str, chosen: list[Target], contacts: int = PEOPLE_CONTACTS) -> None:
    """Give each of ``chosen`` ``contacts`` contacts in all (outside people added to the
    generated ones), placed, touched and annotated in a spread, so filters find some."""
    engine = make_engine(url)
    networks = (1, 2, 4, 3, 0)
    levels = ("above", "peer", "below", None)
    bonds = ("alliance", "connection", None)
    orgs = ("Acme", "Globex", "Initech", None)
    with engine.begin() as connection:
        for target in chosen:
            member_id = connection.execute(
                text("SELECT id FROM members WHERE team_id = :t AND user_id = :u"),
                {"t": target.team_id, "u": target.user_id},
            ).scalar_one()
            have = connection.execute(
                text("SELECT count(*) FROM contacts WHERE member_id = :m"), {"m": member_id}
            ).scalar_one()
            rows = [
                {
                    "member_id": member_id,
                    "key": f"~bench person {n}",
                    "name": f"Bench Person {n}",
                    "organisation": orgs[n % len(orgs)],
                    "networks": networks[n % len(networks)],
                    "level": levels[n % len(levels)],
                    "bond": bonds[n % len(bonds)],
                    "notes": f"met at conference {n % 17}" if n % 3 == 0 else None,
                    "last_touch_at": None if n % 7 == 0 else NOW - timedelta(days=n % 120),
                    "balance": (n % 5) - 2,
                    "created_at": NOW,
                }
                for n in range(contacts - have)
            ]
            if rows:
                connection.execute(insert(Contact), rows)
    engine.dispose()


def pool(kind: str, chosen: list[Target]) -> list[Target]:
    """The targets a kind of request cycles through: for ``people``, the grown networks."""
    return chosen[:PEOPLE_MEMBERS] if kind == "people" else chosen


def bodies(kind: str, chosen: list[Target], n: int, day: str) -> list[str]:
    if kind == "people":
        return [
            people_body(chosen[i % len(chosen)], PEOPLE_FILTERS[i % len(PEOPLE_FILTERS)])
            for i in range(n)
        ]
    make = who_body if kind == "who" else (lambda t: log_favour_body(t, day))
    return [make(chosen[i % len(chosen)]) for i in range(n)]


def line(
    kind: str,
    transport: str,
    backend: str,
    size: datagen.Size,
    ally: list[float],
    bolt: list[float],
    errors: int,
    clients: int,
    **extra: Any,
) -> dict[str, Any]:
    ally_p50, ally_p99 = percentile(ally, 50), percentile(ally, 99)
    bolt_p50, bolt_p99 = percentile(bolt, 50), percentile(bolt, 99)
    ratio = _ratio(ally_p50, bolt_p50)
    p99_target = 0.025 if transport == "in_process" else 0.050
    if kind == "people":
        extra = {"member_contacts": PEOPLE_CONTACTS, "filters": list(PEOPLE_FILTERS), **extra}
    return {
        "name": "ack",
        "request": kind,
        "transport": transport,
        "backend": backend,
        "members": size.members,
        "contacts": size.members * size.contacts,
        "interactions": size.members * size.interactions,
        "clients": clients,
        "requests": len(ally),
        "ally_p50_ms": ms(ally_p50),
        "ally_p99_ms": ms(ally_p99),
        "bolt_p50_ms": ms(bolt_p50),
        "bolt_p99_ms": ms(bolt_p99),
        "ratio_p50": ratio,
        "errors": errors,
        "meets_targets": bool(
            ratio is not None and ratio <= 1.0 and ally_p99 <= p99_target and errors == 0
        ),
        **extra,
    }


def available(app: Any, body: str, kind: str) -> str | None:
    """None when Ally handles ``kind``, else what is missing (from one probe request)."""
    _, outcome = dispatch(app, SECRET, body)
    if kind in ("who", "people") and f"know `/ally {kind}`" in outcome.body:
        return f"`/ally {kind}` is not implemented on this branch"
    if kind == "log_favour" and outcome.status == 404:
        return "the log_favour_modal view submission is not registered on this branch"
    return None


@dataclass(frozen=True)
class Bench:
    """What both passes share: the database, the fake Slack, the members whose requests are
    sent, and why a kind of request is skipped (filled in by the first pass)."""

    backend: str
    size: AckSize
    url: str
    fake: SlackProcess
    chosen: list[Target]
    missing: dict[str, str]


def run(backend: str, size: AckSize) -> Iterator[dict[str, Any]]:
    url = datagen.work_copy(backend, size.data, "ack")
    fake: SlackProcess | None = None
    try:
        chosen = targets(url, size.targets)
        grow_networks(url, chosen[:PEOPLE_MEMBERS])
        fake = fake_slack_for(chosen)
        bench = Bench(backend, size, url, fake, chosen, {})
        yield from in_process(bench)
        yield from over_http(bench)
    finally:
        if fake is not None:
            fake.stop()
        datagen.discard(url)


def in_process(bench: Bench) -> Iterator[dict[str, Any]]:
    logging.getLogger("ally").setLevel(logging.WARNING)
    runtime = Runtime.start(settings(bench.fake, bench.url), clock=lambda: NOW)
    ally = create_app(runtime)
    bolt = bare_app(bench.fake.base_url, SECRET)
    floor = bare_app(bench.fake.base_url, SECRET, process_before_response=True)
    day = NOW.date().isoformat()
    try:
        passes = (("who", False), ("people", False), ("log_favour", False), ("log_favour", True))
        for kind, home_open in passes:
            mine = pool(kind, bench.chosen)
            requests = bodies(kind, mine, bench.size.in_process, day)
            why = bench.missing.get(kind) or available(ally, bodies(kind, mine, 1, day)[0], kind)
            if why:
                bench.missing[kind] = why
                yield {
                    "name": "ack",
                    "request": kind,
                    "backend": bench.backend,
                    "skipped": why,
                }
                continue
            if home_open:
                # Every member now has Home on screen, so each saved form also republishes it.
                open_home(runtime, bench.chosen)
            # Warm up: connection pool, statement caches, Bolt's listener matching. The warm-up
            # has bodies of its own: sending one body twice in a second is a replay, refused.
            for body in bodies(kind, mine, min(50, bench.size.in_process), day):
                dispatch(ally, SECRET, body)
                dispatch(bolt, SECRET, body, ally=False)
                dispatch(floor, SECRET, body, ally=False)
            ally_t: list[float] = []
            bolt_t: list[float] = []
            floor_t: list[float] = []
            errors = 0
            for body in requests:
                elapsed, outcome = dispatch(ally, SECRET, body)
                ally_t.append(elapsed)
                errors += outcome.failed
                elapsed, outcome = dispatch(bolt, SECRET, body, ally=False)
                bolt_t.append(elapsed)
                errors += outcome.failed
                elapsed, outcome = dispatch(floor, SECRET, body, ally=False)
                floor_t.append(elapsed)
                errors += outcome.failed
            yield line(
                kind,
                "in_process",
                bench.backend,
                bench.size.data,
                ally_t,
                bolt_t,
                errors,
                1,
                home_open=home_open,
                bolt_floor_p50_ms=ms(percentile(floor_t, 50)),
                bolt_floor_p99_ms=ms(percentile(floor_t, 99)),
                ratio_p50_floor=_ratio(percentile(ally_t, 50), percentile(floor_t, 50)),
            )
    finally:
        # A saved form's confirmation is sent after the ack, in the background: let those
        # finish before the fake Slack and the database go away.
        sent = bench.fake.calls(*CONFIRMATIONS)
        wait_until(lambda: _settled(bench.fake, sent), 30, "confirmations finishing")
        runtime.close()


def open_home(runtime: Runtime, chosen: list[Target]) -> None:
    """Record that every targeted member entered Home just now (``app_home_opened``)."""
    with transaction(runtime.sessions) as session:
        for target in chosen:
            entered_home(session, MemberRef(target.team_id, target.user_id), NOW)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator is not None and denominator else None


def _ms_or_none(seconds: float | None) -> float | None:
    return None if seconds is None else ms(seconds)


def _settled(fake: SlackProcess, before: int) -> bool:
    """True once no confirmation arrived at the fake Slack for a quarter of a second."""
    import time

    now = fake.calls(*CONFIRMATIONS)
    time.sleep(0.25)
    later = fake.calls(*CONFIRMATIONS)
    return now == later and later >= before


def free_port() -> int:
    # gunicorn needs a number up front; the OS picks one that is free right now.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running server subprocess: where to send Slack's requests, and its process id."""

    endpoint: str
    pid: int


@contextmanager
def server(command: list[str], env: dict[str, str], cwd: Path) -> Iterator[Server]:
    """Start a server subprocess on a free port; yield its /slack/events URL and pid; stop it."""
    port = free_port()
    full_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DATABASE_URL", "ALLY_"))
    }
    full_env.update(
        env,
        PORT=str(port),
        LOG_LEVEL="WARNING",
        ALLY_SCHEDULER="off",
        WEB_CONCURRENCY=str(WORKERS),
    )
    full_env["PYTHONPATH"] = str(ROOT)
    log_path = datagen.DATA_DIR / f"server-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        command, env=full_env, cwd=cwd, stdout=log_file, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(healthy(base), 60, f"{' '.join(command)} answering /healthz")
        yield Server(f"{base}/slack/events", process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()
        log_path.unlink(missing_ok=True)


def ally_command() -> list[str]:
    script = Path(sys.executable).parent / "ally-bot"
    return [str(script), "run"] if script.exists() else [sys.executable, "-m", "bot", "run"]


def over_http(bench: Bench) -> Iterator[dict[str, Any]]:
    kinds = [k for k in ("who", "people", "log_favour") if k not in bench.missing]
    # The server reads the wall clock; the form's date must not be in the future there. The
    # Home visits the in-process pass recorded are at the generated data's "now", long before
    # the wall clock: nobody here is looking at Home, so no saved form republishes it.
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    plan = {
        kind: [
            bodies(
                kind,
                pool(kind, bench.chosen)[c :: bench.size.clients] or pool(kind, bench.chosen),
                bench.size.per_client,
                day,
            )
            for c in range(bench.size.clients)
        ]
        for kind in kinds
    }
    env = {"SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": bench.fake.base_url}
    results: dict[str, dict[str, Any]] = {}
    data_dir = datagen.DATA_DIR
    servers = {
        "ally": (
            ally_command(),
            {**env, "SLACK_BOT_TOKEN": TOKEN, "DATABASE_URL": bench.url},
            data_dir,
        ),
        "bolt": ([sys.executable, "-m", "bench.bare_bolt"], env, ROOT),
    }
    cpu: dict[str, dict[str, float | None]] = {}
    for who, (command, server_env, cwd) in servers.items():
        with server(command, server_env, cwd) as running:
            for kind in kinds:
                # Warm up every worker thread and the users.info cache for every target
                # (the server's wall clock may find the generated cache stale).
                # Each target once, spread over the clients.
                shares = [
                    pool(kind, bench.chosen)[c :: bench.size.clients]
                    for c in range(bench.size.clients)
                ]
                warm = [bodies(kind, share, len(share), day) for share in shares if share]
                hammer(running.endpoint, SECRET, warm, ally=who == "ally")
                before = tree_cpu_seconds(running.pid)
                result = hammer(running.endpoint, SECRET, plan[kind], ally=who == "ally")
                after = tree_cpu_seconds(running.pid)
                results.setdefault(kind, {})[who] = result
                spent = None if before is None or after is None else after - before
                per_request = None
                if spent is not None and result.latencies:
                    per_request = spent / len(result.latencies)
                cpu.setdefault(kind, {})[who] = per_request
    for kind in kinds:
        ally, bolt = results[kind]["ally"], results[kind]["bolt"]
        ally_cpu, bolt_cpu = cpu[kind]["ally"], cpu[kind]["bolt"]
        extra: dict[str, Any] = {
            "ally_server_cpu_ms": _ms_or_none(ally_cpu),
            "bolt_server_cpu_ms": _ms_or_none(bolt_cpu),
            # Ally's server CPU per request over the bare app's, same server set-up, same run.
            "cpu_ratio": _ratio(ally_cpu, bolt_cpu),
        }
        if ally.errors + bolt.errors:
            extra["error_samples"] = ally.samples + bolt.samples
        yield line(
            kind,
            "http",
            bench.backend,
            bench.size.data,
            ally.latencies,
            bolt.latencies,
            ally.errors + bolt.errors,
            bench.size.clients,
            home_open=False,
            workers=WORKERS,
            **extra,
        )
