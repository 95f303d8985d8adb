"""Mails that once made intake raise (and the poller retry them forever) are stored.

Each is parsed with the real `parse_mail`, checked against
`mail.normalise.FIELD_LIMITS`, and stored with `receive_mail` on SQLite and
PostgreSQL. The table itself is checked against the models' column sizes.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from tortoise.fields import Field

from mail.field_limits import FIELD_LIMITS, FieldLimit, limit_violations
from mail.parse import parse_mail
from mail.parsed import ParsedMail
from models.intake import receive_mail
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind, Attachment, InboundMessage
from models.store.ticket import History, Ticket
from tests.support.make_mail import make_mail

POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    display_name="Example Support",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)
MODELS = {model.__name__: model for model in (Article, Attachment, InboundMessage, Ticket, History)}
DSN = (Path(__file__).parent.parent / "fixtures" / "mail" / "dsn_bounce.eml").read_bytes()
ORIGINAL_ID = b"<20260112101500.7c1d@ticketbot.example>"
LONG_ID = "<" + "x" * 1190 + "@example.com>"


def bounce_of(message_id: str) -> bytes:
    """The DSN fixture, reporting on a mail whose Message-ID was `message_id`."""
    return DSN.replace(ORIGINAL_ID, message_id.encode())


def references(count: int) -> bytes:
    ids = " ".join(f"<ref{i}@example.com>" for i in range(count))
    return make_mail(verbatim={"References": ids})


HOSTILE: dict[str, Callable[[], bytes]] = {
    "from-local-part-400": lambda: make_mail(verbatim={"From": "x" * 400 + "@example.com"}),
    "reply-to-2000": lambda: make_mail(
        verbatim={"Reply-To": "Reply <" + "r" * 1988 + "@example.com>"}
    ),
    "utf7-subject": lambda: make_mail(verbatim={"Subject": "=?utf-7?Q?Hi_+2D0-_there?="}),
    "utf7-name": lambda: make_mail(verbatim={"From": "=?utf-7?Q?Eve_+2D0-?= <eve@example.com>"}),
    "utf7-body": lambda: make_mail(
        body="Hello +2D0- there\n", verbatim={"Content-Type": "text/plain; charset=utf-7"}
    ),
    "utf7-filename": lambda: make_mail(
        attachments=[("placeholder.pdf", "application/pdf", b"%PDF")]
    ).replace(b'filename="placeholder.pdf"', b"filename*=utf-7''%2B2D0-.pdf"),
    "bounce-original-id-1200": lambda: bounce_of(LONG_ID),
    "bounce-own-id-1200": lambda: DSN.replace(
        b"<20260112091503.5C6D7E8F90@mx1.ticketbot.example>", LONG_ID.encode()
    ),
    "message-id-1200": lambda: make_mail(message_id=LONG_ID),
    "references-50000": lambda: references(50_000),
    "in-reply-to-50000": lambda: make_mail(
        verbatim={"In-Reply-To": " ".join(f"<p{i}@example.com>" for i in range(50_000))}
    ),
    "reply-to-quoted-comma": lambda: make_mail(
        verbatim={"Reply-To": '"v1@a.example,v2@b.example"@x.example'}
    ),
    "to-5000": lambda: make_mail(
        verbatim={"To": ", ".join(f"u{i}@example.com" for i in range(5000))}
    ),
    "subject-bidi-100k": lambda: make_mail(
        verbatim={"Subject": "=?utf-8?q?" + "=E2=80=AEx" * 20_000 + "?="}
    ),
    "nul-everywhere": lambda: make_mail(
        verbatim={"Subject": "=?utf-8?q?a=00b?=", "From": "=?utf-8?q?N=00?= <n@example.com>"}
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_mail_parses_within_every_limit(case: str) -> None:
    parsed = parse_mail(HOSTILE[case]())
    assert limit_violations(parsed) == []


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_a_hostile_mail_is_stored(database: str, case: str) -> None:
    raw = HOSTILE[case]()
    parsed = parse_mail(raw)
    result = await receive_mail(parsed, raw, POLICY)
    assert result.outcome in ("new_ticket", "bounce_unmatched")
    inbound = await InboundMessage.get(digest=parsed.digest)
    assert inbound.raw_source == raw
    if result.ticket_id is not None:
        article = await Article.get(ticket_id=result.ticket_id, kind=ArticleKind.EMAIL_IN)
        assert article.subject == parsed.subject
        assert article.body == parsed.text
        stored = [a.filename for a in await Attachment.filter(article_id=article.id).order_by("id")]
        assert len(stored) == len(parsed.attachments)


async def test_a_utf7_filename_is_stored_with_a_replacement_character(database: str) -> None:
    raw = HOSTILE["utf7-filename"]()
    result = await receive_mail(parse_mail(raw), raw, POLICY)
    article = await Article.get(ticket_id=result.ticket_id, kind=ArticleKind.EMAIL_IN)
    [attachment] = await Attachment.filter(article_id=article.id)
    assert attachment.filename == "\ufffd.pdf"


async def test_the_reflector_reply_to_is_not_where_answers_go(database: str) -> None:
    raw = HOSTILE["reply-to-quoted-comma"]()
    parsed = parse_mail(raw)
    assert parsed.reply_to is None
    result = await receive_mail(parsed, raw, POLICY)
    assert result.ticket_id is not None
    article = await Article.get(ticket_id=result.ticket_id, kind=ArticleKind.EMAIL_IN)
    assert article.to_address == "alice@example.com"
    ack = await Article.get(ticket_id=result.ticket_id, kind=ArticleKind.EMAIL_OUT)
    assert ack.recipients == ["alice@example.com"]


async def test_a_bounce_with_a_long_original_id_still_finds_our_mail(database: str) -> None:
    first = await receive_mail(parse_mail(make_mail()), make_mail(), POLICY)
    ack = await Article.get(ticket_id=first.ticket_id, kind=ArticleKind.EMAIL_OUT)
    assert ack.message_id is not None
    raw = DSN.replace(ORIGINAL_ID, ack.message_id.encode() + b"\r\nX-Note: " + b"y" * 1200)
    result = await receive_mail(parse_mail(raw), raw, POLICY)
    assert (result.outcome, result.ticket_id) == ("bounce_note", first.ticket_id)


async def test_many_references_still_thread(database: str) -> None:
    first = await receive_mail(parse_mail(make_mail()), make_mail(), POLICY)
    ack = await Article.get(ticket_id=first.ticket_id, kind=ArticleKind.EMAIL_OUT)
    ids = [f"<ref{i}@example.com>" for i in range(50_000)] + [str(ack.message_id)]
    raw = make_mail(message_id="<second@example.com>", verbatim={"References": " ".join(ids)})
    parsed = parse_mail(raw)
    assert len(parsed.references) == 100
    assert parsed.references[-1] == ack.message_id
    result = await receive_mail(parsed, raw, POLICY)
    assert (result.outcome, result.ticket_id) == ("followup", first.ticket_id)


def _column(name: str) -> Field[object]:
    model_name, _, field_name = name.partition(".")
    fields: dict[str, Field[object]] = MODELS[model_name]._meta.fields_map
    assert field_name in fields, f"{name} is no column"
    return fields[field_name]


@pytest.mark.parametrize("rule", FIELD_LIMITS, ids=lambda rule: rule.path)
def test_every_limit_fits_its_columns(rule: FieldLimit) -> None:
    """A limit in characters (or bytes, which bound characters) fits each CharField it reaches."""
    for column in rule.columns:
        max_length = getattr(_column(column), "max_length", None)
        if max_length is not None:
            assert rule.unit != "items", column
            assert rule.limit is not None and rule.limit <= max_length, column


def test_the_table_covers_every_text_field() -> None:
    covered = {rule.path.split(".")[0].removesuffix("[]") for rule in FIELD_LIMITS}
    text_fields = {
        field.name
        for field in dataclasses.fields(ParsedMail)
        if "str" in str(field.type)
        or "Address" in str(field.type)
        or "Attachment" in str(field.type)
    }
    assert text_fields - covered == set()
