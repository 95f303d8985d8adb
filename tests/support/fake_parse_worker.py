"""A parse worker that misbehaves on request, for the pool's failure paths.

It speaks `mail.parse_worker`'s protocol (the same frames, the same ready
message) and parses for real, except when the mail's bytes ask it to misbehave
in a full parse: `HANG` never answers, `EXIT` dies mid-job, `GARBAGE` answers
nonsense, `HUGE` announces an answer of a terabyte, `HOG` eats memory until
RLIMIT_AS stops it. `SLOW-HEADERS` hangs when asked to read the headers alone.
"""

from __future__ import annotations

import json
import os
import sys
import time

from mail.limits import ParseLimits
from mail.parse_worker import FRAME_HEADER, _confine, frame, read_frame, read_mail


def main() -> int:
    limits = ParseLimits(**json.loads(sys.argv[1]))
    _confine(limits)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    out.write(frame(("ready", os.getpid())))
    out.flush()
    while (job := read_frame(sys.stdin.buffer, 1 << 30)) is not None:
        reason, raw = job
        full = reason is None
        if (full and b"HANG" in raw) or (not full and b"SLOW-HEADERS" in raw):
            time.sleep(3600)
        if full and b"EXIT" in raw:
            os._exit(3)
        if full and b"GARBAGE" in raw:
            out.write(frame("not a tuple"))
        elif full and b"HUGE" in raw:
            out.write(FRAME_HEADER.pack(1 << 40))
        elif full and b"HOG" in raw:
            hog = []
            while True:
                hog.append(bytearray(50 * 1024 * 1024))
        else:
            mail, display = read_mail(raw, reason, limits)
            out.write(frame(("ok", mail, display, 0.0, 0)))
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
