"""trim_reply: what of a customer's mail text agents see in the Slack thread.

Table-driven: each case is the readable body as parse_mail gives it, the text
that must remain, and the kinds of text cut. Whole mails (HTML converted by
html2text) go through make_mail and parse_mail.
"""

from __future__ import annotations

import pytest

from mail import quotes
from mail.parse import parse_mail
from mail.quotes import CONTEXT_QUOTE_CHARS, TrimmedText, trim_reply
from tests.support.make_mail import make_mail

ACK_EN = "> We have received your request.\n> \n> Your Helpdesk\n"
ACK_DE = "> Wir haben Ihre Anfrage erhalten.\n> \n> Ihr Helpdesk\n"
OUTLOOK_EN = (
    "From: Helpdesk <support@ticketbot.example>\n"
    "Sent: Monday, January 12, 2026 10:15 AM\n"
    "To: Smith, John <John.Smith@contoso.example>\n"
    "Subject: [Ticket#2026011210000042] Your request has been received\n\n"
    "We have received your request.\n"
)
OUTLOOK_DE = (
    "Von: Helpdesk <support@ticketbot.example>\n"
    "Gesendet: Montag, 12. Januar 2026 10:15\n"
    "An: Weiß, Anna <anna.weiss@firma.example>\n"
    "Betreff: [Ticket#2026011210000042] Ihre Anfrage ist eingegangen\n\n"
    "Wir haben Ihre Anfrage erhalten.\n"
)
GMAIL_FORWARD = (
    "---------- Forwarded message ---------\n"
    "From: Supplier Sales <sales@supplier.example>\n"
    "Date: Tue, Jan 20, 2026 at 8:00 AM\n"
    "Subject: Your quote Q-778\n"
    "To: <peter.brown@example.org>\n\n"
    "The quote is valid until 31 January.\n"
)

