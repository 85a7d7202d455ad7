"""Slack's Web API rate limits for the fake Slack, on a scaled clock so tests stay fast.

Slack limits each Web API method per app per workspace (token), by tier, and answers a call over
the limit with HTTP 429, ``{"ok": false, "error": "ratelimited"}`` and ``Retry-After`` in
seconds. The numbers below and where they come from:

- Tiers (docs.slack.dev/apis/web-api/rate-limits, "Overview"; api.slack.com/docs/rate-limits):
  Tier 1 "1+ per minute ... a small amount of burst behavior is tolerated"; Tier 2 "20+ per
  minute ... occasional bursts"; Tier 3 "50+ per minute ... sporadic bursts are welcome"; Tier
  4 "100+ per minute ... generous burst behavior". Applied "per API method per workspace/team
  per app", so here per (token, method). The burst sizes are ours: Slack publishes none.
- ``chat.postMessage`` is "Special" (same page): "generally allows posting one message per
  second per channel, while also maintaining a workspace-wide limit"; "Posting messages: 1 per
  second, short bursts >1 allowed". Slack publishes no number for the workspace-wide limit; its
  method page speaks of several hundred messages a minute, and vendors that post for
  companies (help.moveworks.com, "Integration Rate Limits": Slack 525 requests a minute)
  report the same order. We take 300 a minute, the cautious end.
- ``conversations.history`` and ``conversations.replies``: Tier 1 and at most 15 messages a
  page for apps distributed outside the Slack Marketplace since 2025-05-29 (same page, "App
  types and rate limits"; docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-
  marketplace-apps). Ally is such an app. ``marketplace=True`` gives the Marketplace's Tier 3
  and Slack's usual 1,000.
- Each method's tier is on its reference page (docs.slack.dev/reference/methods/<method>).

Time: one Slack minute lasts ``slack_minute`` seconds of test time (0.05 s by default), so a
Tier 1 wait is 0.05 s. ``Retry-After`` is in Slack seconds, as Slack sends it (an integer:
slack_sdk reads it with ``int()``); a client honours it at the scaled time by sleeping through
``RateLimits.sleep`` (tests give it to the app as ``Runtime.sleep``).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

# Requests a minute and burst (the bucket's size) per tier.
TIERS: dict[int, tuple[float, float]] = {1: (1, 2), 2: (20, 10), 3: (50, 25), 4: (100, 100)}
METHOD_TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "conversations.history": 1,  # Tier 3 for Marketplace apps: see ``marketplace``
    "conversations.replies": 1,
    "users.list": 2,
    "team.info": 3,
    "conversations.open": 3,
    "chat.update": 3,
    "chat.delete": 3,
    "files.delete": 3,
    "reactions.get": 3,
    "auth.test": 4,  # "Special": several hundred a minute; Tier 4 is the closest tier
    "users.info": 4,
    "views.open": 4,
    "views.publish": 4,
    "views.update": 4,
    "views.push": 4,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "files.info": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "oauth.v2.access": 4,
}
HISTORY_METHODS = ("conversations.history", "conversations.replies")
HISTORY_PAGE_MAX = 15
HISTORY_PAGE_MAX_MARKETPLACE = 1000
# chat.postMessage: one a second per channel with a short burst, and a workspace-wide limit.
POST_PER_CHANNEL = (60.0, 3.0)
POST_PER_WORKSPACE = (300.0, 30.0)
SLACK_MINUTE = 0.05


@dataclass
class Bucket:
    """A token bucket: ``size`` calls at once, refilled at ``per_minute`` (in Slack time)."""

    per_minute: float
    size: float
    level: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """Take one call; 0 when allowed, else the Slack seconds until one is."""
        if self.level < 0:
            self.level, self.at = self.size, now
        rate = self.per_minute / 60
        self.level = min(self.size, self.level + (now - self.at) * rate)
        self.at = now
        if self.level >= 1:
            self.level -= 1
            return 0.0
        return (1 - self.level) / rate


@dataclass
class RateLimits:
    """Slack's limits, per token; ``check`` says whether a call may go through."""

    slack_minute: float = SLACK_MINUTE
    marketplace: bool = False
    # chat.postMessage's limits (per minute, burst); a test may make them tighter.
    post_per_channel: tuple[float, float] = POST_PER_CHANNEL
    post_per_workspace: tuple[float, float] = POST_PER_WORKSPACE
    limited: int = 0
    _buckets: dict[tuple[str, ...], Bucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()

    # -- time -------------------------------------------------------------------------------
    @property
    def slack_second(self) -> float:
        """Test seconds in one Slack second."""
        return self.slack_minute / 60

    def now(self) -> float:
        """Slack seconds since this fake started."""
        return (time.monotonic() - self._started) / self.slack_second

    def sleep(self, slack_seconds: float) -> None:
        """Sleep ``slack_seconds`` of Slack time (what a client does on ``Retry-After``)."""
        time.sleep(max(0.0, slack_seconds) * self.slack_second)

    # -- limits -----------------------------------------------------------------------------
    def history_page_max(self) -> int:
        return HISTORY_PAGE_MAX_MARKETPLACE if self.marketplace else HISTORY_PAGE_MAX

    def tier(self, method: str) -> int | None:
        if method in HISTORY_METHODS and self.marketplace:
            return 3
        return METHOD_TIERS.get(method)

    def check(self, method: str, token: str, channel: str | None = None) -> int | None:
        """None when the call may go through; else ``Retry-After`` in whole Slack seconds."""
        if method == "chat.postMessage":
            keys = [(token, method, "channel", channel or ""), (token, method, "workspace")]
            limits = [self.post_per_channel, self.post_per_workspace]
        else:
            tier = self.tier(method)
            if tier is None:
                return None
            keys, limits = [(token, method)], [TIERS[tier]]
        with self._lock:
            now = self.now()
            buckets = [self._bucket(k, limit) for k, limit in zip(keys, limits, strict=True)]
            # A call over any of its limits uses none of them: check all before taking.
            waits = [_wait(b, now) for b in buckets]
            if max(waits) > 0:
                self.limited += 1
                return max(1, math.ceil(max(waits)))
            for bucket in buckets:
                bucket.take(now)
        return None

    def _bucket(self, key: tuple[str, ...], limit: tuple[float, float]) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(*limit)
        return bucket


def _wait(bucket: Bucket, now: float) -> float:
    """The Slack seconds until ``bucket`` has a call to give (0: now), without taking it."""
    probe = Bucket(bucket.per_minute, bucket.size, bucket.level, bucket.at)
    return probe.take(now)


def lower_bound_minutes(dms_per_workspace: list[int]) -> float:
    """Slack minutes the workspace-wide ``chat.postMessage`` limit alone needs for these DMs.

    Workspaces are limited separately, so the slowest one sets the bound: its burst goes out at
    once, the rest at the sustained rate.
    """
    per_minute, burst = POST_PER_WORKSPACE
    return max((max(0, n - burst) / per_minute for n in dms_per_workspace), default=0.0)
