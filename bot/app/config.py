"""Load `app.yaml` into one frozen, validated settings object.

Values may be `${NAME}` or `${NAME:-default}`; they are substituted after YAML
parsing, so an environment value is always a plain string and can never inject
YAML structure. Every problem becomes one line of a `ConfigError` naming the key,
so the CLI can exit with status 2 and one line per problem.

Each verb needs only the keys it reads (`VERB_NEEDS`), yet there is one schema:
the whole file is always validated into the same typed `Settings`. What differs
per verb is only how an unset (or empty) `${NAME}` is treated. Under a key the
verb needs it is an error; anywhere else the value becomes a placeholder of the
right shape (`_placeholder`: `xoxb-unset`, `C0UNSET`, `unset@unset.invalid`,
`unset`…), so `ticketbot manifest` runs before the Slack app — and its token —
exist, and `ticketbot migrate` without any Slack or mail secret. A verb reads only
the keys it lists, so it never sees a placeholder (tests/bot/app/test_config.py checks
that ingest builds the same policy as run); a placeholder that does not pass its
key's validation reports the variable as unset after all. Everything
written in the file itself (typos, bad values, missing keys) is checked for every
verb alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot.app.config_file import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_INGEST_SOCKET,
    DEFAULT_MAX_MESSAGE_BYTES,
    config_path,
    expand_value,
)
from bot.app.config_sla import QueueSlaSettings, SlaSettings
from models.templates import (
    NOTICE_PLACEHOLDERS,
    REPLY_PLACEHOLDERS,
    Locale,
    unknown_placeholders,
)

__all__ = [  # config_file's names too: callers know one module
    "DEFAULT_CONFIG_PATH",
    "VERB_NEEDS",
    "ConfigError",
    "Settings",
    "check_public_url",
    "config_path",
    "load_settings",
    "parse_settings",
]

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


MAX_SOCKET_PATH_BYTES = 107  # sockaddr_un.sun_path holds 108 bytes with the final NUL
MAX_PROBLEMS = 20  # lines of one ConfigError; the rest are counted

# The dotted key prefixes each verb reads; None = every key. An unset `${NAME}` is an
# error only under these keys (see the module docstring).
VERB_NEEDS: Final[Mapping[str, tuple[str, ...] | None]] = {
    # the slash command, the mode (Socket Mode when app_token is set), the request URL
    "manifest": ("slack.command", "slack.app_token", "slack.public_url", "slack.http.path"),
    "migrate": ("database", "log"),
    "outbox": ("database",),
    # tickets.first_response_minutes and sla: what breaches are
    "report": ("database", "tickets", "sla"),
    # bot.app.wiring.build_policy + parse_limits: the acknowledgement and the card are queued
    # in the outbox, not sent, so neither SMTP, IMAP nor the Slack secrets are needed
    "ingest": (
        "database",
        "log",
        "queues",
        "tickets",
        "slack.leads",
        "slack.allow_guests",
        "mail.address",
        "mail.display_name",
        "mail.ticket_hook",
        "mail.system_id",
        "mail.followup_on_closed",
        "mail.locale",
        "mail.same_request_window_hours",
        "mail.autoreply",
        "mail.attachments",
        "mail.limits",
        "ingest",  # the socket of a running bot; stored directly when none answers
        "sla",  # a new ticket's due times
    ),
    "check": None,
    "run": None,
}


class ConfigError(Exception):
    """The configuration cannot be used; each line names a key and what is wrong.

    `problems` holds one line per problem, at most `MAX_PROBLEMS` (the last then
    counts the ones left out); `str()` joins them with newlines.
    """

    def __init__(self, *problems: str) -> None:
        lines = list(problems) or ["the configuration cannot be used"]
        if len(lines) > MAX_PROBLEMS:
            left = len(lines) - (MAX_PROBLEMS - 1)
            lines = [*lines[: MAX_PROBLEMS - 1], f"and {left} more problems"]
        self.problems: tuple[str, ...] = tuple(lines)
        super().__init__("\n".join(lines))


def _http_url(value: str, example: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL such as {example}")
    return value


def check_public_url(value: str) -> str:
    """`slack.public_url` and `manifest --url`: where Slack reaches this bot."""
    return _http_url(value, "https://tickets.example.com")


def _split_list(value: Any) -> Any:
    """Let a list come from one environment variable: "a@x, b@y" → ["a@x", "b@y"]."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value.strip().lower()


