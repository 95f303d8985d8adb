"""Make untrusted text safe for Slack: escape mrkdwn control characters, fit Block Kit limits."""

from __future__ import annotations

ELLIPSIS = "…"
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """Neutralise `<!channel>`, `<@U…>`, `<url|label>`: encode only &, < and >, as Slack asks."""
    return "".join(_ENTITIES.get(ch, ch) for ch in text)


def truncate(text: str, limit: int) -> str:
    """Cut to at most `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def escape_within(text: str, limit: int) -> str:
    """Escape, then cut to `limit` characters without splitting an entity like `&amp;`."""
    out: list[str] = []
    used = 0
    for index, ch in enumerate(text):
        piece = _ENTITIES.get(ch, ch)
        remaining_after = len(text) - index - 1
        room = limit - used - (1 if remaining_after else 0)
        if len(piece) > room:
            out.append(ELLIPSIS)
            return "".join(out)
        out.append(piece)
        used += len(piece)
    return "".join(out)


def one_line(text: str) -> str:
    return " ".join(text.split())
