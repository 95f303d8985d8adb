"""The IMAP intake in two steps, on SQLite and PostgreSQL: a batch stored raw in one
statement, then its tickets made several per transaction — each mail still once, a
hostile or poison mail never taking its neighbours along, a crash in between losing
nothing."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from mail.intake import Incoming, MailIntake, TicketMaker
from mail.limits import ParseLimits
from mail.parse import parse_mail
from mail.parse_pool import ParsePool
from models.effects import MAIL_SEND, SLACK_CARD_POST, SLACK_QUARANTINE_POST
from models.events import HistoryEvent
from models.intake import IntakeResult, StoredMail, make_tickets
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.quarantine import MailAttempt
from models.store import db
from models.store.article import Article, ArticleKind, InboundMessage
from models.store.ticket import History, Ticket
from tests.support.make_mail import make_mail

POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)
LIMITS = ParseLimits(max_attempts=3, max_message_bytes=200_000)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
GARBAGE = b"\x00\xff\xfe garbage without any headers \x00\r\n\r\n\x80\x81"

# Poison for the second step (making the ticket) and for the first (storing it raw).
SQLITE_POISON = """
CREATE TRIGGER poison BEFORE INSERT ON article WHEN NEW.subject LIKE '%POISON%'
BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;
CREATE TRIGGER refuse BEFORE INSERT ON inbound_message WHEN NEW.message_id LIKE '%refused%'
BEGIN SELECT RAISE(ABORT, 'refused row'); END;
"""
PG_POISON = """
CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.subject LIKE '%POISON%' THEN RAISE EXCEPTION 'poisoned row'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER poison BEFORE INSERT ON article FOR EACH ROW EXECUTE FUNCTION poison();
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.message_id LIKE '%refused%' THEN RAISE EXCEPTION 'refused row'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse BEFORE INSERT ON inbound_message FOR EACH ROW EXECUTE FUNCTION refuse();
"""


@pytest.fixture
async def intake(database: str) -> AsyncIterator[MailIntake]:
    sql = SQLITE_POISON if database.startswith("sqlite") else PG_POISON
    await db.connection().execute_script(sql)
    async with ParsePool(LIMITS) as pool:
        yield MailIntake(POLICY, pool)


def mail(n: int, **overrides: object) -> bytes:
    values: dict[str, object] = {
        "subject": f"Request {n}",
        "message_id": f"<request.{n}@example.com>",
        "from_": f"customer{n}@example.com",
    }
    values.update(overrides)
    return make_mail(**values)  # type: ignore[arg-type]


def batch(*raws: bytes, first_uid: int = 1) -> list[Incoming]:
    return [Incoming(raw, f"box/1/{first_uid + n}") for n, raw in enumerate(raws)]


def outcomes(results: list[IntakeResult | None]) -> list[str]:
    return [result.outcome if result is not None else "stored" for result in results]


async def make_all(intake: MailIntake, made: list[IntakeResult] | None = None) -> int:
    maker = TicketMaker(intake, POLICY, on_result=(made.append if made is not None else print))
    return await maker.drain_once()


async def test_a_batch_with_a_hostile_mail_is_stored_raw_then_each_becomes_a_ticket(
    intake: MailIntake,
) -> None:
    raws = [mail(1), GARBAGE, mail(3)]
    outcome = await intake.receive_batch(batch(*raws), source="imap")

    assert outcome.error is None
    assert outcomes(outcome.results) == ["stored", "stored", "stored"]
    stored = await InboundMessage.all().order_by("id")
    assert [row.raw_source for row in stored] == raws
    assert all(row.pending for row in stored)
    assert await Ticket.all().count() == 0
    assert await MailAttempt.all().count() == 0  # stored: nothing left to count

    made: list[IntakeResult] = []
    assert await make_all(intake, made) == 3
    assert [result.outcome for result in made] == ["new_ticket"] * 3
    assert not await InboundMessage.filter(pending=True).exists()
    unreadable = await InboundMessage.get(raw_source=GARBAGE)
    assert unreadable.ticket_id is not None and unreadable.outcome == "new_ticket"
    assert await OutboxItem.filter(kind=SLACK_CARD_POST).count() == 3
    assert await OutboxItem.filter(kind=MAIL_SEND).count() == 2  # not to a mail without sender
    assert await make_all(intake) == 0  # nothing made twice


async def test_duplicates_within_a_batch_and_across_batches_are_stored_once(
    intake: MailIntake,
) -> None:
    first = await intake.receive_batch(batch(mail(1), mail(2), mail(1)), source="imap")
    # fetched again (say \Seen was never set), with one new mail
    second = await intake.receive_batch(batch(mail(2), mail(4), first_uid=4), source="imap")

    assert outcomes(first.results) == ["stored", "stored", "duplicate"]
    assert outcomes(second.results) == ["duplicate", "stored"]
    assert await InboundMessage.all().count() == 3
    assert await make_all(intake) == 3
    assert await Ticket.all().count() == 3
    assert await OutboxItem.filter(kind=MAIL_SEND).count() == 3
    assert await MailAttempt.all().count() == 0


async def test_a_crash_between_storing_and_ticketing_is_finished_by_the_next_process(
    database: str,
) -> None:
    raws = [mail(1), mail(2), mail(1, subject="Re: Request 1", message_id="<r@example.com>")]
    async with ParsePool(LIMITS) as pool:
        dying = MailIntake(POLICY, pool)
        outcome = await dying.receive_batch(batch(*raws), source="imap")
        assert outcomes(outcome.results) == ["stored"] * 3
    # the process died here: its parses are gone, the mails were not marked \Seen

    async with ParsePool(LIMITS) as pool:
        restarted = MailIntake(POLICY, pool)
        again = await restarted.receive_batch(batch(*raws), source="imap")
        made: list[IntakeResult] = []
        assert await make_all(restarted, made) == 3

    assert outcomes(again.results) == ["duplicate"] * 3
    assert [result.outcome for result in made] == ["new_ticket", "new_ticket", "followup"]
    assert await Ticket.all().count() == 2
    assert await Article.filter(kind=ArticleKind.EMAIL_IN).count() == 3
    assert await OutboxItem.filter(kind=SLACK_CARD_POST).count() == 2
    assert await OutboxItem.filter(kind=MAIL_SEND).count() == 2


async def test_a_ticket_made_meanwhile_is_not_made_again(intake: MailIntake) -> None:
    """Two processes (or a retry after a crash past the commit) make the same stored mail:
    the pending flag, cleared in the ticket's own transaction, lets one of them win."""
    raw = mail(1)
    await intake.receive_batch(batch(raw), source="imap")
    [row] = await InboundMessage.all()
    item = StoredMail(row.id, parse_mail(raw))

    first = await make_tickets([item], POLICY)
    second = await make_tickets([item], POLICY)

    assert [r.outcome for r in first if isinstance(r, IntakeResult)] == ["new_ticket"]
    assert [r.outcome for r in second if isinstance(r, IntakeResult)] == ["duplicate"]
    assert await Ticket.all().count() == 1
    assert await OutboxItem.filter(kind=MAIL_SEND).count() == 1


