"""The `/healthz` report: the database (the one check: 503 when it does not answer), the
mail poller's state and the outbox's lag (information for people and probes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mail.imap import PollerStatus
from models.outbox.lag import OutboxLag


def _iso(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def imap_report(status: PollerStatus | None, now: float) -> dict[str, Any]:
    if status is None:
        return {"state": "not configured"}
    last = status.last_poll
    return {
        "state": status.state,
        "last_poll": _iso(last) if last is not None else None,
        "last_poll_seconds_ago": round(now - last, 1) if last is not None else None,
        "last_error": status.last_error or None,
    }


def outbox_report(lag: OutboxLag | None) -> dict[str, Any] | None:
    if lag is None:
        return None  # not read: the database does not answer
    return {
        "pending": lag.pending_total,
        "oldest_pending_seconds": round(lag.oldest_seconds, 1),
        "dead": lag.dead,
    }


def health_report(
    *, database_ok: bool, imap: PollerStatus | None, lag: OutboxLag | None, now: float
) -> dict[str, Any]:
    """String values are checks ("ok" or what is wrong); the rest informs (bot/app/web.py)."""
    return {
        "database": "ok" if database_ok else "unreachable",
        "imap": imap_report(imap, now),
        "outbox": outbox_report(lag if database_ok else None),
    }
