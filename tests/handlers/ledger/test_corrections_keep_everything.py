"""``/ally merge``, ``/ally link`` and ``/ally delete`` through the real Bolt app against the fake
Slack, on the app fixtures' database (SQLite, or PostgreSQL with ALLY_TEST_BACKEND=postgres):
merging or linking moves a contact's plans (answers, what was learned, their reminders), their
place as a project's ally and the questions suggested for them, and says so; deleting a
contact says everything it removes, and removes exactly that."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.ledger.corrections import COUNT_ORDER
from bot.nudges.plans import PlanSender
from bot.platform.app import web_client
from bot.platform.runtime import Runtime
from handlers.ledger.correction_views import WORDS
from storage.contact_refs import contact_references
from storage.db import transaction
from storage.models import (
    Contact,
    Interaction,
    MeetingPlan,
    PlanMessage,
    PlanStatus,
    Project,
    ProjectAlly,
    QuestionAsked,
)
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.messages import button
from tests.support.messages import press as press_button
from tests.support.modals import contact_values
from tests.support.nudge_fixtures import add_member
from tests.support.slack_requests import Reply, SlackDriver
from tests.support.waiting import wait_for

# The clock starts on Monday 16 November 2026, 10:00 UTC; Ana (U1) is in London.
THURSDAY = date(2026, 11, 19)


@pytest.fixture
def ana(runtime: Runtime) -> None:
    add_member(runtime, "U1", "Europe/London", contacts=0)


def ok(reply: Reply) -> Reply:
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    return reply


def send_plans(runtime: Runtime, clock: FrozenClock) -> int:
    return PlanSender(runtime, web_client(runtime)).run(clock.now).sent


def dms(fake: FakeSlack) -> list[dict[str, Any]]:
    return list(fake.messages.get("DU1", []))


def press(slack: SlackDriver, message: dict[str, Any], action_id: str) -> None:
    press_button(slack, message, button(message, action_id))


def met_and_learned(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, who: str
) -> None:
    """Plan a coffee with ``who`` today, get its reminder, say Yes the day after and write
    what was learned: a met plan with a note, one catch-up and three questions asked."""
    ok(slack.command(f"plan {who} today coffee"))
    assert send_plans(runtime, clock) == 1  # the reminder, with questions to bring
    clock.advance(days=1)
    assert send_plans(runtime, clock) == 1  # "did you meet?"
    press(slack, dms(fake_slack)[-1], ids.PLAN_MET)
    opened = fake_slack.calls_to("views.open")[-1]
    assert opened["view"]["callback_id"] == ids.LEARNED_MODAL
    learned = {
        "learned": {"learned": {"type": "plain_text_input", "value": "Pricing is regional"}},
        "next_question": {"next_question": {"type": "plain_text_input", "value": "Who owns EMEA?"}},
    }
    saved = slack.submit(
        ids.LEARNED_MODAL, learned, private_metadata=opened["view"]["private_metadata"]
    )
    assert saved.status == 200


def plans(runtime: Runtime) -> list[tuple[str, str, str, str | None]]:
    """Every plan: (whom, what, status, what was learned), oldest first."""
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(Contact.key, MeetingPlan.what, MeetingPlan.status, MeetingPlan.learned)
            .join(Contact, Contact.id == MeetingPlan.contact_id)
            .order_by(MeetingPlan.id)
        ).all()
    return [(key, what, status, learned) for key, what, status, learned in rows]


def allies(runtime: Runtime) -> list[tuple[str, str]]:
    """Every project's allies: (project, ally's key)."""
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(Project.name, Contact.key)
            .join(ProjectAlly, ProjectAlly.project_id == Project.id)
            .join(Contact, Contact.id == ProjectAlly.contact_id)
            .order_by(Project.id, ProjectAlly.id)
        ).all()
    return [(name, key) for name, key in rows]


def questions(runtime: Runtime) -> dict[str, int]:
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(QuestionAsked.scope, func.count()).group_by(QuestionAsked.scope)
        ).all()
    return {scope: n for scope, n in rows}


def home(fake_slack: FakeSlack) -> str:
    calls = [c for c in fake_slack.calls_to("views.publish") if c["user_id"] == "U1"]
    return json.dumps(calls[-1]["view"], ensure_ascii=False) if calls else ""


def test_merging_keeps_plans_notes_reminders_and_project_allies(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, ana: None
) -> None:
    # D. Lee and Dana Lee are one person, both named for the launch; D. Lee for hiring too.
    ok(slack.command('project "Q3 launch" "D. Lee" "Dana Lee (Acme)"'))
    ok(slack.command('project "Hiring" "D. Lee"'))
    met_and_learned(slack, runtime, fake_slack, clock, '"D. Lee"')
    ok(slack.command('plan "D. Lee" thursday lunch'))  # Tuesday now: a plan still to come
    ok(slack.command('plan "Dana Lee (Acme)" friday walk'))  # both open: both are kept
    assert questions(runtime) == {"~d. lee": 3}

    merged = ok(slack.command('merge "D. Lee" into "Dana Lee (Acme)"'))
    # Nothing went with D. Lee: the plans (the note with them), the projects (one ally per
    # project, not two), the questions already suggested.
    assert plans(runtime) == [
        ("~dana lee", "coffee", PlanStatus.MET, "Pricing is regional"),
        ("~dana lee", "lunch", PlanStatus.PLANNED, None),
        ("~dana lee", "walk", PlanStatus.PLANNED, None),
    ]
    assert allies(runtime) == [("Q3 launch", "~dana lee"), ("Hiring", "~dana lee")]
    assert questions(runtime) == {"~dana lee": 3}
    assert (
        "Merged *D. Lee* into *Dana Lee (Acme)*: moved 1 entry, 2 plans, 2 projects and "
        "3 suggested questions to *Dana Lee (Acme)*." in merged.text
    )
    with transaction(runtime.sessions) as session:
        assert session.scalars(select(Contact.key)).all() == ["~dana lee"]
        [catch_up] = session.scalars(select(Interaction)).all()
        assert (catch_up.kind, catch_up.contact.key) == ("catch_up", "~dana lee")
        # The plan's messages stay with it: its reminder and "did you meet?" are not sent again.
        assert session.scalar(select(func.count()).select_from(PlanMessage)) == 2

    listed = ok(slack.command("project")).text
    assert "Q3 launch" in listed and "Hiring" in listed
    assert listed.count("Dana Lee (Acme)") == 2 and "D. Lee" not in listed
    listed_plans = ok(slack.command("plan")).text
    assert "Thursday 19 November: lunch with" in listed_plans
    assert "Friday 20 November: walk with" in listed_plans

    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    view: str = wait_for(lambda: home(fake_slack) if "Project allies" in home(fake_slack) else "")
    assert "Q3 launch" in view and "Hiring" in view
    assert ":white_check_mark: Dana Lee (Acme)" in view  # met since the projects started

    # Thursday 09:00 in London: the lunch's reminder comes, with Dana.
    clock.now = clock.now.replace(day=19, hour=9, minute=0)
    assert send_plans(runtime, clock) == 1
    assert dms(fake_slack)[-1]["text"] == "Today: lunch with Dana Lee (Acme)."
    assert send_plans(runtime, clock) == 0
    clock.advance(days=1)  # Friday: the walk's reminder, and "did you meet?" for the lunch
    assert send_plans(runtime, clock) == 2
    assert "Today: walk with Dana Lee (Acme)." in [m["text"] for m in dms(fake_slack)[-2:]]


def test_linking_into_an_existing_slack_contact_keeps_their_plans_and_projects(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, ana: None
) -> None:
    ok(slack.command('thanks "Maria (outside)" for the intro deck'))
    ok(slack.command("gave <@U2> a reference"))  # Maria in Slack, already a contact
    ok(slack.command('project "Q3 launch" "Maria (outside)" <@U2>'))
    ok(slack.command('plan "Maria (outside)" thursday coffee'))

    linked = ok(slack.command('link "Maria (outside)" <@U2>'))
    assert plans(runtime) == [("U2", "coffee", PlanStatus.PLANNED, None)]
    assert allies(runtime) == [("Q3 launch", "U2")]
    assert (
        "Linked *Maria (outside)* to <@U2>'s Slack account: moved 1 entry, 1 plan and "
        "1 project to <@U2>." in linked.text
    )
    assert "Thursday 19 November: coffee with <@U2>" in ok(slack.command("plan")).text
    clock.now = clock.now.replace(day=19, hour=9, minute=0)
    assert send_plans(runtime, clock) == 1
    assert dms(fake_slack)[-1]["text"] == "Today: coffee with Maria Lopez."


def test_deleting_a_contact_says_everything_it_removes_and_removes_exactly_that(
    slack: SlackDriver, runtime: Runtime, fake_slack: FakeSlack, clock: FrozenClock, ana: None
) -> None:
    hook = fake_slack.response_url("response_hook")
    ok(slack.command('project "Q3 launch" "Dana Lee (Acme)" <@U2>'))
    met_and_learned(slack, runtime, fake_slack, clock, '"Dana Lee (Acme)"')
    ok(slack.command('plan "Dana Lee (Acme)" thursday lunch'))
    ok(slack.command('gave "Dana Lee (Acme)" a reference'))
    ok(slack.command('intro <@U3> "Dana Lee (Acme)" at the offsite'))  # stays, without Dana
    ok(slack.command("thanks <@U2> for a review"))

    def counts() -> dict[str, int]:
        tables = (Interaction, MeetingPlan, ProjectAlly, QuestionAsked, Project, Contact)
        with transaction(runtime.sessions) as session:
            return {
                t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
                for t in tables
            }

    before = counts()
    ask = ok(slack.command('delete "Dana Lee"'))
    assert (
        "Delete *Dana Lee (Acme)* with everything you have with them: 2 entries, 2 plans, "
        "their place in 1 project and 3 suggested questions? This can't be undone."
    ) in ask.text
    assert counts() == before  # asking deletes nothing
    slack.action("delete_contact_confirm", value="~dana lee", extra={"response_url": hook})
    done = fake_slack.calls_to("response_hook")[-1]["text"]
    assert done == (
        "Deleted Dana Lee (Acme) with 2 entries, 2 plans, their place in 1 project and "
        "3 suggested questions."
    )
    after = counts()
    gone = {table: before[table] - after[table] for table in before}
    # What the reply said is what went: the project itself and everyone else stay.
    assert gone == {
        "interactions": 2,
        "meeting_plans": 2,
        "project_allies": 1,
        "questions_asked": 3,
        "projects": 0,
        "contacts": 1,
    }
    assert allies(runtime) == [("Q3 launch", "U2")]
    with transaction(runtime.sessions) as session:
        kept = session.execute(
            select(Interaction.kind, Interaction.what, Interaction.related_contact_id)
            .join(Contact, Contact.id == Interaction.contact_id)
            .where(Contact.key == "U3")
        ).all()
    assert kept == [("intro_received", "at the offsite", None)]


def test_every_kind_of_row_that_belongs_to_a_contact_has_words_in_the_replies() -> None:
    """A new table whose rows go with a contact is counted in member-facing words, in order."""
    owned = {ref.table.name for ref in contact_references() if ref.owned}
    assert owned <= set(WORDS), owned - set(WORDS)
    assert owned <= set(COUNT_ORDER), owned - set(COUNT_ORDER)


def test_a_merge_that_would_cut_a_note_is_refused_and_changes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    def write_notes(key: str, notes: str) -> None:
        slack.action("open_contact_modal", value=key)
        view = fake_slack.calls_to("views.open")[-1]["view"]
        values = contact_values(notes=notes)
        reply = slack.submit("contact_modal", values, private_metadata=view["private_metadata"])
        assert reply.status == 200 and reply.body == ""

    ok(slack.command('add "D. Lee" strategic'))
    ok(slack.command('add "Dana Lee (Acme)" strategic'))
    write_notes("~d. lee", "Met at the offsite. " * 100)  # 2,000 characters
    write_notes("~dana lee", "Leads pricing for EMEA. " * 80)  # 1,920 characters
    refused = ok(slack.command('merge "D. Lee" into "Dana Lee (Acme)"'))
    assert "Their notes together are over 3,000 characters" in refused.text
    with transaction(runtime.sessions) as session:
        notes = {key: text for key, text in session.execute(select(Contact.key, Contact.notes))}
    assert notes == {
        "~d. lee": ("Met at the offsite. " * 100).strip(),
        "~dana lee": ("Leads pricing for EMEA. " * 80).strip(),
    }


def test_planning_a_merged_person_again_changes_their_soonest_plan(
    slack: SlackDriver, runtime: Runtime, ana: None
) -> None:
    # Monday: D. Lee's lunch is on Friday, Dana's walk on Thursday; merged, both stay open.
    ok(slack.command('plan "D. Lee" friday lunch'))
    ok(slack.command('plan "Dana Lee (Acme)" thursday walk'))
    ok(slack.command('merge "D. Lee" into "Dana Lee (Acme)"'))

    changed = ok(slack.command('plan "Dana Lee (Acme)" wednesday breakfast'))
    assert "Wednesday 18 November" in changed.text
    # The soonest plan (Thursday's walk) became Wednesday's breakfast; Friday's lunch stays.
    assert plans(runtime) == [
        ("~dana lee", "lunch", PlanStatus.PLANNED, None),
        ("~dana lee", "breakfast", PlanStatus.PLANNED, None),
    ]
