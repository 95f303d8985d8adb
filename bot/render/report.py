"""The report as Block Kit (pure): numbers first, then a small text chart, the agents, the
customers and the subjects. Customer names and subjects come from mail: escaped."""

from __future__ import annotations

from datetime import date

from bot.render.blocks import SECTION_LIMIT, Block, mrkdwn, plain
from bot.render.mrkdwn import escape_within, one_line, truncate
from models.csat_report import RATINGS, CsatCounts
from models.report import AgentLine, Durations, Report

MAX_AGENTS = 15
CHART_WIDTH = 20
DEFINITIONS = (
    "Backlog: not closed at the end of the period. First response: tickets created in the "
    "period, until the first reply. Resolution: tickets closed in the period, from creation "
    "to that close. Medians and p90 are nearest-rank."
)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = int(seconds // 60)
    if minutes < 1:
        return "< 1 min"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


def timing(label: str, times: Durations, extra: str = "") -> str:
    if not times.count:
        return f"*{label}*\nnone yet{extra}"
    return (
        f"*{label}*\nmedian {duration(times.median_seconds)}, "
        f"p90 {duration(times.p90_seconds)} ({times.count} timed{extra})"
    )


def chart(daily: list[tuple[date, int, int]]) -> str:
    """Created and closed per day (per week for long periods) as bars in a code block."""
    rows = daily
    if len(daily) > 31:
        weeks: dict[date, tuple[int, int]] = {}
        for day, made, shut in daily:
            monday = date.fromordinal(day.toordinal() - day.weekday())
            old = weeks.get(monday, (0, 0))
            weeks[monday] = (old[0] + made, old[1] + shut)
        rows = [(monday, made, shut) for monday, (made, shut) in weeks.items()]
    peak = max([1] + [max(made, shut) for _, made, shut in rows])

    def bar(n: int) -> str:
        return "█" * round(n / peak * CHART_WIDTH) if n else ""

    label = "week of " if len(daily) > 31 else ""
    lines = [
        f"{label}{day:%a %d %b}  +{made:<4} {bar(made):<{CHART_WIDTH}}  -{shut:<4} {bar(shut)}"
        for day, made, shut in rows
    ]
    return "```" + "\n".join(lines) + "```"


def count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def agent_line(agent: AgentLine) -> str:
    return (
        f"• <@{agent.user_id}> — {count(agent.claims, 'claim', 'claims')} · "
        f"{count(agent.replies, 'reply', 'replies')} · "
        f"{count(agent.closes, 'close', 'closes')} · {agent.minutes} min"
    )


def ranked(rows: list[tuple[str, int]]) -> str:
    return "\n".join(f"{n}× {escape_within(one_line(text), 200)}" for text, n in rows)


def scope(report: Report) -> str:
    """Which queues the numbers count (an agent's report covers only their own)."""
    if report.queues is None:
        return "All queues."
    names = ", ".join(escape_within(name, 100) for name in report.queues)
    return f"{'Queue' if len(report.queues) == 1 else 'Queues'}: {names or 'none'}."


def breaches(report: Report) -> str:
    limit = report.first_response_minutes
    return f"*Breaches* (first response > {limit} min)\n{report.breaches}"


def by_priority(report: Report) -> str:
    counts = " · ".join(f"{p.capitalize()} {n}" for p, n in report.by_priority.items())
    return f"*Created by priority*\n{counts}"


def service_levels(report: Report) -> str:
    """Met/breached per queue and priority, one line each (only lines with tickets)."""
    lines = [
        f"• {escape_within(line.queue, 100)} · {line.priority.value.capitalize()} — first"
        f" response {line.first_met} met, {line.first_breached} breached · resolution"
        f" {line.resolution_met} met, {line.resolution_breached} breached"
        for line in report.sla or []
    ]
    return "*Service levels* (tickets created in the period, business time)\n" + (
        "\n".join(lines) or "_nothing measured_"
    )


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)} %"


def shares(csat: CsatCounts, counts: dict[str, int] | None = None) -> str:
    """ "Good 60 % · Okay 20 % · Bad 20 %" of `counts` (default: all ratings)."""
    return " · ".join(f"{r.capitalize()} {percent(csat.share(r, counts))}" for r in RATINGS)


def satisfaction(report: Report) -> str:
    """The customers' ratings: shares overall, then per agent (owner at the close)."""
    csat = report.csat
    lines = [
        f"*Customer satisfaction* ({count(csat.total, 'rating', 'ratings')})",
        shares(csat),
    ]
    for agent, counts in csat.agents[:MAX_AGENTS]:
        who = f"<@{agent}>" if agent else "_no owner_"
        lines.append(f"• {who} — {shares(csat, counts)} ({sum(counts.values())})")
    if len(csat.agents) > MAX_AGENTS:
        lines.append(f"… and {len(csat.agents) - MAX_AGENTS} more")
    return "\n".join(lines)


def build_report_blocks(report: Report, zone: str, files: str = "") -> list[Block]:
    """`files` says where the chart image (and the CSV) went, if anywhere."""
    unanswered = f", {report.unanswered} unanswered" if report.unanswered else ""
    context = truncate(f"{scope(report)} Times in {zone}. {DEFINITIONS}", SECTION_LIMIT)
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"Report: {report.period.label}", 150)},
        {"type": "context", "elements": [mrkdwn(context)]},
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Created*\n{report.created}"),
                mrkdwn(f"*Closed*\n{report.closed}"),
                mrkdwn(f"*Reopened*\n{report.reopened}"),
                mrkdwn(f"*Backlog*\n{report.backlog}"),
                mrkdwn(timing("First response", report.first_response, unanswered)),
                mrkdwn(timing("Resolution", report.resolution)),
                *([mrkdwn(breaches(report))] if report.breaches is not None else []),
            ],
        },
    ]
    if report.by_priority:
        blocks.append(
            {"type": "section", "text": mrkdwn(truncate(by_priority(report), SECTION_LIMIT))}
        )
    if report.sla is not None:
        blocks.append(
            {"type": "section", "text": mrkdwn(truncate(service_levels(report), SECTION_LIMIT))}
        )
    if report.daily:
        blocks.append(
            {"type": "section", "text": mrkdwn(truncate(chart(report.daily), SECTION_LIMIT))}
        )
    if files:
        blocks.append({"type": "context", "elements": [mrkdwn(files)]})
    agents = [agent_line(a) for a in report.agents[:MAX_AGENTS]]
    if len(report.agents) > MAX_AGENTS:
        agents.append(f"… and {len(report.agents) - MAX_AGENTS} more")
    blocks.append(
        {
            "type": "section",
            "text": mrkdwn(
                truncate("*Agents*\n" + ("\n".join(agents) or "_no activity_"), SECTION_LIMIT)
            ),
        }
    )
    if report.csat.total:
        text = truncate(satisfaction(report), SECTION_LIMIT)
        blocks.append({"type": "section", "text": mrkdwn(text)})
    if report.customers:
        text = "*Top customers*\n" + ranked(report.customers)
        blocks.append({"type": "section", "text": mrkdwn(truncate(text, SECTION_LIMIT))})
    if report.subjects:
        text = "*Most frequent subjects*\n" + ranked(report.subjects)
        blocks.append({"type": "section", "text": mrkdwn(truncate(text, SECTION_LIMIT))})
    return blocks


def report_fallback(report: Report) -> str:
    return (
        f"Report {report.period.label}: {report.created} created, {report.closed} closed, "
        f"{report.reopened} reopened, backlog {report.backlog}"
    )
