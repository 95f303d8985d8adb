"""`ticketbot report [--period P] [--queue Q] [--format table|csv|json]`: the report on standard
output, from the database alone (no Slack, no mail). Days are this machine's days: the zone
named by `TZ` (e.g. `TZ=Europe/Berlin`), else the system's (/etc/localtime), else UTC."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.render.report_files import csv_header, csv_lines, report_json, report_table
from models.report import PeriodError, build_report, parse_period
from models.report_queries import ticket_rows
from models.store import db
from models.store.ticket import Ticket

EXIT_USAGE = 2


def local_zone() -> tuple[tzinfo, str]:
    """The zone days are counted in, and its name."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name), name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return UTC, "UTC"


async def print_report(
    url: str,
    *,
    period: str,
    queue: str | None,
    output: str,
    first_response_minutes: int,
    sla: bool = False,
) -> int:
    zone, zone_name = local_zone()
    try:
        when = parse_period(period, datetime.now(UTC).astimezone(zone))
    except PeriodError as error:
        print(f"ticketbot: report: {error}", file=sys.stderr)
        return EXIT_USAGE
    await db.init(url)
    try:
        queues = None
        if queue is not None:
            known = await queue_names()
            match = [name for name in known if name.casefold() == queue.casefold()]
            if not match:
                print(
                    f"ticketbot: report: no tickets in a queue named {queue!r} "
                    f"(queues with tickets: {', '.join(known) or 'none'})",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            queues = match[:1]
        if output == "csv":
            sys.stdout.write(csv_header())
            async for page in ticket_rows(when.start, when.end, queues):
                sys.stdout.write(csv_lines(page, zone))
            return 0
        report = await build_report(
            when,
            queues=queues,
            first_response_minutes=first_response_minutes,
            now=datetime.now(UTC),
            sla=sla,
        )
        if output == "json":
            print(report_json(report, zone_name))
        else:
            sys.stdout.write(report_table(report, zone_name))
        return 0
    finally:
        await db.close()


async def queue_names() -> list[str]:
    names = await Ticket.all().distinct().order_by("queue").values_list("queue", flat=True)
    return [str(name) for name in names]
