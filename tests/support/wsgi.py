"""Calling the WSGI app gunicorn serves in-process, as a WSGI server calls it."""

from __future__ import annotations

import io
from typing import Any

from bot.platform.server import AllyWSGI


def call(wsgi: AllyWSGI, method: str, path: str, body: bytes = b"", **headers: str) -> tuple:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": headers.pop("content_length", str(len(body))),
        "wsgi.input": io.BytesIO(body),
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answer["status"] = int(status.split()[0])

    content = b"".join(wsgi(environ, start_response))
    return answer["status"], content
