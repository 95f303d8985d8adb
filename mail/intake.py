"""From raw bytes to a stored ticket: parse (never failing), then hand to the domain."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

from mail.parse import empty_mail, parse_mail
from mail.parsed import ParsedMail
from mail.quotes import trim_reply
from models.clock import Clock, system_clock
from models.intake import IntakeResult, receive_mail
from models.policy import Policy

logger = logging.getLogger(__name__)


def parse_safely(raw: bytes) -> ParsedMail:
    try:
        return parse_mail(raw)
    except Exception as exc:  # the parser promises not to raise; if it does, lose nothing
        logger.exception("parser failed on a %d-byte message; storing it raw", len(raw))
        unreadable = empty_mail(
            hashlib.sha256(raw).hexdigest(), [f"parser failed: {type(exc).__name__}"]
        )
        text = raw[:4000].decode("utf-8", errors="replace").replace("\x00", "")
        return replace(unreadable, subject="(unreadable message)", text=text)


async def ingest(
    raw: bytes, policy: Policy, *, source: str = "imap", clock: Clock = system_clock
) -> IntakeResult:
    mail = parse_safely(raw)
    shown = trim_reply(mail.text)  # what agents see in Slack; the full text is kept
    result = await receive_mail(
        mail,
        raw,
        policy,
        display_text=shown.visible if shown.trimmed else None,
        source=source,
        clock=clock,
    )
    logger.info(
        "mail %s from %s: %s%s",
        mail.message_id or "(no Message-ID)",
        redact(mail.sender.email if mail.sender else ""),
        result.outcome,
        f" {result.ticket_number}" if result.ticket_number else "",
    )
    return result


def redact(address: str) -> str:
    """Keep logs useful without spreading customers' addresses: j***@example.com."""
    local, at, domain = address.partition("@")
    if not at:
        return "(unknown)" if not address else "***"
    return f"{local[:1]}***@{domain}"
