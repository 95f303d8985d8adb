"""A clock the test moves by hand: code under test calls it for "now"."""

from __future__ import annotations

from datetime import datetime, timedelta


class HandClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0) -> None:
        self.now += timedelta(seconds=seconds, minutes=minutes, hours=hours)
