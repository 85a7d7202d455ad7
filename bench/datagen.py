"""Realistic synthetic Ally databases at a given size, written straight into the schema.

The shape follows the product: members spread over workspaces of up to 1,000 people; each
member has a network of contacts (about 70% Slack colleagues, 30% outside people) with a mix of
networks, levels, bonds, cadences and notes; and a two-year ledger of favours both ways,
introductions, catch-ups and thank-yous, skewed so that a few contacts get most of the
attention. ``last_touch_at`` is the newest interaction with the contact (including being the
person one was introduced to), exactly as the ledger keeps it.

Generation is deterministic (one seeded ``random.Random``), bulk-loaded with ``executemany`` on
SQLite and ``COPY`` on PostgreSQL with the secondary indexes built after the load, and cached
under ``bench/.data/`` (SQLite files) or as ``ally_bench_*`` databases (PostgreSQL), keyed by
the size, the seed, this generator's version and the schema's migration head. A cached database
is only ever published complete (file rename / database rename), so an interrupted run leaves
nothing half-built behind.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, Protocol

import psycopg
from sqlalchemy import Index, create_engine, text
from sqlalchemy.engine import make_url

from storage.db import normalise_url
from storage.migrate import upgrade
from storage.models import Base, InteractionKind
from storage.repository import weight

# Bump when the generated data changes shape, so stale caches are not reused.
GENERATOR_VERSION = 2
DATA_DIR = Path(__file__).parent / ".data"
# "Now" for every generated database: the Monday the tests' frozen clock also uses (naive UTC).
NOW = datetime(2026, 11, 16, 10, 0)
HISTORY_DAYS = 730
TEAM_SIZE = 1000
# Slack user ids a team's contacts are drawn from: its members plus as many non-members.
TEAM_POOL = 2 * TEAM_SIZE
CHUNK_MEMBERS = 500
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

FIRST = [
    "Ana",
    "Maria",
    "Bob",
    "Kathy",
    "Dana",
    "Lee",
    "Sam",
    "Priya",
    "Chen",
    "Omar",
    "Sofia",
    "Liam",
    "Noor",
    "Jonas",
    "Aiko",
    "Ravi",
    "Elena",
    "Tomás",
    "Grace",
    "Kwame",
    "Ines",
    "Mateo",
    "Yuki",
    "Hannah",
    "Arjun",
    "Zoe",
    "Felix",
    "Amara",
    "Diego",
    "Mei",
    "Olu",
    "Clara",
]
LAST = [
    "Silva",
    "Lopez",
    "Chen",
    "Ito",
    "Lee",
    "Patel",
    "Nguyen",
    "Okafor",
    "Müller",
    "Rossi",
    "Kim",
    "Haddad",
    "Novak",
    "Tanaka",
    "Garcia",
    "Smith",
    "Dubois",
    "Costa",
    "Khan",
    "Berg",
    "Moreau",
    "Singh",
    "Sato",
    "Andersen",
    "Mensah",
    "Fischer",
    "Rahman",
    "Ortiz",
]
ORGS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella Labs",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Imports",
    None,
    None,
)
TIMEZONES = (
    "Europe/London",
    "America/New_York",
    "Asia/Tokyo",
    "Europe/Berlin",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "UTC",
)
FOCI = (
    "how product decisions get made",
    "moving into engineering management",
    "pricing strategy",
    "what the data platform team needs next",
    "getting better at public speaking",
)
FAVOURS = (
    "reviewed my design doc",
    "covered my on-call shift",
    "walked me through the billing pipeline",
    "introduced me to the security team",
    "gave honest feedback on my talk",
    "shared the custom report for the QBR",
    "unblocked the release on a Sunday",
    "pair-debugged the flaky test with me",
    "lent me two days of their analyst",
    "mentioned my project in the all-hands",
    "sent me the hiring rubric",
    "helped me prepare for the promotion panel",
)
GIVEN = (
    "reviewed their design doc",
    "covered their on-call shift",
    "introduced them to the security team",
    "shared my notes from the pricing workshop",
    "mentored their new hire for a week",
    "mentioned their project in the all-hands",
)
CATCH_UPS = (
    "coffee",
    "monthly 1:1",
    "informational interview about their team's roadmap",
    "lunch after the offsite",
    "quick call about the reorg",
    "",
)
NOTES = (
    "Prefers async over meetings.",
    "Runs the platform guild; knows everyone in infra.",
    "Met at the Lisbon offsite. Loves climbing.",
    "Ask about the data residency project.",
)

# (kind, weight): what a real ledger looks like, roughly.
KIND_WEIGHTS = (
    (InteractionKind.FAVOUR_RECEIVED, 25),
    (InteractionKind.FAVOUR_GIVEN, 20),
    (InteractionKind.CATCH_UP, 30),
    (InteractionKind.THANKS, 10),
    (InteractionKind.INTRO_RECEIVED, 7),
    (InteractionKind.INTRO_MADE, 8),
)
NETWORK_WEIGHTS = ((1, 25), (2, 30), (4, 15), (3, 10), (5, 5), (6, 5), (7, 3), (0, 7))
LEVEL_WEIGHTS = (("above", 25), ("peer", 45), ("below", 20), (None, 10))
BOND_WEIGHTS = (("alliance", 45), ("connection", 40), (None, 15))
CADENCE_WEIGHTS = ((None, 60), (14, 5), (21, 5), (30, 12), (45, 6), (60, 8), (90, 4))

MEMBER_COLUMNS = [
    "id",
    "enterprise_id",
    "team_id",
    "user_id",
    "tz",
    "tz_checked_at",
    "focus",
    "nudges_enabled",
    "nudge_weekday",
    "nudge_minute",
    "nudges_paused_until",
    "reaction_emoji",
    "created_at",
]
CONTACT_COLUMNS = [
    "id",
    "member_id",
    "key",
    "slack_user_id",
    "name",
    "organisation",
    "networks",
    "level",
    "bond",
    "cadence_days",
    "notes",
    "met_through_id",
    "last_touch_at",
    "snoozed_until",
    "balance",
    "created_at",
]
INTERACTION_COLUMNS = [
    "id",
    "member_id",
    "contact_id",
    "kind",
    "what",
    "occurred_at",
    "message_link",
    "related_contact_id",
    "thanked_at",
    "created_at",
]
SLACK_USER_COLUMNS = [
    "id",
    "enterprise_id",
    "team_id",
    "user_id",
    "name",
    "tz",
    "is_bot",
    "deleted",
    "fetched_at",
]

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Size:
    """How much data: ``members``, each with ``contacts`` contacts and ``interactions`` entries."""

    members: int
    contacts: int = 50
    interactions: int = 200
    seed: int = 1

    @property
    def key(self) -> str:
        return (
            f"m{self.members}_c{self.contacts}_i{self.interactions}_s{self.seed}"
            f"_v{GENERATOR_VERSION}_{schema_head()}"
        )


def schema_head() -> str:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    return (head or "none").replace("-", "")[:12]


def team_id(team: int) -> str:
    return f"TB{team:05d}"


def user_id(team: int, slot: int) -> str:
    """Slack user ``slot`` of ``team``; slots below the team's member count are members."""
    return f"UB{team:04d}{slot:05d}"


