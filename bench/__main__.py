"""``python -m bench [--quick] [--only NAME] [--backend sqlite|postgres|both]``.

Prints one JSON object per benchmark per line as each finishes and writes the same lines to
``bench/results.json`` (or ``--out``). A benchmark that cannot run here (PostgreSQL down, code
not merged yet) prints a line with ``skipped`` saying why, instead of failing the run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import ack, calendar_sync, datagen, nudge_plan, nudge_send, nudge_send_scale

RESULTS = Path(__file__).parent / "results.json"
NAMES = ("ack", "nudge_plan", "nudge_send", "nudge_send_scale", "calendar_sync")


@dataclass(frozen=True)
class Sizes:
    ack: ack.AckSize
    plan: tuple[datagen.Size, ...]
    send: datagen.Size
    # One workspace of this many members, all due at once, at Slack's rate limits.
    scale: datagen.Size
    # Planning runs per size, each paired with a lower-bound run; the line gives the medians.
    plan_runs: int = 3
    # Seconds of this run per Slack minute for nudge_send_scale.
    slack_minute: float = nudge_send_scale.SLACK_MINUTE
    # Members, each with a feed of this many events, read once and then again.
    calendar: tuple[int, int] = (1_000, 2_000)


FULL = Sizes(
    ack=ack.AckSize(datagen.Size(10_000), in_process=2000, clients=16, per_client=125),
    plan=(datagen.Size(1_000), datagen.Size(10_000), datagen.Size(100_000)),
    send=datagen.Size(10_000),
    scale=datagen.Size(10_000),
)
QUICK = Sizes(
    ack=ack.AckSize(datagen.Size(1_000), in_process=100, clients=16, per_client=10, targets=64),
    plan=(datagen.Size(100), datagen.Size(1_000)),
    send=datagen.Size(100),
    scale=datagen.Size(1_000),
    slack_minute=nudge_send_scale.QUICK_SLACK_MINUTE,
    calendar=(50, 2_000),
)
# For the unit test: a few seconds end to end.
TINY = Sizes(
    ack=ack.AckSize(datagen.Size(20), in_process=20, clients=2, per_client=5, targets=10),
    plan=(datagen.Size(10), datagen.Size(20)),
    send=datagen.Size(20),
    scale=datagen.Size(20),
    plan_runs=1,
    slack_minute=0.5,
    calendar=(3, 100),
)


def backends(choice: str) -> list[str]:
    wanted = ["sqlite", "postgres"] if choice == "both" else [choice]
    return wanted


def skipped(name: str, backend: str, why: str) -> dict[str, Any]:
    return {"name": name, "backend": backend, "skipped": why}


def benchmarks(sizes: Sizes, only: str | None, choice: str) -> Iterator[dict[str, Any]]:
    """Every JSON line of the run, in order."""
    selected = [n for n in NAMES if only in (None, n)]
    for backend in backends(choice):
        down = datagen.pg_available() if backend == "postgres" else None
        if "ack" in selected:
            yield from ([skipped("ack", backend, down)] if down else ack.run(backend, sizes.ack))
        if "nudge_plan" in selected:
            why = down or nudge_plan.missing()
            for size in sizes.plan:
                yield (
                    skipped("nudge_plan", backend, why)
                    if why
                    else nudge_plan.run(backend, size, sizes.plan_runs)
                )
        if "nudge_send" in selected:
            why = down or nudge_send.missing()
            yield (
                skipped("nudge_send", backend, why) if why else nudge_send.run(backend, sizes.send)
            )
        if "nudge_send_scale" in selected:
            for scenario in nudge_send_scale.SCENARIOS:
                yield (
                    skipped("nudge_send_scale", backend, down)
                    if down
                    else nudge_send_scale.run(backend, sizes.scale, scenario, sizes.slack_minute)
                )
        if "calendar_sync" in selected:
            why = down or calendar_sync.missing()
            members, events = sizes.calendar
            yield (
                skipped("calendar_sync", backend, why)
                if why
                else calendar_sync.run(backend, members, events)
            )


def scaling(lines: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """``nudge_plan_scaling``: time and queries at 10x the members, per backend."""
    plans = [x for x in lines if x.get("name") == "nudge_plan" and "seconds" in x]
    for backend in sorted({x["backend"] for x in plans}):
        runs = sorted((x for x in plans if x["backend"] == backend), key=lambda x: x["members"])
        for small, big in itertools.pairwise(runs):
            if big["members"] != 10 * small["members"] or not small["seconds"]:
                continue
            yield {
                "name": "nudge_plan_scaling",
                "backend": backend,
                "members": [small["members"], big["members"]],
                "time_ratio": round(big["seconds"] / small["seconds"], 2),
                "queries_ratio": round(big["queries"] / max(1, small["queries"]), 2),
                "batches_ratio": round(big["batches"] / max(1, small["batches"]), 2),
            }


def machine() -> dict[str, Any]:
    return {
        "name": "machine",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def write(lines: list[dict[str, Any]], out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(json.dumps(x) + "\n" for x in lines))
    tmp.replace(out)


def main(argv: list[str] | None = None, emit: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes (a few minutes: nudge_send_scale runs at Slack's pace, slowed less)",
    )
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=NAMES, help="run one benchmark")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the lines")
    parser.add_argument(
        "--plan-members",
        help="nudge_plan sizes instead of the preset's, e.g. 1000,10000",
    )
    parser.add_argument("--send-members", type=int, help="nudge_send size instead of the preset's")
    parser.add_argument(
        "--scale-members", type=int, help="nudge_send_scale size instead of the preset's"
    )
    parser.add_argument(
        "--slack-minute",
        type=float,
        help="nudge_send_scale: seconds of this run per Slack minute (default "
        f"{nudge_send_scale.SLACK_MINUTE:g}, {QUICK.slack_minute:g} with --quick)",
    )
    parser.add_argument(
        "--calendar",
        help="calendar_sync size instead of the preset's: members,events (e.g. 1000,2000)",
    )
    parser.add_argument(
        "--plan-runs", type=int, help="planning runs per size (medians are reported; default 3)"
    )
    args = parser.parse_args(argv)
    sizes = TINY if args.tiny else QUICK if args.quick else FULL
    if args.plan_members:
        counts = [int(n) for n in args.plan_members.split(",")]
        sizes = replace(sizes, plan=tuple(datagen.Size(n) for n in counts))
    if args.send_members:
        sizes = replace(sizes, send=datagen.Size(args.send_members))
    if args.plan_runs:
        sizes = replace(sizes, plan_runs=args.plan_runs)
    if args.scale_members:
        sizes = replace(sizes, scale=datagen.Size(args.scale_members))
    if args.calendar:
        members, events = (int(n) for n in args.calendar.split(","))
        sizes = replace(sizes, calendar=(members, events))
    if args.slack_minute:
        sizes = replace(sizes, slack_minute=args.slack_minute)
    started = time.perf_counter()
    lines = [machine()]
    emit(json.dumps(lines[0]))
    for result in benchmarks(sizes, args.only, args.backend):
        lines.append(result)
        emit(json.dumps(result))
        sys.stdout.flush()
    for result in scaling(lines):
        lines.append(result)
        emit(json.dumps(result))
    total = {"name": "run", "seconds": round(time.perf_counter() - started, 1)}
    lines.append(total)
    emit(json.dumps(total))
    write(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
