"""An inbound mail's attachments: blobs on disk, one Attachment row each.

Called inside the intake transaction. A blob written for a transaction that then
rolls back stays on disk unreferenced; it is harmless (the retry of that mail
finds it by digest and stores nothing new).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from models.facts import AttachmentFacts
from models.policy import Policy
from models.store.article import Article, Attachment
from models.store.blobs import free_bytes, safe_filename, sha256_hex, store_attachment_async

logger = logging.getLogger(__name__)

DEFAULT_CONTENT_TYPE = "application/octet-stream"


async def save_attachments(
    article: Article, parts: Sequence[AttachmentFacts], policy: Policy, now: datetime
) -> list[Attachment]:
    """Store each part (once per content) and record it on `article`, in order.

    A part over `policy.attachment_max_bytes` is not stored but still gets a row
    (`too_large`, no `storage_path`) so the thread can list it; so is one that would
    leave less than `policy.attachment_min_free_bytes` on the disk (`disk_full`): the
    raw mail in the database still has it. Inline parts (images
    a `cid:` link shows in the HTML) are attachments like any other, marked `is_inline`.
    """
    if not parts:  # a mail without files touches no disk
        return []
    directory = Path(policy.attachments_dir)
    saved: list[Attachment] = []
    room = await asyncio.to_thread(free_bytes, directory) - policy.attachment_min_free_bytes
    for part in parts:
        content = part.content
        disk_full = len(content) > room and len(content) <= policy.attachment_max_bytes
        if disk_full:
            logger.warning(
                "attachment of %d bytes not stored: %s is almost full "
                "(mail.attachments.min_free_bytes); it stays in the raw mail",
                len(content),
                directory,
            )
            blob = None
        else:
            blob = await store_attachment_async(
                directory, content, max_bytes=policy.attachment_max_bytes
            )
        if blob is not None and blob.created:
            room -= blob.size
        digest = blob.sha256 if blob else await asyncio.to_thread(sha256_hex, content)
        content_id = part.content_id.strip("<> ")[:255] if part.content_id else None
        saved.append(
            await Attachment.create(
                article=article,
                filename=safe_filename(part.filename, part.content_type),
                content_type=part.content_type.strip()[:255] or DEFAULT_CONTENT_TYPE,
                size=len(content),
                sha256=digest,
                content_id=content_id or None,
                is_inline=part.is_inline,
                storage_path=blob.storage_path if blob else "",
                too_large=blob is None and not disk_full,
                disk_full=disk_full,
                created_at=now,
            )
        )
    return saved


def uploadable(attachment: Attachment) -> bool:
    """Whether the file should be shared into Slack: stored, not too large, not shared yet.

    Empty files are not: Slack refuses to reserve an upload of length 0.
    """
    return (
        bool(attachment.storage_path)
        and not attachment.too_large
        and attachment.size > 0
        and attachment.slack_file_id is None
    )