Email = Annotated[str, BeforeValidator(lambda v: _check_email(str(v)))]
EmailList = Annotated[list[Email], BeforeValidator(_split_list)]
StrList = Annotated[list[str], BeforeValidator(_split_list)]
Security = Literal["ssl", "starttls", "none"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite://data/ticketbot.sqlite3"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value


class HttpSettings(_Section):
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=0, le=65535)
    path: str = "/slack/events"

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value


class SlackSettings(_Section):
    bot_token: SecretStr
    signing_secret: SecretStr
    app_token: SecretStr = SecretStr("")
    api_url: str = "https://slack.com/api/"
    http: HttpSettings = HttpSettings()
    command: str = "/ticket"
    leads: StrList = []
    public_url: str = ""
    allow_guests: bool = False
    flood_threshold: int = Field(default=20, ge=1)
    # Slack takes ~1 message/s per channel; more is for Slack-compatible test servers.
    posts_per_second: float = Field(default=1.0, gt=0, le=100)

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("signing_secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if token and not token.startswith("xapp-"):
            raise ValueError(
                "must be an app-level token starting with xapp- (or empty for HTTP mode)"
            )
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        _http_url(value, "https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return check_public_url(value) if value else value  # empty: Socket Mode, or unknown

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        if not re.fullmatch(r"/[a-z0-9_-]{1,31}", value):
            raise ValueError("must look like /ticket (lower case, at most 32 characters)")
        return value

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token.get_secret_value())


def _known_placeholders(value: str, allowed: tuple[str, ...]) -> str:
    unknown = unknown_placeholders(value, allowed)
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in allowed)
        raise ValueError(f"unknown placeholder {names}; known are {known}")
    return value


MAX_TEMPLATE_CHARS = 3000  # what the Reply form's text field holds


class QueueSettings(_Section):
    name: str = Field(min_length=1, max_length=100)
    channel: str
    addresses: EmailList = []
    sla: QueueSlaSettings | None = None  # this queue's targets over `sla.targets`
    # Who the service-level warnings mention while a ticket is unclaimed: a Slack user
    # group id (S…); empty: the notice mentions no one.
    escalation_group: str = ""
    signature: str = Field(default="", max_length=1000)
    locale: Locale | None = None
    acknowledgement: str = Field(default="", max_length=MAX_TEMPLATE_CHARS)
    closed_notice: str = Field(default="", max_length=MAX_TEMPLATE_CHARS)

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str) -> str:
        return _known_placeholders(value, REPLY_PLACEHOLDERS)

    @field_validator("acknowledgement", "closed_notice")
    @classmethod
    def _notice(cls, value: str) -> str:
        return _known_placeholders(value, NOTICE_PLACEHOLDERS)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
            raise ValueError(f"{value!r} is not a Slack channel id (like C0123456789)")
        return value

    @field_validator("escalation_group")
    @classmethod
    def _escalation_group(cls, value: str) -> str:
        if value and not re.fullmatch(r"S[A-Z0-9]{2,}", value):
            raise ValueError(
                f"{value!r} is not a Slack user group id (like S0123456789): find it in the "
                "group's profile, or with the API method usergroups.list"
            )
        return value


class ImapSettings(_Section):
    host: str = Field(min_length=1)
    port: int = Field(default=993, ge=1, le=65535)
    security: Security = "ssl"
    username: str = Field(min_length=1)
    password: SecretStr
    folder: str = "INBOX"
    poll_seconds: float = Field(default=30, gt=0)
    idle: bool = True


class SmtpSettings(_Section):
    host: str = Field(min_length=1)
    port: int = Field(default=465, ge=1, le=65535)
    security: Security = "ssl"
    username: str = ""
    password: SecretStr = SecretStr("")
    timeout_seconds: float = Field(default=30, gt=0)


class AutoreplySettings(_Section):
    enabled: bool = True
    max_per_sender_per_day: int = Field(default=10, ge=0)
    max_per_hour: int = Field(default=200, ge=0)
    max_per_domain_per_hour: int = Field(default=30, ge=0)


class AttachmentSettings(_Section):
    directory: str = "data/attachments"
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    min_free_bytes: int = Field(default=512 * 1024 * 1024, ge=0)


class LimitSettings(_Section):
    """What one inbound mail may cost (SPEC "Hostile mail")."""

    parse_seconds: float = Field(default=5, gt=0, le=600)
    parse_memory_mb: int = Field(default=1024, ge=128)
    max_message_bytes: int = Field(default=DEFAULT_MAX_MESSAGE_BYTES, ge=64 * 1024)
    max_parts: int = Field(default=500, ge=1)
    max_attachments: int = Field(default=50, ge=0)
    max_html_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_attempts: int = Field(default=3, ge=1, le=100)


