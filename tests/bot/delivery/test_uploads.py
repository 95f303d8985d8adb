"""The file upload handler against the Slack emulator, on SQLite and PostgreSQL.

Retries are driven the way the outbox worker drives them: the row is read afresh for
each attempt, so what an attempt remembers has to be in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery.uploads import PENDING_FILE, FileUploads
from bot.sandbox.emulator import SUPPORT_CHANNEL, SlackEmulator
from bot.sandbox.emulator.state import UploadedFile
from mail.parsed import ParsedAttachment
from models import effects
from models.attachments import save_attachments
from models.outbox.items import OutboxItem, OutboxStatus, PermanentFailure, RetryLater
from models.outbox.worker import OutboxWorker
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind, Attachment
from models.store.ticket import Ticket
from tests.support.clock import HandClock

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
THREE_MB = bytes(range(256)) * (3 * 1024 * 1024 // 256)
SMALL = ParsedAttachment("error log.txt", "text/plain", b"printer says: PC LOAD LETTER\n")


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return Policy(
        queues=(QueueRoute("Support", SUPPORT_CHANNEL),),
        address="support@ticketbot.example",
        attachments_dir=str(tmp_path / "attachments"),
        attachment_max_bytes=10 * 1024 * 1024,
    )


@pytest.fixture
def uploads(slack_client: AsyncWebClient, policy: Policy) -> FileUploads:
    return FileUploads(slack_client, policy.attachments_dir)


async def new_ticket(client: AsyncWebClient, *, card: bool = True) -> Ticket:
    ts = (
        (await client.chat_postMessage(channel=SUPPORT_CHANNEL, text="card"))["ts"]
        if card
        else None
    )
    return await Ticket.create(
        number="2026011510000017",
        queue="Support",
        subject="Printer on floor 3 is broken",
        customer_email="alice@example.com",
        slack_channel=SUPPORT_CHANNEL,
        slack_ts=ts,
        last_activity_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


async def queue_upload(
    ticket: Ticket, part: ParsedAttachment, policy: Policy, clock: HandClock | None = None
) -> tuple[Attachment, OutboxItem]:
    """What intake does: store the part, record it, queue its upload."""
    article = await Article.create(ticket=ticket, kind=ArticleKind.EMAIL_IN, created_at=NOW)
    [attachment] = await save_attachments(article, [part], policy, NOW)
    item = await effects.upload_file(ticket.id, attachment.id, clock or HandClock(NOW))
    return attachment, item


async def attempt(uploads: FileUploads, item: OutboxItem) -> None:
    await uploads.upload(await OutboxItem.get(id=item.id))


def shared(slack: SlackEmulator) -> list[UploadedFile]:
    return [f for f in slack.files() if f.completed]


def thread_files(slack: SlackEmulator, ticket: Ticket) -> list[list[str]]:
    assert ticket.slack_ts
    return [m.files for m in slack.replies(SUPPORT_CHANNEL, ticket.slack_ts)]


async def file_id(attachment: Attachment) -> str | None:
    return (await Attachment.get(id=attachment.id)).slack_file_id


async def test_a_3mb_attachment_goes_through_the_two_step_upload_into_the_thread(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient, policy: Policy
) -> None:
    clock = HandClock(NOW)
    ticket = await new_ticket(slack_client)
    part = ParsedAttachment("../../etc/Scan 2026.pdf", "application/pdf", THREE_MB)
    attachment, _ = await queue_upload(ticket, part, policy, clock)
    worker = OutboxWorker(
        FileUploads(slack_client, policy.attachments_dir).handlers(), owner="w", clock=clock
    )

    assert await worker.drain_once() == 1

    [file] = slack.files()
    assert (file.filename, file.title, file.length) == ("Scan 2026.pdf", "Scan 2026.pdf", 3 << 20)
    assert file.content == THREE_MB
    assert (file.channel, file.thread_ts, file.completed) == (
        SUPPORT_CHANNEL,
        ticket.slack_ts,
        True,
    )
    assert thread_files(slack, ticket) == [[file.id]]
    assert await file_id(attachment) == file.id
    assert [c.method for c in slack.calls()][1:] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert (await OutboxItem.get()).status == OutboxStatus.DONE


async def test_a_shared_http_session_is_used_and_left_open(
    database: str, slack: SlackEmulator, policy: Policy
) -> None:
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url, session=session)
        ticket = await new_ticket(client)
        attachment, item = await queue_upload(ticket, SMALL, policy)
        await attempt(FileUploads(client, policy.attachments_dir), item)
        assert not session.closed
    [file] = shared(slack)
    assert (file.filename, file.content) == ("error log.txt", SMALL.content)
    assert await file_id(attachment) == file.id


async def test_rate_limited_upload_step_is_retried_and_shared_once(
    database: str,
    slack: SlackEmulator,
    slack_client: AsyncWebClient,
    uploads: FileUploads,
    policy: Policy,
) -> None:
    ticket = await new_ticket(slack_client)
    attachment, item = await queue_upload(ticket, SMALL, policy)
    slack.faults.add(method="upload", status=429, retry_after=7)

    with pytest.raises(RetryLater) as info:
        await attempt(uploads, item)
    assert info.value.after == 7
    assert shared(slack) == [] and await file_id(attachment) is None

    await attempt(uploads, item)
    [file] = shared(slack)
    assert file.content == SMALL.content
    assert thread_files(slack, ticket) == [[file.id]]
    assert await file_id(attachment) == file.id


async def test_rate_limited_completion_completes_the_same_file_once(
    database: str,
    slack: SlackEmulator,
    slack_client: AsyncWebClient,
    uploads: FileUploads,
    policy: Policy,
) -> None:
    ticket = await new_ticket(slack_client)
    attachment, item = await queue_upload(ticket, SMALL, policy)
    slack.faults.add(method="files.completeUploadExternal", status=429, retry_after=2)

    with pytest.raises(RetryLater) as info:
        await attempt(uploads, item)
    assert info.value.after == 2
    [reserved] = slack.files()
    assert (reserved.content, reserved.completed) == (SMALL.content, False)
    assert (await OutboxItem.get(id=item.id)).payload[PENDING_FILE] == reserved.id

    await attempt(uploads, item)
    assert [f.id for f in shared(slack)] == [reserved.id]  # not uploaded a second time
    assert thread_files(slack, ticket) == [[reserved.id]]
    assert await file_id(attachment) == reserved.id
    assert len(slack.calls("files.getUploadURLExternal")) == 1


async def test_dropped_connections_on_completion_do_not_share_twice(
    database: str,
    slack: SlackEmulator,
    slack_client: AsyncWebClient,
    uploads: FileUploads,
    policy: Policy,
) -> None:
    ticket = await new_ticket(slack_client)
    attachment, item = await queue_upload(ticket, SMALL, policy)
    # Twice: slack_sdk retries a dropped connection once by itself.
    slack.faults.add(method="files.completeUploadExternal", status=None, disconnect=True, times=2)

    with pytest.raises(RetryLater):
        await attempt(uploads, item)
    assert shared(slack) == []

    await attempt(uploads, item)
    [file] = shared(slack)
    assert thread_files(slack, ticket) == [[file.id]]
    assert await file_id(attachment) == file.id


class LosesTheFirstCompletionAnswer(AsyncWebClient):
    """Slack completes the upload, but its answer never arrives (once)."""

    lost = False

    async def files_completeUploadExternal(self, **kwargs: Any) -> AsyncSlackResponse:
        response = await super().files_completeUploadExternal(**kwargs)
        if not self.lost:
            self.lost = True
            raise TimeoutError("the answer was lost")
        return response


async def test_a_completion_whose_answer_was_lost_is_not_shared_again(
    database: str, slack: SlackEmulator, policy: Policy
) -> None:
    client = LosesTheFirstCompletionAnswer(token=slack.bot_token, base_url=slack.base_url)
    uploads = FileUploads(client, policy.attachments_dir)
    ticket = await new_ticket(client)
    attachment, item = await queue_upload(ticket, SMALL, policy)

    with pytest.raises(RetryLater):
        await attempt(uploads, item)
    [file] = shared(slack)  # Slack did share it

    await attempt(uploads, item)
    assert shared(slack) == [file]
    assert thread_files(slack, ticket) == [[file.id]]
    assert await file_id(attachment) == file.id


async def test_an_attachment_over_the_limit_is_not_uploaded(
    database: str, slack: SlackEmulator, slack_client: AsyncWebClient, policy: Policy
) -> None:
    small_limit = Policy(
        queues=policy.queues,
        address=policy.address,
        attachments_dir=policy.attachments_dir,
        attachment_max_bytes=1024 * 1024,
    )
    ticket = await new_ticket(slack_client)
    part = ParsedAttachment("huge.iso", "application/octet-stream", THREE_MB)
    attachment, item = await queue_upload(ticket, part, small_limit)
    assert attachment.too_large

    await attempt(FileUploads(slack_client, policy.attachments_dir), item)
    assert slack.files() == []
    assert [c.method for c in slack.calls()] == ["chat.postMessage"]  # just the card
    assert await file_id(attachment) is None


async def test_an_attachment_shared_before_is_left_alone(
    database: str,
    slack: SlackEmulator,
    slack_client: AsyncWebClient,
    uploads: FileUploads,
    policy: Policy,
) -> None:
    ticket = await new_ticket(slack_client)
    attachment, item = await queue_upload(ticket, SMALL, policy)
    await Attachment.filter(id=attachment.id).update(slack_file_id="F0SHAREDBEFORE")

    await attempt(uploads, item)
    assert slack.files() == []


async def test_waits_for_the_card(
    database: str,
    slack: SlackEmulator,
    slack_client: AsyncWebClient,
    uploads: FileUploads,
    policy: Policy,
) -> None:
    ticket = await new_ticket(slack_client, card=False)
    _, item = await queue_upload(ticket, SMALL, policy)
    with pytest.raises(RetryLater, match="card not posted yet"):
        await attempt(uploads, item)
    assert slack.calls() == []


async def test_a_missing_blob_is_a_permanent_failure(
    database: str,
    slack: SlackEmulator,
    slack_client: AsyncWebClient,
    uploads: FileUploads,
    policy: Policy,
) -> None:
    ticket = await new_ticket(slack_client)
    attachment, item = await queue_upload(ticket, SMALL, policy)
    (Path(policy.attachments_dir) / attachment.storage_path).unlink()

    with pytest.raises(PermanentFailure, match=r"mail\.attachments\.directory"):
        await attempt(uploads, item)
    assert slack.files() == []
