"""The mails a fresh sandbox starts with, so the page is never empty.

One in German, one with an attachment, and an out-of-office answer: automatic mail, which
becomes a ticket like any other but gets no acknowledgement (loop protection).
"""

from __future__ import annotations

from bot.sandbox.mail_loop import Attachment, CustomerMail

INVOICE_CSV = (
    b"Rechnung;Datum;Betrag\n2026-1187;2026-11-30;249,00 EUR\n2026-1188;2026-11-30;249,00 EUR\n"
)

SAMPLES = (
    CustomerMail(
        sender="Jürgen Müller <juergen.mueller@example.de>",
        subject="Drucker im 3. Stock druckt nur leere Seiten",
        text=(
            "Hallo zusammen,\n\n"
            "seit heute Morgen druckt der Drucker im 3. Stock nur noch leere Seiten.\n"
            "Toner ist neu, Neustart hat nicht geholfen. Können Sie sich das ansehen?\n\n"
            "Viele Grüße\nJürgen Müller\n"
        ),
    ),
    CustomerMail(
        sender="Priya Patel <priya@example.net>",
        subject="Invoice 2026-1187 charged twice",
        text=(
            "Hi,\n\nour card was charged twice for invoice 2026-1187 (see the attached "
            "statement export). Could you refund the second charge?\n\nThanks,\nPriya\n"
        ),
        attachments=(Attachment("statement.csv", "text/csv", INVOICE_CSV),),
    ),
    CustomerMail(
        sender="Tom Becker <tom.becker@example.org>",
        subject="Out of Office: Re: Your order",
        text="I am out of the office until Monday and will answer your mail then.\n",
        headers=(("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes")),
    ),
)
