"""One aiohttp server: Slack's requests (HTTP mode), `/healthz` and `/metrics` (both modes).

The endpoint is open to the internet, so nothing untrusted gets far: bodies over
`MAX_BODY_BYTES` are refused with 413 while being read, and (given the signing secret)
a request without a valid Slack signature is refused with 401 before bolt parses it or
could log it. Refusals are logged without their bodies, and at most once a minute.

`/healthz` answers 503 when a check fails: each string value of the health report is a
check that must say "ok" (the database); nested mappings only inform (IMAP, outbox lag).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app.csat_web import add_csat_routes
from bot.app.metrics import Metrics
from bot.slack.app import TicketbotApp
from models.policy import Policy

logger = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[Mapping[str, Any]]]
Monotonic = Callable[[], float]

# Slack's largest deliveries (a view_submission of a 250 kB view, a block_actions payload
# carrying a 50-block message) stay far below this.
MAX_BODY_BYTES = 1024 * 1024
REFUSAL_LOG_SECONDS = 60.0
REPLAY_WINDOW_SECONDS = 300  # Slack: reject timestamps more than five minutes away


class Traffic:
    """Whether Slack requests are being answered: deliveries wait for a quiet moment, so
    a burst of clicks is acked first and its card updates follow."""

    QUIET_SECONDS = 0.05

    def __init__(self) -> None:
        self.in_flight = 0
        self.last_finished = 0.0

    def busy(self) -> bool:
        return self.in_flight > 0 or time.monotonic() - self.last_finished < self.QUIET_SECONDS


class RefusalLog:
    """Counts refused requests and says so at most once per `every` seconds: a flood of
    forged requests must not become a flood of log lines."""

    def __init__(
        self,
        every: float = REFUSAL_LOG_SECONDS,
        clock: Monotonic = time.monotonic,
        *,
        endpoint: str = "the Slack endpoint",
        hint: str = "if they came from Slack, check slack.signing_secret",
        log: logging.Logger = logger,
    ):
        self._every = every
        self._clock = clock
        self._endpoint = endpoint
        self._hint = hint
        self._log = log
        self._last: float | None = None
        self._unlogged = 0

    def refused(self, reason: str, size: int) -> None:
        """One more refused request; `reason` is ours to word, never the request's text."""
        self._unlogged += 1
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            return
        self._log.warning(
            "refused %d request(s) to %s, the last one (%d bytes) for %s; %s",
            self._unlogged,
            self._endpoint,
            size,
            reason,
            self._hint,
        )
        self._last, self._unlogged = now, 0


def is_signed(secret: bytes, body: bytes, headers: Mapping[str, str], now: float) -> bool:
    """Slack's v0 signature over the raw bytes (SLACK.md 1.1), for any header values:
    slack_sdk's verifier raises on a timestamp that is not a number and on bodies that are
    not UTF-8, and compares str, which fails for non-ASCII signatures."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    expected = b"v0=" + digest.hexdigest().encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


def build_web_app(
    app: AsyncApp | None,
    path: str,
    health: HealthCheck,
    traffic: Traffic | None = None,
    *,
    signing_secret: str | None = None,
    refusals: RefusalLog | None = None,
    metrics: Metrics | None = None,
    policy: Policy | None = None,
) -> web.Application:
    """Slack's endpoint (HTTP mode) and `/healthz`; in Socket Mode (`app` None) only the latter.
    With `metrics`, `/metrics` too, and each answer to Slack is timed (`ticketbot_ack_seconds`).
    With a `policy` whose `csat` is set, the customers' rating pages (bot/app/csat_web.py).

    Signatures are checked here, before bolt sees the request, with `signing_secret` or
    the one a `TicketbotApp` carries; for another app without a secret given bolt checks
    them itself (and bot.slack.app keeps its log free of bodies).
    """

    counter = traffic or Traffic()
    if signing_secret is None and isinstance(app, TicketbotApp):
        signing_secret = app.request_signing_secret
    secret = signing_secret.encode() if signing_secret else None
    refused = refusals or RefusalLog()

    async def slack_events(request: web.Request) -> web.Response:
        assert app is not None
        started = time.perf_counter()
        counter.in_flight += 1
        try:
            raw = await request.read()  # past MAX_BODY_BYTES aiohttp answers 413 right here
            if secret is not None and not is_signed(secret, raw, request.headers, time.time()):
                refused.refused("no valid Slack signature", len(raw))
                return web.json_response({"error": "invalid request"}, status=401)
            try:
                bolt_request = AsyncBoltRequest(  # parses the body (JSON or form)
                    body=raw.decode("utf-8"),
                    query=request.query_string,
                    headers=request.headers,  # type: ignore[arg-type]
                )
            except ValueError:  # not UTF-8, or broken JSON: nothing Slack would send
                refused.refused("a body that is no Slack payload", len(raw))
                return web.json_response({"error": "invalid request"}, status=400)
            response = await to_aiohttp_response(await app.async_dispatch(bolt_request))
            if metrics is not None:
                metrics.ack_seconds.observe(time.perf_counter() - started)
            return response
        finally:
            counter.in_flight -= 1
            counter.last_finished = time.monotonic()

    async def healthz(_request: web.Request) -> web.Response:
        report = await health()
        healthy = all(value == "ok" for value in report.values() if isinstance(value, str))
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps({"status": "ok" if healthy else "unavailable", **report}),
            content_type="application/json",
        )

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    if app is not None:
        web_app.router.add_post(path, slack_events)
    web_app.router.add_get("/healthz", healthz)
    if metrics is not None:

        async def metrics_page(request: web.Request) -> web.Response:
            body, content_type = await metrics.render(request.headers.get("Accept", ""))
            return web.Response(body=body, headers={"Content-Type": content_type})

        web_app.router.add_get("/metrics", metrics_page)
    if policy is not None:
        add_csat_routes(web_app, policy)
    return web_app
