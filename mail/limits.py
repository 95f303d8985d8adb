"""What one inbound mail may cost to read (SPEC "Hostile mail", `mail.limits`).

The support address is open to the whole internet: every limit here bounds
the time, memory or rows a single stranger's mail can take.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """`mail.limits` as the parser and its worker pool use them."""

    #: Wall-clock budget of one parse (MIME, HTML, quotes, TNEF) in a worker process.
    parse_seconds: float = 5.0
    #: Address-space limit of a parse worker (RLIMIT_AS), in MiB.
    parse_memory_mb: int = 1024
    #: Larger mails are stored (up to this many bytes) but not parsed: a stub ticket says so.
    max_message_bytes: int = 25 * MIB
    #: MIME parts read; the rest are counted in a defect.
    max_parts: int = 500
    #: Attachments kept per mail; the rest are listed by name.
    max_attachments: int = 50
    #: HTML converted to text; the rest is cut with a marker.
    max_html_bytes: int = 2 * MIB
    #: Failed intakes of one mail before it is quarantined.
    max_attempts: int = 3


DEFAULT_LIMITS = ParseLimits()
