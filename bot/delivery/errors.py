"""Translate slack_sdk and transport failures into outbox retry decisions, in one place.

Each decision also says whether the failed call may have been done by Slack anyway
(`RetryLater.maybe_delivered`); the worker stores it as the row's `outcome`, and a retry
that could post twice reads it (`may_have_landed`) before it posts.
"""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from models.errors import PermanentFailure, RetryLater
from models.outbox.items import OutboxItem, Outcome

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


# Slack's answer to a call over its rate limit (with HTTP 429, or on its own).
RATE_LIMIT_ERRORS = frozenset({"ratelimited", "rate_limited"})


def not_sent(reason: str) -> RetryLater:
    """Retry later; nothing went to Slack in this attempt."""
    return RetryLater(f"not sent: {reason}", maybe_delivered=False)


def may_have_landed(item: OutboxItem) -> bool:
    """Could an earlier attempt of `item` have been done by Slack anyway?

    Yes when its worker died mid-attempt (the lease it held was never released), or when
    the last attempt ended `maybe_delivered` (a 5xx, a timeout, a dropped connection, our
    own failure after the call). A row attempted before the outcome was recorded
    (`pending` with attempts) cannot say, so it counts as maybe delivered too: looking
    first costs one read, posting twice is what this prevents.
    """
    if item.lease_owner:
        return True
    if item.outcome == Outcome.PENDING:
        return item.attempts > 0
    return item.outcome == Outcome.MAYBE_DELIVERED


def to_outbox_error(exc: BaseException) -> RetryLater | PermanentFailure:
    """The single mapping from a failed Slack call to what the outbox should do next.

    Only Slack's own answer proves the call was not done (a rate limit, an error it names);
    everything else leaves it open.
    """
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = response.status_code
        error = str(response.get("error", "") or "") if isinstance(response.data, dict) else ""
        if status == 429 or error in RATE_LIMIT_ERRORS:
            retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
            after = float(retry_after) if retry_after and str(retry_after).isdigit() else 1.0
            return RetryLater(  # Slack says *later*: the attempt does not count
                f"slack rate limited ({error or status})",
                after=after,
                maybe_delivered=False,
                counts=False,
            )
        if status >= 500:
            return RetryLater(f"slack server error {status}", maybe_delivered=True)
        if error in PERMANENT_ERRORS:
            return PermanentFailure(f"slack refused the call: {error}")
        return RetryLater(f"slack error: {error or status}", maybe_delivered=False)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | TimeoutError | OSError):
        return RetryLater(f"cannot reach slack: {type(exc).__name__}: {exc}", maybe_delivered=True)
    if isinstance(exc, SlackClientError):
        return RetryLater(f"slack client error: {exc}", maybe_delivered=True)
    return RetryLater(f"unexpected {type(exc).__name__}: {exc}", maybe_delivered=True)
