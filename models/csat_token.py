"""CSAT link tokens (pure): compact, URL-safe, signed, with an expiry.

A token names one rating request (`CsatRequest`, one per close of a ticket), the ticket
it belongs to and when it expires, and carries an HMAC-SHA256 over those, cut to 128
bits: 36 bytes, 48 characters of base64url. Nothing in it is secret, nothing can be
changed without the key. Whether it was used already is the database's to say
(models/csat.py); here only "is this a token we issued, and when does it end".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

#: What the MAC is computed over besides the fields: a token of another purpose (or a
#: later format) signed with the same key can never pass as this one.
LABEL = b"ticketbot/csat/v1\x00"
#: Where the key comes from when it is derived from another secret (the signing secret).
KEY_LABEL = b"ticketbot csat token key v1"
_FIELDS = struct.Struct(">QQI")  # request id, ticket id, expiry (Unix seconds)
MAC_BYTES = 16
TOKEN_BYTES = _FIELDS.size + MAC_BYTES
TOKEN_CHARS = 48  # base64url of TOKEN_BYTES, no padding
#: Longer input is refused before any decoding (hostile URLs).
MAX_TOKEN_CHARS = 64
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What a genuine token says."""

    request_id: int
    ticket_id: int
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def derive_key(secret: str) -> bytes:
    """The token key from a configured secret: its own HMAC label, so the token key is
    not the secret itself (the signing secret stays only Slack's)."""
    return hmac.new(secret.encode(), KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, fields: bytes) -> bytes:
    return hmac.new(key, LABEL + fields, hashlib.sha256).digest()[:MAC_BYTES]


def make_token(key: bytes, request_id: int, ticket_id: int, expires_at: datetime) -> str:
    """The token of one rating request."""
    fields = _FIELDS.pack(request_id, ticket_id, int(expires_at.timestamp()))
    raw = fields + _mac(key, fields)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def read_token(key: bytes, token: str) -> TokenFacts | None:
    """The facts of a genuine token; None for anything else (malformed, forged, too long),
    without telling which: a prober learns nothing."""
    if len(token) != TOKEN_CHARS or not set(token) <= _ALPHABET:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != TOKEN_BYTES:
        return None
    fields, mac = raw[: _FIELDS.size], raw[_FIELDS.size :]
    if not hmac.compare_digest(mac, _mac(key, fields)):
        return None
    request_id, ticket_id, expires = _FIELDS.unpack(fields)
    return TokenFacts(request_id, ticket_id, datetime.fromtimestamp(expires, UTC))
