"""`/ticket search` on SQLite and PostgreSQL: every word must appear somewhere in the
ticket (subject, customer, number, any article); only the asker's channels count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.search import MAX_TERMS, search_terms, search_tickets
from models.store.ticket import Ticket
from models.work import note
from tests.models.test_work import ALICE, POLICY
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

CHANNEL = "C0SUPPORT"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("toner  printer", ["toner", "printer"]),
        ('"floor 3"  Toner toner', ["floor 3", "Toner"]),
        ('"  spaced   out "', ["spaced out"]),
        ("", []),
        ('""', []),
        ("x" * 300, ["x" * 100]),
        (" ".join(f"w{n}" for n in range(20)), [f"w{n}" for n in range(MAX_TERMS)]),
    ],
)
def test_search_terms(text: str, expected: list[str]) -> None:
    assert search_terms(text) == expected


async def ticket(n: int, subject: str, sender: str, body: str, minutes_ago: int) -> Ticket:
    mail = make_mail(
        message_id=f"<search-{n}@customer.example>",
        subject=subject,
        from_=sender,
        body=body,
    )
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    result = await ingest(mail, POLICY, clock=lambda: at)
    assert result.ticket_id is not None
    return await Ticket.get(id=result.ticket_id)


async def numbers(text: str, channels: tuple[str, ...] = (CHANNEL,)) -> list[str]:
    return [t.number for t in await search_tickets(search_terms(text), channels=channels)]


async def test_every_word_must_appear_somewhere(database: str) -> None:
    printer = await ticket(1, "Printer on floor 3", "Alice <alice@example.com>", "It jams.", 30)
    toner = await ticket(2, "Toner empty", "Bob Builder <bob@example.org>", "Floor 3 too.", 20)
    other = await ticket(3, "Invoice 100% wrong", "carol@example.net", "Pay 1000?", 10)
    await note(printer.id, ALICE, "Customer says the toner is fine.")  # printer: latest now

    assert await numbers("printer") == [printer.number]
    assert await numbers("TONER") == [printer.number, toner.number]  # the note counts
    assert await numbers('"floor 3"') == [printer.number, toner.number]
    assert await numbers("toner jams") == [printer.number]
    assert await numbers("builder") == [toner.number]
    assert await numbers("example.net") == [other.number]
    assert await numbers(other.number[-6:]) == [other.number]
    assert await numbers("100%") == [other.number]
    assert await numbers("10%0") == []  # % and _ are literal, not wildcards
    assert await numbers("_nvoice") == []
    assert await numbers("toner nowhere") == []
    assert await numbers("") == []


async def test_only_the_askers_channels_are_searched(database: str) -> None:
    await ticket(1, "Printer on floor 3", "alice@example.com", "It jams.", 5)
    assert await numbers("printer", channels=("C0ELSEWHERE",)) == []
    assert await numbers("printer", channels=()) == []
