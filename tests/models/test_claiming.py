"""Claims in bursts: grouped into few statements on PostgreSQL, one owner per ticket on
both databases, and a failing statement loses only the clicks it carried."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tortoise.transactions import in_transaction

from models.claiming import batcher
from models.effects import SLACK_CARD_UPDATE
from models.outbox.items import OutboxItem
from models.store import db
from models.store.ticket import History, Ticket
from models.work import Agent, ClaimResult, Refused, claim
from tests.models.test_work import POLICY
from tests.support.intake import ingest
from tests.support.make_mail import make_mail


async def new_tickets(count: int) -> list[int]:
    ids = []
    for n in range(count):
        mail = make_mail(message_id=f"<burst-{n}@customer.example>", subject=f"Burst {n}")
        result = await ingest(mail, POLICY)
        assert result.ticket_id is not None
        ids.append(result.ticket_id)
    assert len(set(ids)) == count, "each mail must open its own ticket"
    await OutboxItem.all().delete()
    return ids


@pytest.fixture
async def postgres(db_url_postgres: str) -> AsyncIterator[str]:
    await db.init(db_url_postgres)
    try:
        yield db_url_postgres
    finally:
        await db.close()


async def test_a_burst_on_many_tickets_has_one_owner_each(database: str) -> None:
    tickets = await new_tickets(12)
    clicks = [(t, Agent(f"U0AGENT{n}")) for t in tickets for n in range(3)]
    results = await asyncio.gather(
        *(claim(t, agent, POLICY) for t, agent in clicks), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, ClaimResult)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert (len(won), len(refused)) == (12, 24), results
    assert sorted(r.ticket_id for r in won) == sorted(tickets)
    for (ticket_id, agent), result in zip(clicks, results, strict=True):
        owner = (await Ticket.get(id=ticket_id)).owner_id
        if isinstance(result, ClaimResult):
            assert owner == agent.user_id
        else:
            assert result.facts["owner"] == owner
    assert await History.filter(event="claimed").count() == 12
    assert await OutboxItem.filter(kind=SLACK_CARD_UPDATE).count() == 12


async def test_a_burst_is_committed_in_few_statements(postgres: str) -> None:
    tickets = await new_tickets(40)
    before = batcher().statements
    results = await asyncio.gather(
        *(claim(t, Agent(f"U0AGENT{n}"), POLICY) for n, t in enumerate(tickets))
    )
    assert all(r.changed for r in results)
    statements = batcher().statements - before
    assert statements <= 10, statements
    history = await History.filter(event="claimed").values_list("ticket_id", "actor")
    assert sorted(history) == sorted((t, f"U0AGENT{n}") for n, t in enumerate(tickets))
    payloads = await OutboxItem.filter(kind=SLACK_CARD_UPDATE).values_list("payload", flat=True)
    assert sorted(p["ticket_id"] for p in payloads) == sorted(tickets)


async def test_a_failing_statement_loses_only_its_own_clicks(postgres: str) -> None:
    """A real database error (a trigger refusing one agent's history row) fails the
    batch that carried that click, atomically, and later batches still commit."""
    connection = db.connection()
    await connection.execute_script(
        """
        CREATE FUNCTION refuse_boom() RETURNS trigger AS $$
        BEGIN
            IF NEW.actor = 'U0BOOM' THEN RAISE EXCEPTION 'boom refused'; END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER refuse_boom BEFORE INSERT ON ticket_history
            FOR EACH ROW EXECUTE FUNCTION refuse_boom();
        """
    )
    tickets = await new_tickets(20)
    agents = [Agent("U0BOOM")] + [Agent(f"U0AGENT{n}") for n in range(1, 20)]
    results = await asyncio.gather(
        *(claim(t, a, POLICY) for t, a in zip(tickets, agents, strict=True)),
        return_exceptions=True,
    )
    assert isinstance(results[0], Exception) and "boom refused" in str(results[0])
    assert any(isinstance(r, ClaimResult) for r in results), results
    for ticket_id, agent, result in zip(tickets, agents, results, strict=True):
        ticket = await Ticket.get(id=ticket_id)
        history = await History.filter(ticket_id=ticket_id, event="claimed").count()
        updates = await OutboxItem.filter(stream=f"slack:{ticket_id}").count()
        if isinstance(result, ClaimResult):
            assert (ticket.owner_id, history, updates) == (agent.user_id, 1, 1)
        else:
            assert "boom refused" in str(result)
            assert (ticket.owner_id, ticket.state, history, updates) == (None, "new", 0, 0)
    again = await claim(tickets[0], Agent("U0AGENT0"), POLICY)
    assert again.changed


async def test_claiming_inside_a_transaction_is_a_programming_error(postgres: str) -> None:
    (ticket_id,) = await new_tickets(1)
    with pytest.raises(RuntimeError, match="outside a transaction"):
        async with in_transaction():
            await claim(ticket_id, Agent("U0AGENT1"), POLICY)
    assert (await Ticket.get(id=ticket_id)).owner_id is None


async def test_a_batch_cancelled_at_shutdown_cancels_its_clicks(postgres: str) -> None:
    """The statement is held by a table lock, then its task is cancelled (as at shutdown):
    the click waiting for it is cancelled, not left hanging, and nothing was written."""
    (ticket_id,) = await new_tickets(1)
    blocker = await asyncpg.connect(postgres)
    try:
        await blocker.execute("BEGIN; LOCK TABLE ticket IN ACCESS EXCLUSIVE MODE")
        click = asyncio.create_task(claim(ticket_id, Agent("U0AGENT1"), POLICY))
        deadline = asyncio.get_running_loop().time() + 5
        while not batcher()._tasks:  # the statement is on its way
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        for task in list(batcher()._tasks):
            task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await click
    finally:
        await blocker.execute("ROLLBACK")
        await blocker.close()
    assert (await Ticket.get(id=ticket_id)).owner_id is None
    assert (await claim(ticket_id, Agent("U0AGENT2"), POLICY)).changed
