"""The report's files (pure, bytes out): the chart as a PNG and the per-ticket rows as CSV,
plus the same report as text and JSON for `ticketbot report`.

matplotlib draws with its Agg backend through `Figure` directly (no pyplot, so no global
state and nothing that needs a display); a PNG takes ~100 ms, which callers spend in a
thread, off the event loop.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from models.csat_report import RATINGS, CsatCounts
from models.report import Durations, Report
from models.report_queries import TicketRow

WEEKLY_AFTER_DAYS = 31
CSV_COLUMNS = (
    "number",
    "queue",
    "state",
    "customer",
    "created",
    "first response",
    "closed",
    "owner",
    "minutes",
)


def series(report: Report) -> tuple[list[date], list[int], list[int], list[int], bool]:
    """Days (or Mondays past WEEKLY_AFTER_DAYS days), created, closed, backlog at the end of
    each, and whether they are weeks."""
    days = [day for day, _, _ in report.daily]
    made = [n for _, n, _ in report.daily]
    shut = [n for _, _, n in report.daily]
    backlog = report.backlog_daily or [report.backlog] * len(days)
    if len(days) <= WEEKLY_AFTER_DAYS:
        return days, made, shut, backlog, False
    weeks: dict[date, list[int]] = {}
    for day, m, s, b in zip(days, made, shut, backlog, strict=True):
        monday = date.fromordinal(day.toordinal() - day.weekday())
        week = weeks.setdefault(monday, [0, 0, 0])
        week[0] += m
        week[1] += s
        week[2] = b  # the backlog at the end of the week's last day
    mondays = list(weeks)
    return (
        mondays,
        [weeks[m][0] for m in mondays],
        [weeks[m][1] for m in mondays],
        [weeks[m][2] for m in mondays],
        True,
    )


def build_chart_png(report: Report, zone: str) -> bytes:
    """Created and closed as bars per day (per week past a month), the backlog as a line."""
    days, made, shut, backlog, weekly = series(report)
    figure = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    width = 0.4
    axes.bar([p - width / 2 for p in positions], made, width, label="created", color="#3b82f6")
    axes.bar([p + width / 2 for p in positions], shut, width, label="closed", color="#10b981")
    axes.set_ylabel("tickets per week" if weekly else "tickets per day")
    line = axes.twinx()
    line.plot(positions, backlog, color="#ef4444", marker="o", markersize=3, label="backlog")
    line.set_ylabel("backlog (not closed)")
    line.set_ylim(bottom=0)
    axes.set_ylim(bottom=0)
    step = max(1, len(days) // 16)
    axes.set_xticks(positions[::step])
    axes.set_xticklabels(
        [f"{'wk ' if weekly else ''}{day:%d %b}" for day in days[::step]], rotation=45, ha="right"
    )
    scope = "all queues" if report.queues is None else ", ".join(report.queues) or "no queue"
    axes.set_title(f"{report.period.label} — {scope} (days in {zone})")
    handles = axes.get_legend_handles_labels()
    more = line.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _moment(value: datetime | None, zone: tzinfo) -> str:
    return "" if value is None else value.astimezone(zone).isoformat(timespec="seconds")


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_lines(rows: Iterable[TicketRow], zone: tzinfo) -> str:
    """Per-ticket rows as CSV (RFC 4180, CRLF), times ISO 8601 in `zone`."""
    return "".join(
        _csv_line(
            (
                row.number,
                row.queue,
                row.state,
                row.customer,
                _moment(row.created, zone),
                _moment(row.first_response, zone),
                _moment(row.closed, zone),
                row.owner,
                str(row.minutes),
            )
        )
        for row in rows
    )


def _csv_line(values: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(_safe(v) for v in values)
    return out.getvalue()


def _safe(value: str) -> str:
    """A customer address cannot start a spreadsheet formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


# -- the command line ------------------------------------------------------------------------


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _durations(times: Durations) -> dict[str, Any]:
    return {
        "count": times.count,
        "median_minutes": _minutes(times.median_seconds),
        "p90_minutes": _minutes(times.p90_seconds),
    }


def _ratings(csat: CsatCounts, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "ratings": sum(counts.values()),
        **counts,
        "share": {r: csat.share(r, counts) for r in RATINGS},
    }


def _satisfaction(csat: CsatCounts) -> dict[str, Any]:
    """The ratings given in the period: counts and shares (0..1, null without ratings)."""
    return {
        **_ratings(csat, csat.overall),
        "agents": [{"user": agent, **_ratings(csat, c)} for agent, c in csat.agents],
    }


