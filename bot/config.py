"""Load `app.yaml` into one frozen, validated settings object.

Values may be `${NAME}` or `${NAME:-default}`; they are substituted after YAML
parsing, so an environment value is always a plain string and can never inject
YAML structure. Every problem becomes a `ConfigError` whose message names the
key, so the CLI can exit with status 2 and one line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

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

DEFAULT_CONFIG_PATH = "app.yaml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the fix."""


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
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("command")
    @classmethod
    def _command(cls, value: str) -> str:
        if not re.fullmatch(r"/[a-z0-9_-]{1,31}", value):
            raise ValueError("must look like /ticket (lower case, at most 32 characters)")
        return value

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token.get_secret_value())


class QueueSettings(_Section):
    name: str = Field(min_length=1, max_length=100)
    channel: str
    addresses: EmailList = []

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
            raise ValueError(f"{value!r} is not a Slack channel id (like C0123456789)")
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
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=64 * 1024)
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


class TicketSettings(_Section):
    lock_timeout_minutes: int = Field(default=60, ge=1)
    first_response_minutes: int = Field(default=60, ge=1)


class Settings(_Section):
    database: DatabaseSettings = DatabaseSettings()
    slack: SlackSettings
    queues: list[QueueSettings] = Field(min_length=1)
    mail: MailSettings
    tickets: TicketSettings = TicketSettings()

    @model_validator(mode="after")
    def _unique_queues(self) -> Settings:
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError("queues: queue names must be unique")
        return self

    @property
    def default_queue(self) -> QueueSettings:
        return self.queues[0]

    def queue_named(self, name: str) -> QueueSettings:
        for queue in self.queues:
            if queue.name == name:
                return queue
        return self.default_queue


def expand_env(node: Any, environ: Mapping[str, str], path: str = "") -> Any:
    """Replace `${NAME}` / `${NAME:-default}` in every string of a parsed YAML tree."""
    if isinstance(node, dict):
        return {
            k: expand_env(v, environ, f"{path}.{k}" if path else str(k)) for k, v in node.items()
        }
    if isinstance(node, list):
        return [expand_env(v, environ, f"{path}[{i}]") for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def substitute(match: re.Match[str]) -> str:
        name, has_default, default = match.group(1), match.group(2), match.group(3)
        value = environ.get(name)
        if value is None or (has_default and value == ""):
            if has_default is None:
                raise ConfigError(f"{path}: environment variable {name} is not set")
            return default or ""
        return value

    return _ENV_REF.sub(substitute, node)


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "is required"
    elif first["type"] == "extra_forbidden":
        message = "is not a known key (check its spelling and indentation)"
    more = error.error_count() - 1
    return f"{key}: {message}" + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")


def parse_settings(document: Any, environ: Mapping[str, str]) -> Settings:
    """Validate an already-parsed YAML document; pure, for tests."""
    if not isinstance(document, dict):
        raise ConfigError("the file must be a YAML mapping with database/slack/queues/mail keys")
    try:
        return Settings.model_validate(expand_env(document, environ))
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    return Path(explicit or environ.get("TICKETBOT_CONFIG") or DEFAULT_CONFIG_PATH)


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
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
    return parse_settings(document, env)