class MailSettings(_Section):
    address: Email
    display_name: str = "Support"
    imap: ImapSettings | None = None
    smtp: SmtpSettings
    ticket_hook: str = Field(default="Ticket#", min_length=1, max_length=20)
    system_id: int = Field(default=10, ge=0, le=99)
    followup_on_closed: Literal["reopen", "reject", "new_ticket"] = "reopen"
    locale: Locale = "en"  # the shipped wording of the automatic mails (LOCALES)
    same_request_window_hours: float = Field(default=24, ge=0)
    autoreply: AutoreplySettings = AutoreplySettings()
    attachments: AttachmentSettings = AttachmentSettings()
    limits: LimitSettings = LimitSettings()

    @field_validator("ticket_hook")
    @classmethod
    def _hook(cls, value: str) -> str:
        if any(ch in value for ch in "[]\r\n"):
            raise ValueError("must not contain brackets or line breaks")
        return value


def _octal_mode(value: Any) -> Any:
    """A file mode as people write it: "0660" (a string, read as octal), or 0660 unquoted,
    which YAML already reads as octal."""
    if isinstance(value, str) and re.fullmatch(r"0?o?[0-7]{3,4}", value.strip()):
        return int(value.strip().replace("o", ""), 8)
    return value


class IngestSettings(_Section):
    """The local socket through which `ticketbot ingest` hands mail to the running bot."""

    socket: str = DEFAULT_INGEST_SOCKET  # empty: no socket, `ingest` stores directly
    socket_mode: Annotated[int, BeforeValidator(_octal_mode)] = 0o600
    socket_group: str = ""  # a group name or id; empty: the bot's own group

    @field_validator("socket")
    @classmethod
    def _socket(cls, value: str) -> str:
        if len(os.fsencode(value)) > MAX_SOCKET_PATH_BYTES:
            raise ValueError(
                f"must be at most {MAX_SOCKET_PATH_BYTES} bytes (a limit of Unix sockets); "
                "choose a shorter path"
            )
        return value

    @field_validator("socket_mode")
    @classmethod
    def _mode(cls, value: int) -> int:
        if not 0 <= value <= 0o777:
            raise ValueError("must be a file mode such as '0600' or '0660' (quoted)")
        return value


class OutboxSettings(_Section):
    max_attempts: int = Field(default=20, ge=1, le=1000)


class LogSettings(_Section):
    format: Literal["text", "json"] = "text"  # json: one object a line (bot/app/logs.py)


class TicketSettings(_Section):
    lock_timeout_minutes: int = Field(default=60, ge=1)
    first_response_minutes: int = Field(default=60, ge=1)


class TemplateSettings(_Section):
    """A canned response: `name` is shown in the Reply form's menu (an option's text holds
    75 characters), `text` fills the reply field."""

    name: str = Field(min_length=1, max_length=75)
    text: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return _known_placeholders(value, REPLY_PLACEHOLDERS)


class CsatSettings(_Section):
    """Customer satisfaction after a close: a rating mail with one-click links to this
    bot's HTTP listener (README "Customer satisfaction")."""

    enabled: bool = False
    expiry_days: int = Field(default=14, ge=1, le=365)
    # The links' signing key comes from this; empty: from slack.signing_secret (under a
    # label of its own, so the token key is not Slack's secret). Set it to rotate the
    # links independently of Slack.
    secret: SecretStr = SecretStr("")

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (or empty: derived)")
        return value


class Settings(_Section):
    database: DatabaseSettings = DatabaseSettings()
    slack: SlackSettings
    queues: list[QueueSettings] = Field(min_length=1)
    mail: MailSettings
    tickets: TicketSettings = TicketSettings()
    outbox: OutboxSettings = OutboxSettings()
    log: LogSettings = LogSettings()
    ingest: IngestSettings = IngestSettings()
    sla: SlaSettings | None = None  # None: no service levels (config_sla.py)
    templates: list[TemplateSettings] = []
    csat: CsatSettings = CsatSettings()

    @model_validator(mode="after")
    def _unique_queues(self) -> Settings:
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError("queues: queue names must be unique")
        templates = [t.name for t in self.templates]
        if len(set(templates)) != len(templates):
            raise ValueError("templates: template names must be unique")
        return self

    @model_validator(mode="after")
    def _csat_needs_a_public_url(self) -> Settings:
        if self.csat.enabled and not self.slack.public_url:
            raise ValueError(
                "csat.enabled: the rating links need slack.public_url (where customers "
                "reach this bot's HTTP listener), in Socket Mode too; set it or turn "
                "csat.enabled off"
            )
        return self

    @model_validator(mode="after")
    def _queue_sla_needs_sla(self) -> Settings:
        for index, queue in enumerate(self.queues):
            if queue.sla is not None and self.sla is None:
                raise ValueError(
                    f"queues.{index}.sla: per-queue targets need the sla: section "
                    "(its business hours and holidays count for every queue)"
                )
        return self


