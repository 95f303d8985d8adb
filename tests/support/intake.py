"""The intake of a mail in the test's own process: the real parser, trimming and domain,
without the worker pool (domain tests run many ordinary mails; the pool has its own tests)."""

from __future__ import annotations

from mail.parse import parse_mail
from mail.quotes import trim_reply
from models.clock import Clock, system_clock
from models.intake import IntakeResult, receive_mail
from models.policy import Policy


async def ingest(
    raw: bytes, policy: Policy, *, source: str = "imap", clock: Clock = system_clock
) -> IntakeResult:
    mail = parse_mail(raw)
    shown = trim_reply(mail.text)
    return await receive_mail(
        mail,
        raw,
        policy,
        display_text=shown.visible if shown.trimmed else None,
        source=source,
        clock=clock,
    )
