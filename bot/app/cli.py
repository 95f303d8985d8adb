"""The `ticketbot` command: run, migrate, check, manifest, ingest, report, sandbox.

Imports are lazy: `ticketbot ingest` runs once per mail under an MTA, and its fast path
(bot/app/pipe_client.py) must not pay for pydantic, tortoise, Slack or aiohttp. Every
other verb loads what it needs when it runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app.config_file import config_path

if TYPE_CHECKING:
    from bot.app.config import Settings
    from bot.app.pipe_client import Fallback

logger = logging.getLogger("ticketbot")

EXIT_CONFIG = 2


def package_version() -> str:
    """The installed version; from pyproject.toml when run from a checkout without metadata."""
    import importlib.metadata
    import tomllib

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
    from bot.app.config import check_public_url

    try:
        return check_public_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Version(argparse.Action):
    """`--version`, looked up only when asked for (importlib.metadata costs every ingest)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        print(f"ticketbot {package_version()}")
        parser.exit()


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
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
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
    from bot.app.config import VERB_NEEDS, load_settings

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
        sla=settings.sla is not None,
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


async def _ingest(settings: Settings, files: Sequence[str], fallback: Fallback | None) -> int:
    """Store the mails no bot took (all of them when there was no socket to ask)."""
    from bot.app.ingest import ingest_directly
    from bot.app.pipe_client import read_sources

    if fallback is not None:
        logger.info("%s; storing the mail directly", fallback.reason)
        return await ingest_directly(settings, fallback.mails, fallback.status)
    limit = settings.mail.limits.max_message_bytes
    return await ingest_directly(settings, read_sources(list(files) or ["-"], limit))


def _pipe(args: argparse.Namespace) -> int | Fallback | None:
    """`ingest`'s fast path: hand the mails to the running bot (bot/app/pipe_client.py).
    The exit status when it took them all; what is left to store here otherwise; None when
    the config file needs the full loader's judgement."""
    from bot.app.pipe_client import pipe_to_bot, read_pipe_config

    pipe = read_pipe_config(config_path(getattr(args, "config", None), os.environ), os.environ)
    if pipe is None:
        return None
    return pipe_to_bot(pipe, list(args.files) or ["-"])


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    """`ticketbot run` uses uvloop where it exists: a faster loop under asyncpg and aiohttp
    (about twice the acks per second in tests/bench), with the same asyncio semantics."""
    import asyncio

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
    fallback = None
    if args.verb == "ingest":
        handed = _pipe(args)
        if isinstance(handed, int):
            return handed
        fallback = handed
    import asyncio

    from bot.app.config import ConfigError
    from bot.app.logs import configure_logging
    from models.errors import DatabaseUnavailable

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
            return asyncio.run(_ingest(settings, args.files, fallback))
        return run_loop(_run(settings))
    except DatabaseUnavailable as exc:  # names the database (no password) and what to check
        print(f"ticketbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
