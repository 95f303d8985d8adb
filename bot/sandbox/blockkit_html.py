"""Block Kit and Slack mrkdwn as safe HTML, so the sandbox page shows a channel as Slack would.

Pure functions: JSON in, HTML text out. The blocks carry customers' words, so every string is
HTML-escaped exactly once, links are made only for http, https and mailto, interactive elements
carry data attributes (never inline JavaScript), and mrkdwn is read in one linear pass: a hostile
text must neither inject markup nor stall the page.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "BLOCKKIT_CSS",
    "EMOJI",
    "RenderContext",
    "blocks_to_html",
    "mrkdwn_to_html",
    "plain_text_to_html",
    "text_to_html",
]


@dataclass(frozen=True)
class RenderContext:
    """What Slack knows and the JSON does not: the names behind ids, and the clock for `{ago}`."""

    users: Mapping[str, str]  # user id -> display name
    channels: Mapping[str, str]  # channel id -> name
    now: float  # epoch seconds


EMOJI: Mapping[str, str] = {
    "+1": "👍",
    "-1": "👎",
    "alarm_clock": "⏰",
    "arrow_left": "⬅️",
    "arrow_right": "➡️",
    "arrows_counterclockwise": "🔄",
    "bar_chart": "📊",
    "bell": "🔔",
    "black_circle": "⚫",
    "bulb": "💡",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "calendar": "📆",
    "chart_with_downwards_trend": "📉",
    "chart_with_upwards_trend": "📈",
    "clap": "👏",
    "clipboard": "📋",
    "closed_lock_with_key": "🔐",
    "date": "📅",
    "double_vertical_bar": "⏸️",
    "e-mail": "📧",
    "email": "✉️",
    "envelope": "✉️",
    "envelope_with_arrow": "📩",
    "exclamation": "❗",
    "eyes": "👀",
    "file_folder": "📁",
    "fire": "🔥",
    "gear": "⚙️",
    "grey_question": "❔",
    "hammer_and_wrench": "🛠️",
    "heart": "❤️",
    "heavy_check_mark": "✔️",
    "heavy_minus_sign": "➖",
    "heavy_multiplication_x": "✖️",
    "heavy_plus_sign": "➕",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "inbox_tray": "📥",
    "incoming_envelope": "📨",
    "information_source": "ℹ️",
    "key": "🔑",
    "large_blue_circle": "🔵",
    "large_green_circle": "🟢",
    "large_orange_circle": "🟠",
    "large_orange_diamond": "🔶",
    "large_yellow_circle": "🟡",
    "link": "🔗",
    "lock": "🔒",
    "loudspeaker": "📢",
    "mag": "🔍",
    "mailbox": "📫",
    "mega": "📣",
    "memo": "📝",
    "new": "🆕",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "ok_hand": "👌",
    "open_file_folder": "📂",
    "outbox_tray": "📤",
    "package": "📦",
    "page_facing_up": "📄",
    "paperclip": "📎",
    "point_right": "👉",
    "pray": "🙏",
    "pushpin": "📌",
    "question": "❓",
    "raising_hand": "🙋",
    "red_circle": "🔴",
    "repeat": "🔁",
    "rocket": "🚀",
    "rotating_light": "🚨",
    "slightly_smiling_face": "🙂",
    "small_blue_diamond": "🔹",
    "smile": "😄",
    "sparkles": "✨",
    "speech_balloon": "💬",
    "star": "⭐",
    "stopwatch": "⏱️",
    "tada": "🎉",
    "thinking_face": "🤔",
    "thumbsdown": "👎",
    "thumbsup": "👍",
    "ticket": "🎫",
    "twisted_rightwards_arrows": "🔀",
    "unlock": "🔓",
    "warning": "⚠️",
    "wave": "👋",
    "white_check_mark": "✅",
    "white_circle": "⚪",
    "wrench": "🔧",
    "writing_hand": "✍️",
    "x": "❌",
    "zzz": "💤",
    **{f"clock{hour}": chr(0x1F550 + hour - 1) for hour in range(1, 13)},
}
_MAX_EMOJI = max(len(name) for name in EMOJI)

_WEB = frozenset({"http", "https"})
_LINKABLE = frozenset({"http", "https", "mailto"})


# --- small helpers ---------------------------------------------------------------------------


def _esc(text: str) -> str:
    """Text node content; quotes need no escaping outside attributes."""
    return html.escape(text, quote=False)


def _attr(name: str, value: str | None) -> str:
    return "" if value is None else f' {name}="{html.escape(value, quote=True)}"'


def _unslack(text: str) -> str:
    """Undo Slack's escaping exactly once: `&amp;lt;` was a literal `&lt;` and stays one."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _safe_url(url: str | None, schemes: frozenset[str]) -> str | None:
    """The URL if its scheme is one we link; `javascript:`, `data:` and friends never are."""
    if not url:
        return None
    scheme, colon, _ = url.partition(":")
    return url if colon and scheme.lower() in schemes else None


def _link(url: str, label_html: str) -> str:
    return (
        f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer" target="_blank">'
        f"{label_html}</a>"
    )


