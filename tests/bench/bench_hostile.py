"""What one hostile mail costs to read: time and memory of the parse, per corpus file.

    python -m tests.bench.bench_hostile [--budget 5] [--memory-mb 1024] [--only NAME ...]
                                        [--no-stall]

Each mail of tests/fixtures/hostile/ goes through `mail.parse.parse_mail` and then
`mail.quotes.trim_reply` on its text, in a fresh Python process whose address space
is capped (RLIMIT_AS at --memory-mb) and which is killed when the wall-clock budget
runs out. The clock starts once the child has imported the parser and loaded the
mail, so interpreter start-up is not counted. Per file it prints the class, what the
helpdesk should make of the mail, its size, the parse and trim seconds, the child's
peak RSS (`ru_maxrss` from wait4, so it is known for killed children too) and the
outcome:

- ok
- timeout: killed at the budget
- killed (SIG…): died of a signal we did not send, e.g. a C stack overflow
- error (exit N): …: exited with an exception, e.g. a MemoryError outside the parser's
  guards (its seconds column then shows how long the child lived, marked "!")
- memory: …: the parser caught a MemoryError and noted it as a defect

The summary names the worst time and memory. It ends in PASS, or FAIL (exit
status 1) when any mail was not ok. `--only` takes a file name, stem or class
and may be repeated.

`--budget` mirrors `mail.limits.parse_seconds`, `--memory-mb` `parse_memory_mb`.

Then the same mails go through the running bot (`tests.bench.loop_stall`: the real
runtime on this process's event loop, Dovecot, the Slack emulator, an SMTP sink) while a
10 ms heartbeat measures how late the loop wakes; it prints the worst stall with the mails
in hand at the time, PASS when it stays under 100 ms (`--no-stall` skips this part).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mail.limits import DEFAULT_LIMITS
from tests.support.hostile_corpus import load_mail, read_manifest

REPO = Path(__file__).resolve().parents[2]
#: Importing the parser and loading (gunzipping) a 50 MiB mail must not take longer.
STARTUP_SECONDS = 120.0
READY = b"ready\n"


@dataclass(frozen=True, slots=True)
class Budget:
    """What one mail may cost: wall-clock seconds and address space."""

    seconds: float = DEFAULT_LIMITS.parse_seconds
    memory_mb: int = DEFAULT_LIMITS.parse_memory_mb


@dataclass(frozen=True, slots=True)
class Measurement:
    """What reading one corpus mail cost, and how it ended."""

    file: str
    attack_class: str
    expect: str
    size: int
    parse_seconds: float | None
    trim_seconds: float | None
    wall_seconds: float
    peak_rss_mb: float
    outcome: str

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


Entry = dict[str, Any]  # one manifest entry
Runner = Callable[[Entry, Budget], Measurement]


# --- the child: python -m tests.bench.bench_hostile --child FILE --memory-mb N ----------


def child(file: str, memory_mb: int) -> None:
    """Parse and trim one corpus mail under the memory cap; report on stdout as JSON."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from mail.parse import parse_mail  # noqa: PLC0415 - imported under the cap
    from mail.quotes import trim_reply  # noqa: PLC0415

    raw = load_mail(file).raw
    sys.stdout.buffer.write(READY)
    sys.stdout.buffer.flush()
    started = time.perf_counter()
    parsed = parse_mail(raw)
    parsed_at = time.perf_counter()
    trimmed = trim_reply(parsed.text)
    done = time.perf_counter()
    memory = [defect for defect in parsed.defects if "MemoryError" in defect]
    report = {
        "parse_seconds": parsed_at - started,
        "trim_seconds": done - parsed_at,
        "text_chars": len(parsed.text),
        "visible_chars": len(trimmed.visible),
        "defects": len(parsed.defects),
        "memory_defect": memory[0] if memory else None,
    }
    sys.stdout.write(json.dumps(report) + "\n")


# --- the parent -------------------------------------------------------------------------


