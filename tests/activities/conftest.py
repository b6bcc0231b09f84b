"""Fixtures for the activity tests: a frozen Monday, and browsers that never wait for the test.

On SQLite the test's own session starts a write transaction at its first read
(outside a request every transaction is a writer's); a request that writes
would then wait for the test. These clients end the test's transaction before
each request, as a real server never shares one with its visitors.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from parro import clock

AMS = ZoneInfo("Europe/Amsterdam")


def at(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=AMS)


@pytest.fixture(autouse=True)
def monday_morning(app):
    """Monday 1 March 2027, 9:00 at school (school year 2026-2027)."""
    clock.set_now(at(2027, 3, 1, 9, 0))
