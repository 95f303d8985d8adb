"""The ticket card and thread posts: pure builders, checked against Slack's own limits."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.blocks import build_article_message, build_ticket_card, card_fallback
from bot.render.mrkdwn import escape, escape_within, truncate
from bot.sandbox.emulator.validation import validate_message_blocks
from bot.slack import ids
from models.store.article import Article, ArticleKind
from models.store.ticket import TicketState
from models.views import TicketSummary

CREATED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def summary(**overrides: object) -> TicketSummary:
    values: dict[str, object] = {
        "id": 7,
        "number": "2026112510000017",
        "queue": "Support",
        "subject": "Printer on fire",
        "customer_name": "Alice Customer",
        "customer_email": "alice@example.com",
        "state": TicketState.NEW,
        "owner_id": None,
        "created_at": CREATED,
        "excerpt": "It prints blank pages.",
        "attachment_count": 0,
        "slack_channel": "C0SUPPORT1",
        "slack_ts": None,
    }
    values.update(overrides)
    return TicketSummary(**values)  # type: ignore[arg-type]


def buttons(blocks: list[dict[str, object]]) -> list[str]:
    """The work buttons (the first actions row; the second is `ticket_controls`)."""
    [actions] = [b for b in blocks if b.get("block_id") == ids.CARD_ACTIONS_BLOCK]
    return [e["action_id"] for e in actions["elements"]]  # type: ignore[index]


def all_text(blocks: list[dict[str, object]]) -> str:
    return repr(blocks)


@pytest.mark.parametrize(
    ("state", "owner", "expected"),
    [
        (TicketState.NEW, None, [ids.CLAIM, ids.REPLY, ids.NOTE, ids.CLOSE]),
        (TicketState.OPEN, "U0ALICE001", [ids.RELEASE, ids.REPLY, ids.NOTE, ids.CLOSE]),
        (TicketState.PENDING, "U0ALICE001", [ids.RELEASE, ids.REPLY, ids.NOTE, ids.CLOSE]),
        (TicketState.CLOSED, "U0ALICE001", [ids.REOPEN, ids.NOTE]),
    ],
)
def test_buttons_follow_the_state(
    state: TicketState, owner: str | None, expected: list[str]
) -> None:
    blocks = build_ticket_card(summary(state=state, owner_id=owner), "Ticket#")
    assert buttons(blocks) == expected
    assert validate_message_blocks(blocks) == []


def test_card_shows_number_subject_customer_state_owner_age_and_excerpt() -> None:
    blocks = build_ticket_card(summary(owner_id="U0ALICE001", state=TicketState.OPEN), "Ticket#")
    text = all_text(blocks)
    assert "Ticket#2026112510000017" in text
    assert "Printer on fire" in text
    assert "Alice Customer &lt;alice@example.com&gt;" in text
    assert "Open" in text
    assert "<@U0ALICE001>" in text
    assert f"<!date^{int(CREATED.timestamp())}^{{ago}}|2026-11-25 09:30 UTC>" in text
    assert "It prints blank pages." in text


def test_every_button_carries_the_ticket_id() -> None:
    blocks = build_ticket_card(summary(), "Ticket#")
    [actions] = [b for b in blocks if b.get("block_id") == ids.CARD_ACTIONS_BLOCK]
    assert {e["value"] for e in actions["elements"]} == {"7"}


def test_customer_text_is_escaped_everywhere() -> None:
    hostile = "<!channel> <@U123> <https://evil.example|bank> &"
    s = summary(subject=hostile, customer_name=hostile, excerpt=hostile, queue="Support")
    blocks = build_ticket_card(s, "Ticket#")
    fallback = card_fallback(s, "Ticket#")
    for text in (all_text(blocks), fallback):
        assert "<!channel>" not in text
        assert "<@U123>" not in text
        assert "<https://evil.example|bank>" not in text
    assert "&lt;!channel&gt;" in fallback


def test_huge_customer_text_is_cut_to_block_kit_limits() -> None:
    s = summary(subject="S" * 10_000, customer_name="N" * 5000, excerpt="<" * 50_000)
    blocks = build_ticket_card(s, "Ticket#")
    assert validate_message_blocks(blocks) == []
    assert len(card_fallback(s, "Ticket#")) <= 400


def test_missing_subject_and_sender_still_render() -> None:
    s = summary(subject="", customer_name="", customer_email="", excerpt="")
    blocks = build_ticket_card(s, "Ticket#")
    assert validate_message_blocks(blocks) == []
    assert "(no subject)" in all_text(blocks)
    assert "unknown sender" in all_text(blocks)


def test_attachments_are_counted_on_the_card() -> None:
    blocks = build_ticket_card(summary(attachment_count=2), "Ticket#")
    assert ":paperclip: 2 attachments" in all_text(blocks)


def test_thread_post_for_a_note_is_escaped_and_valid() -> None:
    article = Article(
        kind=ArticleKind.NOTE,
        author="system",
        author_name="Mail delivery",
        body="Delivery failed <!here>\n" + "x" * 10_000,
    )
    text, blocks = build_article_message(article)
    assert validate_message_blocks(blocks) == []
    assert "<!here>" not in all_text(blocks) + text
    assert "Internal note" in all_text(blocks)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a<b>&c", "a&lt;b&gt;&amp;c"), ("plain", "plain"), ("", "")],
)
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_truncate_marks_the_cut() -> None:
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("abc", 4) == "abc"


@settings(max_examples=300, deadline=None)
@given(text=st.text(), limit=st.integers(min_value=1, max_value=500))
def test_escape_within_never_exceeds_the_limit_nor_splits_an_entity(text: str, limit: int) -> None:
    out = escape_within(text, limit)
    assert len(out) <= limit
    assert "<" not in out and ">" not in out
    body = out.removesuffix("…")
    assert escape(text).startswith(body)
