"""The card's controls, the merged card, the merge form and the customer's history: pure
builders, checked by the emulator's Block Kit validation (what real Slack rejects), also
with 50 and with 250 queues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.render.blocks import build_pointer_card, build_ticket_card, build_ticket_details
from bot.render.notices import notice_text
from bot.render.team import (
    build_customer_history,
    build_history,
    build_merge_modal,
    read_merge_form,
    ticket_number,
)
from bot.sandbox.emulator.validation import validate_message_blocks, validate_view
from bot.slack import ids
from models.events import Notice
from models.priority import Priority
from models.store.ticket import History, Ticket, TicketState
from models.team import CustomerHistory
from tests.bot.render.test_blocks import summary

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def controls(blocks: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    [row] = [b for b in blocks if b.get("block_id") == ids.CARD_CONTROLS_BLOCK]
    return {e["action_id"]: e for e in row["elements"]}  # type: ignore[index, union-attr]


@pytest.mark.parametrize("priority", list(Priority))
def test_the_priority_select_starts_at_the_current_priority(priority: Priority) -> None:
    blocks = build_ticket_card(summary(priority=priority), "Ticket#", ["Support", "Billing"])
    select = controls(blocks)[ids.PRIORITY]
    assert select["initial_option"] in select["options"]  # type: ignore[operator]
    assert select["initial_option"]["value"] == f"7:{priority.value}"  # type: ignore[index]
    assert [o["value"] for o in select["options"]] == [  # type: ignore[attr-defined]
        "7:urgent",
        "7:high",
        "7:normal",
        "7:low",
    ]
    assert validate_message_blocks(blocks) == []


@pytest.mark.parametrize("count", [1, 2, 50, 101, 250])
def test_transfer_offers_every_other_queue_within_block_kits_limits(count: int) -> None:
    """Up to 100 other queues as options; more as option groups of 100 (Slack's limits:
    100 options, 100 groups of 100). Long names are cut in the text, whole in the value."""
    queues = [f"Queue {n} " + "x" * 80 for n in range(count)]
    blocks = build_ticket_card(summary(queue=queues[0]), "Ticket#", queues)
    assert validate_message_blocks(blocks) == []
    found = controls(blocks)
    if count == 1:
        assert ids.TRANSFER not in found  # nowhere to go
        return
    select = found[ids.TRANSFER]
    groups = select.get("option_groups") or [{"options": select["options"]}]
    offered = [o["value"] for g in groups for o in g["options"]]  # type: ignore[attr-defined, index]
    assert offered == [f"7:{name}" for name in queues[1:]]
    assert all(len(g["options"]) <= 100 for g in groups)  # type: ignore[arg-type, index]


def test_a_merged_ticket_card_is_a_pointer_without_buttons() -> None:
    blocks = build_ticket_card(
        summary(merged_into_number="2026112510000028", state=TicketState.CLOSED),
        "Ticket#",
        ["Support", "Billing"],
    )
    assert validate_message_blocks(blocks) == []
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "Merged into *Ticket#2026112510000028*" in repr(blocks)


def test_the_moved_pointer_is_valid_and_escaped() -> None:
    facts = {"agent": "U0ALICE001", "number": "Ticket#1", "queue": "<!channel> Billing"}
    text = notice_text(Notice.MOVED_TO, facts)
    blocks = build_pointer_card(text)
    assert validate_message_blocks(blocks) == []
    assert "<!channel>" not in text and "<@U0ALICE001>" in text


def test_the_merge_modal_is_valid_and_reads_numbers_as_pasted() -> None:
    view = build_merge_modal(summary(subject="<!here> " + "s" * 5000), "Ticket#")
    assert validate_view(view) == []
    assert view["callback_id"] == ids.MERGE_VIEW
    submitted = {
        **view,
        "state": {"values": {"merge_into": {"value": {"value": " [Ticket#2026112510000028] "}}}},
    }
    answer = read_merge_form(submitted, "Ticket#")
    assert (answer.ticket_id, answer.number) == (7, "2026112510000028")


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("2026112510000028", "2026112510000028"),
        ("Ticket#2026112510000028", "2026112510000028"),
        ("ticket#2026112510000028", "2026112510000028"),
        ("#2026112510000028", "2026112510000028"),
        ("[Ticket#2026112510000028]", "2026112510000028"),
        ("", ""),
        ("x" * 5000, "x" * 64),
    ],
)
def test_ticket_number(typed: str, number: str) -> None:
    assert ticket_number(typed, "Ticket#") == number


def history_ticket(n: int, subject: str, state: TicketState = TicketState.CLOSED) -> Ticket:
    return Ticket(
        id=n,
        number=f"20261125100000{n:02d}",
        subject=subject,
        state=state,
        created_at=NOW - timedelta(days=n),
    )


def test_the_customer_history_is_escaped_counted_and_valid() -> None:
    tickets = [history_ticket(n, f"<!channel> question {n} " + "q" * 300) for n in range(1, 11)]
    blocks = build_customer_history("<@U0X> evil@x.example", CustomerHistory(tickets, 3), "T#", NOW)
    assert validate_message_blocks(blocks) == []
    text = repr(blocks)
    assert "<!channel>" not in text and "<@U0X>" not in text
    assert "*T#2026112510000001*" in text and "· 1 d" in text
    assert "3 more tickets of this customer are in queues you do not work in." in text
    empty = build_customer_history("a@b.example", CustomerHistory([], 0), "T#", NOW)
    assert "No other tickets you can see" in repr(empty) and len(empty) == 2


def test_show_with_history_stays_within_fifty_blocks() -> None:
    history = build_customer_history(
        "a@b.example", CustomerHistory([history_ticket(1, "x")], 1), "T#", NOW
    )
    blocks = build_ticket_details(summary(), [], "T#", before=history)
    assert validate_message_blocks(blocks) == []
    assert "Other tickets of" in repr(blocks)


def test_the_history_names_merged_rows_escapes_and_keeps_the_last_twenty() -> None:
    def row(n: int) -> History:
        made = History(
            event="created" if n == 0 else "transferred",
            actor="<!channel>@x.example" if n == 0 else "U0ALICE001",
            detail={"from": "Support", "to": "<b>Billing</b>"} if n else {"queue": "Support"},
            created_at=NOW + timedelta(minutes=n),
        )
        made.ticket_id = 1 if n % 2 else 2  # no database here: the relation is not set up
        return made

    rows = [row(n) for n in range(25)]
    blocks = build_history(rows, {2: "2026112510000028"}, "T#")
    assert validate_message_blocks(blocks) == []
    text = repr(blocks)
    assert "5 earlier entries not shown" in text
    assert "<!channel>" not in text and "<@U0ALICE001>" in text
    assert "(from Support, to &lt;b&gt;Billing&lt;/b&gt;)" in text
    assert "— on T#2026112510000028" in text
    assert text.count("• ") == 20
