"""Outbox handler that shares a stored attachment into its ticket's Slack thread.

Slack's upload flow has three steps: `files.getUploadURLExternal` reserves a file id
and an upload URL, the bytes are POSTed to that URL, and `files.completeUploadExternal`
shares the file into the thread (once per file id). slack_sdk's `files_upload_v2`
runs all three in one call and forgets the file id when the last step fails, so a
retry could only start over, and if Slack had shared the file but the answer was lost
the agents would see it twice. Run separately, the steps let us note the file id in the
outbox row once its bytes are at Slack; a retry then only completes that id again,
and Slack answering `file_not_found` for an uploaded id means an earlier try did it.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.errors import not_sent, to_outbox_error
from bot.delivery.pace import ChannelPace
from models.attachments import uploadable
from models.delivery_records import file_shared
from models.effects import SLACK_FILE_UPLOAD
from models.errors import PermanentFailure, RetryLater, StorageError
from models.outbox.items import OutboxItem, remember
from models.outbox.worker import Handler
from models.store.article import Attachment
from models.store.blobs import open_attachment_async
from models.store.ticket import Ticket

logger = logging.getLogger(__name__)

# Where the outbox row remembers a file whose bytes Slack has, until it is shared.
PENDING_FILE = "pending_file_id"
# The whole file goes in one request; with the two API calls this stays well inside the
# outbox worker's 120 s lease, so no second worker starts the same upload meanwhile.
UPLOAD_TIMEOUT_SECONDS = 60.0


class FileUploads:
    """Handlers for SLACK_FILE_UPLOAD; `directory` is where intake stored the blobs."""

    def __init__(
        self, client: AsyncWebClient, directory: str | Path, *, pace: ChannelPace | None = None
    ) -> None:
        self._client = client
        self._directory = Path(directory)
        self._pace = pace  # sharing posts a message in the card's thread: it is paced too

    def handlers(self) -> dict[str, Handler]:
        return {SLACK_FILE_UPLOAD: self.upload}

    async def upload(self, item: OutboxItem) -> None:
        attachment = await Attachment.get_or_none(id=int(item.payload["attachment_id"]))
        if attachment is None or not uploadable(attachment):
            return  # already shared, or never stored (too large): the thread post lists it
        ticket = await Ticket.get(id=int(item.payload["ticket_id"]))
        if not ticket.slack_ts:
            raise not_sent("card not posted yet")
        if self._pace is not None:
            self._pace.take(ticket.slack_channel, item.id)
        file_id = str(item.payload.get(PENDING_FILE) or "")
        if not file_id:
            file_id = await self._send(attachment)
            await remember(item, {PENDING_FILE: file_id})
        await self._share(file_id, attachment, ticket)
        await file_shared(attachment.id, file_id)

    async def _send(self, attachment: Attachment) -> str:
        """Steps 1 and 2: reserve a file id and upload the bytes; returns the file id."""
        try:
            content = await open_attachment_async(self._directory, attachment.storage_path)
        except (StorageError, FileNotFoundError) as exc:
            raise PermanentFailure(
                f"attachment {attachment.id} cannot be read from {self._directory}: {exc}"
                " (every ticketbot process must use the same mail.attachments.directory)"
            ) from exc
        try:
            reserved = await self._client.files_getUploadURLExternal(
                filename=attachment.filename, length=len(content)
            )
        except Exception as exc:
            raise to_outbox_error(exc) from exc
        await self._post_bytes(str(reserved["upload_url"]), content)
        return str(reserved["file_id"])

    async def _post_bytes(self, url: str, content: bytes) -> None:
        """POST the bytes to the upload URL (no token: the URL is the credential)."""
        session = self._client.session
        try:
            if session is not None and not session.closed:
                await self._post(session, url, content)
            else:
                async with aiohttp.ClientSession() as own:
                    await self._post(own, url, content)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise to_outbox_error(exc) from exc

    async def _post(self, session: aiohttp.ClientSession, url: str, content: bytes) -> None:
        async with session.post(
            url,
            data=io.BytesIO(content),  # raw bytes over 1 MB make aiohttp warn of a blocked loop
            proxy=self._client.proxy,
            ssl=self._client.ssl if self._client.ssl is not None else True,
            timeout=aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT_SECONDS),
        ) as response:
            if response.status == 200:
                return
            retry_after = response.headers.get("Retry-After", "")
            raise RetryLater(
                f"slack upload step answered HTTP {response.status}",
                after=float(retry_after) if retry_after.isdigit() else None,
                maybe_delivered=response.status >= 500,
            )

    async def _share(self, file_id: str, attachment: Attachment, ticket: Ticket) -> None:
        """Step 3: complete the upload into the card's thread."""
        try:
            await self._client.files_completeUploadExternal(
                files=[{"id": file_id, "title": attachment.filename}],
                channel_id=ticket.slack_channel,
                thread_ts=ticket.slack_ts,
            )
        except SlackApiError as exc:
            if exc.response.get("error") == "file_not_found":
                # Its bytes reached Slack, so only a completion (an earlier try whose
                # answer was lost, or slack_sdk's own retry after a dropped connection)
                # makes the id unknown: it is shared already.
                logger.info("file %s of attachment %s was shared already", file_id, attachment.id)
                return
            raise to_outbox_error(exc) from exc
        except Exception as exc:
            raise to_outbox_error(exc) from exc
