"""The fake Slack Web API in a process of its own, for measuring latency.

For a deployed Ally, Slack is another machine: its work answering ``views.publish`` or
``chat.postMessage`` costs Ally nothing but the wait. ``tests/support/fake_slack.py`` in Ally's own
process would charge every answer it builds (parsing the request, a thread per connection,
JSON) to Ally's interpreter lock, and the bare Bolt baseline, which calls Slack for nothing,
would pay none of it. Here the fake runs in a child process (it still shares the machine's
cores) and the benchmark talks to it over a pipe: its URL, how many calls it has had, stop.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterable
from multiprocessing.connection import Connection
from types import TracebackType

# (user id, display name, time zone) for each user ``users.info`` should know.
User = tuple[str, str, str]


def _serve(users: list[User], channel: Connection) -> None:
    """The child: start the fake, send its URL, answer questions until told to stop."""
    from tests.support.fake_slack import FakeSlack

    fake = FakeSlack().start()
    fake.add_token("xoxb-bench", "T1")  # the benchmarks' bot token (bench.bare_bolt.TOKEN)
    fake.add_channel("C1", "UBOT")  # where the benchmarks' commands come from
    for user_id, name, tz in users:
        fake.add_user(user_id, name, tz=tz)
    channel.send(fake.base_url)
    try:
        while True:
            request = channel.recv()
            if request[0] == "calls":
                channel.send(sum(len(fake.calls_to(method)) for method in request[1]))
            else:
                break
    except EOFError:
        return  # the parent went away; the fake still stops below
    finally:
        fake.stop()


class SlackProcess:
    """A running fake Slack in a child process: ``base_url``, ``calls(*methods)``, ``stop()``."""

    def __init__(self, users: Iterable[User]) -> None:
        context = multiprocessing.get_context("spawn")
        self._channel, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(list(users), child_end), name="fake-slack", daemon=True
        )
        self._process.start()
        child_end.close()
        if not self._channel.poll(60):
            self.stop()
            raise RuntimeError("the fake Slack process did not start within 60 s")
        self.base_url: str = self._channel.recv()

    def calls(self, *methods: str) -> int:
        """How many calls to any of ``methods`` the fake has answered so far."""
        self._channel.send(("calls", methods))
        return int(self._channel.recv())

    def stop(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):  # the child has already gone
                self._channel.send(("stop",))
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._channel.close()

    def __enter__(self) -> SlackProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
