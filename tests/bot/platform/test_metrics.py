"""``GET /metrics``: Prometheus' text format, the names and types an operator alerts on, counts
that follow what happened, and no member data (no ids, no text) in any label."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.parser import text_string_to_metric_families
from slack_bolt import App

from bot.nudges.delivery import send_due
from bot.platform.metrics import KINDS, NUDGE_OUTCOMES
from bot.platform.runtime import Runtime
from bot.platform.server import AllyWSGI
from tests.support.fake_slack import FakeSlack
from tests.support.nudge_fixtures import add_member
from tests.support.slack_requests import SlackDriver, command_body
from tests.support.wsgi import call

# Every metric /metrics must offer, with its Prometheus type.
EXPECTED = {
    "ally_slack_requests": "counter",
    "ally_slack_ack_seconds": "histogram",
    "ally_slack_event_retries": "counter",
    "ally_slack_rate_limited": "counter",
    "ally_nudge_dms": "counter",
    "ally_nudge_runs": "counter",
    "ally_seen_request_purges": "counter",
}
LABELS = {"kind", "outcome", "method", "le"}
SECRET_TEXT = "the quarterly numbers"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(app: App, runtime: Runtime) -> tuple[str, Samples, dict[str, str]]:
    status, body = call(AllyWSGI(app, runtime), "GET", "/metrics")
    assert status == 200
    text = body.decode()
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("ally_"):
            continue
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return text, samples, types


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def label_values(samples: Iterable[tuple[str, tuple[tuple[str, str], ...]]]) -> set[str]:
    return {v for _, labels in samples for _, v in labels}


def test_metrics_are_prometheus_text_with_the_names_and_types_to_alert_on(
    app: App, runtime: Runtime
) -> None:
    status, _ = call(AllyWSGI(app, runtime), "GET", "/metrics")
    assert status == 200
    _, samples, types = scrape(app, runtime)
    assert types == EXPECTED
    # Every outcome is listed from the start, so a rate() has a series before the first DM.
    for outcome in NUDGE_OUTCOMES:
        assert ("ally_nudge_dms_total", (("outcome", outcome),)) in samples


def test_requests_acks_retries_and_purges_are_counted(
    app: App, runtime: Runtime, slack: SlackDriver
) -> None:
    _, before, _ = scrape(app, runtime)

    assert slack.command("help").status == 200
    assert slack.command(f"thanks <@U2|maria> for {SECRET_TEXT}").status == 200
    retried = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    event = {"type": "app_home_opened", "user": "U1", "tab": "about", "channel": "DU1"}
    assert slack.event(event, headers=retried).status == 200
    # Not signed by Slack: refused, and counted as rejected without reading its headers.
    forged = command_body("help", user="U1")
    headers = {"X-Slack-Signature": "v0=forged", "X-Slack-Request-Timestamp": "1", **retried}
    assert slack.send(forged, "application/x-www-form-urlencoded", headers).status == 401

    _, after, _ = scrape(app, runtime)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("ally_slack_requests_total", kind="command", outcome="ok") == 2
    assert delta("ally_slack_requests_total", kind="event", outcome="ok") == 1
    assert delta("ally_slack_requests_total", kind="command", outcome="rejected") == 1
    assert delta("ally_slack_ack_seconds_count", kind="command") == 3
    assert delta("ally_slack_ack_seconds_bucket", kind="command", le="+Inf") == 3
    assert delta("ally_slack_ack_seconds_sum", kind="command") > 0
    assert delta("ally_slack_event_retries_total") == 1
    # This app's replay guard cleans up old keys on its first request.
    assert delta("ally_seen_request_purges_total") == 1


def test_weekly_dms_planned_sent_failed_and_rate_limited_are_counted(
    app: App, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    for user in ("U1", "U2", "U3"):
        add_member(runtime, user, "Europe/London", contacts=1)
    _, before, _ = scrape(app, runtime)
    # The first DM is rate limited once (retried after Retry-After), the third fails outright.
    fake_slack.fail("chat.postMessage", status=429, retry_after=0)
    posts = 0

    def post_then_fail(params: dict) -> dict | tuple[int, dict, dict]:
        nonlocal posts
        posts += 1
        if posts == 3:
            return 200, {}, {"ok": False, "error": "channel_not_found"}
        return fake_slack._chat_postMessage(params)

    fake_slack.on("chat.postMessage", post_then_fail)

    summary = send_due(runtime, runtime.clock())

    assert (summary.planned, summary.sent, summary.failed) == (3, 2, 1)
    _, after, _ = scrape(app, runtime)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("ally_nudge_dms_total", outcome="planned") == 3
    assert delta("ally_nudge_dms_total", outcome="sent") == 2
    assert delta("ally_nudge_dms_total", outcome="failed") == 1
    assert delta("ally_nudge_dms_total", outcome="skipped") == 0
    assert delta("ally_slack_rate_limited_total", method="chat.postMessage") == 1


def test_no_member_data_in_any_label(
    app: App, runtime: Runtime, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    slack.command(f"thanks <@U2|maria> for {SECRET_TEXT}")
    slack.command(f'gave "Dana Lee (Acme)" {SECRET_TEXT}')
    slack.action("say_thanks", value="1")
    slack.event({"type": "app_home_opened", "user": "U3", "tab": "home", "channel": "DU3"})
    add_member(runtime, "U4", "Europe/London", contacts=1)
    send_due(runtime, runtime.clock())

    text, samples, _ = scrape(app, runtime)

    assert {name for _, labels in samples for name, _ in labels} <= LABELS
    values = label_values(samples)
    assert {v for (name, labels) in samples for k, v in labels if k == "kind"} <= KINDS | {"other"}
    assert {v for (name, labels) in samples for k, v in labels if k == "outcome"} <= {
        "ok",
        "rejected",
        "error",
        "planned",
        "sent",
        "skipped",
        "failed",
    }
    for member_data in ("U1", "U2", "U3", "U4", "T1", "maria", "Dana", SECRET_TEXT, "say_thanks"):
        assert member_data not in text
        assert not any(member_data in v for v in values)
