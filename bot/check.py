"""`ticketbot check`: try every dependency once and say plainly what is wrong."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.app import build_client
from bot.config import Settings
from bot.wiring import imap_config, smtp_config
from mail.errors import MailError
from mail.imap import ImapPoller
from mail.smtp import SmtpSender
from models import db
from models.leases import new_owner
from models.mailbox import DatabaseMailboxStore


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


async def _database(settings: Settings) -> str:
    await db.init(settings.database.url, global_fallback=False)
    try:
        if not await db.ping():
            raise RuntimeError("the database does not answer")
    finally:
        await db.close()
    return f"{settings.database.url.split('://', 1)[0]} answers"


async def _imap(settings: Settings) -> str:
    config = imap_config(settings)
    if config is None:
        return "not configured (mail arrives by `ticketbot ingest`)"

    async def never(_raw: bytes) -> None:
        raise RuntimeError("check never hands over mail")

    poller = ImapPoller(config, DatabaseMailboxStore(), never, owner=new_owner(), timeout=10)
    return await poller.check()


async def _smtp(settings: Settings) -> str:
    return await SmtpSender(smtp_config(settings)).check()


async def _slack(settings: Settings) -> str:
    client = build_client(settings.slack)
    response = await client.auth_test()
    scopes = response.headers.get("x-oauth-scopes", "") if response.headers else ""
    return f"auth.test ok: team {response.get('team')}, bot user {response.get('user_id')}" + (
        f", scopes {scopes}" if scopes else ""
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack said {exc.response.get('error')!r} (check slack.bot_token and slack.api_url)"
    if isinstance(exc, MailError):
        return str(exc)
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


CHECKS: list[tuple[str, Callable[[Settings], Awaitable[str]]]] = [
    ("database", _database),
    ("imap", _imap),
    ("smtp", _smtp),
    ("slack", _slack),
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