def report_dict(report: Report, zone: str) -> dict[str, Any]:
    """Everything the report says, for JSON (times in minutes, days in `zone`)."""
    return {
        "period": {
            "label": report.period.label,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
            "time_zone": zone,
        },
        "queues": None if report.queues is None else list(report.queues),
        "created": report.created,
        "closed": report.closed,
        "reopened": report.reopened,
        "backlog": report.backlog,
        "unanswered": report.unanswered,
        "breaches": report.breaches,
        "first_response_minutes_limit": report.first_response_minutes,
        "first_response": _durations(report.first_response),
        "resolution": _durations(report.resolution),
        "agents": [
            {
                "user": a.user_id,
                "claims": a.claims,
                "replies": a.replies,
                "closes": a.closes,
                "minutes": a.minutes,
            }
            for a in report.agents
        ],
        "created_by_priority": dict(report.by_priority),
        "service_levels": None
        if report.sla is None
        else [
            {
                "queue": line.queue,
                "priority": line.priority.value,
                "first_response_met": line.first_met,
                "first_response_breached": line.first_breached,
                "resolution_met": line.resolution_met,
                "resolution_breached": line.resolution_breached,
            }
            for line in report.sla
        ],
        "satisfaction": _satisfaction(report.csat),
        "customers": [{"customer": c, "tickets": n} for c, n in report.customers],
        "subjects": [{"subject": s, "tickets": n} for s, n in report.subjects],
        "daily": [
            {"day": day.isoformat(), "created": made, "closed": shut, "backlog": backlog}
            for (day, made, shut), backlog in zip(
                report.daily,
                report.backlog_daily or [report.backlog] * len(report.daily),
                strict=True,
            )
        ],
    }


def report_json(report: Report, zone: str) -> str:
    return json.dumps(report_dict(report, zone), indent=2, ensure_ascii=False)


def _table(headings: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    cells = [tuple(str(c) for c in row) for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headings)]

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return [line(headings), line(tuple("-" * w for w in widths)), *(line(r) for r in cells)]


def _sla_table(report: Report) -> list[str]:
    """Service levels met/breached per queue and priority (nothing without `sla:`)."""
    if report.sla is None:
        return []
    rows: list[tuple[object, ...]] = [
        (
            line.queue,
            line.priority.value,
            line.first_met,
            line.first_breached,
            line.resolution_met,
            line.resolution_breached,
        )
        for line in report.sla
    ]
    headings = ("queue", "priority", "first met", "first breached", "res. met", "res. breached")
    return [*_table(headings, rows), ""]


def _satisfaction_table(csat: CsatCounts) -> list[str]:
    """Ratings per agent (owner at the close) and all of them, with the shares."""

    def row(who: str, counts: dict[str, int]) -> tuple[object, ...]:
        shares = (_percent(csat.share(r, counts)) for r in RATINGS)
        return (who, *(counts[r] for r in RATINGS), sum(counts.values()), *shares)

    headings = ("satisfaction", *RATINGS, "ratings", *(f"{r} %" for r in RATINGS))
    rows = [row(agent or "(no owner)", counts) for agent, counts in csat.agents]
    return ["", *_table(headings, [*rows, row("all", csat.overall)])]


def _percent(share: float | None) -> str:
    return "–" if share is None else str(round(share * 100))


def report_table(report: Report, zone: str) -> str:
    """The report for people on a terminal: aligned plain text."""
    data = report_dict(report, zone)

    def timing(key: str) -> str:
        times = data[key]
        if not times["count"]:
            return "none timed"
        return (
            f"median {times['median_minutes']} min, p90 {times['p90_minutes']} min "
            f"({times['count']} timed)"
        )

    scope = "all queues" if report.queues is None else ", ".join(report.queues)
    lines = [
        f"Report: {report.period.label} ({scope}; days in {zone})",
        "",
        *_table(
            ("number", "value"),
            [
                ("created", report.created),
                ("closed", report.closed),
                ("reopened", report.reopened),
                ("backlog", report.backlog),
                ("unanswered", report.unanswered),
                (
                    "breaches"
                    + (
                        f" (> {report.first_response_minutes} min)"
                        if report.first_response_minutes
                        else ""
                    ),
                    "–" if report.breaches is None else report.breaches,
                ),
                ("first response", timing("first_response")),
                ("resolution", timing("resolution")),
            ],
        ),
        "",
        *_table(
            ("agent", "claims", "replies", "closes", "minutes"),
            [(a.user_id, a.claims, a.replies, a.closes, a.minutes) for a in report.agents],
        ),
        "",
        *_table(("priority", "created"), list(report.by_priority.items())),
        *(_satisfaction_table(report.csat) if report.csat.total else []),
        "",
        *_sla_table(report),
        *_table(("customer", "tickets"), [(c, n) for c, n in report.customers]),
        "",
        *_table(("subject", "tickets"), [(s, n) for s, n in report.subjects]),
        "",
        *_table(
            ("day", "created", "closed", "backlog"),
            [(d["day"], d["created"], d["closed"], d["backlog"]) for d in data["daily"]],
        ),
    ]
    return "\n".join(lines) + "\n"
