"""The customer's side of a rating: `GET /csat/<token>?rating=…` and `POST /csat/<token>`
on the HTTP listener (both modes), open to the internet.

A GET records the rating at once: the mail promises one click, and the rating is
single-use, so a second click changes nothing. HEAD never records (aiohttp's automatic
HEAD is off here) and neither do requests a browser marks as prefetches (`Sec-Purpose`
or `Purpose: prefetch`): they get a 503 the browser discards before the real click.
Mail scanners that fetch every link as a plain GET cannot be told from a person; README
"Customer satisfaction" says so.

The POST carries the comment and the token again in the form (a page of another site
cannot know it: no cookie, no session, the token is the capability). Every input is
bounded before it is read: the token's length, the rating (a whitelist), the form's
bytes and fields, the comment's characters. Tokens are never logged.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import parse_qs

from aiohttp import web

from bot.render.csat_page import HEADERS, comment_thanks_page, problem_page, thanks_page
from models.clock import Clock, system_clock
from models.csat import (
    MAX_COMMENT_CHARS,
    Outcome,
    clean_comment,
    parse_rating,
    record_comment,
    record_rating,
)
from models.csat_token import MAX_TOKEN_CHARS
from models.policy import Policy
from models.templates import Locale

logger = logging.getLogger(__name__)

PATH = "/csat/{token}"
#: A form with the longest comment: 2000 characters of 4 UTF-8 bytes, percent-encoded
#: (3 characters a byte), plus the token and the field names.
MAX_FORM_BYTES = MAX_COMMENT_CHARS * 12 + 1024
FORM_TYPE = "application/x-www-form-urlencoded"


def _html(status: int, text: str) -> web.Response:
    return web.Response(
        status=status, text=text, content_type="text/html", charset="utf-8", headers=HEADERS
    )


def _is_prefetch(request: web.Request) -> bool:
    purpose = request.headers.get("Sec-Purpose", "") + request.headers.get("Purpose", "")
    return "prefetch" in purpose.lower() or request.headers.get("X-Moz", "") == "prefetch"


async def _read_form(request: web.Request) -> dict[str, list[str]] | str:
    """The form's fields, or the problem (a `PAGES` key) that keeps it unread."""
    if request.content_type != FORM_TYPE:
        return "bad_form"
    if (request.content_length or 0) > MAX_FORM_BYTES:
        return "too_long"
    raw = bytearray()
    while chunk := await request.content.read(8192):
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            return "too_long"
    try:
        text = bytes(raw).decode("utf-8")
        return parse_qs(text, keep_blank_values=True, max_num_fields=4, errors="strict")
    except ValueError:  # not UTF-8 (UnicodeDecodeError is one), or too many fields
        return "bad_form"


def add_csat_routes(app: web.Application, policy: Policy, clock: Clock = system_clock) -> None:
    """The rating pages on `app`; nothing when `csat:` is off (the path is then a 404)."""
    if policy.csat is None:
        return
    team = policy.display_name

    def problem(locale: Locale, key: str) -> web.Response:
        status, page = problem_page(locale, team, key)
        return _html(status, page)

    async def rate(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if _is_prefetch(request):
            return web.Response(status=503, text="", headers={"Cache-Control": "no-store"})
        if len(token) > MAX_TOKEN_CHARS:
            return problem(policy.locale, Outcome.INVALID)
        rating = parse_rating(request.query.get("rating", ""))
        if rating is None:
            return problem(policy.locale, "bad_rating")
        answer = await record_rating(policy, token, rating, clock)
        if answer.outcome is not Outcome.RECORDED:
            return problem(answer.locale, answer.outcome)
        action = request.path  # relative: the form posts back to where the link led
        return _html(200, thanks_page(answer.locale, team, rating, action, token))

    async def comment(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if len(token) > MAX_TOKEN_CHARS:
            return problem(policy.locale, Outcome.INVALID)
        form = await _read_form(request)
        if isinstance(form, str):
            return problem(policy.locale, form)
        sent = form.get("token", [])
        if len(sent) != 1 or not hmac.compare_digest(sent[0].encode(), token.encode()):
            return problem(policy.locale, "forbidden")
        texts = form.get("comment", [])
        if len(texts) != 1:
            return problem(policy.locale, "bad_form")
        text = clean_comment(texts[0])
        if len(text) > MAX_COMMENT_CHARS:
            return problem(policy.locale, "too_long")
        if not text:
            return problem(policy.locale, "empty")
        answer = await record_comment(policy, token, text, clock)
        if answer.outcome is not Outcome.RECORDED:
            return problem(answer.locale, answer.outcome)
        return _html(200, comment_thanks_page(answer.locale, team))

    app.router.add_get(PATH, rate, allow_head=False)
    app.router.add_post(PATH, comment)
