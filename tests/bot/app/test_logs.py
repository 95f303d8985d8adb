"""Log output: `log.format: json` is one parseable object a line with the work's facts;
addresses are redacted in both formats, the Message-ID of the mail in hand is kept whole."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.app.logs import configure_logging, in_log_scope
from mail.redaction import redact_addresses
from models.log_context import bind, log_scope
from models.outbox.items import OutboxItem


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def lines_of(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_carry_time_level_logger_message_and_the_works_facts(
    restore_logging: None,
) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)
    log = logging.getLogger("ticketbot.test")
    with log_scope():
        bind(message_id="<request-1@customer.example>")
        log.info("mail %s from %s", "<request-1@customer.example>", "jane.doe@customer.example")
        bind(ticket="2026010110000017")
        log.warning("stored")
    log.info("outside")
    first, second, third = (json.loads(line) for line in lines_of(stream))
    assert first["level"] == "INFO" and first["logger"] == "ticketbot.test"
    assert first["time"].endswith("Z") and first["time"][10] == "T"
    assert first["message"] == "mail <request-1@customer.example> from j***@customer.example"
    assert first["message_id"] == "<request-1@customer.example>"
    assert "ticket" not in first
    assert second["ticket"] == "2026010110000017" and second["level"] == "WARNING"
    assert "ticket" not in third and "message_id" not in third  # the scope ended


def test_a_json_line_stays_one_line_whatever_the_message_holds(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)
    log = logging.getLogger("ticketbot.test")
    try:
        raise ValueError("refused for bob@example.org\nsecond line")
    except ValueError:
        log.exception("subject: Grüße\u2028\r\nforged line {")
    [line] = lines_of(stream)
    assert line.isascii()
    [entry] = [json.loads(line) for line in str(line).splitlines()]
    assert entry["message"] == "subject: Grüße\u2028\r\nforged line {"
    assert "ValueError: refused for b***@example.org" in entry["exception"]


def test_text_lines_are_redacted_too(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "text", stream)
    logging.getLogger("ticketbot.test").info("ack to jane.doe@customer.example")
    [line] = lines_of(stream)
    assert line.endswith(" INFO ticketbot.test: ack to j***@customer.example")


def test_the_level_holds_and_chatty_libraries_stay_quiet(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)
    logging.getLogger("ticketbot.test").debug("not shown")
    logging.getLogger("aioimaplib").info("per command")
    assert lines_of(stream) == []


@pytest.mark.parametrize(
    ("text", "keep", "expected"),
    [
        ("from jane@example.com", (), "from j***@example.com"),
        ("a@b.example, c.d+e@f.example", (), "a***@b.example, c***@f.example"),
        ("j***@example.com", (), "j***@example.com"),  # redacting twice changes nothing
        ("id <x1@host.example> by y@host.example", ("<x1@host.example>",), None),
        ("no address here", (), "no address here"),
        ("user@localhost", (), "user@localhost"),  # no domain with a dot: left alone
    ],
)
def test_redact_addresses(text: str, keep: tuple[str, ...], expected: str | None) -> None:
    if expected is None:
        expected = "id <x1@host.example> by y***@host.example"
    assert redact_addresses(text, keep) == expected


async def test_outbox_handlers_log_in_the_items_scope(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)

    async def handler(item: OutboxItem) -> None:
        bind(ticket="2026010110000017")
        logging.getLogger("bot.delivery").info("posted")

    item = OutboxItem(id=7, kind="slack.card.post", stream="slack:3", payload={"ticket_id": 3})
    await in_log_scope({"slack.card.post": handler})["slack.card.post"](item)
    logging.getLogger("models.outbox").info("after")
    posted, after = (json.loads(line) for line in lines_of(stream))
    assert (posted["outbox_item"], posted["ticket_id"], posted["ticket"]) == (
        "7",
        "3",
        "2026010110000017",
    )
    assert "outbox_item" not in after and "ticket" not in after
