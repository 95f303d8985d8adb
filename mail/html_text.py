"""Turn an HTML mail body into text a person can read in Slack.

html2text does the conversion (it keeps links as "[text](url)" and lists);
before it we drop what mail HTML carries but readers must never see -
scripts, styles, Outlook conditional comments, tracking pixels - and it is
told not to emit Markdown escapes, emphasis or table pipes, which look like
noise in a ticket. Very tag-heavy HTML gets a faster regex conversion so a
newsletter cannot stall the poller.
"""

from __future__ import annotations

import html
import re

import html2text

__all__ = ["MAX_HTML2TEXT_TAGS", "html_to_text"]

_BLOCK_START = re.compile(
    r"<(script|style|head|title|noscript|template|xml)\b[^>]*>", re.IGNORECASE
)
_COMMENTS = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_IMAGES = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_OPEN_TAG = re.compile(r"<[A-Za-z][^>]*>")
# Inline styles are most of the bytes of mail HTML and html2text ignores them.
_STYLE_ATTR = re.compile(
    r"""\s(?:style|class|id|width|height|bgcolor|align|valign)\s*=\s*("[^"]*"|'[^']*'|[^\s>]*)""",
    re.IGNORECASE,
)
# Inline formatting tags carry nothing for text output; dropping them halves html2text's work.
_INLINE_TAGS = re.compile(
    r"</?(?:span|font|b|strong|i|em|u|small|big|o:p)(?:\s[^>]*)?>", re.IGNORECASE
)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_WHITESPACE = re.compile(r"\s+")
_LINK = re.compile(
    # The label stops at the next <a or </a, so unclosed links cannot make this quadratic.
    r"""<a\b[^>]*?\bhref\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)[^>]*>((?:(?!</?a\b).){0,2000}?)</a\s*>""",
    re.IGNORECASE | re.DOTALL,
)
_LIST_ITEM = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_BLOCK = re.compile(
    r"</?(?:p|div|br|tr|h[1-6]|ul|ol|table|blockquote|pre|hr|section|article)\b[^>]*>",
    re.IGNORECASE,
)
_LINE_SPACES = re.compile(r"[ \t]*\n[ \t]*")
#: html2text handles about 150 tags per millisecond; above this many tags a mail
#: would blow the parse budget, so a plain regex conversion is used instead.
MAX_HTML2TEXT_TAGS = 3000
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


class _Converter(html2text.HTML2Text):
    """html2text without Markdown escaping: ticket text is shown, not rendered."""

    def handle_data(self, data: str, entity_char: bool = False) -> None:
        super().handle_data(data, entity_char=True)


def _drop_blocks(markup: str) -> str:
    """Remove script/style/head... elements with their content, in linear time.

    An unclosed script or style swallows the rest, as in a browser; an unclosed
    head or title loses only its tag, since browsers close those implicitly.
    """
    kept: list[str] = []
    position = 0
    while (match := _BLOCK_START.search(markup, position)) is not None:
        kept.append(markup[position : match.start()])
        tag = match.group(1)
        close = re.compile(rf"</{tag}\b[^>]*>", re.IGNORECASE).search(markup, match.end())
        if close is None:
            if tag.lower() in ("script", "style"):
                position = len(markup)
                break
            position = match.end()
            continue
        position = close.end()
        kept.append(" ")
    kept.append(markup[position:])
    return "".join(kept)


def _prepare(markup: str) -> str:
    markup = _COMMENTS.sub("", markup)
    markup = _drop_blocks(markup)
    markup = _IMAGES.sub("", markup)
    markup = _OPEN_TAG.sub(lambda tag: _STYLE_ATTR.sub("", tag.group(0)), markup)
    markup = _INLINE_TAGS.sub("", markup)
    return _CELL_END.sub(lambda m: " " + m.group(0), markup)


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


def _quick_convert(markup: str) -> str:
    """A fast, rougher conversion: block tags become line breaks, links "[text](url)"."""

    def link(match: re.Match[str]) -> str:
        url = html.unescape(match.group(1).strip("\"'"))
        label = _TAGS.sub("", match.group(2)).strip()
        return f"[{label}]({url})" if label and label != url else url

    markup = _WHITESPACE.sub(" ", markup)
    markup = _LINK.sub(link, markup)
    markup = _LIST_ITEM.sub("\n  * ", markup)
    markup = _BLOCK.sub("\n", markup)
    text = html.unescape(_TAGS.sub("", markup))
    return _LINE_SPACES.sub("\n", text)


def html_to_text(markup: str) -> str:
    """Convert HTML to readable text with links kept as "[text](url)".

    Never raises: if html2text fails, or the HTML is too large for it to
    convert in time, a simpler regex conversion is used instead.
    """
    prepared = _prepare(markup)
    try:
        if prepared.count("<") > MAX_HTML2TEXT_TAGS:
            text = _quick_convert(prepared)
        else:
            text = _convert(prepared)
    except Exception:  # html2text is third-party; a crash must not lose the body
        text = _quick_convert(prepared)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()