# (id, text, visible, what)
QUOTE_HEADERS = [
    (
        "gmail-en",
        "Thanks, it works.\n\nOn Mon, Jan 12, 2026 at 10:15\u202fAM Helpdesk "
        "<support@ticketbot.example> wrote:\n\n" + ACK_EN,
        "Thanks, it works.",
        ("quote",),
    ),
    (
        "gmail-en-attribution-wrapped",
        "Still broken.\n\nOn Mon, Jan 12, 2026 at 10:15 AM Helpdesk Team of Example Corp <\n"
        "support@ticketbot.example> wrote:\n\n" + ACK_EN,
        "Still broken.",
        ("quote",),
    ),
    (
        "gmail-de",
        "Danke, jetzt klappt es.\n\nAm Mo., 12. Jan. 2026 um 10:15 Uhr schrieb Helpdesk "
        "<support@ticketbot.example>:\n\n" + ACK_DE,
        "Danke, jetzt klappt es.",
        ("quote",),
    ),
    (
        "gmail-de-mobile",
        "Passt.\n\nHelpdesk <support@ticketbot.example> schrieb am Mo., 12. Jan. 2026, 10:15:\n\n"
        + ACK_DE,
        "Passt.",
        ("quote",),
    ),
    (
        "thunderbird-en",
        "Fixed, thanks.\n\nOn 12.01.26 10:15, Helpdesk wrote:\n" + ACK_EN,
        "Fixed, thanks.",
        ("quote",),
    ),
    (
        "thunderbird-de",
        "Erledigt.\n\nAm 12.01.26 um 10:15 schrieb Helpdesk:\n" + ACK_DE,
        "Erledigt.",
        ("quote",),
    ),
    (
        "apple-mail-quoted-attribution",
        "Still broken on my Mac.\n\nOliver\n\n"
        "> On 25 Nov 2026, at 10:00, Helpdesk <support@ticketbot.example> wrote:\n> \n" + ACK_EN,
        "Still broken on my Mac.\n\nOliver",
        ("quote",),
    ),
    (
        "apple-mail-nested",
        "Yes, the same error again.\n\n"
        "> On 13 Jan 2026, at 09:00, Helpdesk <support@ticketbot.example> wrote:\n> \n"
        "> Does it still happen?\n> \n"
        ">> On 12 Jan 2026, at 18:00, Oliver <oliver@icloud.example> wrote:\n>> \n"
        ">> My Mac cannot print.\n",
        "Yes, the same error again.",
        ("quote",),
    ),
    (
        "apple-mail-de",
        "Geht wieder.\n\n> Am 12.01.2026 um 10:15 schrieb Helpdesk <support@ticketbot.example>:\n"
        "> \n" + ACK_DE,
        "Geht wieder.",
        ("quote",),
    ),
    (
        "unquoted-history-below-dated-attribution",  # Yahoo, some mobile clients
        "Still broken.\n\nOn Monday, January 12, 2026, 10:15:00 AM GMT+1, Helpdesk "
        "<support@ticketbot.example> wrote:\n\nWe have received your request.\n",
        "Still broken.",
        ("quote",),
    ),
    (
        "undated-attribution-above-quote",
        "Agreed.\n\nHelpdesk wrote:\n" + ACK_EN,
        "Agreed.",
        ("quote",),
    ),
    (
        "outlook-en-block",
        "The issue is back.\n\nJohn\n\n" + OUTLOOK_EN,
        "The issue is back.\n\nJohn",
        ("quote",),
    ),
    (
        "outlook-en-original-message",
        "Please cancel the order.\n\n-----Original Message-----\n"
        "From: Helpdesk [mailto:support@ticketbot.example]\nSent: Monday, January 12, 2026\n"
        "To: Smith, John\nSubject: Your order\n\nWe have received your order.\n",
        "Please cancel the order.",
        ("quote",),
    ),
    (
        "outlook-en-underscore-separator",
        "Please call me.\n\n________________________________\n" + OUTLOOK_EN,
        "Please call me.",
        ("quote",),
    ),
    (
        "outlook-en-cc-and-wrapped-to",
        "Any update?\n\nFrom: Helpdesk <support@ticketbot.example>\n"
        "Sent: Monday, January 12, 2026\n"
        "To: Smith, John <john@contoso.example>; Doe, Jane <jane@contoso.example>;\n"
        " Miller, Eva <eva@contoso.example>\nCc: IT <it@contoso.example>\nSubject: Your request\n\n"
        "We have received your request.\n",
        "Any update?",
        ("quote",),
    ),
    (
        "outlook-header-fields-apart",  # some HTML puts each field in its own paragraph
        "Any update?\n\nFrom: Helpdesk\n\nSent: Monday, January 12, 2026\n\nTo: John\n\n"
        "Subject: Your request\n\nWe have received your request.\n",
        "Any update?",
        ("quote",),
    ),
    (
        "outlook-bold-labels",
        "Any update?\n\n**From:** Helpdesk\n**Sent:** Monday, January 12, 2026\n**To:** John\n"
        "**Subject:** Your request\n\nWe have received your request.\n",
        "Any update?",
        ("quote",),
    ),
    (
        "outlook-de-block",
        "Vielen Dank, das Problem ist gelöst.\n\nMit freundlichen Grüßen\nAnna Weiß\n\n"
        + OUTLOOK_DE,
        "Vielen Dank, das Problem ist gelöst.\n\nMit freundlichen Grüßen\nAnna Weiß",
        ("quote",),
    ),
    (
        "outlook-de-original-message",
        "Bitte stornieren.\n\n-----Ursprüngliche Nachricht-----\n" + OUTLOOK_DE,
        "Bitte stornieren.",
        ("quote",),
    ),
    (
        "outlook-de-datum-label",
        "Bitte stornieren.\n\nVon: Helpdesk\nDatum: 12.01.2026 10:15\nAn: Anna\n"
        "Betreff: Bestellung\n\nWir haben Ihre Bestellung erhalten.\n",
        "Bitte stornieren.",
        ("quote",),
    ),
    (
        "android-original-message",
        "Ok.\n\n-------- Original message --------\nFrom: Helpdesk <support@ticketbot.example>\n"
        "Date: 12/01/2026 10:15 (GMT+01:00)\n\nWe have received your request.\n",
        "Ok.",
        ("quote",),
    ),
    (
        "gmx-original-nachricht",
        "Danke.\n\n-------- Original-Nachricht --------\nBetreff: Ihre Anfrage\n"
        "Datum: 12.01.2026 10:15\nVon: Helpdesk\n\nWir haben Ihre Anfrage erhalten.\n",
        "Danke.",
        ("quote",),
    ),
    (
        "french",
        "Merci.\n\nLe lun. 12 janv. 2026 à 10:15, Helpdesk <support@ticketbot.example> a écrit :\n"
        + ACK_EN,
        "Merci.",
        ("quote",),
    ),
    (
        "spanish",
        "Gracias.\n\nEl lun, 12 ene 2026 a las 10:15, Helpdesk (<support@ticketbot.example>) "
        "escribió:\n" + ACK_EN,
        "Gracias.",
        ("quote",),
    ),
    (
        "dutch",
        "Dank je.\n\nOp ma 12 jan. 2026 om 10:15 schreef Helpdesk <support@ticketbot.example>:\n"
        + ACK_EN,
        "Dank je.",
        ("quote",),
    ),
    (
        "italian",
        "Grazie.\n\nIl giorno lun 12 gen 2026 alle ore 10:15 Helpdesk <support@ticketbot.example> "
        "ha scritto:\n" + ACK_EN,
        "Grazie.",
        ("quote",),
    ),
]

