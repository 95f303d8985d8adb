"""The rating page in a real browser (Playwright driving Debian's chromium) against a real
`ticketbot run`: the customer opens the link from the mail, sees the thanks, writes a
comment and sends it; the thread shows it. Screenshots go to the test's tmp dir."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.signer import SlackDriver
from tests.e2e.test_csat import LINK, body_of, csat_bot, ratings, thread_has
from tests.support.bot_process import BotFactory
from tests.support.dovecot import DovecotServer
from tests.support.slack_fixtures import SIGNING_SECRET
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import close_ticket, new_ticket_card

pytestmark = pytest.mark.e2e

playwright = pytest.importorskip("playwright.sync_api")
from tests.bot.sandbox.test_sandbox_browser import browser as browser  # noqa: E402, PLC0414


def close_as_alice(bot_url: str, slack: SlackEmulator, ticket: Any) -> None:
    """The agent's side, signed as Slack would (in a thread of its own with its own loop:
    Playwright's sync API keeps a loop running in this one)."""

    async def run() -> None:
        driver = SlackDriver(bot_url, SIGNING_SECRET, slack)
        try:
            closed = await close_ticket(driver, slack, ticket)
            assert closed.status == 200
        finally:
            await driver.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def test_the_customer_rates_and_comments_in_a_browser(
    tmp_path: Path,
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
    browser: Any,
) -> None:
    bot = csat_bot(bot_factory, db_url_sqlite)
    ticket = new_ticket_card(slack, imap_server, 1)
    smtp_server.wait_for(1, timeout=20)
    close_as_alice(bot.events_url, slack, ticket)
    [_, asked] = smtp_server.wait_for(2, timeout=20)
    links = dict((rating, url) for url, rating in LINK.findall(body_of(asked)))

    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{links['okay']}?rating=okay")
    expect = playwright.expect
    expect(page.locator("h1")).to_have_text("Thank you")
    expect(page.locator("main")).to_contain_text("You rated our help as okay.")
    page.screenshot(path=str(tmp_path / "01-thanks.png"))

    page.fill("textarea[name=comment]", "Good answer, but it took <two> days.")
    page.click("button[type=submit]")
    expect(page.locator("main")).to_contain_text("Thank you for your comment.")
    page.screenshot(path=str(tmp_path / "02-comment-sent.png"))
    assert all(url.startswith(bot.base) for url in requests)  # nothing loaded from elsewhere

    page.goto(f"{links['okay']}?rating=bad")  # the link again: told, nothing changes
    expect(page.locator("main")).to_contain_text("You have already answered this.")
    page.screenshot(path=str(tmp_path / "03-used.png"))

    slack.wait_for(lambda: thread_has(slack, ticket.ts, "took &lt;two&gt; days"), 20, "the comment")
    assert ratings(db_url_sqlite) == [("okay", "Good answer, but it took <two> days.")]
    assert re.fullmatch(r".*/csat/[A-Za-z0-9_-]{48}", links["okay"])
