"""Where the config file is and how `${NAME}` is read: the part of `bot.app.config` that
`ticketbot ingest`'s fast path needs too, without pydantic (see bot/app/pipe_client.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

DEFAULT_CONFIG_PATH = "app.yaml"
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")
# Defaults the fast path must agree on with the schema (bot.app.config checks they do).
DEFAULT_INGEST_SOCKET = "data/ingest.sock"
DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    return Path(explicit or environ.get("TICKETBOT_CONFIG") or DEFAULT_CONFIG_PATH)


def expand_value(text: str, environ: Mapping[str, str]) -> tuple[str, list[tuple[str, bool]]]:
    """`text` with each `${NAME}` / `${NAME:-default}` replaced, and the required variables
    that are unset or empty: (name, is empty) each, in order."""
    missing: list[tuple[str, bool]] = []

    def substitute(match: re.Match[str]) -> str:
        name, has_default, default = match.group(1), match.group(2), match.group(3)
        value = environ.get(name)
        if value:
            return value
        if has_default is None:
            missing.append((name, value is not None))
            return ""
        return default or ""

    return ENV_REF.sub(substitute, text), missing
