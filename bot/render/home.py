"""The App Home tab: the agent's open tickets and what waits in each of their queues."""

from __future__ import annotations

from datetime import datetime

from bot.render.blocks import SECTION_LIMIT, Block, mrkdwn, plain, ticket_line
from bot.render.mrkdwn import escape_within, truncate
from models.policy import QueueRoute
from models.store.ticket import Ticket


def build_home_view(
    tickets: list[Ticket],
    queues: list[QueueRoute],
    unclaimed: dict[str, int],
    *,
    hook: str,
    command: str,
    now: datetime,
) -> Block:
    """`queues` are the ones the agent works in; none means they are not an agent (yet)."""
    if not queues:
        return _notice(
            "You are not an agent of any queue, so there is nothing to show. "
            "Ask a lead if you should be one."
        )
    mine = "\n".join(ticket_line(t, hook) for t in tickets) or "_You hold no open tickets._"
    waiting = "\n".join(
        f"• *{escape_within(q.name, 100)}* in <#{q.channel}>: "
        + (f"{n} unclaimed" if (n := unclaimed.get(q.name, 0)) else "nothing unclaimed")
        for q in queues
    )
    fallback = f"{now:%Y-%m-%d %H:%M} UTC"
    stamp = f"<!date^{int(now.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": plain("Your open tickets", 150)},
            {"type": "section", "text": mrkdwn(truncate(mine, SECTION_LIMIT))},
            {"type": "divider"},
            {"type": "header", "text": plain("Waiting in your queues", 150)},
            {"type": "section", "text": mrkdwn(truncate(waiting, SECTION_LIMIT))},
            {
                "type": "context",
                "elements": [
                    mrkdwn(f"Updated {stamp} · `{command} queue` lists the unclaimed tickets")
                ],
            },
        ],
    }


def build_unknown_home_view() -> Block:
    """Slack could not say which queues the viewer works in: show nothing rather than guess."""
    return _notice(
        "I cannot check which queues you work in right now, so there is nothing to show. "
        "Open this tab again in a moment."
    )


def _notice(text: str) -> Block:
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": plain("Tickets", 150)},
            {"type": "section", "text": mrkdwn(text)},
        ],
    }
