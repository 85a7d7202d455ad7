"""Measuring tools shared by the benchmarks: percentiles, statement counts, peak memory."""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event

T = TypeVar("T")


def percentile(samples: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``samples`` by linear interpolation."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    On Linux ``getrusage``'s ``ru_maxrss`` survives fork and exec, so a freshly spawned child
    would report its parent's peak if that was higher; ``VmHWM`` in /proc is the process's own.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def cpu_seconds() -> float:
    """User + system CPU time this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tree_cpu_seconds(root: int) -> float | None:
    """User + system CPU time used so far by process ``root`` and its live descendants.

    Read from /proc (None where there is none); a descendant that has exited no longer counts.
    """
    proc = Path("/proc")
    if not (proc / str(root)).is_dir():
        return None
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        # "pid (comm) state ppid ... utime stime ...": comm may hold spaces, so split after it.
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks[pid] = int(fields[11]) + int(fields[12])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class StatementCounter:
    """Counts every statement an engine sends to the database."""

    count: int = 0

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        self.count += 1


@contextmanager
def counting_statements(engine: Engine) -> Iterator[StatementCounter]:
    """Count statements on ``engine`` (SQLAlchemy's ``before_cursor_execute``) in the block."""
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as elapsed:`` leaves the block's duration in ``elapsed[0]``."""
    elapsed = [0.0]
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - start


def in_child(func: Callable[..., T], *args: Any, preload: Sequence[str] = ()) -> T:
    """Run ``func(*args)`` in a fresh process, so its peak RSS is its own, not ours.

    A child forked from this process would start with our pages already counted in its peak.
    Children come from multiprocessing's fork server instead: a small process started once,
    which imports ``preload`` (the modules the children need anyway) and forks a child per
    call in milliseconds, where a spawned interpreter spends about a second importing them.
    Each child's peak is the fork server's imports plus its own work.
    """
    context = multiprocessing.get_context("forkserver")
    if preload:
        context.set_forkserver_preload(list(preload))
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(func, *args).result()
