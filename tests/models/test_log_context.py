"""models.log_context: facts bound inside a scope end with it, and tasks keep their own."""

from __future__ import annotations

import asyncio

from models.log_context import bind, current, log_scope


def test_facts_end_with_their_scope_and_none_leaves_a_fact_out() -> None:
    with log_scope(outbox_item=7):
        bind(message_id="<a@b.example>", ticket=None)
        assert current() == {"outbox_item": "7", "message_id": "<a@b.example>"}
        with log_scope(ticket="2026010110000017"):
            assert current()["ticket"] == "2026010110000017"
        bind(message_id="")
        assert current() == {"outbox_item": "7"}
    assert current() == {}


async def test_concurrent_tasks_keep_their_own_facts() -> None:
    both_bound = asyncio.Barrier(2)

    async def work(number: str) -> dict[str, str]:
        with log_scope():
            bind(ticket=number)
            await both_bound.wait()
            return dict(current())

    first, second = await asyncio.gather(work("1"), work("2"))
    assert (first, second) == ({"ticket": "1"}, {"ticket": "2"})
    assert current() == {}
