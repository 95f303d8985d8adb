"""Property tests: trim_reply never raises, never adds text, never trims everything.

Three sources: any text; mail-shaped text built from the lines that trimming
reacts to (attributions, header blocks, separators, signatures, footers,
quotes) in random order; and real-looking top-posted replies whose new text is
known, which must come back exactly.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mail.quotes import trim_reply

SETTINGS = settings(max_examples=300, deadline=None)

PIECES = [
    "",
    " ",
    ">",
    "> quoted text",
    ">> older quoted text",
    "  > indented quote",
    "On 12.01.26 10:15, Helpdesk wrote:",
    "On Mon, Jan 12, 2026 at 10:15 AM Helpdesk <",
    "support@ticketbot.example> wrote:",
    "Am 12.01.26 um 10:15 schrieb Helpdesk:",
    "Helpdesk <support@ticketbot.example> schrieb am Mo., 12. Jan. 2026, 10:15:",
    "Helpdesk wrote:",
    "From: Helpdesk <support@ticketbot.example>",
    "Sent: Monday, January 12, 2026 10:15 AM",
    "To: Smith, John",
    "Subject: Your request",
    "Von: Helpdesk",
    "Gesendet: Montag, 12. Januar 2026 10:15",
    "An: Anna",
    "Betreff: Anfrage",
    "-- ",
    "--",
    "---",
    "________________________________",
    "* * *",
    "-----Original Message-----",
    "-----Ursprüngliche Nachricht-----",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "Sent from my iPhone",
    "Von meinem iPhone gesendet",
    "Get Outlook for iOS<https://aka.ms/o0ukef>",
    "Thanks, it works.",
    "Mit freundlichen Grüßen",
    "The printer prints blank pages.",
]
LINES = st.one_of(st.sampled_from(PIECES), st.text(max_size=40))
MAIL_SHAPED = st.builds(
    lambda lines, newline: newline.join(lines),
    st.lists(LINES, max_size=30),
    st.sampled_from(["\n", "\r\n", "\r"]),
)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def check_contract(text: str) -> None:
    result = trim_reply(text)

    assert len(result.visible) <= len(text)
    assert result.visible == result.visible.rstrip()
    assert bool(result.what) is result.trimmed
    if not result.trimmed:
        assert result.visible == text.rstrip()
    if text.strip():
        assert result.visible.strip(), "trimming must never leave nothing"
    # Only whole lines are dropped: nothing is invented or rewritten (but the end is stripped).
    given_lines = {line.rstrip() for line in _lines(text)}
    assert all(line.rstrip() in given_lines for line in _lines(result.visible))
    again = trim_reply(result.visible)
    assert len(again.visible) <= len(result.visible)


@SETTINGS
@given(st.text())
def test_any_text(text: str) -> None:
    check_contract(text)


@SETTINGS
@given(MAIL_SHAPED)
def test_mail_shaped_text(text: str) -> None:
    check_contract(text)
    visible = trim_reply(text).visible
    assert trim_reply(visible).visible == visible, "trimming twice changes nothing"


# New text that cannot itself look like a quote, a header, a separator or a footer.
NEW_LINE = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüß0123456789 ,.!?",
    min_size=1,
    max_size=70,
).filter(lambda line: line.strip() != "")
NEW_TEXT = st.lists(NEW_LINE, min_size=1, max_size=6).map("\n".join)
QUOTED = st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map(
    lambda lines: "\n".join("> " + line for line in lines)
)
HISTORY_STYLES = [
    "On Mon, Jan 12, 2026 at 10:15 AM Helpdesk <support@ticketbot.example> wrote:\n\n{q}",
    "On Mon, Jan 12, 2026 at 10:15 AM Helpdesk Team of Example Corp <\n"
    "support@ticketbot.example> wrote:\n\n{q}",
    "Am Mo., 12. Jan. 2026 um 10:15 Uhr schrieb Helpdesk <support@ticketbot.example>:\n\n{q}",
    "> On 25 Nov 2026, at 10:00, Helpdesk <support@ticketbot.example> wrote:\n> \n{q}",
    "-----Original Message-----\nFrom: Helpdesk\nSent: Monday\nTo: John\nSubject: x\n\n{t}",
    "________________________________\nFrom: Helpdesk <support@ticketbot.example>\n"
    "Sent: Monday, January 12, 2026 10:15 AM\nTo: Smith, John\nSubject: Your request\n\n{t}",
    "Von: Helpdesk <support@ticketbot.example>\nGesendet: Montag, 12. Januar 2026 10:15\n"
    "An: Weiß, Anna\nBetreff: Ihre Anfrage\n\n{t}",
    "---------- Forwarded message ---------\nFrom: Supplier\nDate: Tue\nSubject: Quote\n\n{t}",
]
SIGNATURES = ["", "\n\n-- \nAlice Customer\nExample Corp", "\n--\nAlice"]
FOOTERS = ["", "\n\nSent from my iPhone", "\n\nVon meinem iPhone gesendet"]


@SETTINGS
@given(
    new=NEW_TEXT,
    signature=st.sampled_from(SIGNATURES),
    footer=st.sampled_from(FOOTERS),
    style=st.sampled_from(HISTORY_STYLES),
    quoted=QUOTED,
    old_text=NEW_TEXT,
)
def test_top_posted_reply_leaves_exactly_the_new_text(
    new: str, signature: str, footer: str, style: str, quoted: str, old_text: str
) -> None:
    history = style.format(q=quoted, t=old_text)
    text = f"{new}{signature}{footer}\n\n{history}\n"

    result = trim_reply(text)

    assert result.visible == new.rstrip()
    assert result.trimmed
    assert ("signature" in result.what) is bool(signature)
    assert ("footer" in result.what) is bool(footer and not signature)  # else it is signature
    assert trim_reply(result.visible).visible == result.visible
