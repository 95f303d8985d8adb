"""Turn an HTML mail body into text a person can read in Slack.

html2text does the conversion (it keeps links as "[text](url)" and lists);
before it, one left-to-right scan (`_tokenize`) drops what mail HTML carries but
readers must never see - scripts, styles, Outlook conditional comments,
tracking pixels - and every tag and attribute html2text has no use for. It is
told not to emit Markdown escapes, emphasis or table pipes, which look like
noise in a ticket. Very tag-heavy HTML gets a faster conversion of the same
tokens so a newsletter cannot stall the poller.

The scan is linear in the input, whatever it holds: every search for the end of
a construct (">", "-->", "</script>") either ends that construct or is
remembered, so no byte is searched again from each of thousands of unclosed
"<" (SPEC "Hostile mail"). html2text gets only what the scan writes - complete
tags with quoted attributes, text with "&", "<" and ">" escaped, lists and
quotes nested at most `MAX_NESTING` deep - so none of Python 3.11's
`html.parser` worst cases (gh-135462: unclosed "<a", "</", "<!--", "<?",
"<![CDATA[" rescanned to the end of the text) nor html2text's cost per nesting
level can be reached from a mail.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

import html2text

__all__ = ["MAX_HTML2TEXT_TAGS", "MAX_NESTING", "html_to_text"]

#: html2text handles about 150 tags per millisecond; above this many tags and
#: character references a mail would blow the parse budget, so the quick
#: conversion is used instead.
MAX_HTML2TEXT_TAGS = 3000
#: Lists and quotes nested deeper are flattened: html2text's work per line grows
#: with the depth, so 5 000 unclosed <ul> would make it quadratic.
MAX_NESTING = 32


@dataclass(frozen=True, slots=True)
class _Tag:
    name: str
    closing: bool = False
    attributes: tuple[tuple[str, str], ...] = ()


#: Text (escaped: only &amp; &lt; &gt; &nbsp; remain) or a tag that matters for the text.
_Token = str | _Tag

# A tag runs to the first ">" and holds no "<": possessive, so a "<a" that never closes
# costs the distance to the next "<", never a rescan.
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/<>]*+)([^<>]*+)>")
_ATTRIBUTE = re.compile(r"""([^\s/=<>"']++)(?:\s*=\s*("[^"]*+"?|'[^']*+'?|[^\s"'=<>`]++))?""")
# Elements dropped with their content; an unclosed script or style swallows the rest, as
# in a browser, while an unclosed head or title loses only its tag (browsers close those).
_BLOCKS = frozenset({"script", "style", "head", "title", "noscript", "template", "xml"})
_SWALLOWING = frozenset({"script", "style"})
_CLOSERS = {name: re.compile(rf"</{name}(?![\w:-])[^<>]*+>", re.IGNORECASE) for name in _BLOCKS}
# Tags either converter acts on; the rest (span, font, b, img, abbr, ...) carry nothing
# for text output, and dropping them halves html2text's work.
_QUICK_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "ul", "ol", "table", "blockquote", "pre", "hr", "section"}
    | {"article", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_KEPT = _QUICK_BLOCKS | frozenset(
    {"a", "li", "dl", "dt", "dd", "td", "th", "code", "kbd", "tt", "q", "del", "s", "strike"}
    | {"sup", "sub"}
)
_KEPT_ATTRIBUTES = {"a": frozenset({"href", "title"}), "ol": frozenset({"start"})}
_NESTING_GROUP = {"ul": "list", "ol": "list", "blockquote": "blockquote"}
# A character reference, digits unbounded but possessive; or a character to escape.
_REFERENCE = re.compile(r"&(?:#[0-9]++|#[xX][0-9a-fA-F]++|[A-Za-z][A-Za-z0-9]{0,31}+);?")
_TEXT_SPECIAL = re.compile(_REFERENCE.pattern + r"|[<&]")
_ESCAPED = {"<": "&lt;", "&": "&amp;"}
#: Longer numbers are out of Unicode's range anyway; int() refuses 4 300 digits and more.
_MAX_REFERENCE_DIGITS = 10

_WHITESPACE = re.compile(r"\s+")
_LINE_SPACES = re.compile(r"[ \t]*\n[ \t]*")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")
#: A link label longer than this is shown as text by the quick conversion.
_MAX_LABEL = 2000


def _reference(ref: str) -> str:
    """What a character reference stands for (itself when it is none)."""
    if ref[1] == "#" and len(ref.rstrip(";")) - 2 > _MAX_REFERENCE_DIGITS:
        return "\ufffd"
    return html.unescape(ref)


def _escape_special(match: re.Match[str]) -> str:
    found = match.group(0)
    if len(found) == 1:
        return _ESCAPED[found]
    char = _reference(found)
    if char == found:
        return "&amp;" + found[1:]
    # html2text keeps an entity's no-break space through its whitespace folding.
    return "&nbsp;" if char == "\xa0" else html.escape(char, quote=False)


def _escape_text(raw: str) -> str:
    """Text as html2text should read it: references resolved and re-escaped."""
    return _TEXT_SPECIAL.sub(_escape_special, raw)


def _attribute_value(raw: str) -> str:
    if raw[:1] in ("'", '"'):
        raw = raw[1:-1] if len(raw) > 1 and raw[-1] == raw[0] else raw[1:]
    return _REFERENCE.sub(lambda match: _reference(match.group(0)), raw)


class _Tokenizer:
    """One left-to-right scan of the markup into `_Token`s."""

    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.tokens: list[_Token] = []
        self._text: list[str] = []  # escaped text since the last tag, joined into one token
        self._depth = dict.fromkeys(_NESTING_GROUP.values(), 0)
        self._next_gt = -1  # the first ">" at or after the last search; len(markup): none
        self._closers: dict[str, re.Match[str] | None] = {}

    def run(self) -> list[_Token]:
        markup, position = self.markup, 0
        while position < len(markup):
            start = markup.find("<", position)
            if start < 0:
                self._text.append(_escape_text(markup[position:]))
                break
            if start > position:
                self._text.append(_escape_text(markup[position:start]))
            position = self._markup_at(start)
        self._flush_text()
        return self.tokens

    def _flush_text(self) -> None:
        if self._text:
            self.tokens.append("".join(self._text))
            self._text.clear()

    def _markup_at(self, start: int) -> int:
        """Handle the construct opened by the "<" at `start`; where the scan goes on."""
        markup = self.markup
        if markup.startswith("<!--", start):
            return self._comment_end(start)
        tag = _TAG.match(markup, start)
        if tag is not None:
            closing, name = tag.group(1) == "/", tag.group(2).lower()
            if not closing and name in _BLOCKS:
                return self._block_end(name, tag.end())
            self._add_tag(name, closing, tag.group(3))
            return tag.end()
        if markup.startswith(("<!", "<?", "</"), start):  # declarations, bogus comments
            end = self._gt_from(start + 2)
            if end < len(markup):
                return end + 1
        self._text.append("&lt;")  # no construct: a "<" in the text
        return start + 1

    def _gt_from(self, position: int) -> int:
        if self._next_gt < position:
            found = self.markup.find(">", position)
            self._next_gt = found if found >= 0 else len(self.markup)
        return self._next_gt

    def _comment_end(self, start: int) -> int:
        for abrupt in ("<!-->", "<!--->"):  # empty comments, closed at once (HTML5)
            if self.markup.startswith(abrupt, start):
                return start + len(abrupt)
        end = self.markup.find("-->", start + 4)
        return len(self.markup) if end < 0 else end + 3  # unclosed: the rest is comment

    def _block_end(self, name: str, after: int) -> int:
        close = self._closers.get(name)
        if name not in self._closers or (close is not None and close.start() < after):
            close = _CLOSERS[name].search(self.markup, after)
            self._closers[name] = close  # None: no closing tag anywhere after this point
        if close is None:
            return len(self.markup) if name in _SWALLOWING else after
        self._text.append(" ")
        return close.end()

    def _add_tag(self, name: str, closing: bool, rest: str) -> None:
        if name not in _KEPT:
            return
        group = _NESTING_GROUP.get(name)
        if group is not None:
            depth = self._depth[group]
            if closing:
                if depth == 0:  # closes nothing
                    return
                self._depth[group] = depth - 1
                if depth > MAX_NESTING:
                    return
            else:
                self._depth[group] = depth + 1
                if depth >= MAX_NESTING:
                    return
        wanted = _KEPT_ATTRIBUTES.get(name)
        attributes: tuple[tuple[str, str], ...] = ()
        if wanted and not closing:
            found = {}
            for match in _ATTRIBUTE.finditer(rest):
                key = match.group(1).lower()
                if key in wanted and key not in found and match.group(2) is not None:
                    found[key] = _attribute_value(match.group(2))
            attributes = tuple(found.items())
        self._flush_text()
        self.tokens.append(_Tag(name, closing, attributes))


def _tokenize(markup: str) -> list[_Token]:
    return _Tokenizer(markup).run()


def _markup(tokens: Sequence[_Token]) -> str:
    """The tokens as well-formed HTML for html2text."""
    parts: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            parts.append(token)
        elif token.closing:
            # A space before a cell's end keeps "a</td><td>b" apart with tables ignored.
            parts.append(f" </{token.name}>" if token.name in ("td", "th") else f"</{token.name}>")
        else:
            attributes = "".join(
                f' {key}="{html.escape(value)}"' for key, value in token.attributes
            )
            parts.append(f"<{token.name}{attributes}>")
    return "".join(parts)


class _Converter(html2text.HTML2Text):
    """html2text without Markdown escaping: ticket text is shown, not rendered."""

    def handle_data(self, data: str, entity_char: bool = False) -> None:
        super().handle_data(data, entity_char=True)


def _convert(markup: str) -> str:
    converter = _Converter()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.unicode_snob = True
    converter.single_line_break = False
    result: str = converter.handle(markup)
    return result


def _quick_convert(tokens: Sequence[_Token]) -> str:
    """A fast, rougher conversion: block tags become line breaks, links "[text](url)"."""
    out: list[str] = []

    def emit(token: _Token) -> None:
        if isinstance(token, str):
            out.append(html.unescape(_WHITESPACE.sub(" ", token)))
        elif token.name == "li" and not token.closing:
            out.append("\n  * ")
        elif token.name in _QUICK_BLOCKS:
            out.append("\n")

    href: str | None = None  # the open link, its label's tokens so far in `label`
    label: list[_Token] = []
    label_chars = 0
    for token in tokens:
        if isinstance(token, _Tag) and token.name == "a":
            if href is not None and token.closing:
                text = html.unescape(_WHITESPACE.sub(" ", "".join(_texts(label)))).strip()
                out.append(f"[{text}]({href})" if text and text != href else href)
            else:  # a link left open shows its label as plain text
                for item in label:
                    emit(item)
            label, label_chars = [], 0
            href = None if token.closing else dict(token.attributes).get("href", "").strip()
            href = href or None
        elif href is None:
            emit(token)
        else:
            label.append(token)
            label_chars += len(token) if isinstance(token, str) else 0
            if label_chars > _MAX_LABEL:
                for item in label:
                    emit(item)
                label, label_chars, href = [], 0, None
    for item in label:
        emit(item)
    return _LINE_SPACES.sub("\n", "".join(out))


def _texts(tokens: Sequence[_Token]) -> list[str]:
    return [token for token in tokens if isinstance(token, str)]


def html_to_text(markup: str) -> str:
    """Convert HTML to readable text with links kept as "[text](url)".

    Never raises: if html2text fails, or the HTML has too many tags for it to
    convert in time, the quick conversion is used instead.
    """
    tokens = _tokenize(markup)
    try:
        prepared = _markup(tokens)
        # html2text's work goes by tags and character references, not by bytes.
        if prepared.count("<") + prepared.count("&") > MAX_HTML2TEXT_TAGS:
            text = _quick_convert(tokens)
        else:
            text = _convert(prepared)
    except Exception:  # html2text is third-party; a crash must not lose the body
        text = _quick_convert(tokens)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()
