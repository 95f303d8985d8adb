"""Text templates: canned replies, queue signatures, and the automatic mails' wording.

Placeholders are `{name}` for a fixed set of names and nothing else. Filling never uses
`str.format` (a template or a customer name holding `{0}`, `{x.__class__}` or a lone `{`
must neither crash nor reach attributes): only the known names are replaced, in one pass,
so a value that itself contains `{number}` is not expanded again; anything else stays
as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Locale = Literal["en", "de"]
LOCALES: tuple[Locale, ...] = ("en", "de")

#: What canned replies and signatures may use (SPEC "Working as a team").
REPLY_PLACEHOLDERS = ("customer_name", "number", "subject", "agent_name")
#: What the automatic mails may use: never the customer's name or text beyond the (cut)
#: subject, so an acknowledgement cannot carry a stranger's words to a forged address.
NOTICE_PLACEHOLDERS = ("number", "subject", "ticket_tag", "team")

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{name}` in `values` replaced; every other brace left as it is."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in values else match.group(0)

    return _PLACEHOLDER.sub(one, text)


def unknown_placeholders(text: str, allowed: tuple[str, ...]) -> list[str]:
    """Placeholders in `text` that would stay unfilled: config validation names them."""
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in allowed})


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    """A canned response offered in the Reply form."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class NoticeTexts:
    """The wording of one locale's automatic mails (subject fallback and bodies)."""

    no_subject: str
    acknowledgement: str
    closed_notice: str


SHIPPED: Mapping[Locale, NoticeTexts] = {
    "en": NoticeTexts(
        no_subject="Your request",
        acknowledgement=(
            "Hello,\n\n"
            "thank you for your message. We have received it and opened\n"
            "ticket {number}:\n\n"
            "    {subject}\n\n"
            "An agent will answer you as soon as possible. To add anything, simply reply\n"
            "to this mail and keep {ticket_tag} in the subject.\n\n"
            "-- \n{team}\n"
        ),
        closed_notice=(
            "Hello,\n\n"
            "your message refers to ticket {number}, which is closed, so it was not reopened.\n"
            "If you still need help, please write a new mail without {ticket_tag} in the "
            "subject and we will open a new ticket for it.\n\n"
            "-- \n{team}\n"
        ),
    ),
    "de": NoticeTexts(
        no_subject="Ihre Anfrage",
        acknowledgement=(
            "Guten Tag,\n\n"
            "vielen Dank für Ihre Nachricht. Wir haben sie erhalten und unter der\n"
            "Ticketnummer {number} erfasst:\n\n"
            "    {subject}\n\n"
            "Wir melden uns so bald wie möglich bei Ihnen. Möchten Sie noch etwas ergänzen,\n"
            "antworten Sie einfach auf diese E-Mail und lassen Sie\n"
            "{ticket_tag} im Betreff stehen.\n\n"
            "Mit freundlichen Grüßen\n{team}\n"
        ),
        closed_notice=(
            "Guten Tag,\n\n"
            "Ihre Nachricht bezieht sich auf das Ticket {number}. Dieses Ticket ist bereits "
            "abgeschlossen\nund wurde daher nicht wieder geöffnet. Falls Sie weiterhin Hilfe "
            "benötigen, schreiben Sie uns\nbitte eine neue E-Mail ohne {ticket_tag} im "
            "Betreff; wir legen dafür dann ein neues Ticket an.\n\n"
            "Mit freundlichen Grüßen\n{team}\n"
        ),
    ),
}


#: What the rating mail may use (the three links are ours, the rest as in other notices).
CSAT_PLACEHOLDERS = ("number", "subject", "ticket_tag", "team", "good", "okay", "bad", "days")


@dataclass(frozen=True, slots=True)
class CsatTexts:
    """The rating mail of one locale (customer satisfaction after a close)."""

    subject: str
    body: str


CSAT_SHIPPED: Mapping[Locale, CsatTexts] = {
    "en": CsatTexts(
        subject="How did we do?",
        body=(
            "Hello,\n\n"
            "we have closed ticket {number}:\n\n"
            "    {subject}\n\n"
            "How happy are you with our help? One click on a link is enough:\n\n"
            "  Good:  {good}\n\n"
            "  Okay:  {okay}\n\n"
            "  Bad:   {bad}\n\n"
            "The links work once, for {days} days. If you still need help, simply reply\n"
            "to this mail and keep {ticket_tag} in the subject.\n\n"
            "-- \n{team}\n"
        ),
    ),
    "de": CsatTexts(
        subject="Wie zufrieden waren Sie?",
        body=(
            "Guten Tag,\n\n"
            "wir haben das Ticket {number} abgeschlossen:\n\n"
            "    {subject}\n\n"
            "Wie zufrieden waren Sie mit unserer Hilfe? Ein Klick auf einen Link genügt:\n\n"
            "  Gut:          {good}\n\n"
            "  Mittel:       {okay}\n\n"
            "  Schlecht:     {bad}\n\n"
            "Die Links gelten einmal und {days} Tage lang. Brauchen Sie noch Hilfe, antworten\n"
            "Sie einfach auf diese E-Mail und lassen Sie {ticket_tag} im Betreff stehen.\n\n"
            "Mit freundlichen Grüßen\n{team}\n"
        ),
    ),
}


def reply_values(
    *, customer_name: str, number: str, subject: str, agent_name: str
) -> dict[str, str]:
    """The values a canned reply or a signature is filled with."""
    return {
        "customer_name": customer_name,
        "number": number,
        "subject": subject,
        "agent_name": agent_name,
    }


def with_signature(body: str, signature: str) -> str:
    """A reply's text with the (already filled) signature under the usual `-- ` line."""
    return f"{body}\n\n-- \n{signature.strip(chr(10))}\n"
