"""Importing an address book within bounds, whatever the file: values too long for a column
are cut (and the preview says so), one bad row never loses the rest, a database failure is
told to the member, a member has one file read at a time and a daily number of files, and
the workspace's emails are listed once for many files. Through the real Bolt app, on the
database the app fixtures run on (CI runs them on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.ledger import importing
from bot.ledger.importing import DAILY_FILES
from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Contact, Member
from tests.support.address_books import (
    answers,
    buttons,
    confirm,
    confirmed_text,
    contacts,
    drop,
    linkedin,
    share,
)
from tests.support.clock import FrozenClock
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for

LONG_COMPANY = "Acme " + "Holdings " * 40  # 365 characters; a company is kept to 200
LONG_NAME = "Maximilian" * 22  # 220 characters; a name is kept to 200


def names_and_organisations(runtime: Runtime) -> dict[str, tuple[str, str | None]]:
    with transaction(runtime.sessions) as session:
        return {c.key: (c.name, c.organisation) for c in session.query(Contact)}


def test_values_too_long_are_cut_and_a_bad_row_loses_nothing_else(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    file = linkedin(
        b"Dana,Lee,,,Acme,PM,02 Jan 2024",
        f"Sam,Ortiz,,,{LONG_COMPANY},CFO,03 Jan 2024".encode(),
        f"{LONG_NAME},Jones,,,Globex,Eng,04 Jan 2024".encode(),
        # A NUL byte, which PostgreSQL refuses in text, in one row among good ones.
        b"Jo\x00,Park,,,Initech,Eng,05 Jan 2024",
        b"Kim,Wu,,,Initech,Eng,06 Jan 2024",
    )
    preview = share(slack, fake_slack, "Connections.csv", file)
    text = str(preview["blocks"])
    assert "*5 people* new to your network" in text
    assert "2 people with a name or organisation over 200 characters: cut to fit" in text
    done = confirmed_text(confirm(slack, fake_slack, preview))
    assert "added 5 people to your network" in done
    kept = names_and_organisations(runtime)
    assert kept["~dana lee"] == ("Dana Lee", "Acme")
    assert kept["~sam ortiz"] == ("Sam Ortiz", LONG_COMPANY[:200].rstrip())
    [long_one] = [name for name, _ in kept.values() if name.startswith("Maximilian")]
    assert len(long_one) == 200
    assert kept["~jo park"] == ("Jo Park", "Initech")
    assert kept["~kim wu"] == ("Kim Wu", "Initech")


def test_a_database_failure_at_import_is_told_to_the_member(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    preview = share(slack, fake_slack, "Connections.csv", linkedin(b"Dana,Lee,,,Acme,PM,x"))

    def database_gone(*_args: Any) -> None:
        gone = Exception("server closed the connection")
        raise OperationalError("INSERT INTO contacts", {}, gone)

    monkeypatch.setattr(importing, "add_people", database_gone)
    answer = confirm(slack, fake_slack, preview)
    assert "I couldn't reach my database just now. Press Import again in a minute." in str(
        answer["text"]
    )
    assert "Nothing was added." in str(answer["text"])
    assert answer["replace_original"] is False  # the preview and its Import button stay
    assert contacts(runtime) == {}
    # The database gone before Ally even starts: told too.
    monkeypatch.setattr(importing, "open_member", database_gone)
    answer = confirm(slack, fake_slack, preview)
    assert "Press Import again in a minute. Nothing was added." in str(answer["text"])
    assert answer["replace_original"] is False
    monkeypatch.undo()
    # Pressing Import again works.
    assert "added 1 person" in confirmed_text(confirm(slack, fake_slack, preview))


def test_a_member_has_one_file_read_at_a_time(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    # Slack is slow to describe the first file: it is still being read when the second comes.
    first_asked, go_on = threading.Event(), threading.Event()
    describe = fake_slack._files_info

    def slow_files_info(params: dict[str, Any]) -> dict[str, Any]:
        if not first_asked.is_set():
            first_asked.set()
            go_on.wait(10)
        return describe(params)

    fake_slack.on("files.info", slow_files_info)
    drop(slack, fake_slack, ("first.csv", linkedin(b"Dana,Lee,,,Acme,PM,x")))
    assert first_asked.wait(5)
    second = share(slack, fake_slack, "second.csv", linkedin(b"Sam,Ortiz,,,Initech,CFO,x"))
    assert "I'm still reading your last file" in second["text"]
    assert "import_confirm" not in buttons(second)
    go_on.set()
    first = wait_for(lambda: answers(fake_slack)[1:])[0]
    assert "Import first.csv" in first["text"]
    # Once answered, the next file is read (and Import works).
    third = share(slack, fake_slack, "third.csv", linkedin(b"Sam,Ortiz,,,Initech,CFO,x"))
    assert "Import third.csv" in third["text"]
    assert "added 1 person" in confirmed_text(confirm(slack, fake_slack, third))
    # Nobody else waits on U1's file: U2 is read at once.
    assert (
        "Import mine.csv"
        in share(slack, fake_slack, "mine.csv", linkedin(b"Kim,Wu,,,Initech,Eng,x"), user="U2")[
            "text"
        ]
    )


def test_files_of_one_message_are_read_one_after_another_three_at_most(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    # files.info takes a moment; count how many files Slack is asked about at once.
    describe, lock = fake_slack._files_info, threading.Lock()
    at_once = [0, 0]  # now, most

    def counting_files_info(params: dict[str, Any]) -> dict[str, Any]:
        with lock:
            at_once[0] += 1
            at_once[1] = max(at_once)
        time.sleep(0.2)
        with lock:
            at_once[0] -= 1
        return describe(params)

    fake_slack.on("files.info", counting_files_info)
    files = [(f"part{i}.csv", linkedin(f"Pat,No{i},,,Acme,PM,x".encode())) for i in (1, 2, 3, 4)]
    drop(slack, fake_slack, *files)
    wait_for(lambda: len(answers(fake_slack)) >= 3)
    slack.app.listener_runner.listener_executor.shutdown(wait=True)
    posted = [p["text"] for p in answers(fake_slack)]
    assert posted == [f"Import part{i}.csv: 1 person new" for i in (1, 2, 3)]
    assert at_once[1] == 1


def test_a_member_sends_at_most_the_daily_number_of_files(
    slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    file = linkedin(b"Dana,Lee,,,Acme,PM,x")
    for _ in range(DAILY_FILES):
        assert "Import" in share(slack, fake_slack, "Connections.csv", file)["text"]
    over = share(slack, fake_slack, "Connections.csv", file)
    assert over["text"] == (
        f"You've sent me {DAILY_FILES} files today, the most I read for one person in a day. "
        "Send it again tomorrow."
    )
    downloads = len(fake_slack.calls_to("files.download"))
    assert downloads == DAILY_FILES  # the one over the cap is not even fetched
    clock.advance(days=1)
    assert "Import" in share(slack, fake_slack, "Connections.csv", file)["text"]


def test_the_workspace_emails_are_listed_once_for_many_files(
    slack: SlackDriver, fake_slack: FakeSlack, clock: FrozenClock
) -> None:
    fake_slack.add_email("U2", "maria@acme.test")
    file = linkedin(b"Maria,Lopez,,maria@acme.test,Acme,CTO,x")
    drop(slack, fake_slack, *[(f"c{i}.csv", file) for i in range(3)])
    wait_for(lambda: len(answers(fake_slack)) == 3)
    assert "found in Slack by email" in str(answers(fake_slack)[2]["blocks"])
    share(slack, fake_slack, "again.csv", file, user="U3")  # another member, same workspace
    assert len(fake_slack.calls_to("users.list")) == 1
    clock.advance(minutes=11)  # kept ten minutes: someone may have joined since
    share(slack, fake_slack, "later.csv", file)
    assert len(fake_slack.calls_to("users.list")) == 2


def test_two_files_sent_at_once_by_a_new_member_each_get_an_answer(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    for name in ("a.csv", "b.csv"):
        drop(slack, fake_slack, (name, linkedin(b"Dana,Lee,,,Acme,PM,x")))
    wait_for(lambda: len(answers(fake_slack)) >= 2)
    slack.app.listener_runner.listener_executor.shutdown(wait=True)
    texts = [p["text"] for p in answers(fake_slack)]
    assert len(texts) == 2, texts
    assert all(t.startswith(("Import ", "I'm still reading your last file")) for t in texts)
    assert any(t.startswith("Import ") for t in texts), texts


def test_a_file_whose_reader_died_frees_the_member_after_ten_minutes(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime, clock: FrozenClock
) -> None:
    file = linkedin(b"Dana,Lee,,,Acme,PM,x")
    assert "Import" in share(slack, fake_slack, "Connections.csv", file)["text"]
    # A process took U1's next file and died while reading it.
    with transaction(runtime.sessions) as session:
        session.query(Member).filter_by(user_id="U1").update({"import_started_at": clock.now})
    assert "I'm still reading your last file" in share(slack, fake_slack, "a.csv", file)["text"]
    clock.advance(minutes=9)
    assert "I'm still reading your last file" in share(slack, fake_slack, "b.csv", file)["text"]
    clock.advance(minutes=2)
    assert "Import c.csv" in share(slack, fake_slack, "c.csv", file)["text"]
