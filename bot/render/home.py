"""The App Home tab: the agent's open tickets and what waits in each of their queues."""

from __future__ import annotations

from datetime import datetime

from bot.render.blocks import SECTION_LIMIT, Block, mrkdwn, plain, ticket_line
from bot.render.mrkdwn import escape_within, truncate
from bot.render.sla import clock_brief
from models.policy import QueueRoute
from models.sla import SlaPolicy
from models.sla_state import TicketClocks, running_clocks
from models.store.ticket import Ticket


def home_line(ticket: Ticket, hook: str, sla: SlaPolicy | None, now: datetime) -> str:
    """A held ticket, with its running service-level clocks' time left (with `sla:`)."""
    clocks = running_clocks(sla, TicketClocks.of(ticket), now)
    briefs = " · ".join(clock_brief(view) for view in clocks)
    return ticket_line(ticket, hook) + (f" · {briefs}" if briefs else "")


def build_home_view(
    tickets: list[Ticket],
    queues: list[QueueRoute],
    unclaimed: dict[str, int],
    *,
    hook: str,
    command: str,
    now: datetime,
    sla: SlaPolicy | None = None,
) -> Block:
    """`queues` are the ones the agent works in; none means they are not an agent (yet)."""
    if not queues:
        return _notice(
            "You are not an agent of any queue, so there is nothing to show. "
            "Ask a lead if you should be one."
        )
    lines = [home_line(t, hook, sla, now) for t in tickets]
    mine = "\n".join(lines) or "_You hold no open tickets._"
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
