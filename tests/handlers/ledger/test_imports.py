"""Importing an address book through the real Bolt app: a member DMs Ally a file (a
``file_share`` message event), the fake Slack serves ``files.info`` and the download, Ally
previews, and the Import button adds the new people."""

from __future__ import annotations

from bot.platform.runtime import Runtime
from tests.support.address_books import buttons, confirm, confirmed_text, contacts, share
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for

LINKEDIN = (
    b"Notes:\n"
    b'"When exporting your connection data, you may notice that some of the email addresses '
    b'are missing."\n'
    b"\n"
    b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    b"Maria,Lopez,https://www.linkedin.com/in/maria,maria@acme.test,Acme,CTO,01 Jan 2024\n"
    b"Dana,Lee,https://www.linkedin.com/in/dana,,Acme,PM,02 Jan 2024\n"
    b"Bob,Chen,https://www.linkedin.com/in/bob,bob@acme.test,Acme,Eng,03 Jan 2024\n"
    b",,https://www.linkedin.com/in/anon,,,,04 Jan 2024\n"
    b"Dana,Lee,https://www.linkedin.com/in/dana2,,Acme,PM,05 Jan 2024\n"
    b"Ana,Silva,https://www.linkedin.com/in/ana,ana@acme.test,Acme,Lead,06 Jan 2024\n"
)
GOOGLE = (
    b"First Name,Middle Name,Last Name,Organization Name,E-mail 1 - Label,E-mail 1 - Value\n"
    b"Sam,,Ortiz,Initech,* Work,sam@initech.test\n"
    b"Kathy,,Ito,Acme,* Work,kathy@acme.test ::: k@home.test\n"
)
VCARD = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lee Wong\r\nN:Wong;Lee;;;\r\nORG:Globex;Sales\r\n"
    b"EMAIL;TYPE=INTERNET:lee@globex.test\r\nEND:VCARD\r\n"
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Park;Jo;;;\r\nEND:VCARD\r\n"
)


def test_linkedin_preview_then_import_and_the_same_file_twice_adds_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    fake_slack.add_email("U1", "ana@acme.test")
    fake_slack.add_email("U2", "maria@acme.test")
    fake_slack.add_email("U3", "bob@acme.test")
    assert slack.command("add <@U3> strategic peer").status == 200

    preview = share(slack, fake_slack, "Connections.csv", LINKEDIN)
    text = str(preview["blocks"])
    assert preview["channel"] == "DU1"
    assert "Import Connections.csv* (LinkedIn, read as UTF-8)?" in text
    assert "*2 people* new to your network (1 of them found in Slack by email)" in text
    assert "1 person already in your network (left as they are: 1 by email, 0 by name" in text
    for reason in ("no name or e-mail address", "listed twice in the file", "that's you"):
        assert f"1 person skipped: {reason}" in text
    assert contacts(runtime) == {"U3": None}  # nothing is written before Import

    done = confirmed_text(confirm(slack, fake_slack, preview))
    assert "added 2 people to your network" in done
    assert contacts(runtime) == {"U3": None, "U2": None, "~dana lee": "Acme"}
    # The download carried the bot token; nothing else did.
    [download, *_] = fake_slack.calls_to("files.download")
    assert download.headers["Authorization"] == "Bearer xoxb-test"

    again = share(slack, fake_slack, "Connections.csv", LINKEDIN)
    assert "*0 people* new to your network" in str(again["blocks"])
    assert "3 people already in your network" in str(again["blocks"])
    assert "import_confirm" not in buttons(again)
    # Even the old preview's button adds nothing now.
    assert "added 0 people" in confirmed_text(confirm(slack, fake_slack, preview))
    assert len(contacts(runtime)) == 3


def test_google_contacts_and_vcard(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    fake_slack.add_email("U4", "k@home.test")
    google = share(slack, fake_slack, "contacts.csv", GOOGLE)
    assert "(Google Contacts, read as UTF-8)" in str(google["blocks"])
    assert "*2 people* new to your network (1 of them found in Slack by email)" in str(
        google["blocks"]
    )
    confirm(slack, fake_slack, google)
    vcard = share(slack, fake_slack, "people.vcf", VCARD)
    assert "(vCard, read as UTF-8)" in str(vcard["blocks"])
    assert "*2 people* new" in str(vcard["blocks"])
    confirm(slack, fake_slack, vcard)
    assert contacts(runtime) == {
        "U4": None,
        "~sam ortiz": "Initech",
        "~lee wong": "Globex",
        "~jo park": None,
    }


def test_files_ally_cannot_read_get_a_clear_reply_and_nothing_is_written(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    header = b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    cases: list[tuple[str, bytes, int | None, str]] = [
        ("slides.pdf", b"%PDF-1.4", None, "slides.pdf is none of these"),
        ("big.csv", header, 6 * 1024 * 1024, "big.csv is over 5 MB"),
        ("many.csv", header + b"A,B,,,,,x\n" * 20_001, None, "has over 20,000 people"),
        ("odd.csv", b"name;phone\nx;1\n", None, "Export it again as vCard (.vcf)"),
        ("broken.vcf", b"BEGIN:VCARD\nFN:x\n", None, "isn't a well-formed vCard"),
        ("quote.csv", header + b'"A,B\n', None, "isn't a well-formed CSV"),
    ]
    for name, content, size, message in cases:
        reply = share(slack, fake_slack, name, content, size)
        assert message in reply["text"], (name, reply["text"])
        assert "Nothing was added." in reply["text"]
        assert "import_confirm" not in buttons(reply)
    assert contacts(runtime) == {}
    # Over 5 MB by files.info: not even downloaded.
    downloaded = {c.params["file"] for c in fake_slack.calls_to("files.download")}
    assert len(downloaded) == len(cases) - 2  # neither the PDF nor the big file


def test_a_plain_dm_is_told_what_ally_reads_and_its_own_messages_are_ignored(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    event = {"type": "message", "channel": "DU1", "channel_type": "im", "user": "U1"}
    assert slack.event({**event, "text": "hello", "ts": "1.1"}).status == 200
    [answer] = wait_for(lambda: fake_slack.calls_to("chat.postMessage"))
    assert "Connections.csv" in answer["text"] and "/ally help" in answer["text"]
    for kind in ("Google Contacts", "Outlook", "Thunderbird", "Windows Live Mail", "vCard"):
        assert kind in answer["text"]
    assert slack.event({**event, "text": "mine", "ts": "1.2", "bot_id": "BBOT"}).status == 200
    assert slack.event({**event, "subtype": "message_changed", "ts": "1.3"}).status == 200
    assert slack.event({**event, "channel_type": "channel", "ts": "1.4"}).status == 200
    slack.app.listener_runner.listener_executor.shutdown(wait=True)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_someone_imported_before_is_known_by_their_address_under_another_name(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    first = share(slack, fake_slack, "contacts.vcf", VCARD)
    assert "added 2 people" in confirmed_text(confirm(slack, fake_slack, first))

    # The phone's export names Lee differently, with the same address (in another case).
    renamed = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lee W.\r\nORG:Globex\r\n"
        b"EMAIL;TYPE=INTERNET:Lee@Globex.test\r\nEND:VCARD\r\n"
    )
    again = share(slack, fake_slack, "phone.vcf", renamed)
    text = str(again["blocks"])
    assert "*0 people* new to your network" in text
    assert "1 person already in your network (left as they are: 1 by email, 0 by name" in text
    assert "import_confirm" not in buttons(again)
    assert set(contacts(runtime)) == {"~lee wong", "~jo park"}
