"""Every text field of a `ParsedMail`, its bound, and the columns it is stored in.

The parser's contract with the rest of ticketbot (SPEC "Hostile mail": inputs
are normalised at the parse boundary): `mail.normalise.normalise_mail`
enforces these bounds on every result, `limit_violations` checks a mail
against them, and tests/models/test_field_limits.py checks each bound against
the max_length of the columns named here, so a column made smaller, or a new
field stored without a bound, fails a test instead of a customer's mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mail.parsed import ParsedMail

__all__ = ["FIELD_LIMITS", "FieldLimit", "limit_violations", "values_at"]

MAX_ADDRESS = 254  # UTF-8 octets: RFC 5321's 256-octet path less the angle brackets
MAX_MESSAGE_ID = 998  # RFC 5322's line limit; Article.message_id is CharField(998)
MAX_REFERENCES = 100
MAX_IN_REPLY_TO = 10
MAX_BOUNCE_IDS = 100
MAX_SUBJECT = 1000
MAX_NAME = 200
MAX_ADDRESSES = 100  # each of To, Cc, delivered_to
MAX_DEFECTS = 50
MAX_DEFECT = 200
MAX_FILENAME_BYTES = 255
MAX_CONTENT_TYPE = 255
MAX_CONTENT_ID = 255
MAX_OMITTED = 100
MAX_OMITTED_NAME = 255
MAX_REASON = 200
MAX_INCOMPLETE = 300

Unit = Literal["characters", "utf-8 bytes", "items"]


@dataclass(frozen=True, slots=True)
class FieldLimit:
    """One field of `ParsedMail` (a path such as "to[].email"), its bound, where it is stored.

    `limit` None: no size bound of its own (the body is bounded by `mail.limits`),
    only the rule that every string is UTF-8 encodable and free of NUL.
    `columns` are "Model.field" names in models/ whose max_length the limit must fit.
    """

    path: str
    limit: int | None
    unit: Unit = "characters"
    columns: tuple[str, ...] = ()


_ADDRESS_COLUMNS = ("Article.author", "Article.sender", "Article.to_address")
_ID_COLUMNS = ("Article.message_id", "InboundMessage.message_id")

#: Every field of ParsedMail that holds text, with its bound and the columns it reaches.
FIELD_LIMITS: tuple[FieldLimit, ...] = (
    FieldLimit("message_id", MAX_MESSAGE_ID, columns=_ID_COLUMNS),
    FieldLimit("in_reply_to", MAX_IN_REPLY_TO, "items"),
    FieldLimit("in_reply_to[]", MAX_MESSAGE_ID, columns=("Article.in_reply_to",)),
    FieldLimit("references", MAX_REFERENCES, "items", ("Article.references",)),
    FieldLimit("references[]", MAX_MESSAGE_ID),
    FieldLimit(
        "sender.email",
        MAX_ADDRESS,
        "utf-8 bytes",
        (*_ADDRESS_COLUMNS, "Ticket.customer_email", "History.actor"),
    ),
    FieldLimit("sender.name", MAX_NAME, columns=("Article.author_name", "Ticket.customer_name")),
    FieldLimit(
        "reply_to.email", MAX_ADDRESS, "utf-8 bytes", ("Article.to_address", "Ticket.reply_address")
    ),
    FieldLimit("reply_to.name", MAX_NAME),
    FieldLimit("to", MAX_ADDRESSES, "items", ("Article.recipients",)),
    FieldLimit("to[].email", MAX_ADDRESS, "utf-8 bytes"),
    FieldLimit("to[].name", MAX_NAME),
    FieldLimit("cc", MAX_ADDRESSES, "items", ("Article.cc",)),
    FieldLimit("cc[].email", MAX_ADDRESS, "utf-8 bytes"),
    FieldLimit("cc[].name", MAX_NAME),
    FieldLimit("delivered_to", MAX_ADDRESSES, "items"),
    FieldLimit("delivered_to[]", MAX_ADDRESS, "utf-8 bytes"),
    FieldLimit("subject", MAX_SUBJECT, columns=("Ticket.subject", "Article.subject")),
    FieldLimit("text", None, columns=("Article.body",)),
    FieldLimit("html", None),
    FieldLimit(
        "attachments[].filename", MAX_FILENAME_BYTES, "utf-8 bytes", ("Attachment.filename",)
    ),
    FieldLimit(
        "attachments[].content_type", MAX_CONTENT_TYPE, columns=("Attachment.content_type",)
    ),
    FieldLimit("attachments[].content_id", MAX_CONTENT_ID, columns=("Attachment.content_id",)),
    FieldLimit("automatic_reason", MAX_REASON),
    FieldLimit("bounce_message_ids", MAX_BOUNCE_IDS, "items"),
    FieldLimit("bounce_message_ids[]", MAX_MESSAGE_ID),
    FieldLimit("digest", 64, columns=("InboundMessage.digest",)),
    FieldLimit("defects", MAX_DEFECTS, "items", ("InboundMessage.defects",)),
    FieldLimit("defects[]", MAX_DEFECT),
    FieldLimit("incomplete", MAX_INCOMPLETE, columns=("Article.incomplete",)),
    FieldLimit("omitted_attachments", MAX_OMITTED, "items"),
    FieldLimit("omitted_attachments[]", MAX_OMITTED_NAME),
)


def _is_clean(text: str) -> bool:
    """UTF-8 encodable and free of NUL: what PostgreSQL, SQLite and JSON columns accept."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def values_at(mail: object, path: str) -> list[object]:
    """The values a `FieldLimit.path` names in `mail` ("to[].email": each To address's email)."""
    values: list[object] = [mail]
    for step in path.split("."):
        name = step.removesuffix("[]")
        found: list[object] = []
        for value in values:
            item = getattr(value, name)
            if item is None:
                continue
            if step.endswith("[]"):
                found.extend(item)
            else:
                found.append(item)
        values = found
    return values


def _size(value: object, unit: Unit) -> int:
    if unit == "items":
        return len(value) if isinstance(value, tuple | list) else 1
    text = str(value)
    return len(text.encode("utf-8", "surrogatepass")) if unit == "utf-8 bytes" else len(text)


def limit_violations(mail: ParsedMail) -> list[str]:
    """Every value of `mail` over its `FIELD_LIMITS` bound, not encodable, or holding a NUL."""
    found: list[str] = []
    for rule in FIELD_LIMITS:
        for value in values_at(mail, rule.path):
            if isinstance(value, str) and not _is_clean(value):
                found.append(f"{rule.path}: not UTF-8 encodable or holds NUL")
            elif rule.limit is not None and (size := _size(value, rule.unit)) > rule.limit:
                found.append(f"{rule.path}: {size} {rule.unit}, over {rule.limit}")
    return found
