"""IMAP intake throughput of the running bot: a backlog of waiting mails, stored, answered, carded.

    python -m tests.bench.bench_intake [--mails 1000] [--db sqlite|postgres|both]
                                       [--flood-threshold 20] [--card-seconds 0]
                                       [--profile DIR] [--timeout 900]
    python -m tests.bench.bench_intake --mails 300 --kills 10 [--db …]   # crash safety

Per database: a private Dovecot whose INBOX holds `--mails` new mails (distinct senders,
so the acknowledgement caps, raised for the bench, do not hold any back), an SMTP sink
(aiosmtpd in this process, counting what arrives), the Slack emulator without rate limits
(its own process), a fresh database (a temporary SQLite file, or a new PostgreSQL database
dropped afterwards) migrated beforehand, and `ticketbot run` as a subprocess. The clock
starts when the bot answers /healthz (the poller starts with it) and the run ends when
every mail is stored and acknowledged.

Printed per database:
- stored/s: mails in `inbound_message` (stored raw, a FETCH batch at a time; their
  tickets are made right after, several per transaction: acked/s follows them);
- acked/s: acknowledgements received by the SMTP sink;
- carded/s: ticket cards posted. Posts to one channel are paced to Slack's ~1 message/s
  (bot/delivery/pace.py) and a flood gets one digest instead of a wall of cards, so with
  one queue this is ~1/s by design; the time of the digest is printed beside it. Cards
  are counted until everything is acked plus `--card-seconds`;
- CPU ms per mail of the bot process (utime+stime from /proc between ready and the end)
  and of its parse workers (the same, summed over its child processes);
- peak RSS of the bot process (VmHWM).

`--profile DIR` runs `py-spy record` on the bot process during the run and writes
DIR/<db>.txt (collapsed stacks) and a top list of self/inclusive time.

`--kills N` measures crash safety instead: the bot is SIGKILLed N times at random points
of the intake (`--seed`; points by mails stored plus acknowledged) and restarted; at the
end it prints how many mails were stored, acknowledged and carded, how many of each
twice, and how many were quarantined (all cards are waited for: with Slack's pace that
is about one second per mail).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import imaplib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.controller import Controller

from bot.sandbox.emulator.config import SUPPORT_CHANNEL
from tests.bench.stack import SUPPORT, TOKEN, bench_env, bot_config, start_emulator
from tests.support.bot_process import query
from tests.support.database import PG_DSN, admin_sql, pg_url
from tests.support.dovecot import DovecotServer, free_port
from tests.support.make_mail import make_mail

TICK = 0.2
BODY = (
    "Hello,\n\nsince this morning the printer on floor {floor} prints blank pages, and the "
    "queue shows {n} jobs waiting. We restarted it twice.\n\nCould someone have a look?\n\n"
    "Thanks,\nCustomer {n}\n"
)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def bench_mail(n: int) -> bytes:
    """A plain customer request from its own sender (one per domain in 500)."""
    return make_mail(
        from_=f"Customer {n} <customer{n}@c{n % 500}.example>",
        to=f"Support <{SUPPORT}>",
        subject=f"Request {n}: printer trouble",
        body=BODY.format(n=n, floor=n % 9),
        message_id=f"<bench-{n}-{uuid.uuid4().hex[:8]}@customer.example>",
    )


# --- the SMTP sink --------------------------------------------------------------------------


class _Counting:
    """aiosmtpd handler: counts messages and notes when each arrived."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.recipients: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.times.append(time.monotonic())
            self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.times)


# --- the bot process --------------------------------------------------------------------------


def _stat_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class _CpuMeter:
    """CPU of the bot and of its children (parse workers), including children that ended."""

    pid: int
    main: int = 0
    workers: dict[int, int] = field(default_factory=dict)

    def sample(self) -> None:
        self.main = _stat_ticks(self.pid)
        for child in _children(self.pid):
            ticks = _stat_ticks(child)
            if ticks:
                self.workers[child] = ticks

    def totals(self) -> tuple[float, float]:
        return self.main / CLK_TCK, sum(self.workers.values()) / CLK_TCK


def _config(
    db_url: str, workdir: Path, imap_port: int, smtp_port: int, api_url: str, threshold: int
) -> dict[str, Any]:
    """The caps on acknowledgements raised: the bench measures their speed, not the caps."""
    return bot_config(
        db_url,
        api_url,
        smtp_port=smtp_port,
        imap_port=imap_port,
        poll_seconds=5,
        attachments=workdir / "attachments",
        autoreply={
            "max_per_sender_per_day": 1000,
            "max_per_hour": 1_000_000,
            "max_per_domain_per_hour": 1_000_000,
        },
        flood_threshold=threshold,
    )


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _digest_posted(api_url: str) -> bool:
    token = TOKEN
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}/conversations.history?channel={SUPPORT_CHANNEL}&limit=200",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            data = json.loads(response.read())
    except OSError:
        return False
    return any("new tickets" in str(m.get("text", "")) for m in data.get("messages", []))


