"""The yardstick: a bare slack-bolt AsyncApp whose claim handler only acks, served like ours."""

from __future__ import annotations

import argparse
import asyncio

import uvloop
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient


async def serve(port: int, api_url: str, token: str, secret: str, before: bool) -> None:
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url),
        signing_secret=secret,
        process_before_response=before,
    )

    @app.action("ticket_claim")
    async def claim(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument(
        "--process-before-response",
        action="store_true",
        help="answer when the listener returns, as ticketbot does (bolt's default instead "
        "runs the listener as a task and polls for its ack every 10 ms)",
    )
    args = parser.parse_args()
    # The same event loop as `ticketbot run`, so the two differ only in what they do.
    uvloop.run(
        serve(args.port, args.api_url, args.token, args.secret, args.process_before_response)
    )


if __name__ == "__main__":
    main()
