"""The rating pages over real HTTP (aiohttp on loopback, `build_web_app`) against a real
database (both): what each request records, what each refusal says and answers, and
that hostile requests change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app.csat_web import MAX_FORM_BYTES, add_csat_routes
from bot.app.web import build_web_app
from models.csat import MAX_COMMENT_CHARS
from models.policy import Policy
from models.store.csat import CsatRequest
from models.work import close
from tests.models.test_csat import RATED, closed_and_asked, new_ticket, token_of
from tests.models.test_work import ALICE, POLICY, START
from tests.support.clock import HandClock

Served = tuple[str, HandClock]


async def serve(policy: Policy, clock: HandClock) -> AsyncIterator[str]:
    async def health() -> dict[str, object]:
        return {"database": "ok"}

    app = build_web_app(None, "/slack/events", health)
    add_csat_routes(app, policy, clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def served(database: str) -> AsyncIterator[Served]:
    clock = HandClock(START)
    async for base in serve(RATED, clock):
        yield base, clock


async def fetch(method: str, url: str, **kwargs: Any) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, allow_redirects=False, **kwargs) as answer,
    ):
        return answer.status, await answer.text(), dict(answer.headers)


async def test_one_click_records_and_thanks_with_a_comment_form(served: Served) -> None:
    base, clock = served
    ticket, token = await closed_and_asked(clock)
    status, page, headers = await fetch("GET", f"{base}/csat/{token}?rating=good")
    assert status == 200
    assert "You rated our help as <strong>good</strong>" in page
    assert f'<form method="post" action="/csat/{token}">' in page
    assert f'name="token" value="{token}"' in page
    assert f'maxlength="{MAX_COMMENT_CHARS}"' in page
    assert "<script" not in page and "src=" not in page and "http" not in page  # nothing loads
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert (await CsatRequest.get(ticket_id=ticket.id)).rating == "good"

    status, page, _ = await fetch(
        "POST", f"{base}/csat/{token}", data={"token": token, "comment": "Quick & kind <3"}
    )
    assert status == 200 and "Thank you for your comment" in page
    assert (await CsatRequest.get(ticket_id=ticket.id)).comment == "Quick & kind <3"


async def test_reused_forged_and_expired_links_get_a_clear_page(served: Served) -> None:
    base, clock = served
    ticket, token = await closed_and_asked(clock)
    await fetch("GET", f"{base}/csat/{token}?rating=bad")
    status, page, _ = await fetch("GET", f"{base}/csat/{token}?rating=good")
    assert (status, "already answered" in page) == (409, True)
    forged = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    status, page, _ = await fetch("GET", f"{base}/csat/{forged}?rating=good")
    assert (status, "This link is not valid" in page) == (404, True)
    status, page, _ = await fetch("GET", f"{base}/csat/{'A' * 5000}?rating=good")
    assert status == 404
    assert (await CsatRequest.get(ticket_id=ticket.id)).rating == "bad"

    other, fresh = await closed_and_asked(clock, 2)
    clock.advance(hours=15 * 24)
    status, page, _ = await fetch("GET", f"{base}/csat/{fresh}?rating=good")
    assert (status, "expired" in page) == (410, True)
    assert (await CsatRequest.get(ticket_id=other.id)).rating is None


@pytest.mark.parametrize(
    ("query", "headers", "method", "status"),
    [
        ("?rating=excellent", {}, "GET", 400),
        ("?rating=<script>", {}, "GET", 400),
        ("", {}, "GET", 400),
        ("?rating=good", {"Sec-Purpose": "prefetch"}, "GET", 503),
        ("?rating=good", {"Purpose": "prefetch"}, "GET", 503),
        ("?rating=good", {}, "HEAD", 405),  # a link checker's HEAD records nothing
    ],
)
async def test_requests_that_record_nothing(
    served: Served, query: str, headers: dict[str, str], method: str, status: int
) -> None:
    base, clock = served
    ticket, token = await closed_and_asked(clock)
    got, page, _ = await fetch(method, f"{base}/csat/{token}{query}", headers=headers)
    assert got == status
    assert "<script>" not in page
    assert (await CsatRequest.get(ticket_id=ticket.id)).rating is None


async def test_comment_posts_are_checked_before_anything_is_stored(served: Served) -> None:
    base, clock = served
    ticket, token = await closed_and_asked(clock)
    url = f"{base}/csat/{token}"
    status, page, _ = await fetch("POST", url, data={"token": token, "comment": "too early"})
    assert (status, "choose a rating first" in page) == (409, True)
    await fetch("GET", f"{url}?rating=okay")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"data": {"comment": "no token"}}, 403),  # another site's form cannot know it
        ({"data": {"token": "A" * 48, "comment": "other token"}}, 403),
        ({"data": {"token": token, "comment": "x" * (MAX_COMMENT_CHARS + 1)}}, 413),
        ({"data": {"token": token, "comment": "   \x00 "}}, 400),
        ({"data": {"token": token}}, 400),
        ({"json": {"token": token, "comment": "as JSON"}}, 400),
        ({"data": b"token=" + token.encode() + b"&comment=%ff%fe"}, 400),
        ({"data": {"token": token, "comment": "y", "a": "1", "b": "2", "c": "3"}}, 400),
        ({"data": {"token": token, "comment": "z" * (MAX_FORM_BYTES + 1)}}, 413),
    ]
    for kwargs, expected in cases:
        if isinstance(kwargs.get("data"), bytes):
            kwargs["headers"] = {"Content-Type": "application/x-www-form-urlencoded"}
        status, _, _ = await fetch("POST", url, **kwargs)
        assert status == expected, kwargs
    assert (await CsatRequest.get(ticket_id=ticket.id)).comment is None
    status, _, _ = await fetch("POST", url, data={"token": token, "comment": "fine"})
    assert status == 200
    status, page, _ = await fetch("POST", url, data={"token": token, "comment": "again"})
    assert (status, "already answered" in page) == (409, True)
    assert (await CsatRequest.get(ticket_id=ticket.id)).comment == "fine"


async def test_the_pages_speak_the_mails_language(database: str) -> None:
    german = replace(RATED, queues=(replace(RATED.queues[0], locale="de"),))
    clock = HandClock(START)
    async for base in serve(german, clock):
        ticket = await new_ticket(clock)
        await close(ticket.id, ALICE, german, clock=clock)
        token = await token_of(ticket.id)
        status, page, _ = await fetch("GET", f"{base}/csat/{token}?rating=bad")
        assert status == 200 and '<html lang="de">' in page
        assert "mit <strong>schlecht</strong> bewertet" in page
        status, page, _ = await fetch("GET", f"{base}/csat/{token}?rating=bad")
        assert status == 409 and "bereits geantwortet" in page


async def test_without_csat_there_are_no_rating_pages(database: str) -> None:
    clock = HandClock(START)
    async for base in serve(POLICY, clock):
        status, _, _ = await fetch("GET", f"{base}/csat/{'A' * 48}?rating=good")
        assert status == 404
        status, _, _ = await fetch("GET", f"{base}/healthz")
        assert status == 200