def _str(obj: object, key: str) -> str | None:
    """A string field of a JSON object, or None when the object or the field is malformed."""
    if not isinstance(obj, Mapping):
        return None
    value = obj.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _int(obj: object, key: str) -> int | None:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(obj: object, key: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return list(value) if isinstance(value, list | tuple) else []


def _emojify(text: str) -> str:
    """`:tada:` as the character; unknown codes stay text. Bounded look-ahead: linear."""
    out: list[str] = []
    i = 0
    while (start := text.find(":", i)) >= 0:
        end = text.find(":", start + 1, start + 2 + _MAX_EMOJI)
        char = EMOJI.get(text[start + 1 : end]) if end > start + 1 else None
        if char is None:
            out.append(text[i : start + 1])
            i = start + 1
        else:
            out.append(text[i:start])
            out.append(char)
            i = end + 1
    out.append(text[i:])
    return "".join(out)


def _unsupported(what: str, kind: str | None) -> str:
    return f'<div class="sk-unsupported">unsupported {what}: {_esc(kind or "?")}</div>'


# --- dates -----------------------------------------------------------------------------------

_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RELATIVE_DAYS = {-1: "yesterday", 0: "today", 1: "tomorrow"}
_DATE_TOKEN = re.compile(r"\{([a-z_]{1,32})\}")
_EPOCH = re.compile(r"-?[0-9]{1,15}")
_AGO_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _ago(moment: float, now: float) -> str:
    """Slack's `{ago}`: coarse, relative to the page's clock."""
    diff = now - moment
    if not math.isfinite(diff) or abs(diff) < 60:
        return "just now"
    for unit, seconds in _AGO_UNITS:
        if abs(diff) >= seconds:
            count = int(abs(diff) // seconds)
            amount = f"{count} {unit}{'s' * (count != 1)}"
            return f"{amount} ago" if diff > 0 else f"in {amount}"
    return "just now"  # unreachable: a minute or more matched above


def _today(now: float) -> date | None:
    try:
        return datetime.fromtimestamp(now, UTC).date()
    except (OverflowError, OSError, ValueError):
        return None


def _date_part(token: str, moment: datetime, ctx: RenderContext) -> str | None:
    """One `{token}` of a date format, in UTC; None for a token Slack does not know."""
    day = f"{_MONTHS[moment.month - 1]} {_ordinal(moment.day)}, {moment.year}"
    short = f"{_MONTHS[moment.month - 1][:3]} {moment.day}, {moment.year}"
    long = f"{_WEEKDAYS[moment.weekday()]}, {day}"
    hour = moment.hour % 12 or 12
    noon = "AM" if moment.hour < 12 else "PM"
    plain = {
        "date_num": f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}",
        "date": day,
        "date_short": short,
        "date_long": long,
        "time": f"{hour}:{moment.minute:02d} {noon}",
        "time_secs": f"{hour}:{moment.minute:02d}:{moment.second:02d} {noon}",
    }
    if token in plain:
        return plain[token]
    if token == "ago":
        return _ago(moment.timestamp(), ctx.now)
    if token in ("date_pretty", "date_short_pretty", "date_long_pretty"):
        today = _today(ctx.now)
        relative = None
        if today is not None:
            relative = _RELATIVE_DAYS.get((moment.date() - today).days)
        return relative or plain[token.removesuffix("_pretty")]
    return None


def _date_html(parts: list[str], fallback: str, ctx: RenderContext) -> str:
    """`<!date^epoch^format^link|fallback>`; anything malformed shows the fallback."""
    if len(parts) < 2 or not _EPOCH.fullmatch(parts[0]):
        return _esc(fallback)
    try:
        moment = datetime.fromtimestamp(int(parts[0]), UTC)
    except (OverflowError, OSError, ValueError):
        return _esc(fallback)

    def token(match: re.Match[str]) -> str:
        return _date_part(match.group(1), moment, ctx) or match.group(0)

    text = _DATE_TOKEN.sub(token, parts[1])
    body = f'<time class="sk-date" datetime="{moment.isoformat()}">{_esc(text)}</time>'
    url = _safe_url(parts[2] if len(parts) > 2 else None, _WEB)
    return _link(url, body) if url else body


# --- mentions and control sequences ----------------------------------------------------------


def _is_id(text: str) -> bool:
    return text.isascii() and text.isalnum()


def _user_span(user_id: str, label: str, ctx: RenderContext) -> str:
    name = ctx.users.get(user_id) or label or user_id
    return f'<span class="sk-mention">@{_esc(name)}</span>'


def _channel_span(channel_id: str, label: str, ctx: RenderContext) -> str:
    name = ctx.channels.get(channel_id) or label or channel_id
    return f'<span class="sk-channel">#{_esc(name)}</span>'


def _usergroup_span(name: str) -> str:
    return f'<span class="sk-usergroup">@{_esc(name)}</span>'


def _broadcast_span(name: str) -> str:
    return f'<span class="sk-broadcast">@{_esc(name)}</span>'


def _control(body: str, ctx: RenderContext) -> str:
    """The inside of a real `<...>`: a mention, a date or a link; anything else as its text."""
    raw_head, _, raw_label = body.partition("|")
    head, label = _unslack(raw_head), _unslack(raw_label)
    if head.startswith("@") and _is_id(head[1:]):
        return _user_span(head[1:], label, ctx)
    if head.startswith("#") and _is_id(head[1:]):
        return _channel_span(head[1:], label, ctx)
    if head.startswith("!"):
        parts = head[1:].split("^")
        if parts[0] in ("here", "channel", "everyone") and len(parts) == 1:
            return _broadcast_span(parts[0])
        if parts[0] == "subteam" and len(parts) == 2 and _is_id(parts[1]):
            return _usergroup_span(label.lstrip("@") or "group")
        if parts[0] == "date":
            return _date_html(parts[1:], label, ctx)
    elif url := _safe_url(head, _LINKABLE):
        shown = label or (head[7:] if head.lower().startswith("mailto:") else head)
        return _link(url, _esc(shown))
    return _esc(f"<{_unslack(body)}>")


# --- mrkdwn ----------------------------------------------------------------------------------

# A token is (kind, text, code). TEXT and MARK: decoded text. HTML: markup in `text`, and in
# `code` what to show inside code, where an emoji stays its `:name:`. QUOTE: a line's leading
# `&gt; `, as Slack quotes arrive. NL and FENCE: nothing more.
_TEXT, _MARK, _HTML, _NL, _FENCE, _QUOTE = range(6)
_QUOTE_MARK = "&gt; "
_Token = tuple[int, str, str]
_RUN = re.compile(r"[^<\n*_~`:]+")
_MARKS = "*_~`"
_TAGS = {"*": "b", "_": "i", "~": "s"}
_OBJECT = "\ufffc"  # what a mention or emoji looks like to the word-boundary rules


def _find(text: str, char: str, start: int) -> int:
    found = text.find(char, start)
    return len(text) if found < 0 else found


def _tokenize(text: str, ctx: RenderContext) -> list[_Token]:
    """Split into runs, markers and control sequences. Where the next `>`, `<` and newline are
    is cached, so a text of a thousand `<` is read once, not a thousand times."""
    tokens: list[_Token] = []
    n = len(text)
    next_gt = next_lt = next_nl = -1
    i = 0
    while i < n:
        char = text[i]
        if char == "&" and (i == 0 or text[i - 1] == "\n") and text.startswith(_QUOTE_MARK, i):
            tokens.append((_QUOTE, "> ", ""))
            i += len(_QUOTE_MARK)
        elif char == "<":
            if next_gt <= i:
                next_gt = _find(text, ">", i + 1)
            if next_lt <= i:
                next_lt = _find(text, "<", i + 1)
            if next_nl <= i:
                next_nl = _find(text, "\n", i + 1)
            if next_gt < next_lt and next_gt < next_nl:
                markup = _control(text[i + 1 : next_gt], ctx)
                tokens.append((_HTML, markup, markup))
                i = next_gt + 1
            else:
                tokens.append((_TEXT, "<", ""))
                i += 1
        elif char == "\n":
            tokens.append((_NL, "\n", ""))
            i += 1
        elif char == "`" and text.startswith("```", i):
            tokens.append((_FENCE, "```", ""))
            i += 3
        elif char in _MARKS:
            tokens.append((_MARK, char, ""))
            i += 1
        elif char == ":":
            end = text.find(":", i + 1, i + 2 + _MAX_EMOJI)
            emoji = EMOJI.get(text[i + 1 : end]) if end > i + 1 else None
            if emoji is None:
                tokens.append((_TEXT, ":", ""))
                i += 1
            else:
                tokens.append((_HTML, emoji, _esc(_unslack(text[i : end + 1]))))
                i = end + 1
        else:
            match = _RUN.match(text, i)
            end = match.end() if match else i + 1
            tokens.append((_TEXT, _unslack(text[i:end]), ""))
            i = end
    return tokens


def _edge(token: _Token, *, last: bool) -> str:
    kind, text, _ = token
    if kind in (_TEXT, _MARK, _FENCE, _QUOTE) and text:
        return text[-1] if last else text[0]
    return _OBJECT


def _flanks(line: list[_Token], t: int) -> tuple[str, str]:
    before = _edge(line[t - 1], last=True) if t > 0 else ""
    after = _edge(line[t + 1], last=False) if t + 1 < len(line) else ""
    return before, after


def _opens(line: list[_Token], t: int) -> bool:
    """A marker opens after a word boundary and before something that is not a space."""
    before, after = _flanks(line, t)
    return (not before or not before.isalnum()) and bool(after) and not after.isspace()


def _closes(line: list[_Token], t: int) -> bool:
    """A marker closes after something that is not a space and before a word boundary."""
    before, after = _flanks(line, t)
    return bool(before) and not before.isspace() and (not after or not after.isalnum())


def _closers(line: list[_Token]) -> dict[str, list[int]]:
    """For each marker, the next valid closer at or after each position (len(line): none)."""
    size = len(line)
    marks = {text for kind, text, _ in line if kind == _MARK}
    found = {mark: [size] * (size + 1) for mark in marks}
    for mark, table in found.items():
        following = size
        for t in range(size - 1, -1, -1):
            kind, text, _ = line[t]
            if kind == _MARK and text == mark and _closes(line, t):
                following = t
            table[t] = following
    return found


def _code(tokens: list[_Token], start: int, end: int) -> str:
    """Inside code nothing is formatting: markers, fences and emoji codes are text."""
    out: list[str] = []
    for kind, text, markup in tokens[start:end]:
        out.append(markup if kind == _HTML else _esc(text))
    return "".join(out)


def _render_line(line: list[_Token]) -> str:
    """Bold, italic, strike and code in one line. Iterative, with every closer found in advance:
    linear, and tags always nest because an inner span must close before its outer one."""
    closers = _closers(line)
    size = len(line)
    out: list[str] = []
    open_spans: list[tuple[str, int]] = []
    t = 0
    while t < size:
        if open_spans and open_spans[-1][1] == t:
            out.append(f"</{open_spans.pop()[0]}>")
            t += 1
            continue
        kind, text, _ = line[t]
        limit = open_spans[-1][1] if open_spans else size
        if kind == _MARK:
            end = closers[text][t + 1]
            if t + 1 < end < limit and _opens(line, t):
                if text == "`":
                    out.append(f"<code>{_code(line, t + 1, end)}</code>")
                    t = end + 1
                    continue
                out.append(f"<{_TAGS[text]}>")
                open_spans.append((_TAGS[text], end))
                t += 1
                continue
        out.append(text if kind == _HTML else _esc(text))
        t += 1
    return "".join(out)


class _Lines:
    """Joins rendered lines: `<br>` between lines, quote lines grouped in one blockquote."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.previous = ""

    def line(self, line: list[_Token]) -> None:
        quote = bool(line) and line[0][0] == _QUOTE
        if quote:
            line = line[1:]
            self.parts.append("<br>" if self.previous == "quote" else "<blockquote>")
        elif self.previous == "quote":
            self.parts.append("</blockquote>")
        elif self.previous == "line":
            self.parts.append("<br>")
        self.parts.append(_render_line(line))
        self.previous = "quote" if quote else "line"

    def pre(self, body: str) -> None:
        if self.previous == "quote":
            self.parts.append("</blockquote>")
        self.parts.append(f"<pre>{body}</pre>")
        self.previous = "pre"

    def html(self) -> str:
        return "".join(self.parts) + ("</blockquote>" if self.previous == "quote" else "")


def _fence_pairs(tokens: list[_Token]) -> dict[int, int]:
    """Fences pair up in order; a last one without a partner is text."""
    fences = [t for t, token in enumerate(tokens) if token[0] == _FENCE]
    return dict(zip(fences[0::2], fences[1::2], strict=False))


def mrkdwn_to_html(text: str, ctx: RenderContext) -> str:
    """Slack mrkdwn, as the bot sends it (customer text already Slack-escaped), as HTML."""
    if not isinstance(text, str) or not text:
        return ""
    tokens = _tokenize(text, ctx)
    pairs = _fence_pairs(tokens)
    lines = _Lines()
    start = i = 0
    while i < len(tokens):
        kind = tokens[i][0]
        if kind == _NL:
            lines.line(tokens[start:i])
            i = start = i + 1
        elif kind == _FENCE and i in pairs:
            if i > start:
                lines.line(tokens[start:i])
            inner, end = i + 1, pairs[i]
            if inner < end and tokens[inner][0] == _NL:
                inner += 1  # Slack drops the newline right after the opening fence
            if end > inner and tokens[end - 1][0] == _NL:
                end -= 1
            lines.pre(_code(tokens, inner, end))
            i = start = pairs[i] + 1
            if i < len(tokens) and tokens[i][0] == _NL:  # and the one after the closing fence
                i = start = i + 1
        else:
            i += 1
    if start < len(tokens) or (tokens and tokens[-1][0] == _NL):
        lines.line(tokens[start:])
    return lines.html()


# --- text objects ----------------------------------------------------------------------------


def plain_text_to_html(obj: Mapping[str, Any]) -> str:
    """A `plain_text` object: its text is literal (no Slack escaping), emoji codes unless
    `emoji` is false (Slack's default is true)."""
    text = _str(obj, "text") or ""
    shown = _esc(text)
    if not isinstance(obj, Mapping) or obj.get("emoji", True) is not False:
        shown = _emojify(shown)
    return shown.replace("\n", "<br>")


def text_to_html(obj: object, ctx: RenderContext) -> str:
    """A text object of either type; a malformed one shows what text it has, or nothing."""
    if not isinstance(obj, Mapping):
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn_to_html(_str(obj, "text") or "", ctx)
    return plain_text_to_html(obj)


def _label(obj: object) -> str:
    """Text for where no markup may go (`<option>`, attributes): no formatting, no escaping."""
    if not isinstance(obj, Mapping):
        return ""
    text = _str(obj, "text") or ""
    if obj.get("type") == "mrkdwn":
        text = _unslack(text)
    return _emojify(text) if obj.get("emoji", True) is not False else text


# --- elements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """Where an element sits: its block (for data attributes and form names) and position."""

    ctx: RenderContext
    block_id: str | None  # the block's own id, absent when the bot gave none
    block_key: str  # block_id, or a stand-in so a form name is never empty
    position: int
    required: bool = False

    def data(self, element: Mapping[str, Any]) -> str:
        return _attr("data-action-id", _str(element, "action_id")) + _attr(
            "data-block-id", self.block_id
        )

    def name(self, element: Mapping[str, Any]) -> str:
        """`block_id/action_id`, so a page can rebuild `view.state.values`."""
        action = _str(element, "action_id") or f"action-{self.position}"
        return f"{self.block_key}/{action}"

    def control(self, element: Mapping[str, Any], css: str) -> str:
        required = " required" if self.required else ""
        return f' class="{css}"{_attr("name", self.name(element))}{self.data(element)}{required}'


_Element = Callable[[Mapping[str, Any], _Slot], str]


def _button(element: Mapping[str, Any], slot: _Slot) -> str:
    style = element.get("style")
    css = "sk-button" + {"primary": " sk-primary", "danger": " sk-danger"}.get(str(style), "")
    label = text_to_html(element.get("text"), slot.ctx)
    attrs = slot.data(element) + _attr("data-value", _str(element, "value"))
    url = _safe_url(_str(element, "url"), _WEB)
    if url:
        return (
            f'<a class="{css}" href="{html.escape(url, quote=True)}" rel="noopener noreferrer"'
            f' target="_blank"{attrs}>{label}</a>'
        )
    return f'<button type="button" class="{css}"{attrs}>{label}</button>'


def _options(options: list[Any], chosen: set[str]) -> str:
    out: list[str] = []
    for option in options:
        value = _str(option, "value") or ""
        selected = " selected" if value in chosen else ""
        label = _esc(_label(option.get("text") if isinstance(option, Mapping) else None))
        out.append(f"<option{_attr('value', value)}{selected}>{label}</option>")
    return "".join(out)


def _chosen(element: Mapping[str, Any]) -> set[str]:
    initial = [element.get("initial_option"), *_list(element, "initial_options")]
    return {value for option in initial if (value := _str(option, "value")) is not None}


def _select(
    element: Mapping[str, Any], slot: _Slot, options: str, *, multiple: bool, chosen: bool
) -> str:
    """A select shows its placeholder, like Slack, until something is chosen."""
    placeholder = _label(element.get("placeholder"))
    head = (
        ""
        if multiple or chosen
        else f'<option value="" disabled selected>{_esc(placeholder)}</option>'
    )
    return (
        f"<select{slot.control(element, 'sk-select')}"
        f"{_attr('data-placeholder', placeholder or None)}{' multiple' * multiple}>"
        f"{head}{options}</select>"
    )


def _static_select(element: Mapping[str, Any], slot: _Slot) -> str:
    chosen = _chosen(element)
    options = _options(_list(element, "options"), chosen)
    for group in _list(element, "option_groups"):
        label = _label(group.get("label") if isinstance(group, Mapping) else None)
        inner = _options(_list(group, "options"), chosen)
        options += f"<optgroup{_attr('label', label)}>{inner}</optgroup>"
    multiple = element.get("type") == "multi_static_select"
    return _select(element, slot, options, multiple=multiple, chosen=bool(chosen))


def _directory_select(element: Mapping[str, Any], slot: _Slot) -> str:
    """users_select and channels/conversations_select: the names the context knows."""
    users = element.get("type") == "users_select"
    names = slot.ctx.users if users else slot.ctx.channels
    initial = _str(element, "initial_user" if users else "initial_channel") or _str(
        element, "initial_conversation"
    )
    prefix = "@" if users else "#"
    options = "".join(
        f"<option{_attr('value', key)}{' selected' * (key == initial)}>"
        f"{_esc(prefix + name)}</option>"
        for key, name in sorted(names.items(), key=lambda item: item[1].lower())
    )
    return _select(element, slot, options, multiple=False, chosen=initial in names)


def _overflow(element: Mapping[str, Any], slot: _Slot) -> str:
    options = _options(_list(element, "options"), set())
    return (
        f'<select class="sk-select sk-overflow"{slot.data(element)} aria-label="More actions">'
        f'<option value="" disabled selected>⋯</option>{options}</select>'
    )


def _image_element(element: Mapping[str, Any], slot: _Slot) -> str:
    alt = _str(element, "alt_text") or ""
    url = _safe_url(_str(element, "image_url"), _WEB)
    if url is None:
        return f'<span class="sk-image-missing">{_esc(alt)}</span>'
    return f'<img class="sk-element-image"{_attr("src", url)}{_attr("alt", alt)} loading="lazy">'


def _text_input(element: Mapping[str, Any], slot: _Slot) -> str:
    kind = element.get("type")
    placeholder = _label(element.get("placeholder")) or None
    initial = _str(element, "initial_value") or ""
    limits = "".join(
        _attr(name, str(limit))
        for name, key in (("maxlength", "max_length"), ("minlength", "min_length"))
        if (limit := _int(element, key)) is not None
    )
    multiline = kind == "plain_text_input" and element.get("multiline") is True
    css = "sk-control sk-textarea" if multiline else "sk-control"
    attrs = slot.control(element, css) + _attr("placeholder", placeholder) + limits
    if multiline:
        lead = "\n" if initial.startswith("\n") else ""  # the parser eats one leading newline
        return f"<textarea{attrs}>{lead}{_esc(initial)}</textarea>"
    kind_attr = {"email_text_input": "email", "url_text_input": "url"}.get(str(kind), "text")
    value = _attr("value", initial) if initial else ""
    return f'<input type="{kind_attr}"{attrs}{value}>'


def _number_input(element: Mapping[str, Any], slot: _Slot) -> str:
    step = "any" if element.get("is_decimal_allowed") is True else "1"
    attrs = "".join(
        _attr(name, _str(element, key))
        for name, key in (("min", "min_value"), ("max", "max_value"), ("value", "initial_value"))
    )
    placeholder = _attr("placeholder", _label(element.get("placeholder")) or None)
    return (
        f'<input type="number" step="{step}"{slot.control(element, "sk-control")}'
        f"{attrs}{placeholder}>"
    )


def _picker(element: Mapping[str, Any], slot: _Slot) -> str:
    if element.get("type") == "timepicker":
        kind, value = "time", _str(element, "initial_time")
    else:
        kind, value = "date", _str(element, "initial_date")
    return f'<input type="{kind}"{slot.control(element, "sk-control")}{_attr("value", value)}>'


def _choices(element: Mapping[str, Any], slot: _Slot) -> str:
    kind = "checkbox" if element.get("type") == "checkboxes" else "radio"
    chosen = _chosen(element)
    name = _attr("name", slot.name(element))
    required = " required" if slot.required and kind == "radio" else ""
    items: list[str] = []
    for option in _list(element, "options"):
        value = _str(option, "value") or ""
        checked = " checked" if value in chosen else ""
        text = text_to_html(option.get("text") if isinstance(option, Mapping) else None, slot.ctx)
        description = text_to_html(
            option.get("description") if isinstance(option, Mapping) else None, slot.ctx
        )
        items.append(
            f'<label class="sk-option"><input type="{kind}"{name}{_attr("value", value)}'
            f'{checked}{required}><span class="sk-option-text">{text}</span>'
            + (f'<span class="sk-option-description">{description}</span>' if description else "")
            + "</label>"
        )
    return f'<div class="sk-choices sk-{kind}"{slot.data(element)}>{"".join(items)}</div>'


_ELEMENTS: dict[str, _Element] = {
    "button": _button,
    "static_select": _static_select,
    "multi_static_select": _static_select,
    "users_select": _directory_select,
    "channels_select": _directory_select,
    "conversations_select": _directory_select,
    "overflow": _overflow,
    "image": _image_element,
    "plain_text_input": _text_input,
    "email_text_input": _text_input,
    "url_text_input": _text_input,
    "number_input": _number_input,
    "datepicker": _picker,
    "timepicker": _picker,
    "checkboxes": _choices,
    "radio_buttons": _choices,
}


def _element(element: object, slot: _Slot) -> str:
    kind = _str(element, "type")
    render = _ELEMENTS.get(kind or "")
    if render is None or not isinstance(element, Mapping):
        return _unsupported("element", kind)
    return render(element, slot)


# --- rich text -------------------------------------------------------------------------------

_STYLE_TAGS = (("code", "code"), ("strike", "s"), ("italic", "i"), ("bold", "b"))


def _styled(inner: str, element: Mapping[str, Any]) -> str:
    style = element.get("style")
    if not isinstance(style, Mapping):
        return inner
    for key, tag in _STYLE_TAGS:
        if style.get(key) is True:
            inner = f"<{tag}>{inner}</{tag}>"
    return inner


def _rich_emoji(element: Mapping[str, Any]) -> str:
    name = _str(element, "name") or ""
    if name in EMOJI:
        return EMOJI[name]
    try:
        points = [int(part, 16) for part in (_str(element, "unicode") or "").split("-")]
    except ValueError:
        return _esc(f":{name}:")
    if all(0x80 <= point <= 0x10FFFF and not 0xD800 <= point <= 0xDFFF for point in points):
        return "".join(map(chr, points))  # above ASCII: nothing that means anything to HTML
    return _esc(f":{name}:")


def _rich_inline(element: object, ctx: RenderContext, *, pre: bool) -> str:
    """One piece of a rich_text section; rich text is literal (not Slack-escaped)."""
    if not isinstance(element, Mapping):
        return ""
    kind = element.get("type")
    text = _str(element, "text") or ""
    if kind == "link":
        url = _safe_url(_str(element, "url"), _LINKABLE)
        shown = _styled(_esc(text or _str(element, "url") or ""), element)
        return _link(url, shown) if url else shown
    if kind == "user":
        return _user_span(_str(element, "user_id") or "?", "", ctx)
    if kind == "channel":
        return _channel_span(_str(element, "channel_id") or "?", "", ctx)
    if kind == "usergroup":
        return _usergroup_span(_str(element, "usergroup_id") or "group")
    if kind == "broadcast":
        return _broadcast_span(_str(element, "range") or "here")
    if kind == "emoji":
        return _rich_emoji(element)
    if kind == "date":
        parts = [_str(element, "timestamp") or "", _str(element, "format") or ""]
        return _date_html(parts, _str(element, "fallback") or "", ctx)
    shown = _esc(text) if pre else _esc(text).replace("\n", "<br>")
    return _styled(shown, element) if kind == "text" else shown


def _rich_part(part: object, ctx: RenderContext) -> str:
    kind = _str(part, "type")
    pre = kind == "rich_text_preformatted"
    if kind == "rich_text_list":
        tag = "ol" if _str(part, "style") == "ordered" else "ul"
        indent = min(max(_int(part, "indent") or 0, 0), 6)
        items = "".join(
            f"<li>{''.join(_rich_inline(e, ctx, pre=False) for e in _list(item, 'elements'))}</li>"
            for item in _list(part, "elements")
        )
        return f'<{tag} class="sk-rt-list sk-rt-indent-{indent}">{items}</{tag}>'
    inner = "".join(_rich_inline(e, ctx, pre=pre) for e in _list(part, "elements"))
    if not inner and kind not in ("rich_text_section", "rich_text_quote"):
        inner = _esc(_str(part, "text") or "")
    if pre:
        return f"<pre>{inner}</pre>"
    if kind == "rich_text_quote":
        return f"<blockquote>{inner}</blockquote>"
    return f'<div class="sk-rt-section">{inner}</div>'


# --- blocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Env:
    ctx: RenderContext
    block_id: str | None
    block_key: str
    errors: Mapping[str, str]

    def slot(self, position: int, *, required: bool = False) -> _Slot:
        return _Slot(self.ctx, self.block_id, self.block_key, position, required)


def _header(block: Mapping[str, Any], env: _Env) -> str:
    return text_to_html(block.get("text"), env.ctx)


def _section(block: Mapping[str, Any], env: _Env) -> str:
    main = ""
    if block.get("text") is not None:
        main += f'<div class="sk-text">{text_to_html(block.get("text"), env.ctx)}</div>'
    fields = _list(block, "fields")
    if fields:
        cells = "".join(f'<div class="sk-field">{text_to_html(f, env.ctx)}</div>' for f in fields)
        main += f'<div class="sk-fields">{cells}</div>'
    accessory = block.get("accessory")
    side = (
        f'<div class="sk-accessory">{_element(accessory, env.slot(0))}</div>'
        if accessory is not None
        else ""
    )
    return f'<div class="sk-section-main">{main}</div>{side}'


def _context(block: Mapping[str, Any], env: _Env) -> str:
    items: list[str] = []
    for element in _list(block, "elements"):
        kind = _str(element, "type")
        if kind == "image":
            url = _safe_url(_str(element, "image_url"), _WEB)
            alt = _str(element, "alt_text") or ""
            items.append(
                f'<img class="sk-context-image"{_attr("src", url)}{_attr("alt", alt)}>'
                if url
                else f'<span class="sk-context-item">{_esc(alt)}</span>'
            )
        elif kind in ("mrkdwn", "plain_text"):
            items.append(f'<div class="sk-context-item">{text_to_html(element, env.ctx)}</div>')
        else:
            items.append(_unsupported("element", kind))
    return "".join(items)


def _divider(block: Mapping[str, Any], env: _Env) -> str:
    return '<hr class="sk-divider">'


def _image(block: Mapping[str, Any], env: _Env) -> str:
    title = block.get("title")
    head = (
        f'<div class="sk-image-title">{text_to_html(title, env.ctx)}</div>'
        if isinstance(title, Mapping)
        else ""
    )
    return head + _image_element(block, env.slot(0))


def _actions(block: Mapping[str, Any], env: _Env) -> str:
    elements = _list(block, "elements")
    return "".join(_element(element, env.slot(i)) for i, element in enumerate(elements))


def _rich_text(block: Mapping[str, Any], env: _Env) -> str:
    return "".join(_rich_part(part, env.ctx) for part in _list(block, "elements"))


def _input(block: Mapping[str, Any], env: _Env) -> str:
    optional = block.get("optional") is True
    label = text_to_html(block.get("label"), env.ctx)
    mark = ' <span class="sk-optional">(optional)</span>' if optional else ""
    control = _element(block.get("element"), env.slot(0, required=not optional))
    error = env.errors.get(env.block_id) if env.block_id is not None else None
    hint = block.get("hint")
    return (
        f'<div class="sk-label">{label}{mark}</div>{control}'
        + (f'<div class="sk-error">{_esc(error)}</div>' if isinstance(error, str) else "")
        + (f'<div class="sk-hint">{text_to_html(hint, env.ctx)}</div>' if hint else "")
    )


_BLOCKS: dict[str, Callable[[Mapping[str, Any], _Env], str]] = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "image": _image,
    "actions": _actions,
    "rich_text": _rich_text,
    "input": _input,
}


def blocks_to_html(
    blocks: Sequence[Mapping[str, Any]],
    ctx: RenderContext,
    *,
    errors: Mapping[str, str] | None = None,
) -> str:
    """A message's or view's blocks, each in `<div class="sk-block sk-TYPE">`; `errors` are a
    `response_action: errors` answer, shown under their inputs. Never raises on odd blocks."""
    if not isinstance(blocks, Sequence) or isinstance(blocks, str):
        return '<div class="sk-blocks"></div>'
    out: list[str] = []
    for index, block in enumerate(blocks):
        kind = _str(block, "type")
        block_id = _str(block, "block_id")
        render = _BLOCKS.get(kind or "")
        data = _attr("data-block-id", block_id)
        if render is None or not isinstance(block, Mapping):
            out.append(f'<div class="sk-block"{data}>{_unsupported("block", kind)}</div>')
            continue
        env = _Env(ctx, block_id, block_id or f"block-{index}", errors or {})
        out.append(f'<div class="sk-block sk-{kind}"{data}>{render(block, env)}</div>')
    return f'<div class="sk-blocks">{"".join(out)}</div>'


BLOCKKIT_CSS = """\
.sk-blocks, .sk-mrkdwn {
  font-family: Lato, "Helvetica Neue", Helvetica, Arial, sans-serif;
  font-size: 15px; line-height: 1.46668; color: #1d1c1d; overflow-wrap: anywhere;
}
.sk-block { margin: 4px 0; }
.sk-blocks b, .sk-mrkdwn b { font-weight: 700; }
.sk-blocks a, .sk-mrkdwn a { color: #1264a3; text-decoration: none; }
.sk-blocks a:hover, .sk-mrkdwn a:hover { text-decoration: underline; }
.sk-blocks code, .sk-mrkdwn code {
  font-family: Monaco, Menlo, Consolas, "Courier New", monospace; font-size: 12px;
  color: #c01343; background: #f7f7f9; border: 1px solid #e1e1e8; border-radius: 3px;
  padding: 1px 3px;
}
.sk-blocks pre, .sk-mrkdwn pre {
  font-family: Monaco, Menlo, Consolas, "Courier New", monospace; font-size: 12px;
  line-height: 1.5; white-space: pre-wrap; margin: 4px 0; padding: 8px;
  background: #f8f8f8; border: 1px solid #e1e1e8; border-radius: 4px;
}
.sk-blocks blockquote, .sk-mrkdwn blockquote {
  margin: 4px 0; padding-left: 12px; border-left: 4px solid #dddddd;
}
.sk-mention, .sk-channel, .sk-usergroup {
  color: #1264a3; background: rgba(29, 155, 209, 0.1); border-radius: 3px; padding: 0 2px;
}
.sk-broadcast {
  color: #1d1c1d; background: rgba(242, 199, 68, 0.4); border-radius: 3px; padding: 0 2px;
}
.sk-header { font-size: 18px; font-weight: 900; line-height: 1.33; margin: 8px 0 4px; }
.sk-section { display: flex; align-items: flex-start; gap: 12px; }
.sk-section-main { flex: 1 1 auto; min-width: 0; }
.sk-accessory { flex: 0 0 auto; }
.sk-fields { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px 16px; }
.sk-text + .sk-fields { margin-top: 8px; }
.sk-context {
  display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px;
  font-size: 12px; line-height: 1.5; color: #616061;
}
.sk-context-image { width: 20px; height: 20px; border-radius: 4px; object-fit: cover; }
.sk-divider { border: 0; border-top: 1px solid #dddddd; margin: 12px 0; }
.sk-image-title { font-size: 13px; color: #616061; margin-bottom: 4px; }
.sk-image .sk-element-image { max-width: 100%; max-height: 360px; border-radius: 8px; }
.sk-accessory .sk-element-image {
  width: 88px; height: 88px; border-radius: 6px; object-fit: cover;
}
.sk-image-missing { color: #616061; font-style: italic; }
.sk-actions { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.sk-button {
  display: inline-flex; align-items: center; justify-content: center; box-sizing: border-box;
  height: 28px; padding: 0 12px; font: inherit; font-size: 13px; font-weight: 700;
  color: #1d1c1d; background: #ffffff; border: 1px solid rgba(29, 28, 29, 0.3);
  border-radius: 4px; cursor: pointer; text-decoration: none; white-space: nowrap;
}
.sk-button:hover { background: #f8f8f8; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.08); }
.sk-button.sk-primary { color: #ffffff; background: #007a5a; border-color: #007a5a; }
.sk-button.sk-primary:hover { background: #148567; }
.sk-button.sk-danger { color: #e01e5a; }
.sk-button.sk-danger:hover { color: #ffffff; background: #e01e5a; border-color: #e01e5a; }
.sk-select {
  height: 28px; padding: 0 8px; font: inherit; font-size: 13px; color: #1d1c1d;
  background: #ffffff; border: 1px solid rgba(29, 28, 29, 0.3); border-radius: 4px;
}
.sk-select[multiple] { height: auto; }
.sk-overflow { width: 52px; padding: 0 6px; font-weight: 700; }
.sk-input .sk-select { height: 36px; width: 100%; }
.sk-label { font-weight: 700; margin-bottom: 4px; }
.sk-optional { font-weight: 400; color: #616061; }
.sk-control {
  box-sizing: border-box; width: 100%; padding: 8px 12px; font: inherit; color: #1d1c1d;
  border: 1px solid rgba(29, 28, 29, 0.3); border-radius: 4px; background: #ffffff;
}
.sk-control:focus, .sk-select:focus {
  outline: none; border-color: #1264a3; box-shadow: 0 0 0 1px #1264a3;
}
.sk-textarea { min-height: 88px; resize: vertical; }
.sk-hint { font-size: 13px; color: #616061; margin-top: 4px; }
.sk-error { font-size: 13px; color: #e01e5a; margin-top: 4px; }
.sk-input:has(.sk-error) .sk-control { border-color: #e01e5a; }
.sk-choices { display: flex; flex-direction: column; gap: 6px; }
.sk-option { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 8px; cursor: pointer; }
.sk-option-description { flex-basis: 100%; padding-left: 24px; font-size: 13px; color: #616061; }
.sk-rt-section { min-height: 1em; }
.sk-rt-list { margin: 0; padding-left: 24px; }
.sk-rt-indent-1 { margin-left: 24px; }
.sk-rt-indent-2 { margin-left: 48px; }
.sk-rt-indent-3 { margin-left: 72px; }
.sk-rt-indent-4, .sk-rt-indent-5, .sk-rt-indent-6 { margin-left: 96px; }
.sk-unsupported {
  display: inline-block; padding: 2px 8px; font-size: 12px; color: #616061;
  border: 1px dashed #dddddd; border-radius: 4px;
}
"""
