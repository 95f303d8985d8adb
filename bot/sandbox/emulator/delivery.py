"""Signing and forging of deliveries, and what a delivery returns (used by the driver).

Kept apart from `bot/sandbox/signer.py` so the pure parts — Slack's v0 signature and
the `Delivery` record — stay small and importable without aiohttp client code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.signature import SignatureVerifier

ACK_DEADLINE = 3.0


def sign(signing_secret: str, timestamp: str | int, body: str | bytes) -> str:
    """Slack's v0 signature: 'v0=' + HMAC-SHA256(secret, 'v0:{ts}:{body}') hex digest.

    Over the raw bytes, as Slack signs them: slack_sdk's generator is used for text, and
    bytes that are not UTF-8 (which it cannot take) are signed by the same recipe.
    """
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            basestring = f"v0:{timestamp}:".encode() + body
            digest = hmac.new(signing_secret.encode(), basestring, hashlib.sha256)
            return "v0=" + digest.hexdigest()
    else:
        text = body
    signature = SignatureVerifier(signing_secret).generate_signature(
        timestamp=str(timestamp), body=text
    )
    assert signature is not None
    return signature


@dataclass(frozen=True)
class Tamper:
    """How to forge a delivery: a wrong signature or secret, a skewed clock, missing headers."""

    signature: str | None = None
    secret: str | None = None
    timestamp_offset: int = 0
    omit_signature: bool = False
    omit_timestamp: bool = False


STALE = Tamper(timestamp_offset=-301)
BAD_SIGNATURE = Tamper(signature="v0=" + "0" * 64)
UNSIGNED = Tamper(omit_signature=True, omit_timestamp=True)


def signed_headers(
    signing_secret: str, body: str | bytes, tamper: Tamper | None = None
) -> dict[str, str]:
    """The two signature headers for `body`, forged as `tamper` says."""
    tamper = tamper or Tamper()
    timestamp = str(int(time.time()) + tamper.timestamp_offset)
    headers: dict[str, str] = {}
    if not tamper.omit_timestamp:
        headers["X-Slack-Request-Timestamp"] = timestamp
    if not tamper.omit_signature:
        headers["X-Slack-Signature"] = tamper.signature or sign(
            tamper.secret or signing_secret, timestamp, body
        )
    return headers


@dataclass(frozen=True)
class Delivery:
    """One delivery and the bot's answer; `latency` is seconds until the ack arrived."""

    kind: str
    payload: Mapping[str, Any]
    status: int
    body: str
    latency: float
    headers: Mapping[str, str] = field(default_factory=dict)
    trigger_id: str | None = None
    response_url: str | None = None
    view_errors: list[str] = field(default_factory=list)

    def json(self) -> Any:
        """The ack body parsed as JSON (None when empty or not JSON)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def acked_in_time(self) -> bool:
        """2xx within Slack's 3-second deadline."""
        return 200 <= self.status < 300 and self.latency < ACK_DEADLINE
