"""`ticketbot check`: try every dependency once and say plainly what is wrong."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from slack_sdk.errors import SlackApiError

from bot.app.config import Settings
from bot.app.manifest import BOT_SCOPES, SHORTCUTS
from bot.app.wiring import imap_config, smtp_config
from bot.slack.app import build_client
from mail.errors import MailError
from mail.imap import ImapPoller, PolledMessage
from mail.smtp import SmtpSender
from models.errors import DatabaseUnavailable
from models.outbox.leases import new_owner
from models.store import db
from models.store.blobs import probe_writable
from models.store.mailbox import DatabaseMailboxStore


class CheckFailed(Exception):
    """A dependency answered, but not as ticketbot needs; the message says what to do."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


async def _database(settings: Settings) -> str:
    url = settings.database.url
    await db.init(url, global_fallback=False)
    try:
        await db.ensure_answers(url)  # DatabaseUnavailable names it, without the password
    finally:
        await db.close()
    return f"{db.safe_url(url)} answers"


async def _imap(settings: Settings) -> str:
    config = imap_config(settings)
    if config is None:
        return "not configured (mail arrives by `ticketbot ingest`)"

    async def never(_message: PolledMessage) -> None:
        raise CheckFailed("check never hands over mail")

    poller = ImapPoller(config, DatabaseMailboxStore(), never, owner=new_owner(), timeout=10)
    return await poller.check()


async def _smtp(settings: Settings) -> str:
    return await SmtpSender(smtp_config(settings)).check()


async def _slack(settings: Settings) -> str:
    client = build_client(settings.slack)
    response = await client.auth_test()
    granted = set(filter(None, str(response.headers.get("x-oauth-scopes", "")).split(",")))
    missing = [scope for scope in BOT_SCOPES if granted and scope not in granted]
    if missing:
        raise CheckFailed(
            f"the token lacks scopes {', '.join(missing)}: update the app from `ticketbot manifest`"
        )
    for queue in settings.queues:
        info = await client.conversations_info(channel=queue.channel)
        if not info["channel"].get("is_member", False):
            raise CheckFailed(
                f"the bot is not in the channel of queue {queue.name!r} ({queue.channel}): "
                "invite it with /invite"
            )
    shortcuts = ", ".join(str(s["callback_id"]) for s in SHORTCUTS)
    return (
        f"auth.test ok: team {response.get('team')}, bot user {response.get('user_id')}, "
        f"member of {len(settings.queues)} queue channel(s); shortcuts {shortcuts} answer "
        "with the `commands` scope"
    )


async def _attachments(settings: Settings) -> str:
    directory = Path(settings.mail.attachments.directory)
    free = await asyncio.to_thread(probe_writable, directory)
    return f"{directory} writable, {free / 2**30:.1f} GiB free"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack said {exc.response.get('error')!r} (check slack.bot_token and slack.api_url)"
    if isinstance(exc, MailError | CheckFailed | DatabaseUnavailable):
        return str(exc)
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


CHECKS: list[tuple[str, Callable[[Settings], Awaitable[str]]]] = [
    ("database", _database),
    ("imap", _imap),
    ("smtp", _smtp),
    ("slack", _slack),
    ("attachments", _attachments),
]


async def run_checks(settings: Settings) -> list[CheckResult]:
    results = []
    for name, check in CHECKS:
        try:
            detail = await check(settings)
        except Exception as exc:
            results.append(CheckResult(name, False, _reason(exc)))
        else:
            results.append(CheckResult(name, True, detail))
    return results