class _Killer:
    """Kills one child at a deadline, unless it was reaped first (its pid may be reused)."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._lock = threading.Lock()
        self._reaped = False
        self._timer: threading.Timer | None = None
        self.fired = False

    def arm(self, seconds: float) -> None:
        self.disarm()
        self._timer = threading.Timer(seconds, self._kill)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def reaped(self) -> None:
        with self._lock:
            self._reaped = True
        self.disarm()

    def _kill(self) -> None:
        with self._lock:
            if not self._reaped:
                self.fired = True
                os.kill(self._pid, signal.SIGKILL)


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:80] if lines else "no output"


def _outcome(status: int, killed_by_us: bool, report: dict[str, Any] | None, stderr: bytes) -> str:
    if killed_by_us:
        return "timeout"
    if os.WIFSIGNALED(status):
        return f"killed ({signal.Signals(os.WTERMSIG(status)).name})"
    if os.waitstatus_to_exitcode(status) != 0 or report is None:
        return f"error (exit {os.waitstatus_to_exitcode(status)}): {_last_line(stderr)}"
    if report["memory_defect"]:
        return f"memory: {report['memory_defect'][:60]}"
    return "ok"


def run_in_subprocess(entry: Entry, budget: Budget) -> Measurement:
    """Read one corpus mail in a fresh, capped child process, killed at the budget."""
    command = [sys.executable, "-m", "tests.bench.bench_hostile", "--child", entry["file"]]
    command += ["--memory-mb", str(budget.memory_mb)]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr)
        assert process.stdout is not None
        killer = _Killer(process.pid)
        killer.arm(STARTUP_SECONDS)
        ready = process.stdout.readline() == READY
        started = time.monotonic()
        if ready:
            killer.arm(budget.seconds)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        killer.reaped()
        process.returncode = os.waitstatus_to_exitcode(status)
        output = process.stdout.read()
        process.stdout.close()
        stderr.seek(0)
        errors = stderr.read()
    report = json.loads(output) if ready and output.strip() else None
    return Measurement(
        file=entry["file"],
        attack_class=entry["class"],
        expect=entry["expect"],
        size=entry["size"],
        parse_seconds=report["parse_seconds"] if report else None,
        trim_seconds=report["trim_seconds"] if report else None,
        wall_seconds=wall,
        peak_rss_mb=usage.ru_maxrss / 1024,
        outcome=_outcome(status, killer.fired and ready, report, errors),
    )


def select(entries: Iterable[Entry], only: Sequence[str]) -> list[Entry]:
    """The manifest entries whose file, stem or class is in `only` (all when it is empty)."""
    wanted = set(only)
    return [
        entry
        for entry in entries
        if not wanted or wanted & {entry["file"], entry["file"].split(".")[0], entry["class"]}
    ]


# --- the table --------------------------------------------------------------------------

HEADER = (
    f"{'file':<36} {'class':<11} {'expect':<17} {'size':>7} "
    f"{'parse s':>8} {'trim s':>7} {'peak MB':>8}  outcome"
)


def human_size(size: int) -> str:
    for unit, scale in (("M", 1024 * 1024), ("k", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}{unit}"
    return f"{size}B"


def format_row(measurement: Measurement, budget: Budget) -> str:
    """One table row; a child that died shows the seconds it lived, marked with "!"."""
    if measurement.parse_seconds is not None and measurement.trim_seconds is not None:
        parse, trim = f"{measurement.parse_seconds:.2f}", f"{measurement.trim_seconds:.2f}"
    elif measurement.outcome == "timeout":
        parse, trim = f">{budget.seconds:g}", "-"
    else:
        parse, trim = f"{measurement.wall_seconds:.2f}!", "-"
    return (
        f"{measurement.file[:36]:<36} {measurement.attack_class:<11} {measurement.expect:<17} "
        f"{human_size(measurement.size):>7} {parse:>8} {trim:>7} "
        f"{measurement.peak_rss_mb:>8.0f}  {measurement.outcome}"
    )


def spent(measurement: Measurement) -> float:
    """Seconds the mail took: parse and trim when it finished, else the wall clock."""
    if measurement.parse_seconds is None or measurement.trim_seconds is None:
        return measurement.wall_seconds
    return measurement.parse_seconds + measurement.trim_seconds


def summarize(measurements: Sequence[Measurement], budget: Budget) -> tuple[str, bool]:
    """The summary lines, and whether every mail stayed within the budget."""
    if not measurements:
        return "no corpus file selected", False
    slowest = max(measurements, key=spent)
    biggest = max(measurements, key=lambda m: m.peak_rss_mb)
    counts: dict[str, int] = {}
    for measurement in measurements:
        kind = measurement.outcome.split(" ")[0].rstrip(":")
        counts[kind] = counts.get(kind, 0) + 1
    passed = all(m.ok and spent(m) <= budget.seconds for m in measurements)
    lines = [
        f"worst time:   {spent(slowest):.2f} s ({slowest.file}, {slowest.outcome})",
        f"worst memory: {biggest.peak_rss_mb:.0f} MB peak RSS ({biggest.file})",
        "outcomes:     " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())),
        f"{'PASS' if passed else 'FAIL'} (budget {budget.seconds:g} s, {budget.memory_mb} MB "
        f"address space, {len(measurements)} mails)",
    ]
    return "\n".join(lines), passed


def measure(
    entries: Sequence[Entry], budget: Budget, runner: Runner = run_in_subprocess
) -> list[Measurement]:
    """Run every entry, printing its row as soon as it is known."""
    print(HEADER, flush=True)
    measurements = []
    for entry in entries:
        measurement = runner(entry, budget)
        print(format_row(measurement, budget), flush=True)
        measurements.append(measurement)
    return measurements


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="What one hostile mail costs to parse.")
    parser.add_argument(
        "--budget", type=float, default=DEFAULT_LIMITS.parse_seconds, help="seconds per mail"
    )
    parser.add_argument(
        "--memory-mb", type=int, default=DEFAULT_LIMITS.parse_memory_mb, help="RLIMIT_AS in MiB"
    )
    parser.add_argument("--only", action="append", default=[], help="file, stem or class")
    parser.add_argument(
        "--no-stall", action="store_true", help="skip the running bot's event-loop stall"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.memory_mb)
        return 0
    budget = Budget(args.budget, args.memory_mb)
    entries = select(read_manifest(), args.only)
    summary, passed = summarize(measure(entries, budget), budget)
    print(summary)
    if not args.no_stall and entries:
        print("\nthe same mails through the running bot (Dovecot, emulator, SMTP sink) …")
        # Imported here: the bot's modules would inflate every child's peak RSS above.
        from tests.bench.loop_stall import measure_stall  # noqa: PLC0415

        mails = [(entry["file"], load_mail(entry["file"]).raw) for entry in entries]
        report = asyncio.run(measure_stall(mails))
        print("\n".join(report.lines()))
        passed = passed and report.passed
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
