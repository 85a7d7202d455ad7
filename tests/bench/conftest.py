"""The benchmarks quiet Ally's loggers for their own run (``bot`` to errors, ``ally`` to
warnings); in the test process each benchmark's levels are put back afterwards, so the tests
that run later still see every record."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def logger_levels() -> Iterator[None]:
    loggers = [logging.getLogger(), *map(logging.getLogger, ("bot", "ally", "handlers"))]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)
