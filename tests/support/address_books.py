"""Sending Ally an address book through the real Bolt app: a member drops a file into their DM
with Ally (a ``file_share`` message event), the fake Slack serves ``files.info`` and the
download, and Ally answers in the DM; the Import button's answer goes to its response_url."""

from __future__ import annotations

import itertools
from typing import Any

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Contact
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for

_FILES = itertools.count(1)
HEADER = b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"


def linkedin(*rows: bytes) -> bytes:
    """A LinkedIn ``Connections.csv`` with ``rows`` under its header."""
    return HEADER + b"".join(row + b"\n" for row in rows)


def contacts(runtime: Runtime) -> dict[str, str | None]:
    with transaction(runtime.sessions) as session:
        return {c.key: c.organisation for c in session.query(Contact)}


def drop(
    slack: SlackDriver,
    fake: FakeSlack,
    *files: tuple[str, bytes],
    user: str = "U1",
    size: int | None = None,
) -> None:
    """``user`` drops ``files`` (name, content) into their DM with Ally, in one message."""
    shared = [fake.add_file(f"F{next(_FILES)}", name, data, size=size) for name, data in files]
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": f"D{user}",
        "channel_type": "im",
        "user": user,
        "text": "",
        "files": shared,
        "ts": f"1700000000.{next(_FILES):06d}",
    }
    assert slack.event(event).status == 200


def answers(fake: FakeSlack, user: str = "U1") -> list[dict[str, Any]]:
    """What Ally has posted in its DM with ``user``, oldest first."""
    return [dict(c.params) for c in fake.calls_to("chat.postMessage") if c["channel"] == f"D{user}"]


def share(
    slack: SlackDriver,
    fake: FakeSlack,
    name: str,
    content: bytes,
    size: int | None = None,
    *,
    user: str = "U1",
) -> dict[str, Any]:
    """``user`` drops a file into their DM with Ally; returns Ally's answer in the DM."""
    before = len(answers(fake, user))
    drop(slack, fake, (name, content), user=user, size=size)
    return wait_for(lambda: answers(fake, user)[before:])[0]


def buttons(message: dict[str, Any]) -> dict[str, str | None]:
    return {
        e["action_id"]: e.get("value")
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


def confirm(
    slack: SlackDriver, fake: FakeSlack, message: dict[str, Any], *, user: str = "U1"
) -> dict[str, Any]:
    """``user`` presses Import on a preview; returns the answer posted to its response_url."""
    hook = fake.response_url("import_hook")
    before = len(fake.calls_to("import_hook"))
    value = buttons(message)["import_confirm"]
    reply = slack.action("import_confirm", value=value, user=user, extra={"response_url": hook})
    assert reply.status == 200
    return dict(wait_for(lambda: fake.calls_to("import_hook")[before:])[0].params)


def confirmed_text(answer: dict[str, Any]) -> str:
    assert answer["replace_original"] is True
    return str(answer["text"]) + str(answer["blocks"])
