"""Reading a calendar feed from the internet, within bounds, and never from inside the network.

Only HTTPS (``webcal://`` is read as HTTPS). Every connection, the first and each redirect's,
resolves the host itself and refuses it if any address is private, loopback, link-local or
otherwise not public, then connects to the address it checked (so a second DNS answer cannot
point elsewhere). An answer is read up to ``MAX_BYTES`` and ``DEADLINE_SECONDS`` in all.
``ALLY_CALENDAR_ALLOW_HTTP_HOSTS`` names hosts exempt from both rules, for tests that serve
feeds on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from bot.errors import AllyError

MAX_BYTES = 5 * 1024 * 1024
DEADLINE_SECONDS = 20.0
MAX_REDIRECTS = 5
URL_MAX = 2000
RESET_HINT = (
    "It may have been reset in the calendar's settings: copy the secret address in iCal "
    "format again and send `/ally calendar <address>`."
)


class FeedError(AllyError):
    """The feed can't be read; ``message`` says why, in the member's words."""


@dataclass(frozen=True)
class FeedAddress:
    url: str
    host: str


def check_address(url: str, http_hosts: Collection[str] = ()) -> FeedAddress:
    """``url`` as Ally reads it (``webcal://`` becomes ``https://``); FeedError unless it is
    an HTTPS address (or HTTP to one of ``http_hosts``)."""
    url = url.strip().strip("<>")
    if len(url) > URL_MAX:
        raise FeedError("That address is too long to be a calendar's.")
    if url.casefold().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").casefold()
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        raise FeedError("That isn't a web address I can read.") from None
    if not host:
        raise FeedError(
            "That isn't a calendar address: send the secret address in iCal format "
            "(it starts with https://)."
        )
    if parts.scheme == "https" or (parts.scheme == "http" and host in http_hosts):
        return FeedAddress(url, host)
    raise FeedError(
        "I only read calendars over HTTPS: send the secret address that starts with https:// "
        "(or webcal://)."
    )


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _checked_addresses(host: str, port: int, exempt: bool) -> list[tuple]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FeedError(f"I couldn't find the calendar's server ({host}).") from None
    if not exempt and not all(_public(str(info[4][0])) for info in found):
        raise FeedError(
            f"{host} is a private, loopback or link-local address: I only read calendars "
            "on the public internet."
        )
    return [info[4] for info in found]


def _connection(address: FeedAddress, exempt: bool, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(address.url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)

    def connect(_: tuple, timeout: float | None = None, source: object = None) -> socket.socket:
        last: OSError | None = None
        for sockaddr in _checked_addresses(address.host, port, exempt):
            try:
                return socket.create_connection((sockaddr[0], port), timeout)
            except OSError as error:
                last = error
        raise last or OSError("no address")

    connection: http.client.HTTPConnection
    if secure:
        connection = http.client.HTTPSConnection(
            address.host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(address.host, port, timeout=timeout)
    connection._create_connection = connect  # type: ignore[attr-defined]
    return connection


def fetch(
    url: str,
    http_hosts: Collection[str] = (),
    *,
    max_bytes: int | None = None,
    deadline_seconds: float | None = None,
) -> bytes:
    """The feed at ``url``, following redirects (each checked like the first); FeedError with
    the reason when it is not HTTPS, private, too large, too slow, gone or not iCalendar."""
    limit = MAX_BYTES if max_bytes is None else max_bytes
    seconds = DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
    ends = time.monotonic() + seconds
    address = check_address(url, http_hosts)
    for _ in range(MAX_REDIRECTS + 1):
        left = ends - time.monotonic()
        if left <= 0:
            raise _too_slow(seconds)
        connection = _connection(address, address.host in http_hosts, left)
        try:
            parts = urlsplit(address.url)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request(
                "GET",
                path,
                headers={
                    "User-Agent": "Ally calendar reader",
                    "Accept": "text/calendar, */*;q=0.5",
                    "Accept-Encoding": "identity",
                },
            )
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                target = response.getheader("Location")
                if not target:
                    raise FeedError(
                        "The calendar's server sent me nowhere (a redirect without an address)."
                    )
                address = check_address(urljoin(address.url, target), http_hosts)
                continue
            if response.status in (401, 403, 404, 410):
                raise FeedError(
                    "The calendar's server says that address is not valid "
                    f"(HTTP {response.status}). " + RESET_HINT
                )
            if response.status != 200:
                raise FeedError(
                    f"The calendar's server answered HTTP {response.status}: try again later."
                )
            return _body(connection, response, limit, ends, seconds)
        except FeedError:
            raise
        except TimeoutError:
            raise _too_slow(seconds) from None
        except ssl.SSLError:
            raise FeedError(
                f"I couldn't open a secure (HTTPS) connection to {address.host}."
            ) from None
        except (OSError, http.client.HTTPException):
            raise FeedError(f"I couldn't reach the calendar's server ({address.host}).") from None
        finally:
            connection.close()
    raise FeedError("The calendar's server redirected me too many times.")


def _too_slow(seconds: float) -> FeedError:
    return FeedError(
        f"The calendar's server took longer than {seconds:g} seconds to answer: try again later."
    )


def _too_large(limit: int) -> FeedError:
    return FeedError(
        f"That calendar is over {limit // (1024 * 1024)} MB: I read calendars up to that size."
    )


def _body(
    connection: http.client.HTTPConnection,
    response: http.client.HTTPResponse,
    limit: int,
    ends: float,
    seconds: float,
) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        left = ends - time.monotonic()
        if left <= 0:
            raise _too_slow(seconds)
        if connection.sock is not None:
            connection.sock.settimeout(left)  # each read waits at most what is left
        chunk = response.read1(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"BEGIN:VCALENDAR"):
        raise FeedError(
            "That address doesn't give a calendar in iCal format. In your calendar's settings, "
            "copy the secret address in iCal format (it ends in .ics for most calendars)."
        )
    return body