INLINE_AND_BOTTOM = [
    (
        "inline-answers-keep-the-short-questions",
        "Hi,\n\nOn 12.01.26 10:15, Helpdesk wrote:\n> Which printer model is it?\n"
        "HP LaserJet 4000.\n\n> Does it show an error?\nYes, PC LOAD LETTER.\n\nAlice\n\n"
        "> Kind regards\n> Helpdesk\n",
        "Hi,\n\n> Which printer model is it?\nHP LaserJet 4000.\n\n> Does it show an error?\n"
        "Yes, PC LOAD LETTER.\n\nAlice",
        ("quote",),
    ),
    (
        "bottom-post-short-quote",
        "On Mon, Jan 12, 2026 at 10:15 AM Helpdesk <support@ticketbot.example> wrote:\n"
        "> Which printer model is it?\n\nHP LaserJet 4000.\n",
        "> Which printer model is it?\n\nHP LaserJet 4000.",
        ("quote",),
    ),
    (
        "bottom-post-long-quote-goes",
        "On Mon, Jan 12, 2026 at 10:15 AM Helpdesk <support@ticketbot.example> wrote:\n"
        "> Hello Alice,\n>\n> we have received your request.\n> A technician will call you.\n"
        ">\n> Kind regards\n> Helpdesk\n\nThanks, I am at my desk all day.\n",
        "Thanks, I am at my desk all day.",
        ("quote",),
    ),
    (
        "inline-long-paragraph-goes",
        "> " + "Please send a photo of the type plate. " * 10 + "\nIt follows tomorrow.\n",
        "It follows tomorrow.",
        ("quote",),
    ),
    (
        "quote-kept-loses-its-attribution-and-empty-edges",
        "Hi\n\n> On 12 Jan 2026, at 10:15, Helpdesk <support@ticketbot.example> wrote:\n>\n"
        "> Which model?\n>\n\nHP 4000\n",
        "Hi\n\n> Which model?\n\nHP 4000",
        ("quote",),
    ),
    (
        "nothing-new-after-the-quote-but-a-signature",
        "Works now.\n\nAm 12.01.26 um 10:15 schrieb Helpdesk:\n> Does it work?\n\n-- \nTina Berg\n",
        "Works now.",
        ("quote", "signature"),
    ),
]

