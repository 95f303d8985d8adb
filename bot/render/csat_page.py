"""The customer's rating pages as HTML (pure): plain, escaped, localised, no script, no
external resource (no font, image or pixel: the page tells nobody but us it was seen).

`page(...)` returns the status with the page: the web handler (bot/app/csat_web.py) only
maps the domain's `Outcome` (or its own refusal of a request) to one of `PAGES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from models.csat import MAX_COMMENT_CHARS, Outcome, Rating
from models.templates import Locale

#: Sent with every page: nothing loads from anywhere, nothing frames it, the token in
#: the address goes to nobody (no Referer), nobody keeps a copy.
HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Words:
    title: str
    rating_names: Mapping[Rating, str]
    thanks: str  # {rating}
    comment_label: str  # {limit}
    send: str
    comment_thanks: str
    pages: Mapping[str, str]  # a problem's words, by PAGES key


WORDS: Mapping[Locale, Words] = {
    "en": Words(
        title="Thank you",
        rating_names={Rating.GOOD: "good", Rating.OKAY: "okay", Rating.BAD: "bad"},
        thanks="You rated our help as <strong>{rating}</strong>.",
        comment_label="Anything you want to tell us? (optional, at most {limit} characters)",
        send="Send comment",
        comment_thanks="Thank you for your comment. It has reached the team.",
        pages={
            Outcome.INVALID: "This link is not valid. Please use the link from our mail "
            "exactly as it is.",
            Outcome.EXPIRED: "This link has expired. Thank you all the same!",
            Outcome.SPENT: "This link is no longer valid: the ticket was closed again since. "
            "Please use the links in our latest mail.",
            Outcome.USED: "You have already answered this. Thank you!",
            Outcome.NOT_RATED: "Please choose a rating first, with a link from our mail.",
            "bad_rating": "This link does not name a rating. Please use a link from our mail.",
            "too_long": "This comment is too long: at most {limit} characters, please.",
            "empty": "The comment is empty. Write something, or simply close this page.",
            "bad_form": "This form could not be read. Please send it from this site's page.",
            "forbidden": "This form does not belong to this link. Please send it from the "
            "page the link opened.",
        },
    ),
    "de": Words(
        title="Vielen Dank",
        rating_names={Rating.GOOD: "gut", Rating.OKAY: "mittel", Rating.BAD: "schlecht"},
        thanks="Sie haben unsere Hilfe mit <strong>{rating}</strong> bewertet.",
        comment_label="Möchten Sie uns noch etwas sagen? (freiwillig, höchstens {limit} Zeichen)",
        send="Kommentar senden",
        comment_thanks="Vielen Dank für Ihren Kommentar. Er ist beim Team angekommen.",
        pages={
            Outcome.INVALID: "Dieser Link ist ungültig. Bitte verwenden Sie den Link aus "
            "unserer E-Mail unverändert.",
            Outcome.EXPIRED: "Dieser Link ist abgelaufen. Trotzdem vielen Dank!",
            Outcome.SPENT: "Dieser Link gilt nicht mehr: Das Ticket wurde seitdem erneut "
            "abgeschlossen. Bitte verwenden Sie die Links aus unserer letzten E-Mail.",
            Outcome.USED: "Sie haben bereits geantwortet. Vielen Dank!",
            Outcome.NOT_RATED: "Bitte wählen Sie zuerst eine Bewertung über einen Link aus "
            "unserer E-Mail.",
            "bad_rating": "Dieser Link nennt keine Bewertung. Bitte verwenden Sie einen Link "
            "aus unserer E-Mail.",
            "too_long": "Dieser Kommentar ist zu lang: höchstens {limit} Zeichen, bitte.",
            "empty": "Der Kommentar ist leer. Schreiben Sie etwas, oder schließen Sie "
            "einfach diese Seite.",
            "bad_form": "Dieses Formular konnte nicht gelesen werden. Bitte senden Sie es "
            "von der Seite dieser Website.",
            "forbidden": "Dieses Formular gehört nicht zu diesem Link. Bitte senden Sie es "
            "von der Seite, die der Link geöffnet hat.",
        },
    ),
}

#: Each problem page's HTTP status: a link that never was ours 404, one that was but is
#: no more 410, a second use 409, a request we cannot take 400/403/413.
PAGES: Mapping[str, int] = {
    Outcome.INVALID: 404,
    Outcome.EXPIRED: 410,
    Outcome.SPENT: 410,
    Outcome.USED: 409,
    Outcome.NOT_RATED: 409,
    "bad_rating": 400,
    "too_long": 413,
    "empty": 400,
    "bad_form": 400,
    "forbidden": 403,
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
    "color:#1d1c1d;line-height:1.5}h1{font-size:1.5rem}textarea{width:100%;min-height:8rem;"
    "font:inherit;box-sizing:border-box}button{font:inherit;padding:.4rem 1rem;margin-top:.5rem}"
    "footer{margin-top:2rem;color:#616061;font-size:.9rem}"
)


def _document(locale: Locale, team: str, title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{escape(title)} – {escape(team)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main>"
        f"<footer>{escape(team)}</footer></body></html>\n"
    )


def thanks_page(locale: Locale, team: str, rating: Rating, action: str, token: str) -> str:
    """After a click: thanks for the rating, and the comment form (posted back to
    `action` with the same token in it)."""
    words = WORDS[locale]
    limit = MAX_COMMENT_CHARS
    name = escape(words.rating_names[rating])
    form = (
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        f'<p><label for="comment">{escape(words.comment_label.format(limit=limit))}</label></p>'
        f'<textarea id="comment" name="comment" maxlength="{limit}" required></textarea>'
        f'<p><button type="submit">{escape(words.send)}</button></p></form>'
    )
    return _document(locale, team, words.title, f"<p>{words.thanks.format(rating=name)}</p>{form}")


def comment_thanks_page(locale: Locale, team: str) -> str:
    words = WORDS[locale]
    return _document(locale, team, words.title, f"<p>{escape(words.comment_thanks)}</p>")


def problem_page(locale: Locale, team: str, problem: str) -> tuple[int, str]:
    """A refusal's status and page (`problem`: a key of `PAGES`)."""
    words = WORDS[locale]
    text = words.pages[problem].format(limit=MAX_COMMENT_CHARS)
    title = team or words.title
    return PAGES[problem], _document(locale, team, title, f"<p>{escape(text)}</p>")
