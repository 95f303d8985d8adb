"""Shared fixtures. Fixture modules live in tests/support/ and are imported here."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Fixture modules register themselves by being imported here (one line each).


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Isolate every test from the developer's environment (no stray tokens or proxies)."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(
            ("SLACK_", "TICKETBOT_", "DATABASE_URL", "IMAP_", "SMTP_")
        ) or key.lower() in (
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ):
            del os.environ[key]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


from tests.support.bot_process import bot_factory  # noqa: E402, F401
from tests.support.database import *  # noqa: E402, F403
from tests.support.mail_fixtures import *  # noqa: E402, F403
from tests.support.slack_fixtures import *  # noqa: E402, F403