@dataclass(frozen=True)
class _Unset:
    """A `${NAME}` without default whose variable is unset or empty, at a dotted key."""

    key: str
    name: str
    empty: bool

    @property
    def problem(self) -> str:
        state = "is empty" if self.empty else "is not set"
        return f"{self.key}: environment variable {self.name} {state}"


# Placeholders for keys a verb does not read, where a bare word would not validate.
_PLACEHOLDERS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), value)
    for pattern, value in (
        (r"database\.url", "sqlite://unset"),
        (r"slack\.bot_token", "xoxb-unset"),
        (r"slack\.app_token", ""),
        (r"slack\.public_url", "https://unset.invalid"),  # csat.enabled needs one
        (r"slack\.api_url", "https://unset.invalid/"),
        (r"queues\.\d+\.channel", "C0UNSET"),
        (r"mail\.address|queues\.\d+\.addresses(\.\d+)?", "unset@unset.invalid"),
        (r".*\bport", "1"),
    )
)


def _placeholder(key: str) -> str:
    for pattern, value in _PLACEHOLDERS:
        if pattern.fullmatch(key):
            return value
    return "unset"


def _expand_env(node: Any, environ: Mapping[str, str], key: str, unset: list[_Unset]) -> Any:
    """Replace `${NAME}` / `${NAME:-default}` in every string of a parsed YAML tree.

    A string with an unset (or empty) `${NAME}` becomes `_placeholder(key)` as a whole,
    and each such reference is appended to `unset`.
    """
    if isinstance(node, dict):
        return {
            k: _expand_env(v, environ, f"{key}.{k}" if key else str(k), unset)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_expand_env(v, environ, f"{key}.{i}", unset) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node
    expanded, missing = expand_value(node, environ)
    unset.extend(_Unset(key, name, empty=empty) for name, empty in missing)
    return _placeholder(key) if missing else expanded


def _under(key: str, prefix: str) -> bool:
    return not prefix or key == prefix or key.startswith(prefix + ".")


def _describe(error: ErrorDetails) -> tuple[str, str]:
    """The dotted key of one validation error and its line."""
    key = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known key (check its spelling and indentation)"
    return key, f"{key}: {message}" if key else message


def parse_settings(
    document: Any, environ: Mapping[str, str], needs: Collection[str] | None = None
) -> Settings:
    """Validate an already-parsed YAML document; pure, for tests.

    `needs`: the dotted key prefixes the caller reads (`VERB_NEEDS[verb]`); an unset
    `${NAME}` elsewhere gets a placeholder instead of failing. None = every key.
    Raises one `ConfigError` with a line per problem: unset variables first, in file
    order, then the validation errors.
    """
    if not isinstance(document, dict):
        raise ConfigError("the file must be a YAML mapping with database/slack/queues/mail keys")
    unset: list[_Unset] = []
    expanded = _expand_env(document, environ, "", unset)
    problems: list[str] = []
    reported: set[str] = set()

    def report(ref: _Unset) -> None:
        if ref.name not in reported:  # one line per variable, at the first key using it
            reported.add(ref.name)
            problems.append(ref.problem)

    for ref in unset:
        if needs is None or any(_under(ref.key, prefix) for prefix in needs):
            report(ref)
    try:
        settings = Settings.model_validate(expanded)
    except ValidationError as exc:
        for error in exc.errors():
            key, line = _describe(error)
            refs = [ref for ref in unset if key and _under(key, ref.key)]
            if refs and error["type"] != "extra_forbidden":
                for ref in refs:  # its placeholder does not fit: the variable is needed
                    report(ref)
            else:
                problems.append(line)
        raise ConfigError(*problems) from None
    if problems:
        raise ConfigError(*problems)
    return settings


def load_settings(
    path: Path, environ: Mapping[str, str] | None = None, needs: Collection[str] | None = None
) -> Settings:
    """Read and validate `path`; `needs` as in `parse_settings`."""
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found (pass --config or set TICKETBOT_CONFIG)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from None
    return parse_settings(document, env, needs)
