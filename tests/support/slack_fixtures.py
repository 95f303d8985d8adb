"""pytest fixtures for the Slack emulator (registered by an import in tests/conftest.py).

One emulator serves the whole session from its own thread (starting servers per test is slow);
the function-scoped `slack` fixture resets it so every test starts from the same workspace.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from typing import Protocol

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.signer import SlackDriver

SIGNING_SECRET = "test-signing-secret"
EVENTS_PATH = "/slack/events"


class DriverFactory(Protocol):
    """`await factory(bot_url, transport="http")` → a SlackDriver closed after the test."""

    def __call__(self, bot_url: str, transport: str = "http") -> Awaitable[SlackDriver]: ...


@pytest.fixture(scope="session")
def slack_emulator() -> Iterator[SlackEmulator]:
    """The running emulator, shared by the session; prefer `slack`, which is reset per test."""
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def slack(slack_emulator: SlackEmulator) -> Iterator[SlackEmulator]:
    """A clean emulator: default workspace, no records, no faults, real clock, 3 s triggers."""
    slack_emulator.reset()
    slack_emulator.clock = time.time
    slack_emulator.trigger_ttl = 3.0
    yield slack_emulator
    slack_emulator.reset()


@pytest.fixture
def slack_signing_secret() -> str:
    """The signing secret the driver signs with; give the same one to the bot."""
    return SIGNING_SECRET


@pytest.fixture
def slack_client(slack: SlackEmulator) -> AsyncWebClient:
    """An AsyncWebClient with the bot token pointed at the emulator (a session per request)."""
    return AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)


@pytest.fixture
async def slack_driver_factory(
    slack: SlackEmulator, slack_signing_secret: str
) -> AsyncIterator[DriverFactory]:
    """`await factory(bot_url)` → a SlackDriver signing with the test secret; closed after."""
    drivers: list[SlackDriver] = []

    async def make(bot_url: str, transport: str = "http") -> SlackDriver:
        driver = SlackDriver(bot_url, slack_signing_secret, slack, transport=transport)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        await driver.close()


@asynccontextmanager
async def serve_bolt_app(app: AsyncApp, path: str = EVENTS_PATH) -> AsyncIterator[str]:
    """Serve a bolt AsyncApp over aiohttp on a free loopback port; yields the events URL."""

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post(path, handle)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        await runner.cleanup()
