"""How long the bot's event loop stalls while it ingests the hostile corpus.

The real `bot.app.runtime.Runtime` (Slack app and HTTP listener, IMAP poller, parse pool,
outbox worker, jobs) runs on this process's event loop, on SQLite in a temporary
directory, against a Dovecot whose INBOX already holds every corpus mail, the Slack
emulator and an SMTP sink, both in processes of their own so their work does not land
on this loop. A heartbeat task asks to wake every `tick` seconds and records how late
it woke: that lateness is what a Slack ack, an IMAP read or an outbox delivery would
have waited. The run ends when every mail is stored and the outbox is empty.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.app.config import Settings, parse_settings
from bot.app.runtime import Runtime
from mail.imap import PolledMessage
from models.outbox.items import OutboxItem, OutboxStatus
from models.store.article import InboundMessage
from tests.bench.stack import REPO, bench_env, bot_config, start_emulator
from tests.support.dovecot import DovecotServer, free_port

GOAL_SECONDS = 0.1


@dataclass
class StallReport:
    """Heartbeat lateness over the whole ingestion, and which mail was in hand at the worst."""

    ticks: list[float]
    worst: list[tuple[float, str]]  # (lateness, mails in hand), worst first
    mails: int
    seconds: float

    def lines(self) -> list[str]:
        ordered = sorted(self.ticks)
        p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0
        worst = self.worst[0][0] if self.worst else 0.0
        lines = [
            f"event loop while the running bot ingested {self.mails} mails in "
            f"{self.seconds:.0f} s: {len(self.ticks)} heartbeats, p99 late "
            f"{p99 * 1000:.1f} ms, worst stall {worst * 1000:.0f} ms",
        ]
        lines += [f"    {late * 1000:6.0f} ms  while: {held}" for late, held in self.worst[:5]]
        verdict = "PASS" if worst < GOAL_SECONDS else "FAIL"
        lines.append(f"{verdict} (goal: worst stall under {GOAL_SECONDS * 1000:.0f} ms)")
        return lines

    @property
    def passed(self) -> bool:
        return not self.worst or self.worst[0][0] < GOAL_SECONDS


class _InstrumentedRuntime(Runtime):
    """The real runtime; it only notes which mail it is handling (for the report)."""

    def __init__(self, settings: Settings, *, names: dict[str, str]) -> None:
        super().__init__(settings)
        self.in_hand: dict[str, str] = {}
        self.names = names  # IMAP UID -> corpus file

    async def handle_mail(self, message: PolledMessage) -> None:
        self.in_hand[message.identity] = self.names.get(str(message.uid), str(message.uid))
        try:
            await super().handle_mail(message)
        finally:
            del self.in_hand[message.identity]


def _config(workdir: Path, imap_port: int, smtp_port: int, api_url: str) -> dict[str, object]:
    return bot_config(
        f"sqlite://{workdir}/bench.sqlite3",
        api_url,
        smtp_port=smtp_port,
        imap_port=imap_port,
        attachments=workdir / "attachments",
        autoreply={},
    )


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO, env=env
    )


async def _heartbeat(tick: float, runtime: _InstrumentedRuntime, report: StallReport) -> None:
    loop = asyncio.get_running_loop()
    expected = loop.time() + tick
    while True:
        await asyncio.sleep(max(0.0, expected - loop.time()))
        now = loop.time()
        late = now - expected
        report.ticks.append(late)
        if late > 0.01:
            held = ", ".join(sorted(runtime.in_hand.values())) or "(no mail in hand)"
            report.worst.append((late, held))
        expected = now + tick


async def _wait_listening(settings: Settings, running: asyncio.Task[None]) -> None:
    http = settings.slack.http
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if running.done():
                running.result()
            try:
                async with session.get(f"http://{http.host}:{http.port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)  # polling a condition with a deadline
    raise TimeoutError("the runtime did not start listening within 60 s")


async def _done(total: int) -> bool:
    try:
        stored = await InboundMessage.all().count()
        pending = await OutboxItem.filter(status=OutboxStatus.PENDING).count()
    except Exception:
        return False
    return stored >= total and pending == 0


async def measure_stall(
    mails: Sequence[tuple[str, bytes]], *, tick: float = 0.01, timeout: float = 900.0
) -> StallReport:
    """Append `mails` (name, raw) to a fresh Dovecot, run the bot until all are handled."""
    env = bench_env()
    workdir = Path(tempfile.mkdtemp(prefix="ticketbot-stall-"))
    smtp_port = free_port()
    emulator, api_url = start_emulator(env)
    sink = _start(
        ["-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}", "-c", "aiosmtpd.handlers.Sink"],
        env,
    )
    dovecot = DovecotServer()
    try:
        dovecot.start()
        names = {str(dovecot.append(raw)): name for name, raw in mails}
        settings = parse_settings(_config(workdir, dovecot.port, smtp_port, api_url), {})
        runtime = _InstrumentedRuntime(settings, names=names)
        report = StallReport(ticks=[], worst=[], mails=len(mails), seconds=0.0)
        started = time.monotonic()
        running = asyncio.create_task(runtime.run())
        beating: asyncio.Task[None] | None = None
        try:
            await _wait_listening(settings, running)  # start-up answers no one: not counted
            beating = asyncio.create_task(_heartbeat(tick, runtime, report))
            while not await _done(len(mails)):
                if running.done():
                    running.result()
                    raise RuntimeError("the runtime stopped before the corpus was handled")
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"corpus not handled within {timeout:g} s")
                await asyncio.sleep(0.2)  # polling a condition with a deadline
        finally:
            report.seconds = time.monotonic() - started
            if beating is not None:
                beating.cancel()
            runtime.stop()
            await asyncio.gather(running, *[beating] if beating else [], return_exceptions=True)
        report.worst.sort(reverse=True)
        return report
    finally:
        dovecot.close()
        for proc in (emulator, sink):
            proc.kill()
            proc.wait(10)