SIGNATURES_AND_FOOTERS = [
    (
        "dash-dash-space",
        "The printer prints blank pages.\n\n-- \nAlice Customer\nExample Corp | +49 30 1234567\n",
        "The printer prints blank pages.",
        ("signature",),
    ),
    (
        "dash-dash-without-space",
        "Blank pages.\n--\nAlice\n",
        "Blank pages.",
        ("signature",),
    ),
    (
        "signature-then-quote",
        "Still broken.\n\n-- \nAlice\n\nOn 12.01.26 10:15, Helpdesk wrote:\n" + ACK_EN,
        "Still broken.",
        ("quote", "signature"),
    ),
    ("sent-from-my-iphone", "Ok, thanks!\n\nSent from my iPhone\n", "Ok, thanks!", ("footer",)),
    (
        "von-meinem-iphone-gesendet",
        "Passt, danke!\n\nVon meinem iPhone gesendet\n",
        "Passt, danke!",
        ("footer",),
    ),
    (
        "gesendet-von-meinem-samsung",
        "Geht nicht.\n\nGesendet von meinem Samsung Galaxy Smartphone.\n",
        "Geht nicht.",
        ("footer",),
    ),
    (
        "get-outlook-for-ios",
        "Still broken.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n",
        "Still broken.",
        ("footer",),
    ),
    (
        "outlook-fuer-android-html",
        "Geht nicht.\n\n[Outlook für Android](https://aka.ms/AAb9ysg) beziehen\n",
        "Geht nicht.",
        ("footer",),
    ),
    (
        "sent-from-mail-for-windows",
        "Works.\n\nSent from Mail for Windows 10\n\n" + OUTLOOK_EN,
        "Works.",
        ("quote", "footer"),
    ),
    (
        "iphone-footer-above-unquoted-apple-header",
        "Still broken on my Mac.\n\nSent from my iPhone\n\n"
        "On 25 Nov 2026, at 10:00, Helpdesk <support@ticketbot.example> wrote:\n\n" + ACK_EN,
        "Still broken on my Mac.",
        ("quote", "footer"),
    ),
]

FORWARDS = [
    (
        "forward-below-a-note",
        "Can you check this quote?\n\n" + GMAIL_FORWARD,
        "Can you check this quote?",
        ("forward",),
    ),
    (
        "pure-forward-keeps-what-follows-the-separator",
        GMAIL_FORWARD,
        GMAIL_FORWARD.split("\n", 1)[1].rstrip(),
        ("forward",),
    ),
    (
        "apple-forward",
        "FYI\n\nBegin forwarded message:\n\nFrom: Supplier <s@supplier.example>\nSubject: Quote\n\n"
        "Valid until 31 January.\n",
        "FYI",
        ("forward",),
    ),
    (
        "apple-forward-de",
        "Zur Info\n\nAnfang der weitergeleiteten Nachricht:\n\nVon: Lieferant\n\nText\n",
        "Zur Info",
        ("forward",),
    ),
    (
        "thunderbird-forward-de",
        "Bitte prüfen.\n\n-------- Weitergeleitete Nachricht --------\nBetreff: Angebot\n"
        "Datum: 20.01.2026\nVon: Lieferant\n\nGültig bis 31. Januar.\n",
        "Bitte prüfen.",
        ("forward",),
    ),
    (
        "forward-inside-quoted-history",
        "See the thread below.\n\n" + OUTLOOK_EN + "\n" + GMAIL_FORWARD,
        "See the thread below.",
        ("quote",),
    ),
    (
        "pure-original-message",
        "-----Original Message-----\nFrom: Helpdesk\nSent: Monday\nTo: John\nSubject: Order\n\n"
        "We have received your order.\n",
        "From: Helpdesk\nSent: Monday\nTo: John\nSubject: Order\n\nWe have received your order.",
        ("quote",),
    ),
]

