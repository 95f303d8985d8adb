"""What one piped mail costs: `ticketbot ingest`, one process per mail, as an MTA runs it.

A `ticketbot run` (Slack emulator in its own process, acknowledgements off, SQLite or a
fresh PostgreSQL database) takes N mails from one feeder, then N more from two feeders in
parallel; then the bot is stopped and `--fallback` mails are stored by `ingest` itself
(the path every mail took before the ingest socket). Each mail is a new ticket, fed on
stdin. Per run it prints mails/s, the CPU of each ingest process (user+sys from
`os.wait4`, its own children included: median, p90, max, mean) and the bot's CPU per mail,
and checks every mail became one ticket. Targets (issue 14): ≥ 10 mails/s with one
feeder, ≤ 100 ms CPU per mail per process.

    python -m tests.bench.bench_pipe [--mails 300] [--fallback 30] [--db sqlite|postgres] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import yaml

from tests.bench.stack import bench_env, bot_config, start_emulator
from tests.support.dovecot import free_port
from tests.support.make_mail import make_mail

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    name: str
    feeders: int
    wall: float = 0.0
    cpu_ms: list[float] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    bot_cpu_ms: float | None = None
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        count = len(self.cpu_ms)
        cpu = sorted(self.cpu_ms)
        p90 = cpu[min(count - 1, int(0.9 * count))] if cpu else 0.0
        bot = (
            f", bot {self.bot_cpu_ms / count:.1f} ms CPU/mail"
            if self.bot_cpu_ms is not None and count
            else ""
        )
        return (
            f"{self.name:<26} {count:>4} mails, {self.feeders} feeder(s): "
            f"{count / self.wall:6.1f} mails/s; ingest CPU/process median "
            f"{statistics.median(cpu):.0f} ms, p90 {p90:.0f}, max {cpu[-1]:.0f}, "
            f"mean {statistics.fmean(cpu):.0f}{bot}"
        )


def ingest(workdir: Path, env: dict[str, str], mail: bytes) -> tuple[str, float, int]:
    """One `ticketbot ingest` with the mail on stdin: (its output, CPU ms, exit status)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", "--config", str(workdir / "app.yaml")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(mail)
    proc.stdin.close()
    output = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)  # reaped here, so its rusage is ours to read
    proc.returncode = os.waitstatus_to_exitcode(status)
    return output, (usage.ru_utime + usage.ru_stime) * 1000, proc.returncode


def feed(workdir: Path, env: dict[str, str], mails: list[bytes], run: Run) -> None:
    lock = threading.Lock()
    shares = [mails[i :: run.feeders] for i in range(run.feeders)]

    def feeder(share: list[bytes]) -> None:
        for mail in share:
            output, cpu, code = ingest(workdir, env, mail)
            with lock:
                run.cpu_ms.append(cpu)
                run.outcomes.append(output.strip())
                if code != 0 or not output.startswith("-: new_ticket "):
                    run.failures.append(f"exit {code}: {output.strip()[:300]}")

    threads = [threading.Thread(target=feeder, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.wall = time.perf_counter() - started


def process_cpu_ms(pid: int) -> float:
    """CPU of a live process and its live children (the parse workers), from /proc."""
    pids = {pid}
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        pids.update(int(child) for child in children)
    total = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (after pid, comm)
    return total * 1000 / TICKS


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"ticketbot exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling a condition with a deadline
    raise SystemExit("ticketbot did not become healthy")


def count_tickets(url: str) -> int:
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM ticket").fetchone()[0])

    async def count() -> int:
        connection = await asyncpg.connect(url)
        try:
            return int(await connection.fetchval("SELECT COUNT(*) FROM ticket"))
        finally:
            await connection.close()

    return asyncio.run(count())


def mails(start: int, count: int) -> list[bytes]:
    return [
        make_mail(
            from_=f"Customer {n} <customer{n}@customer.example>",
            subject=f"Request number {n}",
            message_id=f"<bench-{n}-{uuid.uuid4().hex[:8]}@customer.example>",
            body=f"Hello,\n\nrequest {n}: the printer prints blank pages.\n\nCustomer {n}\n",
        )
        for n in range(start, start + count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=300, help="mails per run through the bot")
    parser.add_argument("--fallback", type=int, default=30, help="mails stored without a bot")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin URL"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (bot.log)")
    args = parser.parse_args()

    env = bench_env()
    workdir = Path(tempfile.mkdtemp(prefix="tb-pipe-"))
    emulator, api_url = start_emulator(env)
    pg_name = f"ticketbot_pipe_{uuid.uuid4().hex[:8]}"
    if args.db == "postgres":
        asyncio.run(_admin(args.pg, f'CREATE DATABASE "{pg_name}"'))
        db_url = args.pg.rsplit("/", 1)[0] + "/" + pg_name
    else:
        db_url = f"sqlite://{workdir}/data/ticketbot.sqlite3"
    port = free_port()
    config = bot_config(db_url, api_url, http_port=port)
    (workdir / "app.yaml").write_text(yaml.safe_dump(config))
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "--log-level", "WARNING", "run", "--config", "app.yaml"],
        cwd=workdir,
        env=env,
        stdout=(workdir / "bot.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    runs: list[Run] = []
    try:
        wait_healthy(f"http://127.0.0.1:{port}", bot)
        print(f"load before: {os.getloadavg()[0]:.2f}; {args.db}; workdir {workdir}", flush=True)
        ingest(workdir, env, mails(-1, 1)[0])  # warm the page cache and the bot
        fed = 1
        for name, feeders in (("through the bot", 1), ("through the bot", 2)):
            run = Run(name, feeders)
            batch = mails(fed, args.mails)
            before = process_cpu_ms(bot.pid)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            feed(workdir, env, batch, run)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            run.bot_cpu_ms = process_cpu_ms(bot.pid) - before
            fed += args.mails
            runs.append(run)
            print(run.line(), flush=True)
            total = (after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime) * 1e3
            print(f"{'':<26} (all ingest processes together: {total / args.mails:.0f} ms/mail)")
        bot.send_signal(signal.SIGTERM)
        bot.wait(60)
        if args.fallback:
            run = Run("stored directly (no bot)", 1)
            feed(workdir, env, mails(fed, args.fallback), run)
            fed += args.fallback
            runs.append(run)
            print(run.line(), flush=True)
        stored = count_tickets(db_url)
        failures = [f for run in runs for f in run.failures]
        print(f"tickets in the database: {stored} of {fed} mails fed; {len(failures)} failures")
        for failure in failures[:5]:
            print(f"  {failure}")
        one = runs[0]
        per_mail = statistics.median(one.cpu_ms)
        rate = len(one.cpu_ms) / one.wall
        verdict = "PASS" if rate >= 10 and per_mail <= 100 and not failures else "FAIL"
        print(
            f"{verdict}: one feeder {rate:.1f} mails/s (target ≥ 10), "
            f"{per_mail:.0f} ms CPU per ingest process (target ≤ 100)"
        )
        return 0 if verdict == "PASS" and stored == fed else 1
    finally:
        if bot.poll() is None:
            bot.terminate()
            bot.wait(30)
        assert emulator.stdin is not None
        emulator.stdin.close()
        emulator.wait(30)
        if args.db == "postgres":
            asyncio.run(_admin(args.pg, f'DROP DATABASE IF EXISTS "{pg_name}"'))
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


async def _admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


if __name__ == "__main__":
    sys.exit(main())