@contextlib.contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite://{workdir}/bench.sqlite3"
        return
    name = f"ticketbot_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(name)
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _append_all(dovecot: DovecotServer, mails: int) -> None:
    """APPEND every mail over one connection (the helper opens one per mail)."""
    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    try:
        imap.login("support", "secret")
        for n in range(mails):
            typ, data = imap.append("INBOX", None, None, bench_mail(n))
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {typ} {data!r}")
    finally:
        with contextlib.suppress(Exception):
            imap.logout()


# --- one run --------------------------------------------------------------------------------


@dataclass
class Result:
    db: str
    mails: int
    stored_s: float | None = None
    acked_s: float | None = None
    end_s: float = 0.0
    cards: int = 0
    cards_window: float = 0.0
    digest_s: float | None = None
    cpu_main: float = 0.0
    cpu_workers: float = 0.0
    rss_mb: float = 0.0
    machine_busy: float = 0.0
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        n = self.mails

        def rate(seconds: float | None) -> str:
            return f"{n / seconds:7.1f}/s ({seconds:.1f} s)" if seconds else "    n/a"

        carded = self.cards / self.cards_window if self.cards_window else 0.0
        digest = f"digest after {self.digest_s:.1f} s" if self.digest_s is not None else "no digest"
        return [
            f"[{self.db}] {n} mails",
            f"  stored    {rate(self.stored_s)}",
            f"  acked     {rate(self.acked_s)}",
            f"  carded    {carded:7.1f}/s ({self.cards} cards in {self.cards_window:.1f} s; "
            f"paced ~1/s/channel; {digest})",
            f"  CPU       {1000 * self.cpu_main / n:7.1f} ms/mail bot process, "
            f"{1000 * self.cpu_workers / n:.1f} ms/mail parse workers",
            f"  peak RSS  {self.rss_mb:7.0f} MB (bot process)",
            f"  machine   {100 * self.machine_busy:7.0f} % of {os.cpu_count()} CPUs busy "
            "(everything: bot, database, Dovecot, emulator, sink, others)",
            *(f"  note: {note}" for note in self.notes),
        ]