KEPT_WHOLE = [
    ("empty", ""),
    ("whitespace-only", " \n\n\t\n"),
    ("only-a-quote", ACK_EN),
    ("only-a-quote-with-attribution", "On 12.01.26 10:15, Helpdesk wrote:\n" + ACK_EN),
    ("only-an-outlook-block", OUTLOOK_EN),
    ("only-a-signature", "-- \nAlice Customer\n"),
    ("only-a-footer", "Sent from my iPhone\n"),
    (
        "sign-offs-stay",
        "Hi,\n\nThanks, but I still need help.\nBest, I think, is a call.\nRegards, Tom",
    ),
    ("hyphen-lists-stay", "Steps:\n- open the app\n- click login\n- it crashes"),
    (
        "warning-and-disclaimer-words-stay",
        "Warning: the mail server rejects my mail.\nHinweis: dringend.",
    ),
    ("prose-with-von-and-an", "Hallo,\nVon: Montag bis Freitag ist das Büro zu.\nAn: alle\nDanke"),
    ("prose-ending-in-wrote", "On Monday at 10:00 my colleague wrote:\nthe printer is broken."),
    (
        "prose-with-a-date-and-wrote",
        "Hello,\n\nOn 12.01.2026 I restarted it and wrote:\nit did not help.",
    ),
    (
        "prose-with-a-date-wrapped-into-wrote",
        "Hello,\n\nOn Monday at 10:00 the printer broke\nagain on 12.01.2026 and I wrote:\n"
        "it did not help.",
    ),
    (
        "undelimited-corporate-signature",
        "Please call me.\n\nJohn Smith\nIT Operations\nTel. +1 555 0100",
    ),
    ("footer-words-in-the-middle", "Sent from my iPhone\n\nbut the app crashes on the iPad too."),
    ("separator-lines-of-the-customer", "Results:\n---------\nall red\n========"),
    ("rule-of-dashes-is-no-signature", "Log:\n---\nerror 42"),
    ("trailing-spaces-only-are-stripped", "Hello   \n\n"),
    ("greater-than-in-prose", "The queue has > 500 jobs."),
]


@pytest.mark.parametrize(
    ("text", "visible", "what"),
    [
        pytest.param(text, visible, what, id=case)
        for case, text, visible, what in (
            QUOTE_HEADERS + INLINE_AND_BOTTOM + SIGNATURES_AND_FOOTERS + FORWARDS
        )
    ],
)
def test_trims(text: str, visible: str, what: tuple[str, ...]) -> None:
    result = trim_reply(text)

    assert result == TrimmedText(visible, trimmed=True, what=what)  # type: ignore[arg-type]
    assert trim_reply(result.visible).visible == result.visible


@pytest.mark.parametrize("text", [pytest.param(text, id=case) for case, text in KEPT_WHOLE])
def test_keeps_whole(text: str) -> None:
    assert trim_reply(text) == TrimmedText(text.rstrip(), trimmed=False, what=())


def test_crlf_text_is_trimmed_like_lf() -> None:
    text = "Thanks.\r\n\r\nOn 12.01.26 10:15, Helpdesk wrote:\r\n> Done?\r\n"

    assert trim_reply(text) == TrimmedText("Thanks.", trimmed=True, what=("quote",))


def test_context_quote_limit_is_in_characters_too() -> None:
    short = "> " + "q" * CONTEXT_QUOTE_CHARS + "\nanswer"
    long = "> " + "q" * (CONTEXT_QUOTE_CHARS + 1) + "\nanswer"

    assert trim_reply(short).visible == short
    assert trim_reply(long).visible == "answer"


