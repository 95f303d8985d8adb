"""Customer satisfaction on SQLite and PostgreSQL: the close asks (one request, one mail
with three links), a click records once, a comment once; forged, expired, reused and
superseded links change nothing."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import timedelta

from models.csat import (
    MAX_COMMENT_CHARS,
    Outcome,
    Rating,
    clean_comment,
    parse_rating,
    record_comment,
    record_rating,
)
from models.csat_token import derive_key, make_token, read_token
from models.effects import MAIL_SEND, SLACK_THREAD_NOTICE
from models.events import HistoryEvent, Notice
from models.outbox.items import OutboxItem
from models.policy import CsatPolicy
from models.store.article import Article, ArticleKind
from models.store.csat import CsatRequest
from models.store.ticket import History, Ticket
from models.work import claim, close, reopen, reply, reply_recipient
from tests.models.test_work import ALICE, BOB, LEAD, POLICY, START
from tests.support.clock import HandClock
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

CSAT = CsatPolicy("https://tickets.example.com", key=derive_key("test secret"), expiry_days=14)
RATED = replace(POLICY, csat=CSAT)
LINK = re.compile(r"https://tickets\.example\.com/csat/([A-Za-z0-9_-]+)\?rating=(\w+)")


async def new_ticket(clock: HandClock, n: int = 1, **mail: str) -> Ticket:
    result = await ingest(
        make_mail(message_id=f"<csat-{n}@customer.example>", **mail), RATED, clock=clock
    )
    assert result.ticket_id is not None
    await OutboxItem.all().delete()
    return await Ticket.get(id=result.ticket_id)


async def rating_mail(ticket_id: int) -> Article:
    mails = await Article.filter(ticket_id=ticket_id, kind=ArticleKind.EMAIL_OUT, author="system")
    rating = [m for m in mails if "csat" in m.body]
    assert rating, "no rating mail"
    return rating[-1]


async def token_of(ticket_id: int) -> str:
    found = LINK.findall((await rating_mail(ticket_id)).body)
    assert [rating for _, rating in found] == ["good", "okay", "bad"]
    assert len({token for token, _ in found}) == 1
    return str(found[0][0])


async def notices(ticket_id: int) -> list[tuple[str, dict[str, str]]]:
    items = await OutboxItem.filter(kind=SLACK_THREAD_NOTICE, stream=f"slack:{ticket_id}").order_by(
        "id"
    )
    return [
        (str(i.payload["notice"]), dict(i.payload["facts"]))
        for i in items
        if str(i.payload["notice"]).startswith("csat")
    ]


async def closed_and_asked(clock: HandClock, n: int = 1) -> tuple[Ticket, str]:
    ticket = await new_ticket(clock, n)
    await claim(ticket.id, ALICE, RATED, clock)
    clock.advance(minutes=5)
    await close(ticket.id, ALICE, RATED, clock=clock)
    return ticket, await token_of(ticket.id)


async def test_a_close_asks_once_with_a_mail_of_three_links(database: str) -> None:
    clock = HandClock(START)
    ticket, token = await closed_and_asked(clock)
    [request] = await CsatRequest.filter(ticket_id=ticket.id)
    assert (request.agent, request.queue, request.locale) == (ALICE.user_id, "Support", "en")
    assert request.rating is None and not request.superseded
    assert request.expires_at == START + timedelta(minutes=5, days=14)
    facts = read_token(CSAT.key, token)
    assert facts is not None and (facts.request_id, facts.ticket_id) == (request.id, ticket.id)
    mail = await rating_mail(ticket.id)
    assert mail.recipients == [reply_recipient(ticket)]
    assert mail.subject == f"[Ticket#{ticket.number}] How did we do?"
    assert mail.is_automatic and not mail.is_autoreply  # not counted as an auto-reply
    assert "for 14 days" in mail.body and f"[Ticket#{ticket.number}]" in mail.body
    sends = await OutboxItem.filter(kind=MAIL_SEND).values_list("payload", flat=True)
    assert {"article_id": mail.id} in sends
    assert await History.exists(ticket_id=ticket.id, event=HistoryEvent.CSAT_REQUESTED)


async def test_without_csat_a_close_asks_nothing(database: str) -> None:
    clock = HandClock(START)
    ticket = await new_ticket(clock)
    await close(ticket.id, ALICE, POLICY, clock=clock)
    assert not await CsatRequest.exists(ticket_id=ticket.id)
    assert not await OutboxItem.filter(kind=MAIL_SEND).exists()


async def test_the_mail_is_in_the_queues_locale(database: str) -> None:
    german = replace(RATED, queues=(replace(RATED.queues[0], locale="de"),))
    clock = HandClock(START)
    ticket = await new_ticket(clock)
    await close(ticket.id, ALICE, german, clock=clock)
    mail = await rating_mail(ticket.id)
    assert mail.subject.endswith("Wie zufrieden waren Sie?")
    assert "Gut:" in mail.body and "Schlecht:" in mail.body and "14 Tage" in mail.body
    request = await CsatRequest.get(ticket_id=ticket.id)
    assert request.locale == "de"
    assert request.agent == ALICE.user_id  # unowned: the closing agent


async def test_reply_and_close_asks_after_the_answer(database: str) -> None:
    clock = HandClock(START)
    ticket = await new_ticket(clock)
    answer = await reply(ticket.id, BOB, "Fixed.", RATED, close_after=True, clock=clock)
    mail = await rating_mail(ticket.id)
    assert mail.id > answer.id
    sent = await OutboxItem.filter(kind=MAIL_SEND).order_by("id").values_list("payload", flat=True)
    assert sent == [{"article_id": answer.id}, {"article_id": mail.id}]
    assert (await CsatRequest.get(ticket_id=ticket.id)).agent == BOB.user_id


async def test_a_click_records_the_rating_once_with_a_notice_and_history(database: str) -> None:
    clock = HandClock(START)
    ticket, token = await closed_and_asked(clock)
    clock.advance(hours=2)
    answer = await record_rating(RATED, token, Rating.OKAY, clock)
    assert (answer.outcome, answer.rating, answer.locale) == (Outcome.RECORDED, Rating.OKAY, "en")
    request = await CsatRequest.get(ticket_id=ticket.id)
    assert (request.rating, request.rated_at) == ("okay", clock.now)
    assert await notices(ticket.id) == [(Notice.CSAT_RATED.value, {"rating": "okay"})]
    [entry] = await History.filter(ticket_id=ticket.id, event=HistoryEvent.CSAT_RATED)
    assert entry.detail["rating"] == "okay" and entry.detail["agent"] == ALICE.user_id

    again = await record_rating(RATED, token, Rating.BAD, clock)  # reused: nothing changes
    assert (again.outcome, again.rating) == (Outcome.USED, Rating.OKAY)
    assert (await CsatRequest.get(ticket_id=ticket.id)).rating == "okay"
    assert len(await notices(ticket.id)) == 1
    assert await History.filter(event=HistoryEvent.CSAT_RATED).count() == 1


async def test_two_clicks_at_once_record_one_rating(database: str) -> None:
    clock = HandClock(START)
    ticket, token = await closed_and_asked(clock)
    answers = await asyncio.gather(
        *(record_rating(RATED, token, rating, clock) for rating in [*Rating, *Rating])
    )
    recorded = [a for a in answers if a.outcome is Outcome.RECORDED]
    assert len(recorded) == 1
    assert all(a.outcome is Outcome.USED for a in answers if a is not recorded[0])
    assert (await CsatRequest.get(ticket_id=ticket.id)).rating == recorded[0].rating
    assert len(await notices(ticket.id)) == 1


async def test_forged_and_malformed_tokens_change_nothing(database: str) -> None:
    clock = HandClock(START)
    ticket, token = await closed_and_asked(clock)
    request = await CsatRequest.get(ticket_id=ticket.id)
    other_key = make_token(derive_key("not our secret"), request.id, ticket.id, request.expires_at)
    other_ticket = make_token(CSAT.key, request.id, ticket.id + 1, request.expires_at)
    other_expiry = make_token(
        CSAT.key, request.id, ticket.id, request.expires_at + timedelta(days=30)
    )
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for forged in [other_key, other_ticket, other_expiry, flipped, "", "x" * 48, token + "A"]:
        answer = await record_rating(RATED, forged, Rating.BAD, clock)
        assert answer.outcome is Outcome.INVALID, forged
        assert (await record_comment(RATED, forged, "hi", clock)).outcome is Outcome.INVALID
    assert (await CsatRequest.get(ticket_id=ticket.id)).rating is None
    assert await notices(ticket.id) == []
    # a policy without csat takes no token at all
    assert (await record_rating(POLICY, token, Rating.GOOD, clock)).outcome is Outcome.INVALID


async def test_an_expired_link_changes_nothing(database: str) -> None:
    clock = HandClock(START)
    ticket, token = await closed_and_asked(clock)
    clock.advance(hours=14 * 24, seconds=-1)  # a second before the 14 days are over
    assert (await CsatRequest.get(ticket_id=ticket.id)).expires_at > clock.now
    clock.advance(seconds=1)
    assert (await record_rating(RATED, token, Rating.GOOD, clock)).outcome is Outcome.EXPIRED
    assert (await CsatRequest.get(ticket_id=ticket.id)).rating is None
    assert await notices(ticket.id) == []


async def test_a_reopen_and_close_spends_the_old_link_and_sends_a_new_one(database: str) -> None:
    clock = HandClock(START)
    ticket, first = await closed_and_asked(clock)
    clock.advance(hours=1)
    await reopen(ticket.id, ALICE, clock)
    assert (await record_rating(RATED, first, Rating.GOOD, clock)).outcome is Outcome.RECORDED
    clock.advance(hours=1)
    await close(ticket.id, LEAD, RATED, clock=clock)  # a lead closes Alice's ticket
    second = await token_of(ticket.id)
    assert second != first
    answer = await record_rating(RATED, first, Rating.BAD, clock)
    assert (answer.outcome, answer.rating) == (Outcome.SPENT, Rating.GOOD)
    assert (await record_comment(RATED, first, "late", clock)).outcome is Outcome.SPENT
    assert (await record_rating(RATED, second, Rating.BAD, clock)).outcome is Outcome.RECORDED
    rows = await CsatRequest.filter(ticket_id=ticket.id).order_by("id")
    assert [(r.rating, r.superseded, r.agent) for r in rows] == [
        ("good", True, ALICE.user_id),
        ("bad", False, ALICE.user_id),  # the owner at the close, not the lead
    ]


async def test_a_comment_comes_after_the_rating_once_and_cleaned(database: str) -> None:
    clock = HandClock(START)
    ticket, token = await closed_and_asked(clock)
    early = await record_comment(RATED, token, "first!", clock)
    assert early.outcome is Outcome.NOT_RATED
    await record_rating(RATED, token, Rating.BAD, clock)
    clock.advance(minutes=1)
    text = "  Too slow.\r\nBut <b>polite</b> \u202e*bold*\x00  "
    answer = await record_comment(RATED, token, text, clock)
    assert (answer.outcome, answer.rating) == (Outcome.RECORDED, Rating.BAD)
    request = await CsatRequest.get(ticket_id=ticket.id)
    assert request.comment == "Too slow.\nBut <b>polite</b> *bold*"
    assert request.commented_at == clock.now
    assert (await notices(ticket.id))[-1] == (
        Notice.CSAT_COMMENTED.value,
        {"rating": "bad", "comment": "Too slow.\nBut <b>polite</b> *bold*"},
    )
    again = await record_comment(RATED, token, "second", clock)
    assert again.outcome is Outcome.USED
    assert (await CsatRequest.get(ticket_id=ticket.id)).comment == request.comment
    assert await History.filter(event=HistoryEvent.CSAT_COMMENTED).count() == 1


async def test_a_comment_is_cut_at_the_limit(database: str) -> None:
    clock = HandClock(START)
    ticket, token = await closed_and_asked(clock)
    await record_rating(RATED, token, Rating.GOOD, clock)
    await record_comment(RATED, token, "x" * (MAX_COMMENT_CHARS + 50), clock)
    assert len((await CsatRequest.get(ticket_id=ticket.id)).comment or "") == MAX_COMMENT_CHARS


async def test_no_rating_mail_to_our_own_address_or_an_automatic_sender(database: str) -> None:
    clock = HandClock(START)
    robot = await new_ticket(clock, 2, headers={"Auto-Submitted": "auto-generated"})
    await close(robot.id, ALICE, RATED, clock=clock)
    assert not await CsatRequest.exists(ticket_id=robot.id)
    ours = await new_ticket(clock, 3)
    await Ticket.filter(id=ours.id).update(
        customer_email="support@ticketbot.example", reply_address=""
    )
    await close(ours.id, ALICE, RATED, clock=clock)
    assert not await CsatRequest.exists(ticket_id=ours.id)


def test_ratings_are_a_whitelist_and_comments_lose_control_characters() -> None:
    assert [parse_rating(t) for t in ["good", "okay", "bad"]] == list(Rating)
    assert [parse_rating(t) for t in ["", "GOOD", "good ", "excellent", "bad\x00"]] == [None] * 5
    assert clean_comment("a\rb\r\nc\u200bd\u2066e\tf") == "a\nb\nc" + "d" + "e" + "f"
