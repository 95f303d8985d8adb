"""The side effects the domain asks for, as outbox rows (kinds and streams in one place).

Slack effects of one ticket share a stream so they arrive in order (the card
before its thread, a thread post before the card shows its result); mail has
its own stream so a slow SMTP server never holds Slack back.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.clock import Clock, system_clock
from models.events import NOTICE_FACTS, Notice
from models.outbox.items import OutboxItem, enqueue

SLACK_CARD_POST = "slack.card.post"
SLACK_CARD_UPDATE = "slack.card.update"
SLACK_CARD_MOVE = "slack.card.move"
SLACK_THREAD_POST = "slack.thread.post"
SLACK_THREAD_NOTICE = "slack.thread.notice"
SLACK_REACTION = "slack.reaction.add"
SLACK_FILE_UPLOAD = "slack.file.upload"
SLACK_QUARANTINE_POST = "slack.quarantine.post"
SLACK_REPORT_FILE = "slack.report.file"
MAIL_SEND = "mail.send"


def slack_stream(ticket_id: int) -> str:
    return f"slack:{ticket_id}"


def mail_stream(ticket_id: int) -> str:
    return f"mail:{ticket_id}"


async def post_card(ticket_id: int, clock: Clock = system_clock) -> OutboxItem:
    return await enqueue(
        SLACK_CARD_POST, {"ticket_id": ticket_id}, stream=slack_stream(ticket_id), clock=clock
    )


async def update_card(ticket_id: int, clock: Clock = system_clock) -> OutboxItem:
    return await enqueue(
        SLACK_CARD_UPDATE, {"ticket_id": ticket_id}, stream=slack_stream(ticket_id), clock=clock
    )


async def move_card(
    ticket_id: int, channel: str, pointer: dict[str, str], clock: Clock = system_clock
) -> OutboxItem:
    """Post the ticket's card in `channel` (its new queue's), then replace the old card with
    `pointer` (the facts of `Notice.MOVED_TO`). One item in the ticket's stream: thread
    posts queued after it go to the new thread, and a retry finds a card already posted."""
    if set(pointer) != NOTICE_FACTS[Notice.MOVED_TO]:
        raise ValueError(f"a pointer takes {sorted(NOTICE_FACTS[Notice.MOVED_TO])}")
    return await enqueue(
        SLACK_CARD_MOVE,
        {"ticket_id": ticket_id, "channel": channel, "pointer": pointer},
        stream=slack_stream(ticket_id),
        clock=clock,
    )


async def post_article(ticket_id: int, article_id: int, clock: Clock = system_clock) -> OutboxItem:
    return await enqueue(
        SLACK_THREAD_POST,
        {"ticket_id": ticket_id, "article_id": article_id},
        stream=slack_stream(ticket_id),
        clock=clock,
    )


async def post_notice(
    ticket_id: int,
    notice: Notice,
    facts: dict[str, str] | None = None,
    clock: Clock = system_clock,
) -> OutboxItem:
    """A notice in the ticket's thread as its kind and facts (`NOTICE_FACTS`); the Slack
    side words and escapes it."""
    facts = facts or {}
    if set(facts) != NOTICE_FACTS[notice]:
        raise ValueError(f"{notice} takes {sorted(NOTICE_FACTS[notice])}, not {sorted(facts)}")
    return await enqueue(
        SLACK_THREAD_NOTICE,
        {"ticket_id": ticket_id, "notice": notice.value, "facts": facts},
        stream=slack_stream(ticket_id),
        clock=clock,
    )


async def add_reaction(
    ticket_id: int, channel: str, ts: str, name: str, clock: Clock = system_clock
) -> OutboxItem:
    return await enqueue(
        SLACK_REACTION,
        {"ticket_id": ticket_id, "channel": channel, "ts": ts, "name": name},
        stream=slack_stream(ticket_id),
        clock=clock,
    )


async def send_mail(ticket_id: int, article_id: int, clock: Clock = system_clock) -> OutboxItem:
    return await enqueue(
        MAIL_SEND, {"article_id": article_id}, stream=mail_stream(ticket_id), clock=clock
    )


async def upload_file(
    ticket_id: int, attachment_id: int, clock: Clock = system_clock
) -> OutboxItem:
    """Share a stored attachment into the ticket's thread (after the post that lists it)."""
    return await enqueue(
        SLACK_FILE_UPLOAD,
        {"ticket_id": ticket_id, "attachment_id": attachment_id},
        stream=slack_stream(ticket_id),
        clock=clock,
    )


async def post_quarantine(
    inbound_id: int,
    channel: str,
    *,
    headers: Sequence[tuple[str, str]],
    error: str,
    attempts: int,
    size: int,
    clock: Clock = system_clock,
) -> OutboxItem:
    """The card for a mail that could not be processed: its headers as facts, for agents."""
    return await enqueue(
        SLACK_QUARANTINE_POST,
        {
            "inbound_id": inbound_id,
            "channel": channel,
            "headers": [list(pair) for pair in headers],
            "error": error,
            "attempts": attempts,
            "size": size,
        },
        stream=f"quarantine:{inbound_id}",
        clock=clock,
    )


async def send_report_file(
    user: str,
    file: str,
    report: dict[str, object],
    clock: Clock = system_clock,
) -> OutboxItem:
    """A report file (`file`: "chart" or "csv") for `user`'s DM with the app: `report` holds
    what it covers (start, end, zone, label, queues), so the worker makes it from the
    database when it delivers; a crash in between loses nothing."""
    return await enqueue(
        SLACK_REPORT_FILE,
        {"user": user, "file": file, "report": report},
        stream=f"report:{user}",
        clock=clock,
    )
