"""Ally's numbers for Prometheus: Slack requests, the weekly DMs, Slack's rate limits.

Served at ``GET /metrics`` in Prometheus' text format (prometheus-client). Labels hold only
values from small fixed sets (a request's kind, an outcome, a Slack method name), never a
workspace, a member or anything a member wrote.

gunicorn serves HTTP from several worker processes; each worker counts on its own, so the
server sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start and ``/metrics`` adds up
every worker's files there (prometheus-client's multiprocess mode). prometheus-client picks
single- or multi-process mode when it is first imported, so the metrics here are created on
first use, never at import time.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# The kinds of Slack request Ally serves; anything else (a forged body) counts as "other".
KINDS = frozenset(
    {
        "command",
        "event",
        "action",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "block_suggestion",
        "url_verification",
    }
)
NUDGE_OUTCOMES = ("planned", "sent", "skipped", "failed")
# Slack Web API method names as they appear in a request URL (chat.postMessage, users.info).
SLACK_METHOD = re.compile(r"^[a-z]+(?:\.[A-Za-z]+){1,3}$")
# Ally acks within Slack's 3 seconds; the buckets resolve the range that matters around it.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram, disable_created_metrics

        # One set of series whether one process serves or several: multiprocess mode has no
        # ``_created`` timestamps, so a single process leaves them out too.
        disable_created_metrics()

        self.requests = Counter(
            "ally_slack_requests",
            "Slack requests answered, by kind and outcome (ok, rejected, error)",
            ["kind", "outcome"],
        )
        self.ack_seconds = Histogram(
            "ally_slack_ack_seconds",
            "Seconds from a Slack request's arrival to Ally's answer, by kind",
            ["kind"],
            buckets=ACK_BUCKETS,
        )
        self.event_retries = Counter(
            "ally_slack_event_retries",
            "Slack requests that were Slack's retries of an earlier delivery (X-Slack-Retry-Num)",
        )
        self.rate_limited = Counter(
            "ally_slack_rate_limited",
            "Web API calls Slack answered with 429 (rate limited), by Slack method",
            ["method"],
        )
        self.nudges = Counter(
            "ally_nudge_dms",
            "Weekly DMs by outcome: planned (due), sent, skipped (nothing to say, can't DM) "
            "and failed (left for the next run)",
            ["outcome"],
        )
        self.nudge_runs = Counter(
            "ally_nudge_runs",
            "Runs of the weekly DM job (each scheduler wake-up), by outcome (ok, error)",
            ["outcome"],
        )
        self.purges = Counter(
            "ally_seen_request_purges",
            "Clean-ups of the replay guard's old request keys",
        )
        for outcome in NUDGE_OUTCOMES:
            self.nudges.labels(outcome)
        for outcome in ("ok", "error"):
            self.nudge_runs.labels(outcome)


_metrics: _Metrics | None = None
_lock = threading.Lock()


def _get() -> _Metrics:
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                _metrics = _Metrics()
    return _metrics


def outcome_of(status: int) -> str:
    """An HTTP status as an outcome: ok (2xx/3xx), rejected (4xx: unsigned, too old), error."""
    if status < 400:
        return "ok"
    return "rejected" if status < 500 else "error"


def slack_request(kind: str, status: int, seconds: float, *, retried: bool) -> None:
    """Count one answered Slack request and how long it took."""
    metrics = _get()
    kind = kind if kind in KINDS else "other"
    metrics.requests.labels(kind, outcome_of(status)).inc()
    metrics.ack_seconds.labels(kind).observe(seconds)
    if retried and status != 401:  # an unsigned request's headers say nothing
        metrics.event_retries.inc()


def nudges(outcome: str, count: int = 1) -> None:
    """Count weekly DMs reaching ``outcome`` (one of NUDGE_OUTCOMES)."""
    if count:
        _get().nudges.labels(outcome).inc(count)


def nudge_run(ok: bool) -> None:
    _get().nudge_runs.labels("ok" if ok else "error").inc()


def purge() -> None:
    _get().purges.inc()


def rate_limited(url: str) -> None:
    method = url.rstrip("/").rsplit("/", 1)[-1]
    _get().rate_limited.labels(method if SLACK_METHOD.match(method) else "other").inc()


def exposition() -> tuple[bytes, str]:
    """This process's metrics (every worker's, in multiprocess mode) and their content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    _get()  # every metric is listed from the first scrape, at zero
    registry: Any = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """Tell multiprocess mode a worker is gone (gunicorn's ``child_exit``)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
