"""Sending Ally an address book through the real Bolt app: a member drops a file into their DM
with Ally (a ``file_share`` message event), the fake Slack serves ``files.info`` and the
download, and Ally answers in the DM; the Import button's answer goes to its response_url."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest

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


# Address books written by other programs (phones, mail programs, Google's and Microsoft's
# exports), byte for byte, in the team's shared folder beside this checkout (its README.md
# says where each comes from); ALLY_ADDRESS_BOOKS may point elsewhere.
SAMPLES = Path(
    os.environ.get(
        "ALLY_ADDRESS_BOOKS", Path(__file__).parents[2] / ".." / "shared" / "address-books"
    )
)

# Each sample, with the kind Ally reads it as and the people in it: every card or row with a
# usable name or e-mail address (the samples' README counts them the same way).
# - ezvcard_John_Doe_ANDROID.vcf: 6 cards, all kept. Two have an e-mail address and no N or FN,
#   so they are named by it; a third card's second EMAIL is a run of "Ñ", not an address, so
#   that address is left out (the card keeps its name and bob@company.com); an ORG ending in
#   the stray byte =80 gets U+FFFD.
# - contactsio_Outlook365.csv: the sixth row fills its cells with their column names; it has
#   a name and three addresses, so it is a person.
# - contactsio_Google.csv: one of its eleven addresses has a space inside ("business 3@…"),
#   which is not an address, so ten are kept.
# No sample has a card or row without any name or address; the tests built on them show such
# a card is skipped with its reason.
EXPECTED: dict[str, tuple[str, int]] = {
    "vcard/ezvcard_John_Doe_ANDROID.vcf": ("vCard", 6),
    "vcard/ezvcard_John_Doe_BLACK_BERRY.vcf": ("vCard", 1),
    "vcard/ezvcard_John_Doe_EVOLUTION.vcf": ("vCard", 1),
    "vcard/ezvcard_John_Doe_GMAIL.vcf": ("vCard", 1),
    "vcard/ezvcard_John_Doe_IPHONE.vcf": ("vCard", 1),
    "vcard/ezvcard_John_Doe_MAC_ADDRESS_BOOK.vcf": ("vCard", 1),
    "vcard/ezvcard_John_Doe_MS_OUTLOOK.vcf": ("vCard", 1),
    "vcard/ezvcard_fullcontact.vcf": ("vCard", 1),
    "vcard/ezvcard_gmail-list.vcf": ("vCard", 3),
    "vcard/ezvcard_gmail-single2.vcf": ("vCard", 1),
    "vcard/ezvcard_issue114.vcf": ("vCard", 1),
    "vcard/ezvcard_outlook-2003.vcf": ("vCard", 1),
    "vcard/ezvcard_outlook-2007.vcf": ("vCard", 1),
    "vcard/ezvcard_thunderbird-MoreFunctionsForAddressBook-extension.vcf": ("vCard", 1),
    "vcard/contactsio_v2_1.vcf": ("vCard", 1),
    "vcard/contactsio_v3.vcf": ("vCard", 2),
    "vcard/contactsio_v4.vcf": ("vCard", 2),
    "google_csv/contactsio_Google.csv": ("Google Contacts", 1),
    "outlook_csv/contactsio_GoogleCreatedOutlook.csv": ("Outlook CSV", 1),
    "outlook_csv/contactsio_Outlook365.csv": ("Outlook CSV", 6),
    "outlook_csv/contactsio_Outlook365_Web.csv": ("Outlook CSV", 1),
    "other_csv/contactsio_ThunderbirdAnsi.csv": ("Thunderbird", 1),
    "other_csv/contactsio_WindowsLiveMail.csv": ("Windows Live Mail", 1),
}


NO_SAMPLES = (
    f"the sample address books are not at {SAMPLES} (the shared folder beside the checkout); "
    "set ALLY_ADDRESS_BOOKS to their folder"
)
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=NO_SAMPLES)


def sample(name: str) -> bytes:
    """The bytes of one sample address book; skips the test when the folder is not there."""
    if not SAMPLES.is_dir():
        pytest.skip(NO_SAMPLES)
    return (SAMPLES / name).read_bytes()
