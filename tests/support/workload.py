"""Members writing to Ally through the HTTP server, and the bookkeeping to check every write.

Each client is one member who cycles through the writes Ally offers (favours both ways, a
catch-up, the focus of inquiry, the catch-up and referrals modals). What the server acknowledged
is kept, then compared with what the database holds: exact counts per member, kind and contact.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, func, select

from storage.db import normalise_url
from storage.models import Contact, Interaction, Member
from tests.support.fake_slack import FakeSlack
from tests.support.serving import AllyServer
from tests.support.slack_requests import TEAM, Reply

# People the members mention; the fake Slack knows them (tests/conftest.py).
MARIA, BOB, KATHY = "U2", "U3", "U4"
OUTSIDE = "outside"
# What a member may read when a write could not be done: a sorry, never a traceback.
FRIENDLY_FAILURES = ("Sorry", "try again")

Key = tuple[str, str, str]  # (member, interaction kind, contact: Slack id or OUTSIDE)


@dataclass(frozen=True)
class Write:
    """One request a member sends, what it writes, and how to tell it was done."""

    name: str
    send: Callable[[AllyServer, str, int], Reply]
    writes: tuple[tuple[str, str], ...]  # (kind, contact) pairs this request records
    done: Callable[[Reply], bool]


def _command(text: str) -> Callable[[AllyServer, str, int], Reply]:
    return lambda server, user, n: server.command(text.format(n=n, user=user), user=user)


def _said(*words: str) -> Callable[[Reply], bool]:
    return lambda reply: reply.status == 200 and all(w in reply.text for w in words)


def _updated(words: str) -> Callable[[Reply], bool]:
    def check(reply: Reply) -> bool:
        data = reply.json if reply.body.startswith("{") else {}
        return (
            reply.status == 200 and data.get("response_action") == "update" and words in reply.text
        )

    return check


def _catch_up_modal(server: AllyServer, user: str, n: int) -> Reply:
    values = {
        "who": {"who": {"type": "users_select", "selected_user": KATHY}},
        "outside": {"outside": {"type": "plain_text_input", "value": None}},
        "note": {"note": {"type": "plain_text_input", "value": f"walk and talk {n}"}},
    }
    return server.submit("home_catch_up_modal", values, user=user, serial=f"{user}-{n}-c")


def _referrals_modal(server: AllyServer, user: str, n: int) -> Reply:
    # Introduced by Maria, whom the member thanked at the start of every cycle.
    values = {
        "people": {"people": {"type": "multi_users_select", "selected_users": []}},
        "outside": {"outside": {"type": "plain_text_input", "value": f"Ref {user} {n} (Acme)"}},
    }
    return server.submit(
        "referrals_modal", values, user=user, private_metadata=MARIA, serial=f"{user}-{n}-r"
    )


def _log_modal(server: AllyServer, user: str, n: int) -> Reply:
    """The "Record who helped you" form: the member helped Bob."""
    values = {
        "who_user": {"who_user": {"type": "users_select", "selected_user": BOB}},
        "who_name": {"who_name": {"type": "plain_text_input", "value": None}},
        "direction": {
            "direction": {
                "type": "radio_buttons",
                "selected_option": {
                    "value": "i_helped",
                    "text": {"type": "plain_text", "text": "I helped them"},
                },
            }
        },
        "what": {"what": {"type": "plain_text_input", "value": f"paired on bug {n}"}},
        "with_user": {"with_user": {"type": "users_select", "selected_user": None}},
        "with_name": {"with_name": {"type": "plain_text_input", "value": None}},
        "when": {"when": {"type": "datepicker", "selected_date": None}},
        "networks": {"networks": {"type": "checkboxes", "selected_options": []}},
    }
    return server.submit("log_favour_modal", values, user=user, serial=f"{user}-{n}-l")


def _closed(reply: Reply) -> bool:
    """Saved: the modal closes (an empty 200) and the confirmation follows in a message."""
    return reply.status == 200 and reply.body == ""


WRITES: tuple[Write, ...] = (
    Write(
        "thanks",
        _command("thanks <@U2|maria> for report {n}"),
        (("favour_received", MARIA),),
        _said("Noted", "helped you"),
    ),
    Write(
        "gave",
        _command("gave <@U3|bob> a review of draft {n}"),
        (("favour_given", BOB),),
        _said("Noted: you helped"),
    ),
    Write(
        "met",
        _command("met <@U4|kathy> coffee number {n}"),
        (("catch_up", KATHY),),
        _said("Noted: a catch-up"),
    ),
    Write("focus", _command("focus pricing {n}"), (), _said("Your focus of inquiry is now")),
    Write("catch-up modal", _catch_up_modal, (("catch_up", KATHY),), _updated("Logged a catch-up")),
    Write(
        "referrals modal",
        _referrals_modal,
        (("intro_received", MARIA),),  # logged on the introducer
        _updated("as introduced by"),
    ),
    Write("log modal", _log_modal, (("favour_given", BOB),), _closed),
)


@dataclass
class Outcome:
    write: Write
    user: str
    n: int
    reply: Reply
    at: float = field(default_factory=time.monotonic)  # when the answer came
    sent: float = 0.0  # when the request went out


@dataclass
class Tally:
    """Every answer the server gave, by member, in the order each member sent them."""

    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def done(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.write.done(o.reply)]

    def not_done(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.write.done(o.reply)]

    def expected(self, outcomes: list[Outcome] | None = None) -> Counter[Key]:
        """The ledger lines the given outcomes (default: every acknowledged one) recorded."""
        counts: Counter[Key] = Counter()
        for outcome in self.done() if outcomes is None else outcomes:
            for kind, contact in outcome.write.writes:
                counts[(outcome.user, kind, contact)] += 1
        return counts

    def last_focus(self) -> dict[str, str]:
        return {
            o.user: f"pricing {o.n}"
            for o in sorted(self.done(), key=lambda o: o.n)
            if o.write.name == "focus"
        }


def member(index: int) -> str:
    return f"UL{index:02d}"


def members(fake: FakeSlack, count: int) -> list[str]:
    """``count`` members of the fake workspace (as Slack knows them: Ally asks users.info
    about the member who writes), by id."""
    users = [member(i) for i in range(count)]
    for user in users:
        fake.add_user(user, f"Load Member {user[2:]}", tz="Europe/London")
    return users


def run_members(
    server: AllyServer,
    users: list[str],
    *,
    seconds: float | None = None,
    cycles: int | None = None,
    writes: tuple[Write, ...] = WRITES,
    tally: Tally | None = None,
    until: Callable[[], bool] | None = None,
) -> Tally:
    """One thread per member, each cycling through ``writes`` for ``seconds`` or ``cycles``,
    or until ``until()`` holds (``seconds`` is then the most it may take).

    Pass ``tally`` to watch the answers come in from another thread.
    """
    tally = Tally() if tally is None else tally
    end = time.monotonic() + seconds if seconds is not None else None

    def going(n: int) -> bool:
        if end is not None and time.monotonic() >= end:
            return False
        return (cycles is None or n < cycles) and (until is None or not until())

    errors: list[BaseException] = []

    def client(user: str) -> None:
        try:
            n = 0  # the deadline and the condition are checked between whole cycles
            while going(n):
                for write in writes:
                    n += 1
                    sent = time.monotonic()
                    reply = write.send(server, user, n)
                    tally.add(Outcome(write, user, n, reply, sent=sent))
        except BaseException as error:  # surfaced in the test, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=client, args=(u,), name=u) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return tally


def ledger_in(database_url: str) -> tuple[Counter[Key], Counter[tuple[object, ...]]]:
    """Ledger lines per (member, kind, contact), and per (member, kind, what, the person they
    introduced) to spot repeats: every write in these tests says something unique."""
    engine = create_engine(normalise_url(database_url))
    contact_of = func.coalesce(Contact.slack_user_id, OUTSIDE)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    Member.user_id,
                    Interaction.kind,
                    contact_of,
                    Interaction.what,
                    Interaction.related_contact_id,
                )
                .join(Interaction, Interaction.member_id == Member.id)
                .join(Contact, Interaction.contact_id == Contact.id)
                .where(Member.team_id == TEAM)
            ).all()
    finally:
        engine.dispose()
    by_contact: Counter[Key] = Counter((u, k, c) for u, k, c, _, _ in rows)
    by_what: Counter[tuple[object, ...]] = Counter((u, k, w, r) for u, k, _, w, r in rows)
    return by_contact, by_what


def focus_in(database_url: str) -> dict[str, str]:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Member.user_id, Member.focus).where(
                    Member.team_id == TEAM, Member.focus.is_not(None)
                )
            ).all()
    finally:
        engine.dispose()
    return {user: str(focus) for user, focus in rows}


def describe(outcomes: list[Outcome], limit: int = 5) -> str:
    return "\n".join(
        f"{o.user} #{o.n} {o.write.name}: {o.reply.status} {o.reply.body[:300]!r}"
        for o in outcomes[:limit]
    )
