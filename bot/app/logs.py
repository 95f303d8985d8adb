"""The process's log output (`log.format`): text lines, or one JSON object a line.

JSON lines carry `time` (UTC, ISO 8601), `level`, `logger`, `message`, an `exception` when
there is one, and the facts of the work in hand from `models.log_context` (`ticket`,
`message_id`, `outbox_item`…). In both formats every e-mail address in a message or a
traceback is redacted (`j***@example.com`), except inside the Message-ID of the mail in
hand, which is kept whole so lines can be matched to the mail.

The standard library's `logging` does it in a few lines, so no dependency: structlog
would mean rewriting every call site, and python-json-logger adds little beyond
`json.dumps` while the redaction and the context would still be ours.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TextIO

from mail.redaction import redact_addresses
from models.log_context import current, log_scope

if TYPE_CHECKING:  # the outbox (and tortoise) only where handlers are wrapped: not for `manifest`
    from models.outbox.items import OutboxItem
    from models.outbox.worker import Handler

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that say something at INFO for every command or job.
CHATTY_LOGGERS = ("aioimaplib", "apscheduler")


def _kept() -> tuple[str, ...]:
    message_id = current().get("message_id")
    return (message_id,) if message_id else ()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact_addresses(super().format(record), _kept())


class JsonFormatter(logging.Formatter):
    """One JSON object a line; non-ASCII is escaped, so no character of a message (not even
    U+2028) can split a line for a reader."""

    def format(self, record: logging.LogRecord) -> str:
        keep = _kept()
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_addresses(record.getMessage(), keep),
        }
        entry.update(current())
        if record.exc_info:
            entry["exception"] = redact_addresses(self.formatException(record.exc_info), keep)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=True)


def configure_logging(level: str, fmt: LogFormat = "text", stream: TextIO | None = None) -> None:
    """The root logger writes to `stream` (stderr) in `fmt`; called from `main()` only."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def in_log_scope(handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """Outbox handlers whose log lines name the item and its ticket (`outbox_item`,
    `ticket_id`); the handler may bind more (the ticket number) as it learns it."""

    def scoped(handler: Handler) -> Handler:
        async def handle(item: OutboxItem) -> None:
            with log_scope(outbox_item=item.id, ticket_id=item.payload.get("ticket_id")):
                await handler(item)

        return handle

    return {kind: scoped(handler) for kind, handler in handlers.items()}
