"""MailIntake: the one way in for a mail — limits, the parse pool, attempts and quarantine —
on SQLite and PostgreSQL, with a real database refusing a poison mail by trigger."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator

import pytest

from mail.intake import MailIntake, piped_identity
from mail.limits import ParseLimits
from mail.parse_pool import ParsePool
from models.effects import SLACK_CARD_POST, SLACK_QUARANTINE_POST
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.quarantine import MailAttempt, start_attempt
from models.store import db
from models.store.article import Article, ArticleKind, InboundMessage
from models.store.ticket import Ticket
from tests.support.make_mail import make_mail

POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)
LIMITS = ParseLimits(max_attempts=3, max_message_bytes=200_000)

SQLITE_POISON = """
CREATE TRIGGER poison BEFORE INSERT ON article WHEN NEW.subject LIKE '%POISON%'
BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;
"""
PG_POISON = """
CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.subject LIKE '%POISON%' THEN RAISE EXCEPTION 'poisoned row'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER poison BEFORE INSERT ON article FOR EACH ROW EXECUTE FUNCTION poison();
"""


@pytest.fixture
async def intake(database: str) -> AsyncIterator[MailIntake]:
    sql = SQLITE_POISON if database.startswith("sqlite") else PG_POISON
    await db.connection().execute_script(sql)
    async with ParsePool(LIMITS) as pool:
        yield MailIntake(POLICY, pool)


async def receive(intake: MailIntake, raw: bytes, uid: int, size: int | None = None) -> str:
    result = await intake.receive(raw, source="imap", identity=f"box/1/{uid}", size=size)
    return result.outcome


async def test_a_poison_mail_is_quarantined_after_max_attempts_and_the_next_mail_goes_on(
    intake: MailIntake,
) -> None:
    poison = make_mail(subject="POISON pill", message_id="<poison@x.example>")
    for _ in range(3):
        with pytest.raises(Exception, match="poisoned row"):
            await receive(intake, poison, 7)
    assert await receive(intake, poison, 7) == "quarantined"

    [stored] = await InboundMessage.filter(outcome="quarantined")
    assert stored.raw_source == poison and stored.ticket_id is None
    [card] = await OutboxItem.filter(kind=SLACK_QUARANTINE_POST)
    assert card.payload["channel"] == "C0SUPPORT"
    assert card.payload["attempts"] == 3
    assert "poisoned row" in card.payload["error"]
    assert ["Subject", "POISON pill"] in card.payload["headers"]
    assert await Ticket.all().count() == 0

    # fetched again (marking it handled failed): neither stored nor shown twice
    assert await receive(intake, poison, 7) == "quarantined"
    assert await OutboxItem.filter(kind=SLACK_QUARANTINE_POST).count() == 1
    assert await InboundMessage.filter(outcome="quarantined").count() == 1

    assert await receive(intake, make_mail(subject="Next one"), 8) == "new_ticket"
    assert await OutboxItem.filter(kind=SLACK_CARD_POST).count() == 1


async def test_a_success_forgets_the_failed_attempts(intake: MailIntake) -> None:
    raw = make_mail(subject="Fine")
    await start_attempt("imap:box/1/9")  # an attempt that died with its process
    assert await receive(intake, raw, 9) == "new_ticket"
    assert await MailAttempt.filter(key="imap:box/1/9").count() == 0


async def test_a_stored_or_duplicate_mail_leaves_no_attempt_behind(intake: MailIntake) -> None:
    """The attempt is forgotten in the transaction that stores the mail (or on finding it
    stored already), so a crash in between cannot leave a stored mail counted as failing."""
    raw = make_mail(subject="Once", message_id="<once@x.example>")
    assert await receive(intake, raw, 11) == "new_ticket"
    assert await receive(intake, raw, 12) == "duplicate"  # e.g. after a UIDVALIDITY reset
    assert await MailAttempt.all().count() == 0
    assert await InboundMessage.all().count() == 1


async def test_attempts_are_counted_before_the_intake_runs(database: str) -> None:
    """An attempt that kills the whole process still counts: the count is committed first."""
    assert [(await start_attempt("k")).number for _ in range(4)] == [1, 2, 3, 4]


async def test_a_mail_over_the_size_limit_becomes_a_stub_ticket(intake: MailIntake) -> None:
    raw = make_mail(subject="Holiday photos", body="p" * 300_000)
    assert await receive(intake, raw, 10) == "new_ticket"
    [ticket] = await Ticket.all()
    assert ticket.subject == "Holiday photos"
    article = await Article.get(ticket_id=ticket.id, kind=ArticleKind.EMAIL_IN)
    assert article.incomplete and "mail.limits.max_message_bytes" in article.incomplete
    assert "p" * 100 not in article.body
    inbound = await InboundMessage.get(ticket_id=ticket.id)
    assert inbound.raw_source == raw


async def test_a_mail_cut_short_by_the_fetch_is_a_stub_with_its_stated_size(
    intake: MailIntake,
) -> None:
    raw = make_mail(subject="Cut at the limit", body="q" * 1000)
    assert await receive(intake, raw, 11, size=50 * 1024 * 1024) == "new_ticket"
    article = await Article.get(kind=ArticleKind.EMAIL_IN)
    assert article.incomplete is not None and "50.0 MB" in article.incomplete


def test_piped_mail_is_named_by_its_bytes() -> None:
    assert piped_identity(b"a") == piped_identity(b"a") != piped_identity(b"b")
