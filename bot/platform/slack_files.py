"""Downloading a file a member shared, with the bot token, from Slack's file hosts only.

A private file's ``url_private_download`` is fetched with ``Authorization: Bearer <bot token>``
(docs.slack.dev/messaging/working-with-files, "Authentication"). The token goes to Slack's file
host (``files.slack.com``, over HTTPS) or to the Web API's own host (``SLACK_API_URL``, which
tests point at a local fake Slack), host and port alike, and nowhere else: a redirect to another
host is not followed, with or without the header. (urllib copies a request's headers onto the
redirected request, so the token is set as an "unredirected" header and added again only for a
redirect that stays on those hosts.)

A download Slack does not authorise is not a 401: Slack answers 200 with its HTML sign-in page
(slackapi/bolt-js#2585). An HTML answer is therefore refused, never read as the file.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from http.client import HTTPResponse
from typing import IO, Any
from urllib.parse import urlsplit

FILE_HOSTS = frozenset({"files.slack.com"})
AUTHORIZATION = "Authorization"


class DownloadRefused(Exception):
    """The file could not be fetched from Slack safely: ``reason`` is one of ``"host"`` (the
    address is not Slack's), ``"redirect"`` (Slack sent Ally to another host), ``"sign_in"``
    (Slack answered with its sign-in page: the token cannot read the file) or ``"failed"``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def token_may_go_to(url: str, api_base_url: str) -> bool:
    """Whether ``url`` is on one of Slack's file hosts (HTTPS) or the Web API's own origin."""
    scheme, host, port = _origin(url)
    if not host:
        return False
    if scheme == "https" and host in FILE_HOSTS and port == 443:
        return True
    return (scheme, host, port) == _origin(api_base_url) and scheme in ("http", "https")


class _SlackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, api_base_url: str, token: str) -> None:
        self.api_base_url = api_base_url
        self.token = token

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not token_may_go_to(newurl, self.api_base_url):
            raise DownloadRefused("redirect", f"{code} to {_origin(newurl)[1] or 'nowhere'}")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.add_unredirected_header(AUTHORIZATION, f"Bearer {self.token}")
        return new


def open_private(url: str, token: str, *, api_base_url: str, timeout: float) -> HTTPResponse:
    """Open ``url`` (a file's ``url_private_download``) with the bot token; the caller reads
    the answer and closes it. ``DownloadRefused`` for anything that is not the file."""
    if not token_may_go_to(url, api_base_url):
        raise DownloadRefused("host", _origin(url)[1])
    request = urllib.request.Request(url)
    request.add_unredirected_header(AUTHORIZATION, f"Bearer {token}")
    opener = urllib.request.build_opener(_SlackOnlyRedirects(api_base_url, token))
    try:
        response: HTTPResponse = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        raise DownloadRefused("failed", f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DownloadRefused("failed", str(error)) from None
    content_type = response.headers.get_content_type()
    if content_type in ("text/html", "application/xhtml+xml"):
        response.close()
        raise DownloadRefused("sign_in", content_type)
    return response
