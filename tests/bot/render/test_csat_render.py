"""Customer satisfaction in words (pure): the report's section (Block Kit, JSON, table),
the thread notices, and the customer's pages (escaped, localised, nothing external)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bot.render.csat_page import PAGES, WORDS, comment_thanks_page, problem_page, thanks_page
from bot.render.notices import notice_text
from bot.render.report import build_report_blocks
from bot.render.report_files import report_json, report_table
from bot.render.team import history_entry
from bot.sandbox.emulator.validation import validate_message_blocks
from models.csat import Outcome, Rating
from models.csat_report import CsatCounts
from models.events import Notice
from models.store.ticket import History
from models.templates import LOCALES
from tests.bot.render.test_report import report

RATED = CsatCounts.of(
    [
        ("U0ALICE", "good", 3),
        ("U0ALICE", "bad", 1),
        ("U0BOB", "okay", 1),
        ("", "good", 1),  # closed unowned: the closing agent is recorded, "" only in old rows
        ("U0BOB", "excellent", 9),  # not a rating: left out
    ]
)


def test_counts_and_shares() -> None:
    assert RATED.overall == {"good": 4, "okay": 1, "bad": 1} and RATED.total == 6
    assert [agent for agent, _ in RATED.agents] == ["U0ALICE", "", "U0BOB"]
    assert RATED.share("good") == pytest.approx(4 / 6)
    assert RATED.share("bad", {"good": 0, "okay": 0, "bad": 0}) is None
    assert CsatCounts().total == 0 and CsatCounts().share("good") is None


def test_the_report_shows_shares_overall_and_per_agent() -> None:
    blocks = build_report_blocks(report(csat=RATED), "UTC")
    assert validate_message_blocks(blocks) == []
    shown = str(blocks)
    assert "*Customer satisfaction* (6 ratings)\\nGood 67 % · Okay 17 % · Bad 17 %" in shown
    assert "<@U0ALICE> — Good 75 % · Okay 0 % · Bad 25 % (4)" in shown
    assert "_no owner_ — Good 100 % · Okay 0 % · Bad 0 % (1)" in shown
    assert "Customer satisfaction" not in str(build_report_blocks(report(), "UTC"))


def test_json_and_table_carry_the_ratings() -> None:
    data = json.loads(report_json(report(csat=RATED), "UTC"))["satisfaction"]
    assert (data["ratings"], data["good"], data["okay"], data["bad"]) == (6, 4, 1, 1)
    assert data["share"]["good"] == pytest.approx(4 / 6)
    assert data["agents"][0] == {
        "user": "U0ALICE",
        "ratings": 4,
        "good": 3,
        "okay": 0,
        "bad": 1,
        "share": {"good": 0.75, "okay": 0.0, "bad": 0.25},
    }
    empty = json.loads(report_json(report(), "UTC"))["satisfaction"]
    assert empty["ratings"] == 0 and empty["share"] == {"good": None, "okay": None, "bad": None}
    table = report_table(report(csat=RATED), "UTC")
    assert re.search(r"^U0ALICE\s+3\s+0\s+1\s+4\s+75\s+0\s+25$", table, re.M), table
    assert re.search(r"^\(no owner\)\s+1\s+0\s+0\s+1\s+100\s+0\s+0$", table, re.M), table
    assert re.search(r"^all\s+4\s+1\s+1\s+6\s+67\s+17\s+17$", table, re.M), table
    assert "satisfaction" not in report_table(report(), "UTC")


def test_the_notices_escape_the_customers_comment() -> None:
    assert notice_text(Notice.CSAT_RATED, {"rating": "good"}) == (
        ":bar_chart: The customer rated the help on this ticket: *good*."
    )
    said = notice_text(
        Notice.CSAT_COMMENTED, {"rating": "bad", "comment": "<!channel> *slow*\nsee <http://x|y>"}
    )
    assert "<!channel>" not in said and "&lt;!channel&gt;" in said and "<http" not in said
    assert "\n" not in said


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_is_worded_in_every_locale(locale: str) -> None:
    words = WORDS[locale]  # type: ignore[index]
    assert set(words.pages) == set(PAGES)
    assert set(words.rating_names) == set(Rating)
    for problem in PAGES:
        status, page = problem_page(locale, "Team", problem)  # type: ignore[arg-type]
        assert 400 <= status < 500 and f'<html lang="{locale}">' in page
    assert {PAGES[o] for o in (Outcome.EXPIRED, Outcome.SPENT)} == {410}
    assert (PAGES[Outcome.INVALID], PAGES[Outcome.USED]) == (404, 409)


def test_the_pages_escape_what_they_show_and_load_nothing() -> None:
    team = 'Evil "Team" <script>alert(1)</script>'
    token = "A" * 48
    page = thanks_page("en", team, Rating.OKAY, "/csat/" + token, token)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&quot;Team&quot;" in page
    assert "src=" not in page and "http" not in page and "<link" not in page
    assert 'method="post" action="/csat/' + token + '"' in page
    assert "<script" not in comment_thanks_page("de", team)
    assert "Vielen Dank für Ihren Kommentar" in comment_thanks_page("de", team)


def test_the_history_in_ticket_show_says_the_rating_and_the_comment() -> None:
    row = History(
        ticket_id=1,
        event="csat_commented",
        actor="eva@customer.example",
        detail={"request": 3, "rating": "bad", "comment": "<!here> too slow", "agent": "U0A"},
        created_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
    )
    line = history_entry(row, "", "Ticket#")
    assert line == (
        "• 2026-12-07 09:30 UTC · csat_commented · eva@customer.example"
        " (rating bad, comment &lt;!here&gt; too slow)"
    )
