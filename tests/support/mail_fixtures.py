"""Pytest fixtures for the mail servers: one of each per session, made clean for every test.

- `dovecot`: the session's Dovecot (skips the test when Dovecot is not installed).
- `imap_server`: the same server, running, every user's mailbox emptied; use this in tests.
- `smtp_server`: the session's recording SMTP server, reset (messages, fault mode).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.dovecot import DOVECOT_BINARY, DovecotServer, is_available
from tests.support.smtp_server import SmtpServer

__all__ = ["dovecot", "imap_server", "smtp_server", "smtp_server_session"]


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    if not is_available():
        pytest.skip(
            f"Dovecot not found at {DOVECOT_BINARY}: install dovecot-imapd "
            "(CI does) to run the IMAP integration tests"
        )
    server = DovecotServer({"support": "secret"})
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def imap_server(dovecot: DovecotServer) -> DovecotServer:
    """Dovecot up (an outage test may have left it down) with empty mailboxes."""
    dovecot.start()
    dovecot.reset_all()
    return dovecot


@pytest.fixture(scope="session")
def smtp_server_session() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_session: SmtpServer) -> SmtpServer:
    smtp_server_session.reset()
    return smtp_server_session
