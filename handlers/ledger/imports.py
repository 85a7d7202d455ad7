"""Importing an address book: a member DMs Ally a file, Ally answers with a preview, and the
Import button adds the new people.

Slack sends a file shared in the app's DM as a ``message`` event with ``subtype: file_share``
and ``files[]`` (docs.slack.dev/reference/events/message/file_share); ``files.info`` (scope
``files:read``) gives its size and ``url_private_download``, which is fetched with the bot token
as ``Authorization: Bearer`` (docs.slack.dev/messaging/working-with-files). The work runs after
Slack has its answer, on Bolt's listener executor: an event must be answered within 3 seconds.
The Import button names the file by id and reads it again, so nothing is kept between the
preview and the import, and nothing is written before the member confirms. A member has one
file read at a time: the files of one message are read one after another, and a file sent (or
Import pressed) while another is being read gets "still reading" instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import NamedTuple

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.errors import InvalidInput
from bot.ledger import directory
from bot.ledger.import_files import MAX_BYTES, ReadFile, check_kind, read_file
from bot.ledger.importing import DAILY_FILES, Claim, NotSaved, bring_in, claim, release
from bot.ledger.people import MemberRef, SlackPerson
from bot.platform import slack_files
from bot.platform.runtime import Runtime
from handlers.kit.blocks import Reply
from handlers.kit.members import member_of
from handlers.kit.replies import pressed
from handlers.ledger import import_views as views

log = logging.getLogger(__name__)
DOWNLOAD_TIMEOUT = 20  # seconds


def fetch(client: WebClient, file_id: str) -> tuple[str, bytes]:
    """The file's name and bytes; ``InvalidInput`` for one too large or not downloadable.

    The bot token goes only to Slack's file hosts and never follows a redirect elsewhere
    (bot.platform.slack_files); Slack's sign-in page in place of the file is named as such."""
    info = client.files_info(file=file_id)["file"]
    name = str(info.get("name") or info.get("title") or "that file")
    check_kind(name)
    if int(info.get("size") or 0) > MAX_BYTES:
        raise InvalidInput("file", f"{name} is over {MAX_BYTES // (1024 * 1024)} MB.")
    url = str(info.get("url_private_download") or "")
    if not url or not slack_files.token_may_go_to(url, client.base_url):
        raise InvalidInput("file", f"Slack didn't give me a way to download {name}.")
    try:
        with slack_files.open_private(
            url, client.token or "", api_base_url=client.base_url, timeout=DOWNLOAD_TIMEOUT
        ) as response:
            data = response.read(MAX_BYTES + 1)
    except slack_files.DownloadRefused as refused:
        log.warning("downloading file %s refused: %s", file_id, refused)
        raise InvalidInput("file", download_problem(name, refused.reason)) from None
    except OSError as error:  # the connection dropped or timed out while reading
        log.warning("downloading file %s failed: %s", file_id, error)
        raise InvalidInput("file", f"I couldn't download {name} from Slack: try again.") from None
    if len(data) > MAX_BYTES:
        raise InvalidInput("file", f"{name} is over {MAX_BYTES // (1024 * 1024)} MB.")
    return name, data


def download_problem(name: str, reason: str) -> str:
    """What to tell the member when Slack would not hand over the file."""
    if reason == "sign_in":
        return (
            f"Slack showed me its sign-in page instead of {name}, so I can't read files here "
            "yet. Ask a workspace admin to reinstall Ally (it needs the files:read permission), "
            "then send the file again."
        )
    if reason == "redirect":
        return (
            f"Slack sent me somewhere other than Slack to download {name}, and I only fetch "
            "files from Slack itself. Please send the file again in a moment."
        )
    if reason == "host":
        return f"Slack didn't give me a way to download {name}."
    return f"I couldn't download {name} from Slack: try again."


def read(client: WebClient, file_id: str) -> tuple[str, ReadFile]:
    name, data = fetch(client, file_id)
    return name, read_file(name, data)


def emails(
    runtime: Runtime, index: directory.EmailIndex, client: WebClient, member: MemberRef
) -> Mapping[str, SlackPerson]:
    """The workspace's people by email, for a member who may see them; nobody for a guest
    (matched by name among their own contacts only), or when Slack won't list them."""
    now = runtime.clock()
    try:
        if directory.member_is_guest(runtime.unit_of_work, client, member, now):
            return {}
        return index.people(client, member, now)
    except SlackApiError as error:
        # Without the list, people are matched by name alone; the import still works.
        log.warning("matching by email failed while importing: %s", error.response)
        return {}


