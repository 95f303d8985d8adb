"""The `ticketbot` command: run, migrate, check, manifest, ingest, report, sandbox."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import os
import sys
import tomllib
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app.config import (
    VERB_NEEDS,
    ConfigError,
    Settings,
    check_public_url,
    config_path,
    load_settings,
)
from bot.app.logs import configure_logging
from models.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from mail.intake import MailIntake

logger = logging.getLogger("ticketbot")

EXIT_CONFIG = 2
EXIT_TEMPFAIL = 75  # sysexits EX_TEMPFAIL: an MTA keeps the mail and retries


def package_version() -> str:
    """The installed version; from pyproject.toml when run from a checkout without metadata."""
    try:
        return importlib.metadata.version("ticketbot")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        with (Path(__file__).resolve().parents[2] / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise argparse.ArgumentTypeError(
            f"unknown log level {value!r} (DEBUG, INFO, WARNING, ERROR or CRITICAL)"
        )
    return level


def _public_url(value: str) -> str:
    try:
        return check_public_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    # Options every verb takes, before or after it; SUPPRESS keeps a value given before
    # the verb from being overwritten by the subparser's default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: $TICKETBOT_CONFIG or ./app.yaml)",
    )
    common.add_argument(
        "--log-level",
        type=_log_level,
        metavar="LEVEL",
        default=argparse.SUPPRESS,
        help="DEBUG, INFO, WARNING… (default: $TICKETBOT_LOG_LEVEL, "
        "else INFO for run and WARNING otherwise)",
    )
    parser = argparse.ArgumentParser(
        prog="ticketbot", description="Email tickets, worked from Slack.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"ticketbot {package_version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("run", parents=[common], help="start the bot (migrates first)")
    verbs.add_parser("migrate", parents=[common], help="create or upgrade the database schema")
    verbs.add_parser("check", parents=[common], help="check config, database, IMAP, SMTP, Slack")
    manifest = verbs.add_parser("manifest", parents=[common], help="print the Slack app manifest")
    manifest.add_argument(
        "--url",
        type=_public_url,
        help="public base URL of this bot, e.g. https://tickets.example.com",
    )
    outbox = verbs.add_parser(
        "outbox", parents=[common], help="list the outbox items given up, or retry them"
    )
    actions = outbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", parents=[common], help="the dead items, oldest first")
    retry = actions.add_parser("retry", parents=[common], help="put dead items back in line")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID")
    retry.add_argument("--all", action="store_true", help="every dead item")
    report = verbs.add_parser(
        "report", parents=[common], help="print the report of a period (table, CSV or JSON)"
    )
    report.add_argument(
        "--period",
        default="week",
        metavar="P",
        help="today, week, month or YYYY-MM-DD..YYYY-MM-DD (default: week)",
    )
    report.add_argument("--queue", metavar="Q", help="only this queue (default: all)")
    report.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default="table",
        help="table for people; csv (one row per ticket created) or json for cron",
    )
    ingest = verbs.add_parser("ingest", parents=[common], help="ingest RFC 822 mail (MTA pipe)")
    ingest.add_argument("files", nargs="*", metavar="FILE", help="message files; none or - = stdin")
    sandbox = verbs.add_parser(
        "sandbox",
        parents=[common],
        help="try it in the browser: no Slack, no mail server, no config, no secret",
    )
    sandbox.add_argument("--port", type=int, default=8025, help="web page port (default 8025)")
    sandbox.add_argument(
        "--data", default="sandbox-data", metavar="DIR", help="where its SQLite database lives"
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    """The settings this verb reads: an unset variable elsewhere is no error (VERB_NEEDS)."""
    path = config_path(getattr(args, "config", None), os.environ)
    return load_settings(path, needs=VERB_NEEDS.get(args.verb))


async def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    """`outbox list` and `outbox retry ID… | --all`: the dead letters, for an operator."""
    from models.outbox.dead import dead_items, retry_dead
    from models.store import db

    if args.action == "retry" and not (args.ids or args.all):
        print("ticketbot: outbox retry needs item ids or --all", file=sys.stderr)
        return EXIT_CONFIG
    await db.init(settings.database.url)
    try:
        if args.action == "list":
            items = await dead_items()
            for item in items:
                error = " ".join(item.last_error.split())[:120]
                print(
                    f"{item.id}\t{item.kind}\t{item.stream}\t{item.attempts} attempts\t"
                    f"{item.created_at:%Y-%m-%d %H:%M}\t{error}"
                )
            print(f"{len(items)} dead item{'s' * (len(items) != 1)}", file=sys.stderr)
            return 0
        retried = await retry_dead(None if args.all else args.ids)
        missing = sorted(set(args.ids) - set(retried)) if not args.all else []
        print(f"{len(retried)} item{'s' * (len(retried) != 1)} back in line", file=sys.stderr)
        for item_id in missing:
            print(
                f"ticketbot: outbox item {item_id} is not dead (or does not exist)", file=sys.stderr
            )
        return 1 if missing else 0
    finally:
        await db.close()


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    """`ticketbot report`: the report `/ticket report` gives a lead, on standard output; days
    in this machine's time zone (TZ)."""
    from bot.app.report_cli import print_report

    return await print_report(
        settings.database.url,
        period=args.period,
        queue=args.queue,
        output=args.format,
        first_response_minutes=settings.tickets.first_response_minutes,
    )