def run_one(kind: str, mails: int, args: argparse.Namespace) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"ticketbot-intake-{kind}-"))
    env = bench_env()
    result = Result(kind, mails)
    handler = _Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    emulator, api_url = start_emulator(env)
    dovecot = DovecotServer()
    bot: subprocess.Popen[bytes] | None = None
    spy: subprocess.Popen[bytes] | None = None
    try:
        dovecot.start()
        began = time.monotonic()
        _append_all(dovecot, mails)
        print(f"[{kind}] {mails} mails appended in {time.monotonic() - began:.1f} s", flush=True)
        with _database(kind, workdir) as db_url:
            config = _config(
                db_url, workdir, dovecot.port, controller.port, api_url, args.flood_threshold
            )
            config_path = workdir / "app.yaml"
            config_path.write_text(yaml.safe_dump(config))
            ticketbot = [sys.executable, "-m", "bot"]
            subprocess.run(
                [*ticketbot, "migrate", "--config", str(config_path)],
                cwd=workdir,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            log = (workdir / "bot.log").open("wb")
            bot = subprocess.Popen(
                [*ticketbot, "run", "--config", str(config_path)],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            port = config["slack"]["http"]["port"]
            while not _healthy(port):
                if bot.poll() is not None:
                    raise RuntimeError(f"ticketbot exited; see {workdir / 'bot.log'}")
                time.sleep(0.05)  # polling a condition
            ready = time.monotonic()
            [(early,)] = query(db_url, "SELECT COUNT(*) FROM inbound_message")
            if early:
                result.notes.append(f"{early} mails stored before /healthz answered")
            meter = _CpuMeter(bot.pid)
            meter.sample()
            start_main, start_workers = meter.totals()
            machine_start = _machine_ticks()
            if args.profile:
                Path(args.profile).mkdir(parents=True, exist_ok=True)
                spy = subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "-p",
                        str(bot.pid),
                        "-f",
                        "raw",
                        "-r",
                        "50",
                        "-o",
                        str(Path(args.profile) / f"{kind}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            _watch(result, db_url, handler, api_url, ready, mails, args, bot, meter)
            meter.sample()
            main, workers = meter.totals()
            machine_end = _machine_ticks()
            result.machine_busy = (machine_end[0] - machine_start[0]) / max(
                1, machine_end[1] - machine_start[1]
            )
            result.cpu_main = main - start_main
            result.cpu_workers = workers - start_workers
            result.rss_mb = _hwm_mb(bot.pid)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
                spy = None
            [(distinct, total)] = query(
                db_url, "SELECT COUNT(DISTINCT message_id), COUNT(*) FROM inbound_message"
            )
            result.duplicates = int(total) - int(distinct)
            if result.duplicates:
                result.notes.append(f"{result.duplicates} mails stored twice")
            if handler.count > mails:
                result.notes.append(f"{handler.count - mails} acknowledgements too many")
            bot.send_signal(signal.SIGTERM)
            bot.wait(30)
            bot = None
            log.close()
            text = (workdir / "bot.log").read_text(errors="replace")
            if "Traceback" in text:
                result.notes.append(f"tracebacks in {workdir / 'bot.log'}")
    finally:
        for process in (spy, bot):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
        dovecot.close()
        emulator.kill()
        emulator.wait(10)
        controller.stop()
    if args.profile:
        _summarise_profile(Path(args.profile) / f"{kind}.txt")
    if not result.notes and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _watch(
    result: Result,
    db_url: str,
    sink: _Counting,
    api_url: str,
    ready: float,
    mails: int,
    args: argparse.Namespace,
    bot: subprocess.Popen[bytes],
    meter: _CpuMeter,
) -> None:
    """Poll the database, the sink and the emulator until every mail is stored and acked."""
    deadline = ready + args.timeout
    acked_at: float | None = None
    last_report = ready
    while True:
        now = time.monotonic()
        if bot.poll() is not None:
            raise RuntimeError("ticketbot exited during the run")
        if now > deadline:
            result.notes.append(f"timeout after {args.timeout:g} s")
            break
        [(stored,)] = query(db_url, "SELECT COUNT(*) FROM inbound_message")
        [(cards,)] = query(db_url, "SELECT COUNT(*) FROM ticket WHERE slack_ts IS NOT NULL")
        if result.stored_s is None and stored >= mails:
            result.stored_s = now - ready
        if result.acked_s is None and sink.count >= mails:
            result.acked_s = sink.times[mails - 1] - ready
            acked_at = now
        if result.digest_s is None and _digest_posted(api_url):
            result.digest_s = now - ready
        meter.sample()  # parse workers may be replaced: note each while it lives
        if now - last_report >= 5:
            print(
                f"  {now - ready:5.0f} s: stored {stored}, acked {sink.count}, carded {cards}",
                flush=True,
            )
            last_report = now
        result.cards = int(cards)
        result.cards_window = now - ready
        if (
            acked_at is not None
            and result.stored_s is not None
            and (now - acked_at >= args.card_seconds or cards >= mails)
        ):
            break
        time.sleep(TICK)  # sampling interval
    result.end_s = time.monotonic() - ready


def _summarise_profile(path: Path, top: int = 25) -> None:
    """Self and inclusive sample counts per function from py-spy's collapsed stacks."""
    if not path.exists():
        print(f"  (no profile at {path})")
        return
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"  profile {path}: {total} samples; top self:")
    for frame, count in own.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {frame}")
    print("  top inclusive:")
    for frame, count in inclusive.most_common(top + 15):
        print(f"    {100 * count / total:5.1f}%  {frame}")


def _channel_texts(api_url: str) -> list[str]:
    """Every top-level message text in the support channel (all pages)."""
    token = TOKEN
    texts: list[str] = []
    cursor = ""
    while True:
        url = f"{api_url.rstrip('/')}/conversations.history?channel={SUPPORT_CHANNEL}&limit=200"
        request = urllib.request.Request(
            url + (f"&cursor={cursor}" if cursor else ""),
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.loads(response.read())
        texts += [str(m.get("text", "")) for m in data.get("messages", [])]
        cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return texts


def _quarantined(db_url: str) -> int:
    [(count,)] = query(db_url, "SELECT COUNT(*) FROM inbound_message WHERE outcome = 'quarantined'")
    return int(count)


def run_crashes(kind: str, mails: int, kills: int, args: argparse.Namespace) -> list[str]:
    """`kills` SIGKILLs spread over the intake, each followed by a restart; then every mail
    must be stored once, acknowledged once and carded once."""
    workdir = Path(tempfile.mkdtemp(prefix=f"ticketbot-crash-{kind}-"))
    env = bench_env()
    sink = _Counting()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    emulator, api_url = start_emulator(env)
    dovecot = DovecotServer()
    bot: subprocess.Popen[bytes] | None = None
    lines = [f"[{kind}] {mails} mails, {kills} SIGKILLs"]
    try:
        dovecot.start()
        _append_all(dovecot, mails)
        with _database(kind, workdir) as db_url:
            config = _config(
                db_url, workdir, dovecot.port, controller.port, api_url, args.flood_threshold
            )
            config_path = workdir / "app.yaml"
            config_path.write_text(yaml.safe_dump(config))
            command = [sys.executable, "-m", "bot", "run", "--config", str(config_path)]
            port = config["slack"]["http"]["port"]
            log = (workdir / "bot.log").open("ab")

            def start() -> subprocess.Popen[bytes]:
                process = subprocess.Popen(
                    command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
                )
                while not _healthy(port):
                    if process.poll() is not None:
                        raise RuntimeError(f"ticketbot exited; see {workdir / 'bot.log'}")
                    time.sleep(0.05)  # polling a condition
                return process

            rng = random.Random(args.seed)
            # Kills at points of the whole intake, mails stored plus acknowledged: stored
            # alone is done within a second now, after which every kill would land just
            # after a restart, on the same first mails in hand (three crashes on one mail
            # quarantine it, as they should).
            marks = sorted(rng.uniform(0.05, 0.95) * 2 * mails for _ in range(kills))
            bot = start()
            deadline = time.monotonic() + args.timeout
            killed = 0
            while time.monotonic() < deadline:
                [(stored,)] = query(db_url, "SELECT COUNT(*) FROM inbound_message")
                [(cards,)] = query(db_url, "SELECT COUNT(*) FROM ticket WHERE slack_ts IS NOT NULL")
                if killed < kills and stored + len(set(sink.recipients)) >= marks[killed]:
                    time.sleep(rng.uniform(0, 0.3))  # somewhere in the middle of things
                    bot.kill()
                    bot.wait(10)
                    killed += 1
                    bot = start()
                    continue
                unique_acks = len(set(sink.recipients))
                # three crashes on one mail quarantine it: no ticket, no acknowledgement
                quarantined = _quarantined(db_url)
                accounted = min(unique_acks, cards) + quarantined
                if stored >= mails and accounted >= mails and killed == kills:
                    break
                time.sleep(TICK)  # sampling interval
            else:
                lines.append(f"  timeout after {args.timeout:g} s")
            time.sleep(2)  # anything in flight lands (a duplicate would show now)
            [(rows, distinct)] = query(
                db_url,
                # a quarantined mail's Message-ID is replaced by one placeholder for all
                "SELECT COUNT(*), COUNT(DISTINCT CASE WHEN outcome = 'quarantined' "
                "THEN 'q' || id ELSE message_id END) FROM inbound_message",
            )
            [(tickets,)] = query(db_url, "SELECT COUNT(*) FROM ticket")
            cards_posted = [t for t in _channel_texts(api_url) if "new tickets" not in t]
            acks = list(sink.recipients)
            lines += [
                f"  killed {killed} times; stored {distinct} of {mails} "
                f"({int(rows) - int(distinct)} twice), tickets {tickets}",
                f"  acknowledgements: {len(set(acks))} recipients of {mails}, "
                f"{len(acks) - len(set(acks))} duplicate",
                f"  cards: {len(set(cards_posted))} of {mails}, "
                f"{len(cards_posted) - len(set(cards_posted))} duplicate",
                f"  quarantined (crashed on three times): {_quarantined(db_url)}",
            ]
            bot.send_signal(signal.SIGTERM)
            bot.wait(30)
            bot = None
            log.close()
    finally:
        if bot is not None and bot.poll() is None:
            bot.kill()
            bot.wait(10)
        dovecot.close()
        emulator.kill()
        emulator.wait(10)
        controller.stop()
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="IMAP intake throughput of the running bot.")
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--flood-threshold", type=int, default=20)
    parser.add_argument(
        "--card-seconds", type=float, default=0.0, help="keep counting cards this long after"
    )
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--profile", help="directory for py-spy profiles")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--kills", type=int, default=0, help="crash safety: SIGKILL and restart the bot N times"
    )
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if args.kills:
        report = [run_crashes(kind, args.mails, args.kills, args) for kind in kinds]
        print()
        for lines in report:
            print("\n".join(lines))
        return 0
    print(f"IMAP intake bench: {args.mails} mails, PostgreSQL at {PG_DSN}", flush=True)
    results = [run_one(kind, args.mails, args) for kind in kinds]
    print()
    for result in results:
        print("\n".join(result.lines()))
    return 0 if all(not r.notes for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