def member_ref(index: int) -> tuple[str, str]:
    """(team_id, user_id) of the ``index``-th generated member (0-based)."""
    return team_id(index // TEAM_SIZE), user_id(index // TEAM_SIZE, index % TEAM_SIZE)


def _picker(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    values = [v for v, _ in weighted]
    cum = list(accumulate(w for _, w in weighted))

    def pick(k: int = 1) -> list[Any]:
        return rng.choices(values, cum_weights=cum, k=k)

    return pick


def _pause(rng: random.Random) -> date | None:
    """A few members paused their nudges for a while."""
    return (NOW + timedelta(days=rng.randrange(1, 21))).date() if rng.random() < 0.02 else None


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


@dataclass
class Batch:
    members: list[Row]
    contacts: list[Row]
    interactions: list[Row]


class Generator:
    """Produces rows in id order, ``CHUNK_MEMBERS`` members at a time."""

    def __init__(self, size: Size) -> None:
        self.size = size
        self.rng = random.Random(size.seed)
        rng = self.rng
        self.kinds = _picker(rng, KIND_WEIGHTS)
        self.networks = _picker(rng, NETWORK_WEIGHTS)
        self.levels = _picker(rng, LEVEL_WEIGHTS)
        self.bonds = _picker(rng, BOND_WEIGHTS)
        self.cadences = _picker(rng, CADENCE_WEIGHTS)
        self.next_contact = 1
        self.next_interaction = 1
        # Contact popularity: a few people get most of a member's attention (Zipf-like).
        self.attention = list(accumulate(1 / (k + 1) ** 0.9 for k in range(size.contacts)))
        self.slack_users: dict[tuple[int, int], None] = {}

    def batches(self) -> Iterator[Batch]:
        for start in range(0, self.size.members, CHUNK_MEMBERS):
            batch = Batch([], [], [])
            for index in range(start, min(start + CHUNK_MEMBERS, self.size.members)):
                self._member(index, batch)
            yield batch

    def _member(self, index: int, batch: Batch) -> None:
        rng = self.rng
        team, slot = divmod(index, TEAM_SIZE)
        member_id = index + 1
        self.slack_users[(team, slot)] = None
        batch.members.append(
            (
                member_id,
                "",
                team_id(team),
                user_id(team, slot),
                rng.choice(TIMEZONES),
                NOW - timedelta(hours=rng.randrange(1, 72)),
                rng.choice(FOCI) if rng.random() < 0.3 else None,
                rng.random() < 0.92,
                0 if rng.random() < 0.7 else rng.randrange(0, 5),
                9 * 60 if rng.random() < 0.6 else rng.randrange(16, 35) * 30,
                (NOW + timedelta(days=rng.randrange(1, 21))).date()
                if rng.random() < 0.02
                else None,
                "pray",
                NOW - timedelta(days=HISTORY_DAYS + rng.randrange(0, 60)),
            )
        )
        contacts = self._contacts(team, slot, member_id)
        last_touch, balances = self._interactions(member_id, contacts, batch)
        for contact in contacts:
            first_seen = last_touch.get(contact[0], (None, None))[1]
            created = (first_seen or NOW - timedelta(days=rng.randrange(1, HISTORY_DAYS))) - (
                timedelta(days=rng.randrange(0, 30))
            )
            touched = last_touch.get(contact[0], (None, None))[0]
            balance = balances.get(contact[0], 0)
            batch.contacts.append((*contact, touched, self._snooze(), balance, created))

    def _snooze(self) -> date | None:
        if self.rng.random() < 0.03:
            return (NOW + timedelta(days=self.rng.randrange(1, 15))).date()
        return None

    def _contacts(self, team: int, slot: int, member_id: int) -> list[Row]:
        """The member's contacts without (last_touch_at, snoozed_until, created_at)."""
        rng, n = self.rng, self.size.contacts
        slack_count = round(n * 0.7)
        slots = [s for s in rng.sample(range(TEAM_POOL), slack_count + 1) if s != slot]
        slots = slots[:slack_count]
        people: list[tuple[str, str | None, str, str | None]] = []
        for other in slots:
            self.slack_users[(team, other)] = None
            uid = user_id(team, other)
            people.append((uid, uid, _person_name(rng), None))
        keys = {p[0] for p in people}
        while len(people) < n:
            name = _person_name(rng)
            if rng.random() < 0.3:
                name += f" {rng.choice(LAST)}"
            key = "~" + name.casefold()
            if key in keys:
                continue
            keys.add(key)
            people.append((key, None, name, rng.choice(ORGS)))
        rng.shuffle(people)
        networks, levels = self.networks(n), self.levels(n)
        bonds, cadences = self.bonds(n), self.cadences(n)
        rows: list[Row] = []
        for i, (key, slack_id, name, org) in enumerate(people):
            contact_id = self.next_contact + i
            met_through = (
                self.next_contact + rng.randrange(0, i) if i and rng.random() < 0.1 else None
            )
            notes = rng.choice(NOTES) if rng.random() < 0.2 else None
            rows.append(
                (
                    contact_id,
                    member_id,
                    key,
                    slack_id,
                    name,
                    org,
                    networks[i],
                    levels[i],
                    bonds[i],
                    cadences[i],
                    notes,
                    met_through,
                )
            )
        self.next_contact += n
        return rows

    def _interactions(
        self, member_id: int, contacts: list[Row], batch: Batch
    ) -> tuple[dict[int, tuple[datetime, datetime]], dict[int, int]]:
        """Write the member's ledger; return each contact's (last touch, first touch) and
        balance (as the app keeps it: ``storage.repository.weight`` per interaction)."""
        rng, n = self.rng, self.size.interactions
        ids = [c[0] for c in contacts]
        # About one contact in ten was added but never logged with (a "new" contact).
        active = ids[: max(1, len(ids) - len(ids) // 10)]
        chosen = rng.choices(active, cum_weights=self.attention[: len(active)], k=n)
        kinds = self.kinds(n)
        span = HISTORY_DAYS * 86400
        touches: dict[int, tuple[datetime, datetime]] = {}
        balances: dict[int, int] = {}

        def touch(contact_id: int, when: datetime) -> None:
            last, first = touches.get(contact_id, (when, when))
            touches[contact_id] = (max(last, when), min(first, when))

        for contact_id, kind in zip(chosen, kinds, strict=True):
            # Recent weeks are busier than two years ago.
            when = NOW - timedelta(seconds=int(span * rng.random() ** 1.4) + 60)
            related = None
            if kind in (InteractionKind.INTRO_RECEIVED, InteractionKind.INTRO_MADE):
                related = rng.choice(ids)
                if related == contact_id:
                    related = None
            if kind in (InteractionKind.CATCH_UP, InteractionKind.THANKS):
                what = rng.choice(CATCH_UPS) if kind == InteractionKind.CATCH_UP else "thank you"
            elif kind in (InteractionKind.INTRO_RECEIVED, InteractionKind.INTRO_MADE):
                what = "to talk about the launch" if rng.random() < 0.5 else ""
            elif kind == InteractionKind.FAVOUR_RECEIVED:
                what = rng.choice(FAVOURS)
            else:
                what = rng.choice(GIVEN)
            thanked = (
                when + timedelta(hours=rng.randrange(1, 48))
                if kind == InteractionKind.FAVOUR_RECEIVED and rng.random() < 0.5
                else None
            )
            link = (
                f"https://acme.slack.com/archives/C0{rng.randrange(10**6):06d}/p{rng.randrange(10**9)}"
                if rng.random() < 0.1
                else None
            )
            batch.interactions.append(
                (
                    self.next_interaction,
                    member_id,
                    contact_id,
                    kind.value,
                    what,
                    when,
                    link,
                    related,
                    thanked if thanked is None or thanked < NOW else None,
                    when + timedelta(minutes=rng.randrange(0, 600)),
                )
            )
            self.next_interaction += 1
            balances[contact_id] = balances.get(contact_id, 0) + weight(kind.value)
            touch(contact_id, when)
            # Being introduced to someone is a touch with them too (as the ledger records it).
            if related is not None and kind == InteractionKind.INTRO_RECEIVED:
                touch(related, when)
        return touches, balances

    def slack_user_rows(self) -> list[Row]:
        """The ``users.info`` cache: every Slack user a member or contact refers to."""
        rows = []
        for i, (team, slot) in enumerate(sorted(self.slack_users), start=1):
            rows.append(
                (
                    i,
                    "",
                    team_id(team),
                    user_id(team, slot),
                    f"User {team}-{slot}",
                    TIMEZONES[slot % len(TIMEZONES)],
                    False,
                    False,
                    NOW - timedelta(hours=1),
                )
            )
        return rows


class Sink(Protocol):
    def write(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None: ...


def _indexes() -> list[Index]:
    return [index for table in Base.metadata.sorted_tables for index in table.indexes]


def fill(sink: Sink, size: Size) -> None:
    generator = Generator(size)
    for batch in generator.batches():
        sink.write("members", MEMBER_COLUMNS, batch.members)
        sink.write("contacts", CONTACT_COLUMNS, batch.contacts)
        sink.write("interactions", INTERACTION_COLUMNS, batch.interactions)
    sink.write("slack_users", SLACK_USER_COLUMNS, generator.slack_user_rows())


# -- SQLite -----------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy's SQLite DateTime stores "YYYY-MM-DD HH:MM:SS.ffffff"; match it exactly.
    if isinstance(value, datetime):
        return value.isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


class SqliteSink:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            (tuple(_sqlite_value(v) for v in row) for row in rows),
        )


def sqlite_database(size: Size) -> Path:
    """The cached SQLite file for ``size``, generated on first use."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"ally-{size.key}.db"
    if path.exists():
        return path
    building = path.with_suffix(f".building-{os.getpid()}")
    building.unlink(missing_ok=True)
    upgrade(f"sqlite:///{building}")
    engine = create_engine(f"sqlite:///{building}", hide_parameters=True)
    indexes = _indexes()
    with engine.begin() as connection:
        for index in indexes:
            index.drop(connection)
    engine.dispose()
    raw = sqlite3.connect(building)
    try:
        raw.execute("PRAGMA journal_mode=OFF")
        raw.execute("PRAGMA synchronous=OFF")
        fill(SqliteSink(raw), size)
        raw.commit()
    finally:
        raw.close()
    engine = create_engine(f"sqlite:///{building}", hide_parameters=True)
    with engine.begin() as connection_:
        for index in indexes:
            index.create(connection_)
        connection_.execute(text("ANALYZE"))
    engine.dispose()
    with sqlite3.connect(building) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
    building.replace(path)
    return path


def sqlite_work_copy(size: Size, label: str) -> str:
    """A private copy of the cached database for a benchmark that writes; returns its URL."""
    source = sqlite_database(size)
    target = DATA_DIR / f"work-{label}-{os.getpid()}.db"
    remove_sqlite(target)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def remove_sqlite(path: Path | str) -> None:
    path = Path(str(path).removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# -- PostgreSQL -------------------------------------------------------------------------------


def pg_base_url() -> str:
    return normalise_url(
        os.environ.get("ALLY_BENCH_DATABASE_URL")
        or os.environ.get("ALLY_TEST_DATABASE_URL")
        or DEFAULT_PG_URL
    )


def pg_url_for(database: str) -> str:
    return make_url(pg_base_url()).set(database=database).render_as_string(hide_password=False)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin() -> psycopg.Connection:
    return psycopg.connect(_libpq(pg_base_url()), autocommit=True)


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not (one line)."""
    try:
        with _admin() as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL at {pg_base_url()} is unreachable: {str(error).splitlines()[0]}"
    return None


def _pg_exists(connection: psycopg.Connection, name: str) -> bool:
    row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


class PgSink:
    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
        with (
            self.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


def pg_database(size: Size) -> str:
    """The cached PostgreSQL database for ``size`` (its URL), generated on first use."""
    name = f"ally_bench_{size.key}"
    with _admin() as admin:
        if _pg_exists(admin, name):
            return pg_url_for(name)
        building = f"ally_bench_building_{uuid.uuid4().hex[:10]}"
        admin.execute(f'CREATE DATABASE "{building}"')
    try:
        url = pg_url_for(building)
        upgrade(url)
        engine = create_engine(normalise_url(url), hide_parameters=True)
        indexes = _indexes()
        with engine.begin() as connection_:
            for index in indexes:
                index.drop(connection_)
        with psycopg.connect(_libpq(url)) as connection:
            # Foreign keys are consistent by construction; skip their per-row triggers.
            connection.execute("SET session_replication_role = replica")
            fill(PgSink(connection), size)
            for table in ("members", "contacts", "interactions", "slack_users"):
                connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            connection.commit()
        with engine.begin() as connection_:
            for index in indexes:
                index.create(connection_)
        with psycopg.connect(_libpq(url), autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
        engine.dispose()
        with _admin() as admin:
            admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    except BaseException:
        drop_pg(building)
        raise
    return pg_url_for(name)


def pg_work_copy(size: Size, label: str) -> str:
    """A private copy (``CREATE DATABASE ... TEMPLATE``) of the cached database; its URL."""
    source = make_url(pg_database(size)).database
    name = f"ally_bench_work_{label}_{os.getpid()}"
    drop_pg(name)
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    return pg_url_for(name)


def drop_pg(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- either -----------------------------------------------------------------------------------


def work_copy(backend: str, size: Size, label: str) -> str:
    """A writable copy of the cached ``size`` database on ``backend``; drop it with ``discard``."""
    if backend == "sqlite":
        return sqlite_work_copy(size, label)
    return pg_work_copy(size, label)


def discard(url: str) -> None:
    if url.startswith("sqlite"):
        remove_sqlite(url)
    else:
        name = make_url(url).database
        assert name is not None
        drop_pg(name)
