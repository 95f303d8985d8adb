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
    A paragraph is gathered as a list of pieces and joined once, so a million
    soft breaks cost a million appends, not a million copies of the paragraph.
    """
    out: list[str] = []
    pieces: list[str] = []  # the paragraph being joined; empty when none is open
    depth_open = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if pieces and depth != depth_open:
            out.append(_quote_prefix(depth_open) + "".join(pieces))
            pieces = []
        depth_open = depth
        if content.endswith(" ") and content != "-- ":
            pieces.append(content[:-1] if delsp else content)
            continue
        pieces.append(content)
        out.append(_quote_prefix(depth) + "".join(pieces))
        pieces = []
    if pieces:
        out.append(_quote_prefix(depth_open) + "".join(pieces))
    return "\n".join(out)
