"""Enterprise Grid ids reach every key: a button, a view submission and an event from a Grid
workspace all land in the member keyed by the org (E1), apart from the same user id outside it;
with an org-wide install, a Grid user is one member whichever workspace a request names."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.home.service import entered_home
from bot.ledger.people import MemberRef, SlackPerson
from bot.ledger.reactions import set_reaction_emoji
from bot.ledger.service import record_favour
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Interaction, InteractionKind, Member, SlackUser
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver, command_body
from tests.support.waiting import wait_for

GRID = MemberRef(team_id="T1", user_id="U1", enterprise_id="E1")
PLAIN = MemberRef(team_id="T1", user_id="U1")
IN_GRID = {"enterprise": {"id": "E1", "name": "Grid"}, "is_enterprise_install": False}
MARIA = json.dumps({"u": "U2", "e": "pray", "l": None})


def favours(runtime: Runtime) -> dict[tuple[str, str, str], int]:
    """Favours received per member key (enterprise, team, user)."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(Member.enterprise_id, Member.team_id, Member.user_id, func.count(Interaction.id))
            .outerjoin(Interaction, Interaction.member_id == Member.id)
            .group_by(Member.enterprise_id, Member.team_id, Member.user_id)
        ).all()
    return {(e, t, u): n for e, t, u, n in rows}


def log_maria(slack: SlackDriver, fake: FakeSlack, extra: dict[str, Any]) -> None:
    reply = slack.action(
        "log_reaction_favour",
        value=MARIA,
        extra={"response_url": fake.response_url("response_url"), **extra},
    )
    assert reply.status == 200


def test_a_button_from_a_grid_workspace_writes_and_republishes_under_the_org(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    # The member has Home open, entered under the organisation's identity.
    with transaction(runtime.sessions) as session:
        entered_home(session, MemberRef("T1", "U1", "E1"), runtime.clock())
    log_maria(slack, fake_slack, IN_GRID)
    assert favours(runtime) == {("E1", "T1", "U1"): 1}

    # The Home publish hook read the same member: their Home shows the favour.
    def home_shows_maria() -> bool:
        views = [json.dumps(c["view"]) for c in fake_slack.calls_to("views.publish")]
        # Her favour, in Home's list, with her as a mention.
        return any("<@U2>: Their message you reacted" in v for v in views)

    assert wait_for(home_shows_maria)
    log_maria(slack, fake_slack, {})
    assert favours(runtime) == {("E1", "T1", "U1"): 1, ("", "T1", "U1"): 1}


def submit_thanks(slack: SlackDriver, favour_id: int, extra: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "U1", "team_id": "T1"},
        "api_app_id": "A1",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "say_thanks_modal",
            "private_metadata": str(favour_id),
            "state": {
                "values": {"message": {"message": {"type": "plain_text_input", "value": "Thanks!"}}}
            },
            "hash": f"{time.time():.6f}",
        },
        **extra,
    }
    reply = slack.interactive(payload)
    assert reply.status == 200
    return reply.json


def test_a_view_submission_from_a_grid_workspace_finds_the_orgs_ledger(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    with transaction(runtime.sessions) as session:
        recorded = record_favour(
            session,
            GRID,
            SlackPerson("U2", "Maria Lopez"),
            InteractionKind.FAVOUR_RECEIVED,
            "the report",
            clock.now,
        )
    favour_id = recorded.lines[0].id
    # The same user id outside the org has no such favour: nothing is sent.
    outside = submit_thanks(slack, favour_id, {})
    assert outside["response_action"] == "errors"
    assert fake_slack.calls_to("chat.postMessage") == []

    inside = submit_thanks(slack, favour_id, IN_GRID)
    assert inside["response_action"] == "update"
    [dm] = fake_slack.calls_to("chat.postMessage")
    assert dm["channel"] == "DU2"
    with runtime.sessions() as session:
        favour = session.get(Interaction, favour_id)
        assert favour is not None and favour.thanked_at == clock.now
    assert favours(runtime) == {("E1", "T1", "U1"): 2}  # the favour and the thank-you


def reaction(slack: SlackDriver, event_id: str, **grid: Any) -> None:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "reaction_added",
                "user": "U1",
                "item_user": "U2",
                "reaction": "raised_hands",
                "item": {"type": "message", "channel": "C7", "ts": "1700000001.000100"},
                "event_ts": "1700000002.000100",
            },
            **grid,
        }
    )
    assert slack.send(body, "application/json").status == 200


def test_an_event_from_a_grid_workspace_reads_the_orgs_member(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    fake_slack.add_channel("C7", "UBOT", "U1", "U2")  # a channel Ally is in
    with transaction(runtime.sessions) as session:
        set_reaction_emoji(session, GRID, ":raised_hands:", clock.now)
    # Outside the org, U1 still reacts with :pray: to log a favour: no offer.
    reaction(slack, "Ev1")
    assert fake_slack.calls_to("chat.postEphemeral") == []
    reaction(slack, "Ev2", enterprise_id="E1", is_ext_shared_channel=False)
    [offer] = fake_slack.calls_to("chat.postEphemeral")
    assert offer["user"] == "U1" and "Maria Lopez" in json.dumps(offer["blocks"])
    with runtime.sessions() as session:
        cached = session.scalars(select(SlackUser).where(SlackUser.user_id == "U2")).one()
    assert (cached.enterprise_id, cached.team_id) == ("E1", "T1")


def test_an_org_wide_install_keeps_one_member_across_the_orgs_workspaces(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    org_wide = {"enterprise_id": "E1", "enterprise_name": "Grid", "is_enterprise_install": "true"}
    body = command_body("thanks <@U2> for the report", user="U1", team="T5")
    assert slack.send(body + "&" + urlencode(org_wide), "application/x-www-form-urlencoded").status
    # A button from another workspace of the org, where Slack sends no team at all.
    log_maria(
        slack,
        fake_slack,
        {
            "team": None,
            "user": {"id": "U1", "team_id": "T9"},
            "enterprise": {"id": "E1", "name": "Grid"},
            "is_enterprise_install": True,
        },
    )
    assert favours(runtime) == {("E1", "", "U1"): 2}
