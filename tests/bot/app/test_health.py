"""The /healthz report: the database is the check; IMAP and the outbox inform."""

from __future__ import annotations

from bot.app.health import health_report
from mail.imap import PollerStatus
from models.outbox.lag import OutboxLag

LAG = OutboxLag(pending={"mail.send": 2, "slack.card.post": 1}, oldest_seconds=4.26, dead=3)


def test_a_healthy_report_tells_the_pollers_state_and_the_outbox_lag() -> None:
    report = health_report(
        database_ok=True,
        imap=PollerStatus("connected", 1_767_225_600.0, ""),
        lag=LAG,
        now=1_767_225_612.34,
    )
    assert report == {
        "database": "ok",
        "imap": {
            "state": "connected",
            "last_poll": "2026-01-01T00:00:00Z",
            "last_poll_seconds_ago": 12.3,
            "last_error": None,
        },
        "outbox": {"pending": 3, "oldest_pending_seconds": 4.3, "dead": 3},
    }


def test_without_imap_or_a_database() -> None:
    report = health_report(database_ok=False, imap=None, lag=LAG, now=0.0)
    assert report == {
        "database": "unreachable",
        "imap": {"state": "not configured"},
        "outbox": None,  # not read from a database that does not answer
    }


def test_a_poller_that_never_got_through_says_why() -> None:
    status = PollerStatus("disconnected", None, "IMAP login refused for s***")
    report = health_report(database_ok=True, imap=status, lag=None, now=0.0)
    assert report["imap"] == {
        "state": "disconnected",
        "last_poll": None,
        "last_poll_seconds_ago": None,
        "last_error": "IMAP login refused for s***",
    }
