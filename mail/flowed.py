"""Undo format=flowed (RFC 3676) so paragraphs read as one line each.

Mail clients that send flowed text (Thunderbird, Apple Mail, many webmails)
break long lines with a trailing space; shown as-is in Slack the paragraph
would be ragged, and quoted lines would lose their depth.
"""

from __future__ import annotations

__all__ = ["unflow"]


def _quote_prefix(depth: int) -> str:
    return ">" * depth + " " if depth else ""


def unflow(text: str, delsp: bool = False) -> str:
    """Join soft-broken lines of a format=flowed body (newlines already "\\n").

    A line ending in a space continues on the next line of the same quote
    depth; with delsp=yes that space is removed. "-- " stays a signature line.
    """
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if pending is not None and depth != pending_depth:
            out.append(_quote_prefix(pending_depth) + pending)
            pending = None
        if pending is None:
            pending, pending_depth = content, depth
        else:
            pending += content
        if content.endswith(" ") and content != "-- ":
            if delsp:
                pending = pending[:-1]
            continue
        out.append(_quote_prefix(depth) + pending)
        pending = None
    if pending is not None:
        out.append(_quote_prefix(pending_depth) + pending)
    return "\n".join(out)