async def test_a_poison_mail_fails_alone_and_is_quarantined_the_others_go_on(
    intake: MailIntake,
) -> None:
    raws = [mail(1), mail(2, subject="POISON pill"), mail(3)]
    await intake.receive_batch(batch(*raws), source="imap")

    assert await make_all(intake) == 2  # its neighbours in the same transaction commit
    assert await Ticket.all().count() == 2
    [waiting] = await InboundMessage.filter(pending=True)
    assert waiting.raw_source == raws[1]

    for _ in range(2):  # tried again alone, max_attempts in all
        assert await make_all(intake) == 0
    assert await InboundMessage.filter(pending=True).count() == 1
    assert await make_all(intake) == 0  # past max_attempts: set aside

    quarantined = await InboundMessage.get(id=waiting.id)
    assert (quarantined.pending, quarantined.outcome) == (False, "quarantined")
    assert quarantined.ticket_id is None
    [card] = await OutboxItem.filter(kind=SLACK_QUARANTINE_POST)
    assert card.payload["attempts"] == 3 and "poisoned row" in card.payload["error"]
    assert await Ticket.all().count() == 2
    await intake.receive_batch(batch(mail(4), first_uid=9), source="imap")
    assert await make_all(intake) == 1
    assert await OutboxItem.filter(kind=SLACK_QUARANTINE_POST).count() == 1