async def _migrate(settings: Settings) -> int:
    from models.store import db

    await db.migrate(settings.database.url)
    print(f"database schema is up to date ({settings.database.url.split('://', 1)[0]})")
    return 0


async def _run(settings: Settings) -> int:
    from bot.app.runtime import Runtime
    from bot.app.startup import StartupError

    try:
        await Runtime(settings).run()
    except StartupError as exc:  # the database, or a token Slack refuses (exit 2)
        print(f"ticketbot: cannot start: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # the HTTP port; the message names it
        print(f"ticketbot: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


async def _check(settings: Settings, path: Path) -> int:
    from bot.app.check import run_checks

    print(f"config    ok    {path}")
    results = await run_checks(settings)
    for result in results:
        print(f"{result.name:<9} {'ok' if result.ok else 'FAIL':<5} {result.detail}")
    return 0 if all(r.ok for r in results) else 1


def _manifest(settings: Settings, url: str | None) -> int:
    from bot.app.manifest import build_manifest, manifest_yaml

    slack = settings.slack
    base = (url or slack.public_url or "https://ticketbot.example.com").rstrip("/")
    print(
        manifest_yaml(
            build_manifest(
                command=slack.command,
                request_url=f"{base}{slack.http.path}",
                socket_mode=slack.socket_mode,
            )
        ),
        end="",
    )
    return 0


async def _ingest(settings: Settings, files: Sequence[str]) -> int:
    from bot.app.wiring import build_policy, parse_limits
    from mail.intake import MailIntake
    from mail.parse_pool import ParsePool
    from models.store import db

    sources = list(files) or ["-"]
    policy = build_policy(settings)
    limits = parse_limits(settings)
    try:
        await db.migrate(settings.database.url)
        await db.init(settings.database.url)
    except Exception as exc:
        print(f"ticketbot: database unavailable: {exc}", file=sys.stderr)
        return EXIT_TEMPFAIL
    status = 0
    try:
        async with ParsePool(limits) as pool:
            intake = MailIntake(policy, pool)
            for name in sources:
                try:
                    raw, size = read_limited(name, limits.max_message_bytes)
                except OSError as exc:
                    print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
                    status = 1
                    continue
                outcome = await _ingest_one(intake, raw, size, name, limits.max_attempts)
                if outcome is None:
                    return EXIT_TEMPFAIL
                print(f"{name}: {outcome}")
    finally:
        await db.close()
    return status


async def _ingest_one(
    intake: MailIntake, raw: bytes, size: int, name: str, max_attempts: int
) -> str | None:
    """The outcome line for one mail, or None when it could not be stored (the MTA retries).

    A mail that fails every attempt is quarantined, so the MTA is never asked to retry a
    mail that can never be stored; only a database that does not answer is a reason to.
    """
    from mail.intake import piped_identity
    from models.store import db

    identity = piped_identity(raw)
    for _ in range(max_attempts + 1):
        try:
            result = await intake.receive(
                raw, source=f"ingest:{name}"[:320], identity=identity, size=size
            )
        except Exception:
            if not await db.ping():
                logger.exception("%s: the database does not answer", name)
                return None
            logger.exception("%s: could not be stored; trying again", name)
            continue
        number = f" {result.ticket_number}" if result.ticket_number else ""
        return f"{result.outcome}{number}"
    return None


def read_limited(name: str, limit: int) -> tuple[bytes, int]:
    """At most `limit` + 1 bytes of a mail and its whole size; the rest is read and dropped
    (an MTA's pipe must be drained, or it sees a failed delivery)."""
    stream = sys.stdin.buffer if name == "-" else Path(name).open("rb")  # noqa: SIM115
    try:
        raw = stream.read(limit + 1)
        size = len(raw)
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return raw[:limit] if size > limit else raw, size


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    """`ticketbot run` uses uvloop where it exists: a faster loop under asyncpg and aiohttp
    (about twice the acks per second in tests/bench), with the same asyncio semantics."""
    try:
        import uvloop
    except ImportError:  # not on this platform
        return asyncio.run(main)
    return uvloop.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = (
        getattr(args, "log_level", None)
        or os.environ.get("TICKETBOT_LOG_LEVEL", "").upper()
        or ("INFO" if args.verb == "run" else "WARNING")
    )
    if level not in logging.getLevelNamesMapping():
        print(
            f"ticketbot: config error: TICKETBOT_LOG_LEVEL: unknown log level {level!r}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    configure_logging(level)  # text until the config says otherwise
    if args.verb == "sandbox":  # needs no config: everything it talks to is built in
        from bot.sandbox.app import run_sandbox

        return run_loop(run_sandbox(port=args.port, data=Path(args.data)))
    try:
        settings = _settings(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"ticketbot: config error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(level, settings.log.format)
    path = config_path(getattr(args, "config", None), os.environ)
    try:
        if args.verb == "manifest":
            return _manifest(settings, args.url)
        if args.verb == "outbox":
            return asyncio.run(_outbox(settings, args))
        if args.verb == "migrate":
            return asyncio.run(_migrate(settings))
        if args.verb == "report":
            return asyncio.run(_report(settings, args))
        if args.verb == "check":
            return asyncio.run(_check(settings, path))
        if args.verb == "ingest":
            return asyncio.run(_ingest(settings, args.files))
        return run_loop(_run(settings))
    except DatabaseUnavailable as exc:  # names the database (no password) and what to check
        print(f"ticketbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
