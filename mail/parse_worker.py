"""The parse worker process: `python -m mail.parse_worker LIMITS_JSON`.

It reads one job at a time from stdin and answers on stdout, each a frame of
an 8-byte big-endian length and a pickle. Parsing hostile mail here instead
of in the bot means a pathological mail costs this process, never the event
loop: the parent kills it past its time budget, and `RLIMIT_AS` turns a
memory bomb into a `MemoryError` or a dead worker instead of a dead bot.

Frames: the worker first sends `("ready", pid)`; a job is `(reason, raw)` —
`reason` None for a full parse, else why only the headers are to be read —
and its answer `("ok", ParsedMail, display_text, seconds, peak_rss_kb)` or
`("error", description, seconds, peak_rss_kb)`.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import signal
import struct
import sys
import time
from typing import Any, BinaryIO

from mail.limits import ParseLimits
from mail.parse import parse_headers_only, parse_mail
from mail.parsed import ParsedMail
from mail.quotes import trim_reply

FRAME_HEADER = struct.Struct(">Q")
#: A job frame may hold the largest mail we accept plus pickle overhead; anything
#: bigger is a broken parent, not a mail.
MAX_FRAME_SLACK = 1024 * 1024


def read_frame(stream: BinaryIO, limit: int) -> Any:
    """One pickled frame from `stream`; None at end of input."""
    header = stream.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        return None
    (length,) = FRAME_HEADER.unpack(header)
    if length > limit:
        raise ValueError(f"frame of {length} bytes is over the limit of {limit}")
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)


def frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME_HEADER.pack(len(data)) + data


def read_mail(raw: bytes, reason: str | None, limits: ParseLimits) -> tuple[ParsedMail, str | None]:
    """Parse (or read only the headers of) one mail, and trim it for Slack."""
    mail = parse_mail(raw, limits) if reason is None else parse_headers_only(raw, reason, limits)
    shown = trim_reply(mail.text)
    return mail, shown.visible if shown.trimmed else None


def _peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _confine(limits: ParseLimits) -> None:
    """Cap this process's memory and leave the CPU to the bot when both want it."""
    cap = limits.parse_memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    os.nice(5)
    # Ctrl-C reaches the whole process group; the bot decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def serve(limits: ParseLimits, jobs: BinaryIO, answers: BinaryIO) -> None:
    answers.write(frame(("ready", os.getpid())))
    answers.flush()
    limit = limits.max_message_bytes + MAX_FRAME_SLACK
    while (job := read_frame(jobs, limit)) is not None:
        reason, raw = job
        started = time.perf_counter()
        try:
            mail, display = read_mail(raw, reason, limits)
            answer: tuple[object, ...] = (
                "ok",
                mail,
                display,
                time.perf_counter() - started,
                _peak_rss_kb(),
            )
            data = frame(answer)
        except MemoryError:
            data = frame(("error", "memory", time.perf_counter() - started, _peak_rss_kb()))
        except Exception as exc:  # parse_mail promises not to raise; report if it does
            data = frame(
                ("error", type(exc).__name__, time.perf_counter() - started, _peak_rss_kb())
            )
        answers.write(data)
        answers.flush()


def main(argv: list[str]) -> int:
    limits = ParseLimits(**json.loads(argv[1])) if len(argv) > 1 else ParseLimits()
    _confine(limits)
    # The frames own stdout; a stray print() elsewhere must not corrupt them.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        serve(limits, sys.stdin.buffer, answers)
    except (BrokenPipeError, KeyboardInterrupt):
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
