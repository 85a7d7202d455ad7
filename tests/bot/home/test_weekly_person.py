"""Home and the weekly DM name the same person: one rule (bot.nudges.weekly_person), one record of
who was named (the week's nudge row), never the same person two weeks running unless kept."""

from __future__ import annotations

from sqlalchemy import select

from bot.home.service import Suggestion, home
from bot.ledger.people import MemberRef, SlackPerson
from bot.ledger.service import record_favour
from bot.nudges.delivery import Delivery
from bot.nudges.planning import planned_batches
from bot.nudges.settings import keep_person, log_catch_up
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Contact, InteractionKind, Nudge
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member


def this_week(runtime: Runtime, ref: MemberRef) -> Suggestion:
    with runtime.sessions() as session:
        suggestion = home(session, ref, runtime.clock()).this_week
    assert suggestion is not None
    return suggestion


def home_person(runtime: Runtime, ref: MemberRef) -> str | None:
    contact = this_week(runtime, ref).contact
    return contact.key if contact else None


def send(runtime: Runtime) -> None:
    assert Delivery(runtime, web_client(runtime)).run(runtime.clock()).sent == 1


def dm_person(runtime: Runtime, week: str) -> str | None:
    """The key of the person the DM of ``week`` named."""
    with runtime.sessions() as session:
        person = session.scalars(select(Nudge.person_contact_id).where(Nudge.week == week)).one()
        if person is None:
            return None
        return session.scalars(select(Contact.key).where(Contact.id == person)).one()


def test_home_names_the_person_the_dm_will_name_and_then_did(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    ana = add_member(runtime, "U1", "Europe/London", contacts=3)
    before = home_person(runtime, ana)
    send(runtime)
    assert dm_person(runtime, "2026-W47") == before == "~contact 2"  # longest out of touch
    # A catch-up with them would make the rule pick someone else now, but this week's DM has
    # named them: Home keeps showing the person the member was told about.
    with transaction(runtime.sessions) as session:
        log_catch_up(session, ana, "~contact 2", clock.now)
    suggestion = this_week(runtime, ana)
    assert suggestion.contact is not None and suggestion.contact.key == "~contact 2"
    # Explained as of now.
    assert suggestion.reason == "Contact 2 (Acme) has helped you once more than you've helped them."


def test_never_the_same_person_two_weeks_running_on_home_or_in_the_dm(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    ana = add_member(runtime, "U1", "Europe/London", contacts=3)
    send(runtime)
    clock.advance(days=7)
    next_week = home_person(runtime, ana)
    assert next_week not in (None, "~contact 2")
    send(runtime)
    assert dm_person(runtime, "2026-W48") == next_week


def test_a_kept_person_stays_next_week_on_home_and_in_the_dm(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    ana = add_member(runtime, "U1", "Europe/London", contacts=3)
    send(runtime)
    with transaction(runtime.sessions) as session:
        assert keep_person(session, ana, "~contact 2", clock.now).label == "Contact 2 (Acme)"
    clock.advance(days=7)
    assert home_person(runtime, ana) == "~contact 2"
    send(runtime)
    assert dm_person(runtime, "2026-W48") == "~contact 2"
    # The wish was for one week: the week after, someone else again.
    clock.advance(days=7)
    assert home_person(runtime, ana) != "~contact 2"


def test_with_nobody_to_name_home_suggests_a_gap_and_a_snowball_step(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    ana = add_member(runtime, "U1", "Europe/London", contacts=1)
    send(runtime)
    clock.advance(days=7)
    # Last week's person is the only one: the rule names nobody, and neither does the DM.
    suggestion = this_week(runtime, ana)
    assert suggestion.contact is None and suggestion.gap is not None
    assert suggestion.reason == "You have no connection above you (aim for 2)."
    assert suggestion.next_step == (
        "Ask Contact 0 (Acme) who else you should get to know above you."
    )
    send(runtime)
    assert dm_person(runtime, "2026-W48") is None


def test_home_and_the_dm_owe_the_same_person_when_names_tie(
    runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    ana = add_member(runtime, "U1", "Europe/London", contacts=0)
    # Two colleagues whose names differ only in case, each owed one favour: the names tie, so
    # the contact added first is the one named. Home reads its rows ordered by name, which on
    # a binary collation puts the second one first.
    with transaction(runtime.sessions) as session:
        for user_id, name in (("U2", "sam lee"), ("U3", "Sam Lee")):
            record_favour(
                session,
                ana,
                SlackPerson(user_id, name),
                InteractionKind.FAVOUR_RECEIVED,
                "covered my on-call shift",
                clock.now,
            )
    (planned,) = [p for batch in planned_batches(runtime.sessions, clock.now) for p in batch]
    dm = planned.content.give_first
    assert dm is not None and dm.contact.key == "U2"
    with runtime.sessions() as session:
        first = home(session, ana, clock.now).give_first
    assert first is not None and first.contact.key == dm.contact.key