GMAIL_HTML = (
    '<div dir="ltr">Thanks, works again.<br clear="all"><br>-- <br>'
    '<div class="gmail_signature">Alice Customer<br>Example Corp</div></div><br>'
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Jan 12, 2026 at '
    '10:15 AM Helpdesk &lt;<a href="mailto:support@ticketbot.example">support@ticketbot.example'
    '</a>&gt; wrote:<br></div><blockquote class="gmail_quote">We have received your request.'
    "<blockquote>Older text</blockquote></blockquote></div>"
)
OUTLOOK_HTML = (
    '<html><head><style>p.MsoNormal {margin:0cm;}</style></head><body><div class="WordSection1">'
    '<p class="MsoNormal">The issue is back. Please call +1 555 0100.</p>'
    '<p class="MsoNormal">&nbsp;</p><div style="border:none;border-top:solid #E1E1E1 1.0pt">'
    '<p class="MsoNormal"><b>From:</b> Helpdesk &lt;support@ticketbot.example&gt;<br>'
    "<b>Sent:</b> Monday, January 12, 2026 10:15 AM<br><b>To:</b> Smith, John<br>"
    "<b>Subject:</b> Your request</p></div><p>We have received your request.</p></div>"
    "</body></html>"
)
OUTLOOK_HTML_DE = (
    OUTLOOK_HTML.replace("<b>From:</b>", "<b>Von:</b>")
    .replace("<b>Sent:</b>", "<b>Gesendet:</b>")
    .replace("<b>To:</b>", "<b>An:</b>")
    .replace("<b>Subject:</b>", "<b>Betreff:</b>")
)
APPLE_HTML = (
    '<html><body dir="auto">Yes, still.<br><br><div dir="ltr">Sent from my iPhone</div>'
    '<div dir="ltr"><br><blockquote type="cite">On 13 Jan 2026, at 09:00, Helpdesk '
    "&lt;support@ticketbot.example&gt; wrote:<br><br></blockquote></div>"
    '<blockquote type="cite"><div dir="ltr">Does it still happen?</div></blockquote>'
    "</body></html>"
)


@pytest.mark.parametrize(
    ("html", "visible", "what"),
    [
        pytest.param(GMAIL_HTML, "Thanks, works again.", ("quote", "signature"), id="gmail"),
        pytest.param(
            OUTLOOK_HTML, "The issue is back. Please call +1 555 0100.", ("quote",), id="outlook"
        ),
        pytest.param(
            OUTLOOK_HTML_DE,
            "The issue is back. Please call +1 555 0100.",
            ("quote",),
            id="outlook-de",
        ),
        pytest.param(APPLE_HTML, "Yes, still.", ("quote", "footer"), id="apple-iphone"),
    ],
)
def test_html_only_mail_converted_by_html2text(
    html: str, visible: str, what: tuple[str, ...]
) -> None:
    text = parse_mail(make_mail(body=None, html=html)).text

    result = trim_reply(text)

    assert result.visible == visible, text
    assert result.what == what


def test_a_failure_inside_returns_the_text_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> TrimmedText:
        raise RuntimeError("bug")

    monkeypatch.setattr(quotes, "_trim", broken)

    assert trim_reply("Thanks.\n\n> quote\n") == TrimmedText("Thanks.\n\n> quote", trimmed=False)


@pytest.mark.parametrize("value", [None, b"> x", 42])
def test_not_even_a_string_does_not_raise(value: object) -> None:
    assert trim_reply(value) == TrimmedText("", trimmed=False)  # type: ignore[arg-type]


# Shapes that made earlier trimmers quadratic; how long they take is measured by
# `python -m tests.bench.bench_parse` (timings never belong in a unit test).
PATHOLOGICAL = {
    "many-quoted-lines": ("> a\n" * 50_000 + "new\n", "new"),
    "quote-and-answer-alternating": ("> q\nanswer\n" * 25_000, None),
    "many-from-lines": ("From: x\n" * 30_000, None),
    "long-attribution-like-lines": (("On 2026 " + "x " * 240 + "\n") * 2_000, None),
    "blank-lines-before-a-cut": ("\n" * 100_000 + "x\n> q\n", "x"),
    "one-200kb-line": ("On 12.01.2026 " + "word " * 40_000 + " wrote:", None),
}


@pytest.mark.parametrize(("text", "visible"), PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_shapes_are_trimmed_only_where_history_starts(
    text: str, visible: str | None
) -> None:
    result = trim_reply(text)
    if visible is None:  # nothing here is quoted history: all of it stays
        assert not result.trimmed
        assert result.visible == text.strip()
    else:
        assert (result.visible, result.trimmed, result.what) == (visible, True, ("quote",))
