"""Translate slack_sdk and transport failures into outbox retry decisions, in one place."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from models.outbox.items import PermanentFailure, RetryLater

# Errors that only a code change can fix: retrying would send the same bad request again.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "no_text",
        "invalid_arguments",
        "markdown_text_conflict",
        "too_many_attachments",
        "invalid_attachments",
        "cant_update_message",
        "message_not_found",
        "is_archived",
    }
)


RATE_LIMITED = "slack rate limited"
ANSWERED_ERROR = "slack error:"
NOT_SENT = "not sent:"


def not_sent(reason: str) -> RetryLater:
    """Retry later; nothing went to Slack in this attempt."""
    return RetryLater(f"{NOT_SENT} {reason}")


def may_have_landed(last_error: str) -> bool:
    """Could the failed attempt that recorded `last_error` have been done by Slack anyway?

    Only a Slack answer (a rate limit, an error) or a failure before any call proves
    that it was not; a 5xx, a timeout, a dropped connection or our own failure after
    the call (the database, say) leave it open.
    """
    return not last_error.startswith((RATE_LIMITED, ANSWERED_ERROR, NOT_SENT))


def to_outbox_error(exc: BaseException) -> RetryLater | PermanentFailure:
    """The single mapping from a failed Slack call to what the outbox should do next."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = response.status_code
        error = str(response.get("error", "") or "") if isinstance(response.data, dict) else ""
        if status == 429 or error in ("ratelimited", "rate_limited"):
            retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
            after = float(retry_after) if retry_after and str(retry_after).isdigit() else 1.0
            return RetryLater(f"{RATE_LIMITED} ({error or status})", after=after)
        if status >= 500:
            return RetryLater(f"slack server error {status}")
        if error in PERMANENT_ERRORS:
            return PermanentFailure(f"slack refused the call: {error}")
        return RetryLater(f"{ANSWERED_ERROR} {error or status}")
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | TimeoutError | OSError):
        return RetryLater(f"cannot reach slack: {type(exc).__name__}: {exc}")
    if isinstance(exc, SlackClientError):
        return RetryLater(f"slack client error: {exc}")
    return RetryLater(f"unexpected {type(exc).__name__}: {exc}")
