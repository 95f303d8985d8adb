"""Search results as Block Kit (pure): valid, one line per ticket, snippets escaped with the
hits in bold, More carrying the query and the next page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.render.search import (
    build_search_results,
    hit_line,
    more_value,
    read_more_value,
    snippet_text,
)
from bot.sandbox.emulator.validation import validate_message_blocks
from models.search import PAGE_SIZE, SearchHit, SearchPage
from models.store.ticket import TicketState

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def hit(n: int, **changes: object) -> SearchHit:
    fields: dict[str, object] = {
        "ticket_id": n,
        "number": f"20261125100{n:05d}",
        "state": TicketState.OPEN,
        "owner_id": "U0ALICE",
        "created_at": NOW - timedelta(hours=n),
        "subject": f"Printer <!channel> {n}",
        "customer": "ann@x.example",
        "snippet": [("my <b>", False), ("printer", True), (" & *you* <@U0BOSS>", False)],
    }
    fields.update(changes)
    return SearchHit(**fields)  # type: ignore[arg-type]


def test_a_snippet_is_escaped_and_its_hits_are_bold() -> None:
    assert snippet_text(hit(1).snippet) == "my &lt;b&gt;*printer* &amp; *you* &lt;@U0BOSS&gt;"
    assert snippet_text([("x" * 50, False), ("hit", True)], limit=20).endswith("…")
    assert "<" not in snippet_text([("<!here>", True)]).replace("&lt;", "")


def test_a_line_shows_number_state_owner_age_subject_and_snippet() -> None:
    line = hit_line(hit(3), "Ticket#", NOW)
    first, subject, snippet = line.split("\n")
    assert first.startswith(
        "*Ticket#2026112510000003* · :large_orange_circle: Open · <@U0ALICE> · "
    )
    assert "|3 h>" in first  # Slack's date, with a fallback age
    assert subject == "Printer &lt;!channel&gt; 3"
    assert snippet.startswith(">my &lt;b&gt;*printer*")
    assert "unclaimed" in hit_line(hit(3, owner_id=None, snippet=[]), "Ticket#", NOW)


def test_pages_are_valid_block_kit_and_more_carries_the_next_page() -> None:
    page = SearchPage([hit(n) for n in range(PAGE_SIZE)], page=1, more=True)
    blocks = build_search_results('printer "floor 3" state:open', page, "Ticket#", NOW, ["note"])
    assert validate_message_blocks(blocks) == []
    assert "11–20" in str(blocks[0])
    [more] = blocks[-1]["elements"]
    assert more["action_id"] == "search_more"
    assert read_more_value(more["value"]) == ('printer "floor 3" state:open', 2)
    last = build_search_results("printer", SearchPage([hit(1)], 2, more=False), "Ticket#", NOW)
    assert all(b["type"] != "actions" for b in last)
    empty = build_search_results("nothing", SearchPage([], 0, more=False), "Ticket#", NOW)
    assert "No ticket in your queues matches" in str(empty)


def test_a_more_value_fits_a_button_and_bad_values_are_nothing() -> None:
    assert len(more_value("x" * 5000, 3)) < 2000
    assert read_more_value("not json") == ("", 0)
    assert read_more_value('{"q": "a", "page": -4}') == ("a", 0)
