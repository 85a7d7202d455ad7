"""Address books as people have them, sent to Ally in its DM through the real Bolt app: every
sample in the shared folder (written by phones, mail programs, Google and Microsoft, byte for
byte) is previewed with the people it holds and the encoding assumed, imported, and sent again
to add nothing."""

from __future__ import annotations

import codecs

import pytest

from bot.platform.runtime import Runtime
from tests.support.address_books import (
    EXPECTED,
    buttons,
    confirm,
    confirmed_text,
    contacts,
    needs_samples,
    sample,
    share,
)
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


@needs_samples
@pytest.mark.parametrize(("path", "expected"), sorted(EXPECTED.items()), ids=sorted(EXPECTED))
def test_every_sample_address_book_is_read_imported_once_and_adds_nothing_twice(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    runtime: Runtime,
    path: str,
    expected: tuple[str, int],
) -> None:
    source, people = expected
    data = sample(path)
    name = path.rsplit("/", 1)[-1]
    preview = share(slack, fake_slack, name, data)
    text = str(preview["blocks"])
    assert f"({source}, read as " in text, text
    assert f"*{_people(people)}* new to your network" in text, text
    assert "skipped" not in text, text
    done = confirmed_text(confirm(slack, fake_slack, preview))
    assert f"added {_people(people)} to your network" in done
    added = contacts(runtime)
    assert len(added) == people and all(key.strip("~ ") for key in added)

    again = share(slack, fake_slack, name, data)
    assert "*0 people* new to your network" in str(again["blocks"])
    assert f"{_people(people)} already in your network" in str(again["blocks"])
    assert "import_confirm" not in buttons(again)
    assert contacts(runtime) == added


