"""Text made safe to normalise: no run of more than 30 non-starters (UAX #15's Stream-Safe
Text Format).

Unicode normalisation sorts every run of combining marks by class, and both CPython's and
PostgreSQL's `normalize()` take time quadratic in a run's length when its classes are mixed:
the hostile corpus's zalgo mail (100 000 marks on one letter in the indexed text) held one
`INSERT INTO article` for about 50 s of PostgreSQL CPU and stalled the intake. No writing
system puts more than a handful of marks on a letter; UAX #15 bounds a run at 30, and the
marks past the 30th are dropped here before anything normalises a stranger's text.

A non-starter is a code point with a non-zero canonical combining class, and every code
point this Python does not know counts as one too: PostgreSQL's tables may be newer, and a
mark only it knows must not slip past the bound.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

MAX_NON_STARTERS = 30


def _is_non_starter(code: int) -> bool:
    if 0xD800 <= code <= 0xDFFF:
        return False
    char = chr(code)
    return unicodedata.combining(char) != 0 or unicodedata.category(char) == "Cn"


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


@cache
def non_starter_class() -> str:
    """The inside of a bracket expression matching one non-starter, written with
    `\\uXXXX`/`\\UXXXXXXXX` escapes that Python's `re` and PostgreSQL's regular
    expressions read alike."""
    parts: list[str] = []
    start: int | None = None
    for code in range(0x0300, sys.maxunicode + 2):
        inside = code <= sys.maxunicode and _is_non_starter(code)
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            last = code - 1
            parts.append(_escape(start) if start == last else f"{_escape(start)}-{_escape(last)}")
            start = None
    return "".join(parts)


def _run_pattern() -> str:
    marks = non_starter_class()
    return f"([{marks}]{{{MAX_NON_STARTERS}}})[{marks}]+"


@cache
def _run() -> re.Pattern[str]:
    return re.compile(_run_pattern())


def cap_marks(text: str) -> str:
    """`text` with every run of non-starters cut to its first 30."""
    return _run().sub(r"\1", text)


def pg_cap_marks(expression: str) -> str:
    """`cap_marks` of an SQL text expression in PostgreSQL (an E'' literal, so the
    escapes survive whatever `standard_conforming_strings` says)."""
    pattern = _run_pattern().replace("\\", "\\\\")
    return f"regexp_replace({expression}, E'{pattern}', E'\\\\1', 'g')"
