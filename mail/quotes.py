"""Cut a customer's mail text down to what they newly wrote, for the Slack thread.

`trim_reply` is pure and never raises. The full text stays in the database;
this only decides what agents read in Slack. It works line by line:

- **Quoted history** ("quote") is cut from the first line that starts it: an
  attribution ("On <date>, X wrote:", "Am <date> schrieb X:", "X schrieb am
  <date>:", French, Spanish, Dutch and Italian forms, also wrapped over up to
  three lines), an Outlook separator ("-----Original Message-----",
  "-----Ursprüngliche Nachricht-----", …) or an Outlook header block ("From:"
  / "Von:" followed by at least two of Sent/Date, To, Subject in any of the
  same languages). Outlook quotes without ">" markers, so everything after
  such a line is history.
- **">"-quoted lines** are history unless the customer wrote something after
  them (bottom-posting, inline answers): then a short quote (at most
  `CONTEXT_QUOTE_LINES` lines and `CONTEXT_QUOTE_CHARS` characters) stays, with
  its ">" markers, as the question the answer below it refers to; longer
  quotes go. A quote with nothing new after it always goes.
- **Forwards** ("forward") below the customer's own text are cut like history.
  A mail that starts with a "Forwarded message" (or "Original Message") line
  keeps what follows it, the forwarded headers and body, trimmed in turn:
  that is all it says.
- **Signatures** ("signature") run from a "-- " line to the next quote or the end.
- **Mobile footers** ("footer") such as "Sent from my iPhone", "Von meinem
  iPhone gesendet" or "Get Outlook for iOS" are dropped at the end of the text.

Greetings, sign-offs ("Best regards, Tom") and signatures without the "-- "
delimiter stay: there is no reliable way to tell them from the request, and a
name or a phone number in them can matter to the agent. Trimming never leaves
nothing: when no new text would remain (a bare quote, a signature only), the
text is kept as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["CONTEXT_QUOTE_CHARS", "CONTEXT_QUOTE_LINES", "TrimKind", "TrimmedText", "trim_reply"]

TrimKind = Literal["quote", "forward", "signature", "footer"]
_KIND_ORDER: Final[tuple[TrimKind, ...]] = ("quote", "forward", "signature", "footer")

#: A ">"-quote with the customer's text after it is kept when it has at most
#: this many lines and characters: the question an inline answer refers to.
#: (Flowed and HTML text put a whole paragraph on one line, hence both.)
CONTEXT_QUOTE_LINES: Final = 3
CONTEXT_QUOTE_CHARS: Final = 300
#: Longer lines are prose, never a quote header; keeps every regex here cheap.
_MAX_HEADER_LINE: Final = 500
#: How far below a "From:" line the rest of an Outlook header block may reach.
_HEADER_BLOCK_WINDOW: Final = 12
#: How many forward separators at the top of a mail are looked through.
_MAX_FORWARD_DEPTH: Final = 3
#: Trimming runs again on its own result until that stops changing, at most this often.
_MAX_PASSES: Final = 3


@dataclass(frozen=True, slots=True)
class TrimmedText:
    """The part of a mail text to show, and what was cut from it.

    `visible` never is longer than the text given and has no trailing
    whitespace; `what` lists the kinds of text removed, empty when `trimmed`
    is false (then `visible` is the text given, right-stripped).
    """

    visible: str
    trimmed: bool
    what: tuple[TrimKind, ...] = ()


# Attributions that carry a date: a boundary even when no ">" lines follow (Yahoo, iOS).
_DATED_ATTRIBUTIONS: Final = (
    re.compile(r"On\s.+\swrote\s?:"),  # Gmail, Apple Mail, Thunderbird, Outlook for Mac
    re.compile(r"Am\s.+\sschrieb(?:\s.*)?:"),  # Gmail, Apple Mail, Thunderbird (de)
    re.compile(r".+\sschrieb am\s.+:"),  # Gmail mobile (de)
    re.compile(r"Le\s.+\sa écrit\s?:"),
    re.compile(r"El\s.+\sescribió\s?:"),
    re.compile(r"Op\s.+\sschreef(?:\s.*)?:"),
    re.compile(r"Il\s.+\sha scritto\s?:"),
)
_ATTRIBUTION_STARTS: Final = ("On ", "Am ", "Le ", "El ", "Op ", "Il ")
# A year or a numeric date, and a time: what tells "On 12 Jan 2026, at 10:00, X wrote:"
# from prose such as "On 12.01.2026 I restarted it and wrote:".
_DATE_HINT: Final = re.compile(r"\b(?:19|20)\d{2}\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b")
_TIME_HINT: Final = re.compile(r"\b\d{1,2}:\d{2}\b")
# Undated ones ("Helpdesk wrote:", Horde's "Zitat von X:") only count above a ">" line.
_PLAIN_ATTRIBUTION: Final = re.compile(
    r"(?:.{1,200}\s(?:wrote|schrieb|a écrit|escribió|schreef|ha scritto)"
    r"|(?:Quoting|Zitat von)\s.{1,200})\s?:"
)
_ORIGINAL_MESSAGE: Final = re.compile(
    r"-{2,}\s*(?:original message|original-nachricht|originalnachricht|ursprüngliche nachricht"
    r"|message d'origine|mensaje original|oorspronkelijk bericht|messaggio originale)\s*-{2,}"
    r"|-{2,}\s*below this line is a copy of the message\.?",  # qmail bounces
    re.IGNORECASE,
)
_FORWARD: Final = re.compile(
    r"-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré"
    r"|mensaje reenviado|doorgestuurd bericht|messaggio inoltrato)\s*-{2,}"
    r"|begin forwarded message\s?:|anfang der weitergeleiteten (?:nachricht|e-mail)\s?:"
    r"|début du message réexpédié\s?:",
    re.IGNORECASE,
)
# "From: X" / "**Von:** X" (bold survives some HTML converters): a header label.
_HEADER_LABEL: Final = re.compile(r"[*_]{0,2}([^\W\d_][^\W\d_ ]*(?: [^\W\d_]+)?)[*_]{0,2}\s?:")
# The labels of an Outlook header block, by what they stand for (en, de, fr, es, nl, it).
_HEADER_LABELS: Final = {
    "from": ("from", "von", "de", "van", "da"),
    "date": (
        *("sent", "date", "gesendet", "datum", "envoyé", "enviado", "enviado el"),
        *("fecha", "verzonden", "inviato", "data"),
    ),
    "to": ("to", "an", "à", "para", "aan", "a"),
    "cc": ("cc", "kopie"),
    "subject": ("subject", "betreff", "objet", "asunto", "onderwerp", "oggetto"),
}
_HEADER_ROLES: Final = {label: role for role, labels in _HEADER_LABELS.items() for label in labels}
_SEPARATOR: Final = re.compile(r"(?:_{5,}|-{5,}|={5,}|\*(?: \*){2,})")
_FOOTER: Final = re.compile(
    r"(?:sent from my|gesendet von meinem|envoyé de mon|enviado desde mi)(?:\s[\w.'()-]+){1,4}"
    r"|von meinem(?:\s[\w.'()-]+){1,3} gesendet"
    r"|sent from (?:mail for windows(?: 1[01])?|outlook(?: for \w+)?|yahoo mail(?: for \w+)?)"
    r"|sent with proton mail secure email\.?"
    r"|gesendet (?:von|mit) (?:mail für windows(?: 1[01])?|outlook für \w+|der [\w .-]{1,30}app)"
    r"|get \[?outlook for \w+\]?\S*|\[?outlook für \w+\]?(?:\(\S+\))? beziehen\S*",
    re.IGNORECASE,
)


def _quoted(line: str) -> bool:
    return line.lstrip(" \t")[:1] == ">"


def _unquote(line: str) -> str:
    """The line without its ">" markers (any depth) and surrounding space."""
    return line.lstrip(" \t>").strip()


def _short(line: str) -> str | None:
    """The stripped line, or None when it is too long to be a header of any kind."""
    return line.strip() if len(line) <= _MAX_HEADER_LINE else None


def _is_dated_attribution(text: str) -> bool:
    return (
        _DATE_HINT.search(text) is not None
        and _TIME_HINT.search(text) is not None
        and any(pattern.fullmatch(text) for pattern in _DATED_ATTRIBUTIONS)
    )


def _attribution_length(lines: Sequence[str], index: int) -> tuple[int, bool]:
    """How many lines an attribution starting here spans (0: none), and whether it is dated.

    Gmail wraps a long "On … wrote:" onto a second or third line.
    """
    first = _short(lines[index])
    if not first:
        return 0, False
    joined = first
    for count in (1, 2, 3):
        if count > 1:
            following = _short(lines[index + count - 1]) if index + count - 1 < len(lines) else None
            if not following or len(joined) > _MAX_HEADER_LINE:
                break
            joined = f"{joined} {following}"
        # Gmail wraps only long ones: a name and an address.
        if _is_dated_attribution(joined) and (count == 1 or "@" in joined):
            return count, True
        if count == 1 and _PLAIN_ATTRIBUTION.fullmatch(joined):
            return 1, False
        if not first.startswith(_ATTRIBUTION_STARTS) or first.endswith((".", "!", "?")):
            break
    return 0, False


def _header_role(line: str) -> str | None:
    text = _short(line)
    match = _HEADER_LABEL.match(text) if text else None
    return _HEADER_ROLES.get(match.group(1).lower()) if match else None


def _is_header_block(lines: Sequence[str], index: int, roles: Sequence[str | None]) -> bool:
    """A "From:" line followed by at least two of Sent/Date, To and Subject (Outlook's block).

    `roles` holds each line's header role, classified once for the whole text rather than
    once per window that covers a line.
    """
    if roles[index] != "from":
        return False
    found: set[str] = set()
    continuation = False
    for at in range(index + 1, min(len(lines), index + 1 + _HEADER_BLOCK_WINDOW)):
        role = roles[at]
        if role is None:
            if not lines[at].strip():
                continue
            if continuation:  # a To: list may wrap onto one more line, not two
                break
            continuation = True
            continue
        if role == "from":  # another block starts: it is judged on its own
            break
        continuation = False
        found.add(role)
    return len(found & {"date", "to", "subject"}) >= 2


def _next_content(lines: Sequence[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return None


def _find_history(lines: Sequence[str], removed: dict[int, TrimKind]) -> tuple[int, TrimKind]:
    """Index where unmarked quoted history starts (len(lines) if none), and its kind.

    Attribution lines above ">"-quotes are marked in `removed` (with any
    attributions stacked right above them); the quotes themselves are judged
    later, since new text may follow them.
    """
    stacked: list[int] = []  # attribution lines with only blank lines below them so far
    roles = [_header_role(line) for line in lines]
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = _short(line)
        if stripped == "":
            index += 1
            continue
        if stripped is None or _quoted(line):
            stacked.clear()
            index += 1
            continue
        if _FORWARD.fullmatch(stripped):
            return index, "forward"
        if _ORIGINAL_MESSAGE.fullmatch(stripped) or _is_header_block(lines, index, roles):
            return index, "quote"
        span, dated = _attribution_length(lines, index)
        if not span:
            stacked.clear()
            index += 1
            continue
        stacked.extend(range(index, index + span))
        after = _next_content(lines, index + span)
        if after is not None and _quoted(lines[after]):
            removed.update(dict.fromkeys(stacked, "quote"))
            stacked.clear()
        elif dated:
            return index, "quote"
        index += span
    return len(lines), "quote"


def _mark_signature(lines: Sequence[str], end: int, removed: dict[int, TrimKind]) -> None:
    """From each "-- " line to the next ">"-quote (or `end`) is a signature."""
    index = 0
    while index < end:
        if _quoted(lines[index]) or lines[index].rstrip(" \t\xa0") != "--":
            index += 1
            continue
        while index < end and not _quoted(lines[index]):
            removed.setdefault(index, "signature")
            index += 1


def _is_new_text(lines: Sequence[str], index: int, removed: dict[int, TrimKind]) -> bool:
    line = lines[index]
    if index in removed or _quoted(line) or not line.strip():
        return False
    stripped = _short(line)
    return stripped is None or not (_FOOTER.fullmatch(stripped) or _SEPARATOR.fullmatch(stripped))


def _judge_quotes(lines: Sequence[str], end: int, removed: dict[int, TrimKind]) -> None:
    """Drop ">"-quotes, except short ones the customer answers below."""
    new_text_after = [False] * (end + 1)
    for index in range(end - 1, -1, -1):
        new_text_after[index] = new_text_after[index + 1] or _is_new_text(lines, index, removed)
    index = 0
    while index < end:
        if not _quoted(lines[index]) or index in removed:
            index += 1
            continue
        last = index  # the block runs to its last quoted line, over blank lines between
        probe = index + 1
        while probe < end and (_quoted(lines[probe]) or not lines[probe].strip()):
            if _quoted(lines[probe]):
                last = probe
            probe += 1
        block = range(index, last + 1)
        content = [i for i in block if _unquote(lines[i]) and not _is_quote_header(lines[i])]
        keep = (
            bool(content)
            and new_text_after[last + 1]
            and len(content) <= CONTEXT_QUOTE_LINES
            and sum(len(_unquote(lines[i])) for i in content) <= CONTEXT_QUOTE_CHARS
        )
        for line_index in block:
            # A kept quote loses only its attribution and the empty lines around it.
            inside = keep and content[0] <= line_index <= content[-1]
            if not inside or (_unquote(lines[line_index]) and line_index not in content):
                removed.setdefault(line_index, "quote")
        index = last + 1


def _is_quote_header(line: str) -> bool:
    """A quoted attribution or separator, as Apple Mail quotes its "On … wrote:"."""
    text = _unquote(line)
    return len(text) <= _MAX_HEADER_LINE and bool(
        _is_dated_attribution(text)
        or _PLAIN_ATTRIBUTION.fullmatch(text)
        or _ORIGINAL_MESSAGE.fullmatch(text)
        or _FORWARD.fullmatch(text)
    )


def _assemble(lines: Sequence[str], end: int, removed: dict[int, TrimKind]) -> list[str]:
    """The kept lines; a run of blank lines left where text was cut becomes one."""
    kept: list[str] = []
    cut_since_last = False
    for index in range(end):
        if index in removed:
            cut_since_last = True
            continue
        line = lines[index]
        if not line.strip() and cut_since_last and (not kept or not kept[-1].strip()):
            continue
        kept.append(line)
        if line.strip():
            cut_since_last = False
    return kept


def _strip_tail(kept: list[str], kinds: set[TrimKind]) -> None:
    """Drop trailing blank lines, mobile footers and separators left above cut history."""
    while kept:
        stripped = _short(kept[-1])
        if stripped == "" or (
            stripped is not None and _quoted(stripped) and not _unquote(stripped)
        ):
            kept.pop()
        elif stripped is not None and _FOOTER.fullmatch(stripped):
            kept.pop()
            kinds.add("footer")
        elif stripped is not None and kinds and _SEPARATOR.fullmatch(stripped):
            kept.pop()
        else:
            return


def _pure_forward(lines: Sequence[str], start: int, depth: int) -> TrimmedText | None:
    """For a mail that starts with a forward or "Original Message" line: what follows it.

    That is trimmed in turn (a forwarded reply has its own history), a bounded
    number of times, so a pile of separators cannot recurse deeply.
    """
    separator = lines[start].strip()
    if _next_content(lines, 0) != start or not (
        _FORWARD.fullmatch(separator) or _ORIGINAL_MESSAGE.fullmatch(separator)
    ):
        return None
    rest = "\n".join(lines[start + 1 :]).strip("\n").rstrip()
    if not rest.strip():
        return None
    kind: TrimKind = "forward" if _FORWARD.fullmatch(separator) else "quote"
    inner = _trim(rest, depth + 1) if depth < _MAX_FORWARD_DEPTH else TrimmedText(rest, False)
    kinds = {kind, *inner.what}
    return TrimmedText(
        inner.visible, trimmed=True, what=tuple(k for k in _KIND_ORDER if k in kinds)
    )


def _trim(text: str, depth: int = 0) -> TrimmedText:
    untouched = TrimmedText(text.rstrip(), trimmed=False)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    removed: dict[int, TrimKind] = {}
    end, history_kind = _find_history(lines, removed)
    _mark_signature(lines, end, removed)
    _judge_quotes(lines, end, removed)
    kinds: set[TrimKind] = set(removed.values())
    if end < len(lines) and any(line.strip() for line in lines[end:]):
        kinds.add(history_kind)
    kept = _assemble(lines, end, removed)
    _strip_tail(kept, kinds)
    first = _next_content(kept, 0)
    kept = kept[first:] if first is not None else []
    if not kept:  # never trim everything
        if end < len(lines):
            return _pure_forward(lines, end, depth) or untouched
        return untouched
    if not kinds:
        return untouched
    visible = "\n".join(kept).rstrip()
    if len(visible) > len(text):  # cannot happen: only whole lines are dropped
        return untouched
    return TrimmedText(visible, trimmed=True, what=tuple(k for k in _KIND_ORDER if k in kinds))


def trim_reply(text: str) -> TrimmedText:
    """The customer's new text in `text`, without quoted history and signature.

    Pure; never raises: on any failure the text comes back unchanged (right-stripped).
    """
    try:
        result = _trim(text)
        for _ in range(_MAX_PASSES - 1):  # a cut can expose more to cut: stacked attributions
            again = _trim(result.visible) if result.trimmed else result
            if again.visible == result.visible:
                break
            kinds = {*result.what, *again.what}
            result = TrimmedText(
                again.visible, trimmed=True, what=tuple(k for k in _KIND_ORDER if k in kinds)
            )
        return result
    except Exception:  # the contract: a mail we cannot trim is shown whole
        return TrimmedText(text.rstrip() if isinstance(text, str) else "", trimmed=False)
