"""Outbox handler that puts a report's chart (PNG) or per-ticket rows (CSV) into the asker's
DM with the app: conversations.open, then the same upload steps as attachments
(bot/delivery/uploads.py): reserve a file id and send the bytes, note the id in the outbox
row, complete the upload into the DM. The file is made when it is delivered, from what the
row says the report covers; the chart is drawn in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.errors import to_outbox_error
from bot.delivery.uploads import PENDING_FILE, FileUploads
from bot.render.report_files import build_chart_png, csv_header, csv_lines
from models.effects import SLACK_REPORT_FILE
from models.errors import PermanentFailure
from models.outbox.items import OutboxItem, remember
from models.outbox.worker import Handler
from models.report import CHART, CSV, Period, build_report, period_of_payload
from models.report_queries import ticket_rows

logger = logging.getLogger(__name__)


class ReportFiles:
    """Handlers for SLACK_REPORT_FILE."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._bytes = FileUploads(client, ".")  # its upload step, for bytes made here

    def handlers(self) -> dict[str, Handler]:
        return {SLACK_REPORT_FILE: self.deliver}

    async def deliver(self, item: OutboxItem) -> None:
        payload = item.payload
        kind = str(payload["file"])
        if kind not in (CHART, CSV):
            raise PermanentFailure(f"no such report file: {kind!r}")
        report: dict[str, Any] = dict(payload["report"])
        period, zone = period_of_payload(report)
        extension = "png" if kind == CHART else "csv"
        name = f"report-{period.start:%Y-%m-%d}-{period.end:%Y-%m-%d}.{extension}"
        file_id = str(payload.get(PENDING_FILE) or "")
        if not file_id:
            content = await self._make(kind, report, period, zone)
            file_id = await self._send(name, content)
            await remember(item, {PENDING_FILE: file_id})
        channel = await self._dm(str(payload["user"]))
        title = f"{'Chart' if kind == CHART else 'Tickets'}: {period.label}"
        await self._share(file_id, name, title, channel)

    async def _make(
        self, kind: str, report: dict[str, Any], period: Period, zone: ZoneInfo
    ) -> bytes:
        queues = report.get("queues")
        names = None if queues is None else [str(q) for q in queues]
        if kind == CHART:
            counted = await build_report(
                period,
                queues=names,
                first_response_minutes=int(report.get("first_response_minutes") or 0) or None,
            )
            return await asyncio.to_thread(build_chart_png, counted, str(report["zone"]))
        parts = [csv_header()]
        async for page in ticket_rows(period.start, period.end, names):
            parts.append(csv_lines(page, zone))
        return "".join(parts).encode("utf-8")

    async def _send(self, name: str, content: bytes) -> str:
        try:
            reserved = await self._client.files_getUploadURLExternal(
                filename=name, length=len(content)
            )
        except Exception as exc:
            raise to_outbox_error(exc) from exc
        await self._bytes._post_bytes(str(reserved["upload_url"]), content)
        return str(reserved["file_id"])

    async def _dm(self, user: str) -> str:
        try:
            opened = await self._client.conversations_open(users=user)
        except Exception as exc:
            raise to_outbox_error(exc) from exc
        return str(opened["channel"]["id"])

    async def _share(self, file_id: str, name: str, title: str, channel: str) -> None:
        try:
            await self._client.files_completeUploadExternal(
                files=[{"id": file_id, "title": title}],
                channel_id=channel,
                initial_comment=f"{title} ({Path(name).suffix[1:].upper()})",
            )
        except SlackApiError as exc:
            if exc.response.get("error") == "file_not_found":
                logger.info("report file %s was shared already", file_id)
                return
            raise to_outbox_error(exc) from exc
        except Exception as exc:
            raise to_outbox_error(exc) from exc
