"""The flood digest's words (pure)."""

from __future__ import annotations

from typing import Any

from bot.render.blocks import mrkdwn

Block = dict[str, Any]


def digest_message(waiting: int, total: int, command: str) -> tuple[str, list[Block]]:
    """`waiting` cards still to come of a flood of `total` new tickets; 0: all are in."""
    if waiting:
        noun = "ticket" if waiting == 1 else "tickets"
        text = f":inbox_tray: {waiting} new {noun} — `{command} queue`"
        detail = (
            f"*{waiting} new {noun}* are waiting for their cards, which follow here as fast"
            f" as Slack takes them. `{command} queue` lists the unclaimed tickets now."
        )
    else:
        text = f":inbox_tray: All {total} new tickets are in — `{command} queue`"
        detail = f"All *{total} new tickets* of the flood have their cards below."
    return text, [{"type": "section", "text": mrkdwn(detail)}]
