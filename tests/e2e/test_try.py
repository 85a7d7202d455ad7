"""``ally-bot try --script``: the real Ally app in a terminal, against the built-in local
workspace, through the installed entry point, with no Slack app, no token and no configuration."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.address_books import linkedin
from tests.support.process import ALLY_BOT, ally_env

pytestmark = pytest.mark.slow

# A minute's session: a favour, the history, the form (first without the person, which Ally
# refuses with a field error), a button, the weekly DM and the Home tab.
SESSION = """\
/ally thanks @bob for reviewing the launch deck
/ally who @bob
/ally log


1
fixed the onboarding mockups




@carmen
press 1
Thanks so much, the mockups made the review easy.
week
home
/ally gave @carmen feedback on her research plan
quit
"""


ROOT = Path(__file__).resolve().parents[2]


def run_script(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "session.txt"
    path.write_text(script)
    # The throwaway database goes under TMPDIR: here, so that the test sees it go.
    (tmp_path / "tmp").mkdir(exist_ok=True)
    # No .env and none of Ally's variables: try needs no configuration.
    return subprocess.run(
        [ALLY_BOT, "try", "--script", str(path)],
        cwd=tmp_path,
        env=ally_env(TMPDIR=str(tmp_path / "tmp")),
        capture_output=True,
        text=True,
        timeout=60,
    )


def said(transcript: str) -> str:
    """The transcript with the panels' borders and the wrapping undone: one line of words."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", transcript)


def test_a_scripted_session_shows_ally_at_work(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_script(tmp_path, SESSION)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = said(result.stdout)
    # thanks: the reply, mentions shown as names, its button numbered
    assert "Noted: @Bob Okafor (new in your network) helped you: reviewing the launch deck" in out
    assert " 1 Say thanks" in out
    # who: the history
    assert "Your history with @Bob Okafor" in out
    assert "reviewing the launch deck" in out.split("Your history with @Bob Okafor", 1)[1]
    # the form: filled field by field, Ally's field error shown, the field asked again
    assert "Form: Record who helped you" in out
    assert "✗ Who? Someone in Slack…: Pick someone in Slack" in out
    assert "Saved: @Carmen Ruiz helped you" in out
    assert "fixed the onboarding mockups" in out
    # the button: Say thanks opens its form; the message reaches Carmen's DM (sent, not shown)
    assert "Form: Say thanks" in out
    assert "@Carmen Ruiz got your thanks" in out
    # week: the clock moves to the weekly DM, which names the favours
    assert re.search(r"alice> week (The clock moves on to|Your weekly DM was due) Monday", out)
    weekly = out.split("Ally › DM to you", 1)[1]
    assert "Your week with Ally" in weekly
    assert "Say thank you to @Bob Okafor for last week's help: reviewing the launch deck" in weekly
    # home: the Home tab, with both people
    home = out.split("Ally › Home", 1)[1]
    assert "Your network at a glance" in home
    assert "2 people in your network" in home
    # Home redrawn after a change is announced, not shown: the member is not looking at it.
    assert out.count("Ally › Home") == 1
    after = out.split("alice> /ally gave @carmen", 1)[1]
    assert "(Ally updated your Home tab: home shows it.)" in after
    assert took < 10, f"the scripted session took {took:.1f}s"
    # The throwaway database is gone, and nothing was written where it ran.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.txt", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_session_in_readme_is_what_try_prints(tmp_path: Path) -> None:
    """README's Quick start shows a real session: replaying what it types prints it again."""
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("### Try it first", 1)[1].split("\n```\n", 1)[1].split("\n```", 1)[0]
    typed: list[str] = []
    for line in shown.splitlines():
        command = re.match(r"^[a-z]+> (.*)$", line)
        answer = re.match(r"^  [^\s│][^:]*: (.*)$", line)
        if command or answer:
            typed.append((command or answer).group(1))  # type: ignore[union-attr]
    assert "quit" in typed and any(t.startswith("/ally") for t in typed)
    result = run_script(tmp_path, "\n".join(typed) + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip("\n") == shown


def test_bad_input_gets_one_line_and_the_session_goes_on(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_bytes(b"\xff\xfe not an address book")
    (tmp_path / "Connections.csv").write_bytes(
        linkedin(b"Dana,Lee,https://www.linkedin.com/in/dana,,Acme,CTO,01 Jan 2024")
    )
    script = """\
frobnicate now
press 7
/ally log
@zed
cancel
share missing.csv
share
/ally thanks @bob for the intro
press 9
share notes.csv
share Connections.csv
press 1
/ally people
as @nobody
as @bob
/ally who @alice
quit
"""
    result = run_script(tmp_path, script)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stdout.splitlines()

    def answer_to(command: str) -> str:
        return lines[lines.index(command) + 1]

    assert answer_to("alice> frobnicate now").startswith("Unknown command 'frobnicate'")
    assert answer_to("alice> press 7") == "No button '7': the buttons are numbered none shown yet."
    # A form's field gets its own one-line answer, and cancel closes the form.
    assert answer_to("  Who? Someone in Slack… (a person, e.g. @bob): @zed").startswith(
        "  No one called '@zed' here"
    )
    assert answer_to("  Who? Someone in Slack… (a person, e.g. @bob): cancel") == (
        "Form closed; nothing was sent."
    )
    assert answer_to("alice> share missing.csv").startswith("Cannot read missing.csv:")
    assert answer_to("alice> share").startswith("share needs a file")
    assert answer_to("alice> press 9") == "No button '9': the buttons are numbered 1 to 1."
    assert answer_to("alice> as @nobody").startswith("No one called '@nobody' here")
    out = said(result.stdout)
    # A file Ally cannot read gets Ally's own answer in the DM; a good one, the import preview.
    after_bad = out.split("alice> share notes.csv", 1)[1].split("alice> share Connections", 1)[0]
    assert "notes.csv doesn't look like" in after_bad and "Nothing was added." in after_bad
    after_good = out.split("alice> share Connections.csv", 1)[1]
    assert (
        "Import Connections.csv (LinkedIn, read as UTF-8)? • 1 person new to your network"
        in after_good
    )
    assert "Imported Connections.csv: added 1 person to your network." in after_good
    people = after_good.split("alice> /ally people", 1)[1].split("alice> as", 1)[0]
    assert "Your people: 2 people" in people
    assert "Dana Lee (Acme)" in people
    # The session went on, as Bob: his ledger is his own, and empty.
    assert "You are now Bob Okafor." in out
    answer = out.split("bob> /ally who @alice", 1)[1]
    assert answer.startswith(" Ally (only visible to you) You haven't logged anything with Alice")