@needs_samples
def test_the_preview_says_which_encoding_was_assumed(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    said = {
        path: str(share(slack, fake_slack, path.rsplit("/", 1)[-1], sample(path))["blocks"])
        for path in (
            "outlook_csv/contactsio_Outlook365.csv",
            "outlook_csv/contactsio_Outlook365_Web.csv",
            "outlook_csv/contactsio_GoogleCreatedOutlook.csv",
            "other_csv/contactsio_ThunderbirdAnsi.csv",
        )
    }
    assert (
        "(Outlook CSV, read as Windows-1252: it isn't UTF-8, so I went by its bytes)"
        in (said["outlook_csv/contactsio_Outlook365.csv"])
    )
    assert (
        "(Outlook CSV, read as UTF-8, as its byte order mark says)"
        in (said["outlook_csv/contactsio_Outlook365_Web.csv"])
    )
    assert "(Outlook CSV, read as UTF-8)" in said["outlook_csv/contactsio_GoogleCreatedOutlook.csv"]
    assert (
        "(Thunderbird, read as Windows-1252: it isn't UTF-8"
        in (said["other_csv/contactsio_ThunderbirdAnsi.csv"])
    )


@needs_samples
def test_the_android_export_keeps_its_e_mail_only_cards_and_drops_the_address_that_is_not_one(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    fake_slack.add_email("U4", "bob@company.com")
    preview = share(slack, fake_slack, "android.vcf", sample("vcard/ezvcard_John_Doe_ANDROID.vcf"))
    assert "*6 people* new to your network (1 of them found in Slack by email)" in str(
        preview["blocks"]
    )
    confirm(slack, fake_slack, preview)
    keys = contacts(runtime)
    assert "U4" in keys  # the card with bob@company.com and a run of Ñ as its other address
    assert {"~john.doe@company.com", "~jane.doe@company.com"} <= set(keys)
    # Henry's card, whose second ORG ends in the stray byte =80, is kept with its first ORG.
    assert keys["~ññññ"] == "Ñ" * 44

    again = share(slack, fake_slack, "android.vcf", sample("vcard/ezvcard_John_Doe_ANDROID.vcf"))
    # Known again by address: Bob in Slack, and the three outside people whose cards had one.
    assert "(left as they are: 4 by email, 2 by name and organisation)" in str(again["blocks"])


def _qp(text: str, codec: str) -> str:
    return "".join(f"={b:02X}" for b in text.encode(codec))


def _card(*lines: str | bytes) -> bytes:
    body = b"\r\n".join(x if isinstance(x, bytes) else x.encode() for x in lines)
    return b"BEGIN:VCARD\r\nVERSION:2.1\r\n" + body + b"\r\nEND:VCARD\r\n"


LENIENT = {
    "declared Shift_JIS, quoted-printable and raw": (
        _card(f"FN;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:{_qp('山田太郎', 'shift_jis')}")
        + _card(
            b"N;CHARSET=SHIFT_JIS:" + "鈴木;花子".encode("shift_jis"),
            b"ORG:" + "株式会社表計算".encode("shift_jis"),
        )
        + _card("FN;CHARSET=X-UNKNOWN:Ann Lee"),
        {"~山田太郎": None, "~花子 鈴木": "株式会社表計算", "~ann lee": None},
        "where a card declares it",
    ),
    "a fold inside a UTF-8 character, a bare CR, blank lines and stray base64": (
        b"\r\n"
        + _card(
            b"VERSION:3.0", b"FN:Jos\xc3\r\n \xa9 P\xc3\xa9rez", b"EMAIL:jose@ex\r\n ample.test"
        )
        + b"\r\n\r\n"
        + _card(
            b"FN:Ann\rMarie Lee",
            b"PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQ",
            b"SkZJRgABAQAAAQ",
            b"",
        )
        + _card("N;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Br=C3=BC=\r\nck;J=C3=B6rg", "ORG:x=80"),
        {"~josé pérez": None, "~ann marie lee": None, "~jörg brück": "x=80"},
        "read as UTF-8",
    ),
    "no FN: the name from N, else the organisation, else the e-mail address": (
        _card("N:Ito;Kathy;;;", "EMAIL:kathy@acme.test")
        + _card("ORG:Initech;Sales")
        + _card("EMAIL;TYPE=INTERNET: sam@globex.test ")
        + _card("EMAIL:ÑÑÑÑ", "TEL:123"),
        {"~kathy ito": None, "~initech": "Initech", "~sam@globex.test": None},
        "1 person skipped: no name or e-mail address",
    ),
    "a stray byte in a declared charset, CR line ends only": (
        _card("FN:Bo Chen", "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Acme=80").replace(
            b"\r\n", b"\r"
        ),
        {"~bo chen": "Acme\ufffd"},
        "*1 person* new",
    ),
    "UTF-16 with a byte order mark": (
        _card("VERSION:3.0", "FN:Zoë Ng").decode().encode("utf-16"),
        {"~zoë ng": None},
        "read as UTF-16, as its byte order mark says",
    ),
    "UTF-8 with a byte order mark": (
        codecs.BOM_UTF8 + _card("VERSION:3.0", "FN:Zoë Ng"),
        {"~zoë ng": None},
        "read as UTF-8, as its byte order mark says",
    ),
    "Outlook CSV in Windows-1251, detected": (
        "First Name,Last Name,Company,E-mail Address\n"
        "Иван,Петров,ООО Ромашка,ivan@example.ru\n"
        "Мария,Иванова,ЗАО Лютик,maria@example.ru\n".encode("cp1251"),
        {"~иван петров": "ООО Ромашка", "~мария иванова": "ЗАО Лютик"},
        "(Outlook CSV, read as Windows-1251: it isn't UTF-8",
    ),
    "Thunderbird in English, Windows Live Mail in English": (
        b"First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email,Organization,\n"
        b"Ana,Silva,,,ana@acme.test,,Acme,\n",
        {"~ana silva": "Acme"},
        "(Thunderbird, read as UTF-8)",
    ),
}


@pytest.mark.parametrize(("data", "expected", "said"), LENIENT.values(), ids=list(LENIENT))
def test_address_books_are_read_leniently(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    runtime: Runtime,
    data: bytes,
    expected: dict[str, str | None],
    said: str,
) -> None:
    name = "contacts.csv" if data[:3] in (b"Fir",) or b"," in data.split(b"\n")[0] else "a.vcf"
    preview = share(slack, fake_slack, name, data)
    assert said in str(preview["blocks"]), preview["blocks"]
    confirm(slack, fake_slack, preview)
    assert contacts(runtime) == expected


NAMED = {
    "vcard/ezvcard_John_Doe_BLACK_BERRY.vcf": {"~john doe": "Acme Solutions"},
    "vcard/ezvcard_issue114.vcf": {"~dummy, dummy": "Dummy GmbH"},  # "\," is a comma
    "vcard/contactsio_v2_1.vcf": {"~maxl": "Firma"},  # FN is the nickname; one person
    "vcard/ezvcard_outlook-2003.vcf": {"~john doe iii": "Company, The"},
    "other_csv/contactsio_ThunderbirdAnsi.csv": {"~dr. max middle name mustermann jr.": "Firma"},
    "other_csv/contactsio_WindowsLiveMail.csv": {"~max middle name mustermann": "Firma"},
    "outlook_csv/contactsio_Outlook365_Web.csv": {"~max middle name mustermann": "Firma"},
}


@needs_samples
@pytest.mark.parametrize(("path", "expected"), NAMED.items(), ids=list(NAMED))
def test_samples_give_the_names_and_organisations_their_programs_show(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    runtime: Runtime,
    path: str,
    expected: dict[str, str],
) -> None:
    confirm(slack, fake_slack, share(slack, fake_slack, path.rsplit("/", 1)[-1], sample(path)))
    assert contacts(runtime) == expected


@needs_samples
@pytest.mark.parametrize(
    ("path", "email"),
    [
        ("vcard/ezvcard_John_Doe_EVOLUTION.vcf", "john.doe@ibm.com"),  # folded after "john."
        ("vcard/ezvcard_John_Doe_IPHONE.vcf", "john.doe@ibm.com"),  # in item1., CR CR LF
        ("vcard/contactsio_v3.vcf", "blablö@blub.com"),  # written with a leading space
        ("google_csv/contactsio_Google.csv", "privat3@folker.de"),  # third in a ::: cell
        ("outlook_csv/contactsio_Outlook365.csv", "Kemal@contoso.com"),
    ],
)
def test_e_mail_addresses_in_samples_are_whole_and_found_in_slack(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, path: str, email: str
) -> None:
    fake_slack.add_email("U4", email)
    preview = share(slack, fake_slack, path.rsplit("/", 1)[-1], sample(path))
    assert "(1 of them found in Slack by email)" in str(preview["blocks"])
    confirm(slack, fake_slack, preview)
    assert "U4" in contacts(runtime)
