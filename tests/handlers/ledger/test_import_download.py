"""Downloading a shared address book: the bot token goes to Slack's file hosts only. A
redirect off them is not followed (no Authorization header ever reaches another host or port),
and Slack's HTML sign-in page in place of the file gets a clear reply, not an import of HTML.
Through the real Bolt app and a file_share event, as a member sends a file."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.platform.runtime import Runtime
from storage.db import transaction
from storage.models import Contact
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackDriver
from tests.support.waiting import wait_for

_FILES = itertools.count(1)
VCARD = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lee Wong\r\nORG:Globex\r\nEND:VCARD\r\n"


class Elsewhere:
    """A server that is not Slack: it records every request's headers and serves a vCard."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        elsewhere = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                elsewhere.seen.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Type", "text/vcard")
                self.send_header("Content-Length", str(len(VCARD)))
                self.end_headers()
                self.wfile.write(VCARD)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    server = Elsewhere()
    yield server
    server.stop()


def contacts(runtime: Runtime) -> list[str]:
    with transaction(runtime.sessions) as session:
        return [c.key for c in session.query(Contact)]


def share(slack: SlackDriver, fake: FakeSlack, file_id: str, name: str) -> str:
    """U1 drops a file into their DM with Ally; returns the text of Ally's answer."""
    before = len(fake.calls_to("chat.postMessage"))
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "DU1",
        "channel_type": "im",
        "user": "U1",
        "text": "",
        "files": [fake.add_file(file_id, name, VCARD)],
        "ts": f"1700000000.{next(_FILES):06d}",
    }
    assert slack.event(event).status == 200
    posted = wait_for(lambda: fake.calls_to("chat.postMessage")[before:])
    return str(posted[0]["text"]) + str(posted[0].get("blocks"))


@pytest.mark.parametrize("where", ["another port", "another host"])
def test_a_redirect_off_slack_is_not_followed_and_carries_no_token(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    runtime: Runtime,
    elsewhere: Elsewhere,
    where: str,
) -> None:
    host = "127.0.0.1" if where == "another port" else "localhost"
    file_id = f"F{next(_FILES)}"
    fake_slack.file_redirects[file_id] = f"http://{host}:{elsewhere.port}/steal/{file_id}"
    answer = share(slack, fake_slack, file_id, "contacts.vcf")
    [download] = fake_slack.calls_to("files.download")
    assert download.headers["Authorization"] == "Bearer xoxb-test"  # Slack's host got it...
    assert all("Authorization" not in h and "authorization" not in h for h in elsewhere.seen)
    assert elsewhere.seen == []  # ...and the redirect was not followed at all
    assert "I couldn't import" in answer and "to download contacts.vcf" in answer
    assert "only fetch files from Slack itself" in answer
    assert "xoxb" not in answer
    assert contacts(runtime) == []


def test_a_redirect_within_slacks_file_host_keeps_the_token_and_imports(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    real = f"F{next(_FILES)}"
    fake_slack.add_file(real, "contacts.vcf", VCARD)
    moved = f"F{next(_FILES)}"
    fake_slack.file_redirects[moved] = fake_slack.base_url.replace(
        "/api/", f"/files-pri/T1-{real}/download/contacts.vcf"
    )
    answer = share(slack, fake_slack, moved, "contacts.vcf")
    assert "Import contacts.vcf" in answer
    downloads = fake_slack.calls_to("files.download")
    assert [d["file"] for d in downloads] == [moved, real]
    assert all(d.headers["Authorization"] == "Bearer xoxb-test" for d in downloads)


def test_slacks_sign_in_page_instead_of_the_file_gets_a_clear_reply(
    slack: SlackDriver, fake_slack: FakeSlack, runtime: Runtime
) -> None:
    # Ally's token can read files.info but files.slack.com does not hand it the file: Slack
    # answers 200 with its HTML sign-in page.
    fake_slack.download_tokens.clear()
    answer = share(slack, fake_slack, f"F{next(_FILES)}", "contacts.vcf")
    assert "Slack showed me its sign-in page instead of contacts.vcf" in answer
    assert "files:read" in answer
    assert "DOCTYPE" not in answer
    assert contacts(runtime) == []
