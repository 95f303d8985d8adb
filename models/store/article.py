"""Articles (every mail in or out, note and system event), attachments, raw mail."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.store.ticket import Ticket


class ArticleKind(StrEnum):
    EMAIL_IN = "email_in"
    EMAIL_OUT = "email_out"
    NOTE = "note"
    SYSTEM = "system"


class Article(Model):
    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "ticketbot.Ticket", related_name="articles", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(ArticleKind, max_length=16)
    author = fields.CharField(max_length=320, default="")
    author_name = fields.CharField(max_length=200, default="")
    sender = fields.CharField(max_length=320, default="")
    recipients: fields.Field[list[str]] = fields.JSONField(default=list)
    # Where an answer goes: the recipient of mail we sent, Reply-To (else From) of mail we got.
    to_address = fields.CharField(max_length=320, default="")
    cc: fields.Field[list[str]] = fields.JSONField(default=list)
    subject = fields.TextField(default="")
    body = fields.TextField(default="")
    display_text = fields.TextField(null=True)
    # Why an inbound mail could not be read fully (over a limit, parser out of time), if so.
    incomplete = fields.TextField(null=True)
    message_id = fields.CharField(max_length=998, null=True, db_index=True)
    in_reply_to = fields.CharField(max_length=998, null=True)
    references: fields.Field[list[str]] = fields.JSONField(default=list)
    is_automatic = fields.BooleanField(default=False)
    is_autoreply = fields.BooleanField(default=False)
    minutes_spent = fields.IntField(default=0)
    sent_at = fields.DatetimeField(null=True)
    slack_ts = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField(db_index=True)

    attachments: fields.ReverseRelation[Attachment]

    class Meta:
        table = "article"
        indexes = (
            ("is_autoreply", "to_address", "created_at"),
            ("is_autoreply", "created_at"),
            ("ticket_id", "slack_ts"),
        )


class Attachment(Model):
    id = fields.BigIntField(primary_key=True)
    article: fields.ForeignKeyRelation[Article] = fields.ForeignKeyField(
        "ticketbot.Article", related_name="attachments", on_delete=fields.CASCADE
    )
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=255)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64, db_index=True)
    content_id = fields.CharField(max_length=255, null=True)
    is_inline = fields.BooleanField(default=False)
    storage_path = fields.CharField(max_length=500, default="")
    too_large = fields.BooleanField(default=False, db_default=False)
    # Not written because the disk was almost full (mail.attachments.min_free_bytes).
    disk_full = fields.BooleanField(default=False, db_default=False)
    slack_file_id = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "attachment"


class InboundMessage(Model):
    """The raw RFC 822 source of every mail received, and the key that de-duplicates it."""

    id = fields.BigIntField(primary_key=True)
    message_id = fields.CharField(max_length=998, default="")
    digest = fields.CharField(max_length=64)
    raw_source = fields.BinaryField()
    size = fields.BigIntField()
    source = fields.CharField(max_length=320, default="")
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "ticketbot.Ticket", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    article: fields.ForeignKeyNullableRelation[Article] = fields.ForeignKeyField(
        "ticketbot.Article", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    outcome = fields.CharField(max_length=40, default="")
    defects: fields.Field[list[str]] = fields.JSONField(default=list)
    received_at = fields.DatetimeField()
    # Stored raw, its ticket (article, outbox rows) not made yet: a crash in between
    # leaves the mail here and the intake finishes it (models.intake.make_tickets).
    pending = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "inbound_message"
        unique_together = (("message_id", "digest"),)
