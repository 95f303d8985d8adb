"""Search results as Block Kit (pure): one line per ticket (number, state, owner, age,
subject) and the matching snippet with its hits in bold, then **More** (`search_more`) while
there are more. Subjects and snippets come from mail: escaped."""

from __future__ import annotations

import json
from datetime import datetime

from bot.render.blocks import SECTION_LIMIT, STATE_LABELS, Block, button, mrkdwn, slack_date
from bot.render.mrkdwn import escape, escape_within, one_line, truncate
from bot.slack import ids
from models.search import PAGE_SIZE, SearchHit, SearchPage

SUBJECT_CHARS = 120
SNIPPET_CHARS = 400
MAX_QUERY_IN_BUTTON = 1500  # a button's value holds at most 2000 characters


def snippet_text(pieces: list[tuple[str, bool]], limit: int = SNIPPET_CHARS) -> str:
    """The snippet in mrkdwn: everything escaped, hits in bold, at most `limit` characters
    of the mail shown."""
    out, used = [], 0
    for text, hit in pieces:
        room = limit - used
        if room <= 0:
            out.append("…")
            break
        shown = text if len(text) <= room else text[: max(0, room - 1)] + "…"
        used += len(shown)
        out.append(f"*{escape(shown)}*" if hit and shown.strip() else escape(shown))
    return "".join(out)


def age(created: datetime, now: datetime) -> str:
    seconds = max(0, int((now - created).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def hit_line(hit: SearchHit, hook: str, now: datetime) -> str:
    owner = f"<@{hit.owner_id}>" if hit.owner_id else "unclaimed"
    subject = escape_within(one_line(hit.subject) or "(no subject)", SUBJECT_CHARS)
    when = slack_date(hit.created_at.timestamp(), age(hit.created_at, now))
    line = f"*{hook}{hit.number}* · {STATE_LABELS[hit.state]} · {owner} · {when} ago\n{subject}"
    if hit.snippet:
        line += "\n>" + snippet_text(hit.snippet)
    return truncate(line, SECTION_LIMIT)


def more_value(text: str, page: int) -> str:
    return json.dumps({"q": text[:MAX_QUERY_IN_BUTTON], "page": page}, ensure_ascii=False)


def read_more_value(value: str) -> tuple[str, int]:
    """The search text and page a More button carries; ("", 0) if it carries none."""
    try:
        data = json.loads(value)
        return str(data["q"]), max(0, int(data["page"]))
    except (ValueError, TypeError, KeyError):
        return "", 0


def build_search_results(
    text: str, page: SearchPage, hook: str, now: datetime, notes: list[str] | None = None
) -> list[Block]:
    """`text` is what the asker typed (shown escaped, and carried by More)."""
    first = page.page * PAGE_SIZE + 1
    shown = f"{first}–{first + len(page.hits) - 1}" if page.hits else "no tickets"
    title = f"*Search* `{escape_within(one_line(text), 200)}` — {shown}"
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(title)}]
    if notes:
        blocks.append(
            {"type": "context", "elements": [mrkdwn(escape_within(" ".join(notes), 1000))]}
        )
    if not page.hits:
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(
                    "_No ticket in your queues matches._"
                    if page.page == 0
                    else "_No more tickets._"
                ),
            }
        )
    blocks += [{"type": "section", "text": mrkdwn(hit_line(hit, hook, now))} for hit in page.hits]
    if page.more:
        blocks.append(
            {
                "type": "actions",
                "elements": [button("More", ids.SEARCH_MORE, more_value(text, page.page + 1))],
            }
        )
    return blocks
