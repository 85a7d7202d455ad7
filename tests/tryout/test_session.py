"""The try session drives the real Bolt app as Slack does: signed requests (a wrong signature is
refused like any other), and a Web API on this machine only."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console

from bot.platform.app import AllyApp
from tryout.session import Lines, Refusal, TrySession


@pytest.fixture
def session() -> Iterator[TrySession]:
    console = Console(file=io.StringIO(), width=100)
    one = TrySession(console, Lines(iter([]), console))
    yield one
    one.close()


def test_ally_answers_on_this_machine_only(session: TrySession) -> None:
    assert isinstance(session.app, AllyApp)
    assert session.settings.api_base_url.startswith("http://127.0.0.1:")
    assert session.app.client.base_url == session.settings.api_base_url


def test_requests_are_signed_and_checked_as_slack_signs_them(session: TrySession) -> None:
    session.command("help")
    out = session.console.file.getvalue()  # type: ignore[attr-defined]
    assert "Ally keeps a private, two-way ledger" in " ".join(out.split())
    session.secret = "not-the-signing-secret"
    with pytest.raises(Refusal, match="Ally answered 401"):
        session.command("help")
