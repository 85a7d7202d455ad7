"""The baseline: a bare Bolt app on its default settings whose listeners only ack.

Same signing secret and the same transport as Ally: in-process through ``app.dispatch``, or
over HTTP through the same gunicorn set-up (``bot.platform.server.serve_http``), started as
``python -m bench.bare_bolt`` with ``PORT``, ``SLACK_API_URL`` and ``SLACK_SIGNING_SECRET`` set.
"""

from __future__ import annotations

import os

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.platform.config import settings_from_env
from bot.platform.runtime import Runtime
from storage.db import make_engine, make_session_factory

TOKEN = "xoxb-bench"


def bare_app(api_url: str, secret: str, *, process_before_response: bool = False) -> App:
    """Bolt's defaults (process_before_response=False, token verification on) plus two acks.

    With ``process_before_response=True`` Bolt answers when the listener returns, without the
    thread hand-off and the 10 ms ack poll of its defaults: the practical floor for any Bolt app.
    """
    app = App(
        token=TOKEN,
        signing_secret=secret,
        client=WebClient(token=TOKEN, base_url=api_url),
        process_before_response=process_before_response,
    )

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/ally")(only_ack)
    app.view("log_favour_modal")(only_ack)
    return app


def main() -> None:
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": os.environ["SLACK_SIGNING_SECRET"],
        "SLACK_API_URL": os.environ["SLACK_API_URL"],
        "DATABASE_URL": "sqlite://",
        "PORT": os.environ["PORT"],
        "ALLY_SCHEDULER": "off",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", ""),
    }
    settings = settings_from_env(env)

    def build() -> tuple[App, Runtime]:
        # The runtime only backs /healthz, so the readiness check works as for Ally.
        engine = make_engine("sqlite://")
        runtime = Runtime(settings, engine, make_session_factory(engine))
        return bare_app(settings.api_base_url, settings.signing_secret or ""), runtime

    from bot.platform.server import serve_http

    serve_http(build, settings.port, settings.workers)


if __name__ == "__main__":
    main()
