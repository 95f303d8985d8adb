"""When a Reply form was opened, carried in the view's private_metadata and signed.

Slack hands private_metadata back unchanged, but a client can send any body it can sign —
and only Slack can sign. The stamp still carries an HMAC over ticket, user and time with
a key of ours, so a value made up elsewhere is not taken. An agent can at most replay an
older stamp of their own for the same ticket: that only makes their own warning show
more, never hides someone else's. A stamp that does not verify counts as "opened at the
epoch": everything on the ticket then counts as new, and the agent confirms once.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def view_key(signing_secret: str) -> bytes:
    """A key for stamps derived from the Slack signing secret (so it survives restarts and
    is the same in every replica), never the secret itself."""
    return hmac.new(signing_secret.encode(), b"ticketbot reply stamp", hashlib.sha256).digest()


def _mac(key: bytes, ticket_id: int, user: str, millis: int) -> str:
    message = f"{ticket_id}:{user}:{millis}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def make_stamp(key: bytes, ticket_id: int, user: str, when: datetime) -> str:
    millis = int(when.timestamp() * 1000)
    return f"{millis}.{_mac(key, ticket_id, user, millis)}"


def opened_at(key: bytes, ticket_id: int, user: str, stamp: str) -> datetime:
    """The moment a stamp vouches for, or `EPOCH` when it does not verify."""
    raw, _, mac = stamp.partition(".")
    if not raw.isdigit() or len(raw) > 15:
        return EPOCH
    millis = int(raw)
    if not hmac.compare_digest(mac, _mac(key, ticket_id, user, millis)):
        return EPOCH
    return datetime.fromtimestamp(millis / 1000, UTC)