class Answer(NamedTuple):
    """What to tell the member about a file, and whether anything was done."""

    reply: Reply
    again: bool = False  # nothing was done and trying again may work: a preview stays
    refused: bool = False  # not read at all: another file is being read, or today's are used


def answer_file(
    runtime: Runtime,
    index: directory.EmailIndex,
    client: WebClient,
    member: MemberRef,
    file_id: str,
    *,
    confirmed: bool,
) -> Answer:
    """The preview of a file (or, ``confirmed``, the import of its new people), in words.

    Slack first (the file, whether the member is a guest, the workspace's emails), then one
    unit of work. A database error is told to the member, not only logged."""
    name = "that file"
    try:
        name, found = read(client, file_id)
        by_email = emails(runtime, index, client, member)
        plan = bring_in(
            runtime.unit_of_work, member, found, by_email, runtime.clock(), confirmed=confirmed
        )
    except InvalidInput as error:
        return Answer(views.problem(name, error.message))
    except NotSaved as error:
        return Answer(views.problem(name, error.message), again=True)
    except SlackApiError as error:
        log.warning("files.info failed for %s: %s", file_id, error.response)
        gone = "any more" if confirmed else "(try sending it again)"
        return Answer(views.problem(name, f"Slack wouldn't show me the file {gone}."))
    if confirmed:
        return Answer(views.imported(name, plan))
    return Answer(views.preview(name, plan, file_id))


def claimed(
    runtime: Runtime, member: MemberRef, *, new_file: bool, answer: Callable[[], Answer]
) -> Answer:
    """``answer()`` while holding the member's one import slot, or why it is not free."""
    try:
        got = claim(runtime.unit_of_work, member, runtime.clock(), new_file=new_file)
    except NotSaved as error:
        return Answer(views.problem("your file", error.message), again=True, refused=True)
    if got is Claim.BUSY:
        return Answer(views.busy(), again=True, refused=True)
    if got is Claim.DAILY_CAP:
        return Answer(views.daily_cap(DAILY_FILES), again=True, refused=True)
    try:
        return answer()
    finally:
        release(runtime.unit_of_work, member, runtime.clock())


def register(app: App, runtime: Runtime) -> None:
    index = directory.EmailIndex()

    def later(job: Callable[[], None]) -> None:
        def run() -> None:
            try:
                job()
            except Exception:
                log.exception("importing an address book failed")

        app.listener_runner.listener_executor.submit(run)

    @app.event("message")
    def on_message(event: dict, context: BoltContext, client: WebClient) -> None:
        subtype = event.get("subtype")
        if (
            event.get("channel_type") != "im"
            or event.get("bot_id")
            or subtype
            not in (
                None,
                "file_share",
            )
        ):
            return  # Ally's own messages, edits, deletions: nothing to answer
        member = member_of(context)
        channel = event.get("channel")
        if member is None or not channel:
            return
        files = [str(f["id"]) for f in event.get("files") or [] if f.get("id")]
        if not files:

            def explain() -> None:
                client.chat_postMessage(channel=channel, **views.how_to().as_kwargs())

            later(explain)
            return

        def job() -> None:
            # The files of one message are read one after another, each holding the slot.
            for file_id in files[:3]:
                answer = claimed(
                    runtime,
                    member,
                    new_file=True,
                    answer=lambda file_id=file_id: answer_file(  # type: ignore[misc]
                        runtime, index, client, member, file_id, confirmed=False
                    ),
                )
                client.chat_postMessage(channel=channel, **answer.reply.as_kwargs())
                if answer.refused:
                    return

        later(job)

    def confirmed(client: WebClient, respond: Respond, member: MemberRef, file_id: str) -> None:
        answer = claimed(
            runtime,
            member,
            new_file=False,
            answer=lambda: answer_file(runtime, index, client, member, file_id, confirmed=True),
        )
        # Told apart from the preview when pressing Import again may work, so its button stays.
        respond(replace_original=not answer.again, **answer.reply.as_kwargs())

    def on_confirm(
        ack: Ack, body: dict, context: BoltContext, client: WebClient, respond: Respond
    ) -> None:
        press = pressed(ack, body, context)
        if press is not None:
            member, file_id = press
            later(lambda: confirmed(client, respond, member, file_id))

    def on_cancel(ack: Ack, respond: Respond) -> None:
        ack()
        respond(replace_original=True, **views.cancelled().as_kwargs())

    app.action(ids.IMPORT_CONFIRM)(on_confirm)
    app.action(ids.IMPORT_CANCEL)(on_cancel)
