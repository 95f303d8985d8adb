"""`ticketbot sandbox`: the real bot, an emulated Slack and a mail loop, behind one web page.

Nothing to configure and no secret to hold: the signing secret is made up for this run
and known only to the bot and the page's driver. The bot is `bot.app.runtime.Runtime`, as
`ticketbot run` starts it (Slack app, outbox worker, jobs), with SQLite in the data
directory; Slack is `SlackEmulator` on a thread of its own; mail the bot sends goes over
SMTP to a server on loopback, mail customers write goes to the bot's intake as piped
mail would. The emulator keeps Slack's side in memory only, so every start is a fresh
helpdesk: the data directory is emptied first (and a directory that is not a sandbox's
own is refused, never emptied).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import shutil
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.app.runtime import Runtime
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.mail_loop import CustomerMail, Inbox, build_mail, start_smtp
from bot.sandbox.samples import SAMPLES
from bot.sandbox.signer import SlackDriver
from bot.sandbox.web import SandboxPage
from bot.sandbox.workspace import SUPPORT_ADDRESS, sandbox_settings, sandbox_workspace

MARKER = ".ticketbot-sandbox"
START_SECONDS = 60.0


class SandboxError(Exception):
    """The sandbox cannot start; the message says why and what to do."""


def prepare_data(data: Path) -> Path:
    """A fresh data directory (its absolute path): ours from an earlier run is emptied,
    anyone else's refused."""
    marker = data / MARKER
    if data.exists() and not marker.exists() and any(data.iterdir()):
        raise SandboxError(
            f"{data} is not empty and was not made by the sandbox; "
            "choose another directory with --data"
        )
    if marker.exists():
        for path in data.iterdir():
            if path.name == MARKER:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    data.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by `ticketbot sandbox`; emptied at every start\n", encoding="utf-8")
    return data.resolve()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_healthy(port: int, running: asyncio.Task[None]) -> None:
    url = f"http://127.0.0.1:{port}/healthz"
    async with aiohttp.ClientSession() as session:
        for _ in range(int(START_SECONDS * 10)):
            if running.done():
                running.result()
                raise SandboxError("the bot stopped while starting")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)  # polling a condition with a deadline
    raise SandboxError(f"the bot did not answer on {url} within {START_SECONDS:g} s")


async def _send_samples(send_mail: Callable[[CustomerMail], Awaitable[str]]) -> None:
    """The sample mails, after the page is up (it shows them as they arrive)."""
    for sample in SAMPLES:
        await send_mail(sample)


async def run_sandbox(*, port: int, data: Path) -> int:
    """Serve the sandbox on 127.0.0.1:`port` until Ctrl-C; exit status."""
    try:
        data = prepare_data(data)
    except (SandboxError, OSError) as exc:
        print(f"ticketbot sandbox: {exc}", file=sys.stderr)
        return 2
    emulator = SlackEmulator(sandbox_workspace()).start()
    inbox = Inbox()
    smtp, smtp_port = await start_smtp(inbox)
    secret = secrets.token_hex(32)
    http_port = _free_port()
    settings = sandbox_settings(
        data,
        bot_token=emulator.bot_token,
        signing_secret=secret,
        api_url=emulator.base_url,
        http_port=http_port,
        smtp_port=smtp_port,
    )
    runtime = Runtime(settings)
    running = asyncio.create_task(runtime.run(), name="ticketbot")
    driver = SlackDriver(f"http://127.0.0.1:{http_port}/slack/events", secret, emulator)

    async def send_mail(mail: CustomerMail) -> str:
        raw = build_mail(mail, SUPPORT_ADDRESS)
        result = await runtime.receive(
            raw, source="sandbox", identity=hashlib.sha256(raw).hexdigest()
        )
        return f"{result.outcome} {result.ticket_number or ''}".strip()

    runner = web.AppRunner(
        SandboxPage(emulator, driver, inbox, send_mail, port).routes(), access_log=None
    )
    samples: asyncio.Task[None] | None = None
    try:
        await _wait_healthy(http_port, running)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        samples = asyncio.create_task(_send_samples(send_mail), name="samples")
        print(f"ticketbot sandbox: open http://127.0.0.1:{port}/ (Ctrl-C stops it)", flush=True)
        await running
    except (SandboxError, OSError) as exc:
        print(f"ticketbot sandbox: {exc}", file=sys.stderr)
        runtime.stop()
        return 1
    finally:
        runtime.stop()
        if samples is not None:  # stopped before the samples were in: they need not be
            samples.cancel()
        await asyncio.gather(running, *[samples] if samples else [], return_exceptions=True)
        await runner.cleanup()
        await driver.close()
        smtp.close()
        await smtp.wait_closed()
        emulator.stop()
    return 0