async def test_a_batch_the_database_refuses_is_stored_up_to_the_refused_mail(
    intake: MailIntake,
) -> None:
    raws = [mail(1), mail(2, message_id="<refused@example.com>"), mail(3)]
    outcome = await intake.receive_batch(batch(*raws), source="imap")

    assert outcomes(outcome.results) == ["stored"]
    assert outcome.error is not None and "refused row" in str(outcome.error)
    assert [row.raw_source for row in await InboundMessage.all()] == [raws[0]]
    [attempt] = await MailAttempt.filter(key="imap:box/1/2")
    assert "refused row" in attempt.last_error

    # next pass: the refused mail comes first, alone, and fails alone until quarantined
    for _ in range(2):
        retry = await intake.receive_batch(batch(*raws[1:], first_uid=2), source="imap")
        assert retry.results == [] and retry.error is not None
    retry = await intake.receive_batch(batch(*raws[1:], first_uid=2), source="imap")
    assert outcomes(retry.results) == ["quarantined", "stored"]
    assert await make_all(intake) == 2
    assert await Ticket.all().count() == 2


async def test_a_reused_message_id_in_a_batch_is_kept_and_noted(intake: MailIntake) -> None:
    other = mail(1, subject="Something else entirely")
    outcome = await intake.receive_batch(batch(mail(1), other), source="imap")

    assert outcomes(outcome.results) == ["stored", "stored"]
    assert await make_all(intake) == 2
    assert await Ticket.all().count() == 2
    clashes = await History.filter(event=HistoryEvent.MESSAGE_ID_CLASH)
    assert [h.detail["message_id"] for h in clashes] == ["<request.1@example.com>"] * 2


async def test_after_a_crash_in_a_group_each_mail_is_counted_and_made_alone(
    intake: MailIntake,
) -> None:
    """A process killed while making a group counted one attempt for each of its mails; the
    next one makes them one at a time, counting only the mail in hand: the crash of one
    more process (or a poison neighbour) never pushes the whole group into quarantine."""
    await intake.receive_batch(batch(mail(1), mail(2), mail(3)), source="imap")
    ids = [row.id for row in await InboundMessage.all().order_by("id")]
    for inbound_id in ids:  # what the killed process left behind
        await MailAttempt.create(key=f"ticket:{inbound_id}", attempts=2, updated_at=NOW)

    made: list[IntakeResult] = []
    assert await make_all(intake, made) == 3

    assert [result.outcome for result in made] == ["new_ticket"] * 3
    assert not await OutboxItem.filter(kind=SLACK_QUARANTINE_POST).exists()
    assert await MailAttempt.all().count() == 0


async def test_a_mail_cut_short_by_the_fetch_stays_a_stub_when_read_again(
    database: str,
) -> None:
    """Its stated size is stored with it: parsed again after a restart, it is still read
    from its headers alone, not as a whole mail."""
    raw = mail(1, body="q" * 1000)
    async with ParsePool(LIMITS) as pool:
        dying = MailIntake(POLICY, pool)
        cut = Incoming(raw, "box/1/1", size=50 * 1024 * 1024)
        await dying.receive_batch([cut], source="imap")
    async with ParsePool(LIMITS) as pool:
        assert await make_all(MailIntake(POLICY, pool)) == 1

    article = await Article.get(kind=ArticleKind.EMAIL_IN)
    assert article.incomplete is not None and "50.0 MB" in article.incomplete
