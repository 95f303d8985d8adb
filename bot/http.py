"""HTTP mode: one aiohttp server for Slack's requests and the health check."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

HealthCheck = Callable[[], Awaitable[dict[str, str]]]


class Traffic:
    """Whether Slack requests are being answered: deliveries wait for a quiet moment, so
    a burst of clicks is acked first and its card updates follow."""

    QUIET_SECONDS = 0.05

    def __init__(self) -> None:
        self.in_flight = 0
        self.last_finished = 0.0

    def busy(self) -> bool:
        return self.in_flight > 0 or time.monotonic() - self.last_finished < self.QUIET_SECONDS


def build_web_app(
    app: AsyncApp | None, path: str, health: HealthCheck, traffic: Traffic | None = None
) -> web.Application:
    """Slack's endpoint (HTTP mode) and `/healthz`; in Socket Mode (`app` None) only the latter."""

    counter = traffic or Traffic()

    async def slack_events(request: web.Request) -> web.Response:
        assert app is not None
        counter.in_flight += 1
        try:
            bolt_request = await to_bolt_request(request)
            return await to_aiohttp_response(await app.async_dispatch(bolt_request))
        finally:
            counter.in_flight -= 1
            counter.last_finished = time.monotonic()

    async def healthz(_request: web.Request) -> web.Response:
        report = await health()
        healthy = all(value == "ok" for value in report.values())
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps({"status": "ok" if healthy else "unavailable", **report}),
            content_type="application/json",
        )

    web_app = web.Application(client_max_size=4 * 1024 * 1024)
    if app is not None:
        web_app.router.add_post(path, slack_events)
    web_app.router.add_get("/healthz", healthz)
    return web_app
