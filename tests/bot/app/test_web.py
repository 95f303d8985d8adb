"""The Slack endpoint is open to the internet: oversized bodies get 413 before any parsing,
forged ones 401, and no untrusted body reaches the logs — whether bot.app.web checks the
signature itself or leaves it to bolt (whose own check logs whole bodies at INFO)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp

from bot.app.web import MAX_BODY_BYTES, RefusalLog, is_signed
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.signer import BAD_SIGNATURE, STALE, UNSIGNED, Tamper, signed_headers
from bot.slack.app import BOLT_VERIFICATION_LOGGER
from tests.bot.running_bot import RunningBot, running_bot
from tests.support.slack_fixtures import SIGNING_SECRET, DriverFactory

MARKER = "FORGED-LOG-LINE"
FORGED_LINE = f"\nINFO slack_bolt: {MARKER} admin logged in\n"


@pytest.fixture(params=[True, False], ids=["checked-in-http", "checked-by-bolt"])
async def bot(slack: SlackEmulator, request: pytest.FixtureRequest) -> AsyncIterator[RunningBot]:
    async with running_bot(slack, verify_in_http=request.param) as running:
        yield running


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # everything anyone would ever log, bolt included
    return caplog


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=io.BytesIO(body), headers=headers) as response,
    ):
        return response.status, await response.text()


def form(text: str) -> bytes:
    payload = {"type": "block_actions", "user": {"id": "U0ALICE001"}, "text": text}
    return ("payload=" + json.dumps(payload)).encode()


async def test_an_unsigned_4_mib_post_is_refused_with_413_and_logs_stay_small(
    bot: RunningBot, logs: pytest.LogCaptureFixture
) -> None:
    body = form(FORGED_LINE * (4 * 1024 * 1024 // len(FORGED_LINE)))
    assert len(body) > 4 * 1024 * 1024 - 100
    status, _ = await post(
        bot.events_url, body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 413
    assert MARKER not in logs.text
    assert len(logs.text) < 2000


@pytest.mark.parametrize(
    "tamper",
    [BAD_SIGNATURE, STALE, UNSIGNED, Tamper(secret="not-our-secret")],
    ids=["bad-signature", "stale", "unsigned", "other-secret"],
)
async def test_a_forged_request_gets_401_and_its_body_stays_out_of_the_logs(
    bot: RunningBot, logs: pytest.LogCaptureFixture, tamper: Tamper
) -> None:
    body = form(FORGED_LINE * 100)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers.update(signed_headers(SIGNING_SECRET, body, tamper))
    status, answer = await post(bot.events_url, body, headers)
    assert (status, json.loads(answer)) == (401, {"error": "invalid request"})
    assert MARKER not in logs.text


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=ü"},
    ],
    ids=["words", "huge-number", "arabic-digits", "non-ascii-signature"],
)
async def test_garbage_headers_are_a_401_not_a_crash(
    slack: SlackEmulator, logs: pytest.LogCaptureFixture, headers: dict[str, str]
) -> None:
    async with running_bot(slack) as bot:
        status, _ = await post(bot.events_url, form(MARKER), headers)
    assert status == 401
    assert MARKER not in logs.text and "Traceback" not in logs.text
    assert not [r for r in logs.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
async def test_a_body_that_is_not_utf8_is_refused_unread(
    slack: SlackEmulator, logs: pytest.LogCaptureFixture, signed: bool
) -> None:
    """(bolt's own aiohttp adapter answers this with a 500 and a traceback)"""
    body = b"payload=" + MARKER.encode() + b"\xff\xfe"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers.update(signed_headers(SIGNING_SECRET, body, None if signed else BAD_SIGNATURE))
    async with running_bot(slack) as bot:
        status, _ = await post(bot.events_url, body, headers)
    assert status == (400 if signed else 401)
    assert MARKER not in logs.text and "Traceback" not in logs.text


async def test_signed_requests_below_the_limit_still_get_through(
    bot: RunningBot, slack: SlackEmulator, slack_driver_factory: DriverFactory
) -> None:
    driver = await slack_driver_factory(bot.events_url)
    verified = await driver.url_verification("challenge-1")
    assert (verified.status, verified.json()) == (200, {"challenge": "challenge-1"})
    big = {"type": "app_mention", "user": "U0ALICE001", "text": "x" * (MAX_BODY_BYTES - 4096)}
    delivery = await driver.send_event(big)
    assert delivery.status in (200, 404)  # handled or not, but read and verified: no 413


async def test_a_later_bolt_app_does_not_bring_the_body_dump_back(
    bot: RunningBot, logs: pytest.LogCaptureFixture
) -> None:
    """bolt copies its base logger's level onto the verification logger whenever an app is
    built; the filter keeps the body out all the same."""
    AsyncApp(signing_secret="another", token="xoxb-another", logger=logging.getLogger("other"))
    assert logging.getLogger(BOLT_VERIFICATION_LOGGER).level != logging.WARNING
    body = form(FORGED_LINE)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **BAD_HEADERS}
    status, _ = await post(bot.events_url, body, headers)
    assert status == 401
    assert MARKER not in logs.text


BAD_HEADERS = {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=" + "0" * 64}


def test_refusals_are_logged_at_most_once_a_minute_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    refusals = RefusalLog(every=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="bot.app.web"):
        for _ in range(1000):
            refusals.refused("no valid Slack signature", 10)
        now[0] = 61
        refusals.refused("no valid Slack signature", 20)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.app.web"]
    assert len(lines) == 2
    assert lines[0].startswith("refused 1 request(s)")
    assert lines[1].startswith("refused 1000 request(s)") and "(20 bytes)" in lines[1]
    assert "check slack.signing_secret" in lines[1]


@pytest.mark.parametrize(
    ("timestamp", "now", "expected"),
    [("1531420618", 1531420618.0, True), ("1531420618", 1531420919.0, False)],
)
def test_is_signed_follows_slacks_recipe_and_test_vector(
    timestamp: str, now: float, expected: bool
) -> None:
    """The documented example (SLACK.md 1.1) verifies; five minutes and a second later not."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id="
        b"398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }
    assert is_signed(b"8f742231b10e8888abcd99yyyzzz85a5", body, headers, now) is expected
