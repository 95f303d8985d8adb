"""Block Kit and mrkdwn as HTML for the sandbox: Slack's look, and nothing a customer wrote can
become markup, a link or a broadcast."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render.blocks import build_article_message, build_ticket_card, build_ticket_list
from bot.render.forms import (
    MINUTES_BLOCK,
    OPTIONS_BLOCK,
    TEXT_BLOCK,
    build_close_modal,
    build_note_modal,
    build_reply_modal,
)
from bot.render.home import build_home_view
from bot.sandbox.blockkit_html import (
    BLOCKKIT_CSS,
    EMOJI,
    RenderContext,
    blocks_to_html,
    mrkdwn_to_html,
    plain_text_to_html,
    text_to_html,
)
from bot.slack import ids
from models.priority import Priority
from models.store.article import Article, ArticleKind
from models.store.ticket import Ticket, TicketState
from models.views import TicketSummary

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
CTX = RenderContext(
    users={"U0ALICE001": "Alice Agent", "U0EVIL0001": "<b>Mallory</b>"},
    channels={"C0SUPPORT1": "support"},
    now=NOW,
)
BOT = Path(ids.__file__).parents[1]  # bot/
ATTACK = '"><img src=x onerror=alert(1)>'
VOID = {"br", "hr", "img", "input", "meta", "link", "wbr"}
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class _Checker(HTMLParser):
    """Parses the output like a browser would and records what matters for safety."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style", "iframe", "object", "embed", "form"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"attribute {name}")
            if name in ("href", "src") and not (value or "").lower().startswith(SAFE_SCHEMES):
                self.problems.append(f"{name}={value}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> while open: {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check(out: str) -> _Checker:
    """Well-formed (every tag closed in order), no script, no handlers, only safe URLs."""
    checker = _Checker()
    checker.feed(out)
    checker.close()
    assert checker.problems == [], out[:2000]
    assert checker.stack == [], out[:2000]
    return checker


def visible(out: str) -> str:
    return "".join(check(out).text)


def tags(out: str, name: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in check(out).tags if tag == name]


def md(text: str) -> str:
    out = mrkdwn_to_html(text, CTX)
    check(out)
    return out


def render(blocks: list[Any], errors: Mapping[str, str] | None = None) -> str:
    out = blocks_to_html(blocks, CTX, errors=errors)
    check(out)
    return out


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": emoji}


# --- mrkdwn ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("*bold*", "<b>bold</b>"),
        ("_italic_", "<i>italic</i>"),
        ("~strike~", "<s>strike</s>"),
        ("`code`", "<code>code</code>"),
        ("a *b* c _d_ e", "a <b>b</b> c <i>d</i> e"),
        ("*bold _and italic_*", "<b>bold <i>and italic</i></b>"),
        ("(*bold*).", "(<b>bold</b>)."),
        ("*two words*", "<b>two words</b>"),
        ("*unclosed", "*unclosed"),
        ("* not bold*", "* not bold*"),
        ("*not bold *", "*not bold *"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("snake_case_name", "snake_case_name"),
        ("a*b*c", "a*b*c"),
        ("*across\nlines*", "*across<br>lines*"),
        ("`*not bold* _nor italic_`", "<code>*not bold* _nor italic_</code>"),
        ("`:tada:`", "<code>:tada:</code>"),
        ("```\nline *1*\nline 2\n```", "<pre>line *1*\nline 2</pre>"),
        ("before\n```code```\nafter", "before<pre>code</pre>after"),
        ("```unclosed", "```unclosed"),
        ("one\ntwo\n\nthree", "one<br>two<br><br>three"),
        ("&gt; quoted\n&gt; still\nnot", "<blockquote>quoted<br>still</blockquote>not"),
        ("&gt; *bold* quote", "<blockquote><b>bold</b> quote</blockquote>"),
        ("a &gt; b", "a &gt; b"),
        ("&gt;no space", "&gt;no space"),
        ("> raw", "&gt; raw"),
        ("x\n&gt; q\n```\n&gt; in pre\n```", "x<blockquote>q</blockquote><pre>&gt; in pre</pre>"),
        ("```c```&gt; not a quote", "<pre>c</pre>&gt; not a quote"),
        ("fish &amp; chips", "fish &amp; chips"),
        ("&amp;lt;b&amp;gt;", "&amp;lt;b&amp;gt;"),
        (":white_check_mark: done", "✅ done"),
        (":+1::tada:", "👍🎉"),
        (":no_such_emoji: :white_check_mark", ":no_such_emoji: :white_check_mark"),
        ("at 12:30:45", "at 12:30:45"),
        ("", ""),
    ],
)
def test_mrkdwn_formatting(text: str, expected: str) -> None:
    assert md(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U0ALICE001>", '<span class="sk-mention">@Alice Agent</span>'),
        ("<@U0ALICE001|alice>", '<span class="sk-mention">@Alice Agent</span>'),
        ("<@U0NOBODY01>", '<span class="sk-mention">@U0NOBODY01</span>'),
        ("<@U0NOBODY01|bob>", '<span class="sk-mention">@bob</span>'),
        ("<@U0EVIL0001>", '<span class="sk-mention">@&lt;b&gt;Mallory&lt;/b&gt;</span>'),
        ("<#C0SUPPORT1>", '<span class="sk-channel">#support</span>'),
        ("<#C0OTHER001|general>", '<span class="sk-channel">#general</span>'),
        ("<#C0OTHER001>", '<span class="sk-channel">#C0OTHER001</span>'),
        ("<!here>", '<span class="sk-broadcast">@here</span>'),
        ("<!channel>", '<span class="sk-broadcast">@channel</span>'),
        ("<!everyone>", '<span class="sk-broadcast">@everyone</span>'),
        ("<!here|here>", '<span class="sk-broadcast">@here</span>'),
        ("<!subteam^S0TEAM0001>", '<span class="sk-usergroup">@group</span>'),
        ("<!subteam^S0TEAM0001|@oncall>", '<span class="sk-usergroup">@oncall</span>'),
        ("*<@U0ALICE001>*", '<b><span class="sk-mention">@Alice Agent</span></b>'),
        ("<@>", "&lt;@&gt;"),
        ("<@U1 x>", "&lt;@U1 x&gt;"),
        ("<!nonsense>", "&lt;!nonsense&gt;"),
        ("<@U0ALICE001", "&lt;@U0ALICE001"),
        ("a < b", "a &lt; b"),
        ("<<@U0ALICE001>", '&lt;<span class="sk-mention">@Alice Agent</span>'),
        ("<@U0ALICE001\n>", "&lt;@U0ALICE001<br>&gt;"),
        ("<@U0ALICE001\n&gt; x>", "&lt;@U0ALICE001<blockquote>x&gt;</blockquote>"),
    ],
)
def test_mrkdwn_mentions(text: str, expected: str) -> None:
    assert md(text) == expected


def link(href: str, label: str) -> str:
    return f'<a href="{href}" rel="noopener noreferrer" target="_blank">{label}</a>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<https://example.com|Example>", link("https://example.com", "Example")),
        ("<https://example.com>", link("https://example.com", "https://example.com")),
        ("<http://example.com/a_b_c|x>", link("http://example.com/a_b_c", "x")),
        ("<HTTPS://EXAMPLE.COM|up>", link("HTTPS://EXAMPLE.COM", "up")),
        ("<mailto:a@example.com|Mail us>", link("mailto:a@example.com", "Mail us")),
        ("<mailto:a@example.com>", link("mailto:a@example.com", "a@example.com")),
        ("<https://x.t/?a=1&amp;b=2|A &amp; B>", link("https://x.t/?a=1&amp;b=2", "A &amp; B")),
        ('<https://x.t/"onclick="f()|q>', link("https://x.t/&quot;onclick=&quot;f()", "q")),
        ("<https://x.t|&lt;b&gt;hi&lt;/b&gt;>", link("https://x.t", "&lt;b&gt;hi&lt;/b&gt;")),
        ("*<https://x.test|bold link>*", "<b>" + link("https://x.test", "bold link") + "</b>"),
    ],
)  # fmt: skip
def test_mrkdwn_links(text: str, expected: str) -> None:
    assert md(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "<javascript:alert(1)|click>",
        "<JavaScript:alert(1)>",
        "<data:text/html,<script>alert(1)</script>|click>",
        "<data:text/html;base64,PHNjcmlwdD4=|click>",
        "<vbscript:msgbox|click>",
        "<file:///etc/passwd|click>",
        "< javascript:alert(1)|click>",
        "<java\tscript:alert(1)|click>",
        "<//evil.example|click>",
        "<evil.example|click>",
    ],
)
def test_mrkdwn_other_schemes_are_never_links(text: str) -> None:
    out = md(text)
    assert "<a" not in out
    assert "href" not in out


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<script>alert(1)</script>",
        ),
        ("&lt;!channel&gt; &lt;!here&gt;", "<!channel> <!here>"),
        ("&lt;@U0ALICE001&gt;", "<@U0ALICE001>"),
        ("&lt;https://evil.example|click&gt;", "<https://evil.example|click>"),
        ("&lt;img src=x onerror=alert(1)&gt;", "<img src=x onerror=alert(1)>"),
        ("&amp;lt;script&amp;gt;", "&lt;script&gt;"),
        ("\"quoted\" 'single'", "\"quoted\" 'single'"),
        ("&gt; &lt;b&gt;quote&lt;/b&gt;", "<b>quote</b>"),
        ("`&lt;script&gt;`", "<script>"),
        ("```&lt;/pre&gt;&lt;script&gt;```", "</pre><script>"),
        ("<javascript:alert(1)|click>", "<javascript:alert(1)|click>"),
        ("<!date^bad^{ago}|&lt;script&gt;>", "<script>"),
    ],
)
def test_customer_text_stays_text(text: str, shown: str) -> None:
    """What the bot escaped for Slack is decoded once and escaped again: seen, never run."""
    out = md(text)
    assert visible(out) == shown
    assert tags(out, "a") == []
    assert "sk-broadcast" not in out
    assert "sk-mention" not in out
    assert "<script" not in out


def test_script_tag_comes_out_as_escaped_text() -> None:
    assert md("&lt;script&gt;alert(1)&lt;/script&gt;") == ("&lt;script&gt;alert(1)&lt;/script&gt;")


# --- dates -----------------------------------------------------------------------------------


def date(epoch: float, fmt: str, rest: str = "|fallback") -> str:
    return md(f"<!date^{int(epoch)}^{fmt}{rest}>")


@pytest.mark.parametrize(
    ("seconds_before", "expected"),
    [
        (0, "just now"),
        (59, "just now"),
        (60, "1 minute ago"),
        (5 * 60 + 30, "5 minutes ago"),
        (3 * 3600 + 59, "3 hours ago"),
        (86400, "1 day ago"),
        (2 * 86400 + 3600, "2 days ago"),
        (65 * 86400, "2 months ago"),
        (800 * 86400, "2 years ago"),
        (-5 * 60, "in 5 minutes"),
        (-3 * 86400, "in 3 days"),
    ],
)
def test_date_ago_is_relative_to_the_context_clock(seconds_before: int, expected: str) -> None:
    moment = NOW - seconds_before
    iso = datetime.fromtimestamp(moment, UTC).isoformat()
    assert date(moment, "{ago}") == f'<time class="sk-date" datetime="{iso}">{expected}</time>'


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


MOMENT = utc(2026, 11, 23, 18, 5, 9)  # a Monday, two days before NOW


@pytest.mark.parametrize(
    ("epoch", "fmt", "expected"),
    [
        (MOMENT, "{date_num}", "2026-11-23"),
        (MOMENT, "{date}", "November 23rd, 2026"),
        (MOMENT, "{date_short}", "Nov 23, 2026"),
        (MOMENT, "{date_long}", "Monday, November 23rd, 2026"),
        (MOMENT, "{date_pretty}", "November 23rd, 2026"),
        (MOMENT, "{date_short_pretty}", "Nov 23, 2026"),
        (MOMENT, "{time}", "6:05 PM"),
        (MOMENT, "{time_secs}", "6:05:09 PM"),
        (MOMENT, "on {date_num} at {time}", "on 2026-11-23 at 6:05 PM"),
        (MOMENT, "{unknown}", "{unknown}"),
        (NOW, "{date_pretty}", "today"),
        (NOW - 86400, "{date_short_pretty}", "yesterday"),
        (NOW + 86400, "{date_long_pretty}", "tomorrow"),
        (utc(2026, 1, 1, 0, 0), "{date} {time}", "January 1st, 2026 12:00 AM"),
        (utc(2026, 3, 12, 12, 0), "{date}", "March 12th, 2026"),
        (utc(2026, 3, 22, 12, 0), "{date}", "March 22nd, 2026"),
    ],
)  # fmt: skip
def test_date_formats_in_utc(epoch: float, fmt: str, expected: str) -> None:
    assert visible(date(epoch, fmt)) == expected


def test_date_with_a_link_and_the_bots_own_stamp() -> None:
    out = date(MOMENT, "{date_num}", "^https://example.com/t|fb")
    assert out.startswith('<a href="https://example.com/t" rel="noopener noreferrer"')
    assert '<time class="sk-date" datetime="2026-11-23T18:05:09+00:00">2026-11-23</time>' in out
    unsafe = date(MOMENT, "{date_num}", "^javascript:alert(1)|fb")
    assert unsafe.startswith("<time") and "href" not in unsafe
    home = md(f"Updated <!date^{int(NOW)}^{{date_short_pretty}} {{time}}|2026-11-25 12:00> · x")
    assert visible(home) == "Updated today 12:00 PM · x"


@pytest.mark.parametrize(
    "text",
    [
        "<!date^notanumber^{ago}|the fallback>",
        "<!date^1700000000|the fallback>",
        "<!date^99999999999999^{ago}|the fallback>",
        "<!date^-99999999999999^{ago}|the fallback>",
        "<!date^1e9^{ago}|the fallback>",
        "<!date^" + "9" * 5000 + "^{ago}|the fallback>",
        "<!date|the fallback>",
    ],
)
def test_malformed_date_shows_the_fallback(text: str) -> None:
    assert md(text) == "the fallback"


# --- emoji and plain text --------------------------------------------------------------------

REQUIRED_EMOJI = (
    "white_check_mark", "warning", "memo", "lock", "unlock", "envelope_with_arrow", "outbox_tray",
    "hourglass_flowing_sand", "new", "arrows_counterclockwise", "repeat", "no_entry", "link",
    "paperclip", "bust_in_silhouette", "inbox_tray", "bar_chart", "mag", "raising_hand",
    "heavy_check_mark", "x", "bell", "clock3", "page_facing_up", "speech_balloon", "writing_hand",
    "email", "ticket", "tada", "eyes", "thumbsup", "+1",
    "large_blue_circle", "large_orange_circle", "information_source",
)  # fmt: skip


@pytest.mark.parametrize("name", REQUIRED_EMOJI)
def test_common_emoji_are_characters(name: str) -> None:
    assert EMOJI[name] and not EMOJI[name].isascii()
    assert md(f"x :{name}: y") == f"x {EMOJI[name]} y"


def test_every_emoji_the_bot_uses_is_known() -> None:
    source = "".join(
        path.read_text(encoding="utf-8")
        for folder in ("render", "slack", "delivery")
        for path in (BOT / folder).glob("*.py")
    )
    used = set(re.findall(r":([a-z0-9_+-]+):", source))
    assert used and used <= set(EMOJI)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (plain("<b>not bold</b> & co"), "&lt;b&gt;not bold&lt;/b&gt; &amp; co"),
        (plain("&lt;already&gt;"), "&amp;lt;already&amp;gt;"),
        (plain("*not bold* _nor_ <@U0ALICE001>"), "*not bold* _nor_ &lt;@U0ALICE001&gt;"),
        (plain(":tada: Claim", emoji=True), "🎉 Claim"),
        (plain(":tada: Claim", emoji=False), ":tada: Claim"),
        ({"type": "plain_text", "text": ":tada:"}, "🎉"),
        (plain("two\nlines"), "two<br>lines"),
        ({"type": "plain_text"}, ""),
        ({"type": "plain_text", "text": 5}, "5"),
        ({"type": "plain_text", "text": ["x"]}, ""),
    ],
)
def test_plain_text_is_literal(obj: dict[str, Any], expected: str) -> None:
    out = plain_text_to_html(obj)
    check(out)
    assert out == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (mrkdwn("*b* &lt;x&gt;"), "<b>b</b> &lt;x&gt;"),
        (plain("*b* <x>"), "*b* &lt;x&gt;"),
        ({"text": "no type"}, "no type"),
        ({"type": "mrkdwn", "text": None}, ""),
        ({"type": "mrkdwn"}, ""),
        (None, ""),
        ("a string", ""),
        ([1, 2], ""),
    ],
)
def test_text_to_html_dispatches_on_type(obj: Any, expected: str) -> None:
    assert text_to_html(obj, CTX) == expected


# --- blocks ----------------------------------------------------------------------------------


def test_each_block_is_wrapped_with_its_type_and_id() -> None:
    out = render(
        [
            {"type": "header", "text": plain("Title :tada:"), "block_id": "h1"},
            {"type": "divider"},
            {"type": "section", "text": mrkdwn("*hi*"), "block_id": ATTACK},
        ]
    )
    assert out.startswith('<div class="sk-blocks">')
    assert '<div class="sk-block sk-header" data-block-id="h1">Title 🎉</div>' in out
    assert '<div class="sk-block sk-divider"><hr class="sk-divider"></div>' in out
    assert 'data-block-id="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in out
    assert tags(out, "img") == []


def test_section_fields_and_accessories() -> None:
    out = render(
        [
            {
                "type": "section",
                "text": mrkdwn("Pick"),
                "fields": [mrkdwn("*A*\n1"), plain("B")],
                "accessory": {
                    "type": "static_select",
                    "action_id": "pick",
                    "placeholder": plain("Choose…"),
                    "options": [
                        {"text": plain("One"), "value": "1"},
                        {"text": plain("Two"), "value": "2"},
                    ],
                },
                "block_id": "s1",
            },
            {
                "type": "section",
                "text": mrkdwn("More"),
                "accessory": {
                    "type": "overflow",
                    "action_id": "more",
                    "options": [{"text": plain("Edit"), "value": "edit"}],
                },
            },
            {
                "type": "section",
                "text": mrkdwn("Pic"),
                "accessory": {
                    "type": "image",
                    "image_url": "https://x.test/a.png",
                    "alt_text": "A",
                },
            },
            {
                "type": "section",
                "text": mrkdwn("Go"),
                "accessory": {"type": "button", "text": plain("Go"), "action_id": "go"},
            },
        ]
    )
    assert '<div class="sk-fields"><div class="sk-field"><b>A</b><br>1</div>' in out
    assert '<div class="sk-field">B</div></div>' in out
    [pick, more] = tags(out, "select")
    assert pick["class"] == "sk-select"
    assert pick["data-action-id"] == "pick" and pick["data-block-id"] == "s1"
    assert pick["data-placeholder"] == "Choose…"
    assert '<option value="" disabled selected>Choose…</option>' in out
    assert '<option value="1">One</option><option value="2">Two</option>' in out
    assert more["class"] == "sk-select sk-overflow" and "data-block-id" not in more
    assert '<option value="edit">Edit</option>' in out
    [image] = tags(out, "img")
    assert image["src"] == "https://x.test/a.png" and image["alt"] == "A"
    [button] = tags(out, "button")
    assert button == {"type": "button", "class": "sk-button", "data-action-id": "go"}


def test_buttons_carry_data_attributes_and_styles() -> None:
    out = render(
        [
            {
                "type": "actions",
                "block_id": "row",
                "elements": [
                    {"type": "button", "text": plain("Claim"), "action_id": "c", "value": "7",
                     "style": "primary"},
                    {"type": "button", "text": plain("Close"), "action_id": "x", "value": "7",
                     "style": "danger"},
                    {"type": "button", "text": plain("Plain"), "action_id": "p"},
                    {"type": "button", "text": plain("Docs"), "action_id": "d",
                     "url": "https://docs.example"},
                    {"type": "button", "text": plain("Bad"), "action_id": "b",
                     "url": "javascript:alert(1)"},
                ],
            }
        ]
    )  # fmt: skip
    assert (
        '<button type="button" class="sk-button sk-primary" data-action-id="c" '
        'data-block-id="row" data-value="7">Claim</button>'
    ) in out
    assert 'class="sk-button sk-danger" data-action-id="x"' in out
    [docs] = tags(out, "a")
    assert docs["href"] == "https://docs.example" and docs["class"] == "sk-button"
    assert docs["rel"] == "noopener noreferrer" and docs["target"] == "_blank"
    assert [b["data-action-id"] for b in tags(out, "button")] == ["c", "x", "p", "b"]


def test_attribute_injection_is_escaped() -> None:
    out = render(
        [
            {
                "type": "actions",
                "block_id": ATTACK,
                "elements": [
                    {"type": "button", "text": plain(ATTACK), "action_id": ATTACK, "value": ATTACK,
                     "style": ATTACK, "url": ATTACK},
                    {"type": "static_select", "action_id": ATTACK, "placeholder": plain(ATTACK),
                     "options": [{"text": plain(ATTACK), "value": ATTACK}],
                     "option_groups": [{"label": plain(ATTACK), "options": []}]},
                    {"type": "overflow", "action_id": ATTACK,
                     "options": [{"text": plain(ATTACK), "value": ATTACK}]},
                ],
            },
            {
                "type": "input",
                "block_id": ATTACK,
                "label": plain(ATTACK),
                "element": {"type": "plain_text_input", "action_id": ATTACK,
                            "initial_value": ATTACK, "placeholder": plain(ATTACK)},
            },
            {"type": "image", "image_url": "javascript:alert(1)", "alt_text": ATTACK},
            {"type": "context", "elements": [{"type": "image", "image_url": ATTACK,
                                             "alt_text": ATTACK}]},
            {"type": ATTACK},
        ],
        errors={ATTACK: ATTACK},
    )  # fmt: skip
    checker = check(out)
    assert [tag for tag, _ in checker.tags if tag == "img"] == []
    values = [v for _, attrs in checker.tags for v in attrs.values() if v and "alert" in v]
    assert values and all(v.replace(ATTACK, "") in ("", "/") for v in values)  # form names
    assert ATTACK in "".join(checker.text)
    assert "sk-primary" not in out and "sk-danger" not in out


def test_selects_show_the_initial_option_and_groups() -> None:
    out = render(
        [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "queue",
                        "initial_option": {"text": plain("Billing"), "value": "billing"},
                        "option_groups": [
                            {
                                "label": plain("Teams"),
                                "options": [
                                    {"text": plain("Support"), "value": "support"},
                                    {"text": plain("Billing"), "value": "billing"},
                                ],
                            }
                        ],
                    }
                ],
            }
        ]
    )
    assert (
        '<optgroup label="Teams"><option value="support">Support</option>'
        '<option value="billing" selected>Billing</option></optgroup>'
    ) in out
    assert "disabled selected" not in out


def rich(kind: str, text: str) -> dict[str, Any]:
    return {"type": f"rich_text_{kind}", "elements": [{"type": "text", "text": text}]}


def test_context_divider_image_and_rich_text() -> None:
    out = render(
        [
            {
                "type": "context",
                "elements": [
                    {"type": "image", "image_url": "https://x.test/i.png", "alt_text": "icon"},
                    mrkdwn(":paperclip: *2* files"),
                    plain("plain <i>"),
                ],
            },
            {"type": "image", "image_url": "https://x.test/big.png", "alt_text": "chart",
             "title": plain("Chart")},
            {
                "type": "rich_text",
                "elements": [
                    {"type": "rich_text_section", "elements": [
                        {"type": "text", "text": "Hi <there> ", "style": {"bold": True}},
                        {"type": "user", "user_id": "U0ALICE001"},
                        {"type": "text", "text": " see "},
                        {"type": "link", "url": "https://x.test", "text": "this"},
                        {"type": "link", "url": "javascript:alert(1)", "text": "not this"},
                        {"type": "emoji", "name": "tada"},
                        {"type": "emoji", "name": "custom", "unicode": "1f600"},
                        {"type": "emoji", "name": "lt", "unicode": "3c"},
                        {"type": "channel", "channel_id": "C0SUPPORT1"},
                        {"type": "broadcast", "range": "here"},
                        {"type": "mystery", "text": "<shown>"},
                    ]},
                    {"type": "rich_text_list", "style": "ordered",
                     "elements": [rich("section", "one"), rich("section", "two")]},
                    rich("quote", "q"),
                    rich("preformatted", "a\nb"),
                    {"type": "rich_text_unknown", "text": "as text"},
                ],
            },
        ]
    )  # fmt: skip
    assert '<img class="sk-context-image" src="https://x.test/i.png" alt="icon">' in out
    assert '<div class="sk-context-item">📎 <b>2</b> files</div>' in out
    assert '<div class="sk-context-item">plain &lt;i&gt;</div>' in out
    assert '<div class="sk-image-title">Chart</div>' in out
    assert "<b>Hi &lt;there&gt; </b>" in out
    assert '<span class="sk-mention">@Alice Agent</span>' in out
    assert [a["href"] for a in tags(out, "a")] == ["https://x.test"]
    assert "not this" in out and "🎉😀:lt:" in out
    assert '<span class="sk-channel">#support</span><span class="sk-broadcast">@here</span>' in out
    assert "&lt;shown&gt;" in out
    assert '<ol class="sk-rt-list sk-rt-indent-0"><li>one</li><li>two</li></ol>' in out
    assert "<blockquote>q</blockquote><pre>a\nb</pre>" in out
    assert '<div class="sk-rt-section">as text</div>' in out


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "carousel", "block_id": "b"}],
        [{"type": "video"}],
        [{}],
        [{"type": None}],
        [{"type": 42}],
        ["just a string"],
        [None],
        [42],
        [["nested list"]],
    ],
)
def test_unknown_blocks_say_so(blocks: list[Any]) -> None:
    out = render(blocks)
    assert '<div class="sk-unsupported">unsupported block: ' in out


def test_unknown_block_names_its_type() -> None:
    out = render([{"type": "carousel", "block_id": "b"}])
    assert out == (
        '<div class="sk-blocks"><div class="sk-block" data-block-id="b">'
        '<div class="sk-unsupported">unsupported block: carousel</div></div></div>'
    )
    assert "unsupported element: workflow_button" in render(
        [{"type": "actions", "elements": [{"type": "workflow_button"}]}]
    )


@pytest.mark.parametrize(
    "block",
    [
        {"type": "header"},
        {"type": "header", "text": "not an object"},
        {"type": "header", "text": {"type": "plain_text", "text": None}},
        {"type": "section"},
        {"type": "section", "text": None, "fields": "nope", "accessory": "nope"},
        {"type": "section", "fields": [None, 3, {"type": "mrkdwn"}], "accessory": {}},
        {"type": "section", "text": {"type": "mrkdwn", "text": 42}, "block_id": 7},
        {"type": "context", "elements": None},
        {"type": "context", "elements": [None, {}, {"type": "image"}, {"type": "button"}]},
        {"type": "divider", "block_id": None},
        {"type": "image"},
        {"type": "image", "image_url": 5, "title": "x"},
        {"type": "actions", "elements": {"type": "button"}},
        {"type": "actions", "elements": [None, {"type": "button"}, {"type": "static_select"}]},
        {"type": "actions", "elements": [{"type": "button", "text": None, "style": ["x"]}]},
        {"type": "actions", "elements": [{"type": "static_select", "options": [None, 1, {}]}]},
        {"type": "actions", "elements": [{"type": "static_select", "option_groups": [None, {}]}]},
        {"type": "actions", "elements": [{"type": "overflow", "options": "x"}]},
        {"type": "actions", "elements": [{"type": "checkboxes", "initial_options": "x"}]},
        {"type": "actions", "elements": [{"type": "radio_buttons", "initial_option": 3}]},
        {"type": "rich_text", "elements": [None, {"type": "rich_text_list", "elements": [3]}]},
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{}]}]},
        {"type": "rich_text", "elements": [{"type": "rich_text_list", "indent": "x"}]},
        {"type": "rich_text", "elements": [{"elements": [{"type": "emoji", "unicode": "zz"}]}]},
        {"type": "rich_text", "elements": [{"elements": [{"type": "emoji", "unicode": "d800"}]}]},
        {"type": "rich_text", "elements": [{"elements": [{"type": "date", "timestamp": "x"}]}]},
        {"type": "input"},
        {"type": "input", "element": None, "label": None, "hint": 3, "optional": "yes"},
        {"type": "input", "element": {"type": "plain_text_input", "max_length": "x"}},
        {"type": "input", "element": {"type": "number_input", "min_value": []}},
        {"type": "input", "element": {"type": "datepicker", "initial_date": 20260101}},
    ],
)
def test_malformed_blocks_render_what_they_can(block: Any) -> None:
    render([block])
    render([block], errors={"x": "y"})


def test_blocks_that_are_not_a_list_render_nothing() -> None:
    assert blocks_to_html(None, CTX) == '<div class="sk-blocks"></div>'  # type: ignore[arg-type]
    assert blocks_to_html("text", CTX) == '<div class="sk-blocks"></div>'  # type: ignore[arg-type]
    assert render([]) == '<div class="sk-blocks"></div>'


# --- inputs ----------------------------------------------------------------------------------


def input_block(element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "input", "block_id": "b", "label": plain("L"), "element": element, **extra}


def options(*values: str) -> list[dict[str, Any]]:
    return [{"text": plain(v.title()), "value": v} for v in values]


@pytest.mark.parametrize(
    ("element", "tag", "expected"),
    [
        (
            {"type": "plain_text_input", "action_id": "a", "initial_value": "hello <you>",
             "placeholder": plain("Say"), "max_length": 3000, "min_length": 2},
            "input",
            {"type": "text", "class": "sk-control", "name": "b/a", "data-action-id": "a",
             "data-block-id": "b", "required": None, "placeholder": "Say", "maxlength": "3000",
             "minlength": "2", "value": "hello <you>"},
        ),
        (
            {"type": "email_text_input", "action_id": "a", "initial_value": "a@b.c"},
            "input",
            {"type": "email", "class": "sk-control", "name": "b/a", "data-action-id": "a",
             "data-block-id": "b", "required": None, "value": "a@b.c"},
        ),
        (
            {"type": "url_text_input", "action_id": "a"},
            "input",
            {"type": "url", "class": "sk-control", "name": "b/a", "data-action-id": "a",
             "data-block-id": "b", "required": None},
        ),
        (
            {"type": "number_input", "action_id": "a", "is_decimal_allowed": False,
             "min_value": "0", "max_value": "1440", "initial_value": "15"},
            "input",
            {"type": "number", "step": "1", "class": "sk-control", "name": "b/a",
             "data-action-id": "a", "data-block-id": "b", "required": None, "min": "0",
             "max": "1440", "value": "15"},
        ),
        (
            {"type": "number_input", "action_id": "a", "is_decimal_allowed": True},
            "input",
            {"type": "number", "step": "any", "class": "sk-control", "name": "b/a",
             "data-action-id": "a", "data-block-id": "b", "required": None},
        ),
        (
            {"type": "datepicker", "action_id": "a", "initial_date": "2026-11-25"},
            "input",
            {"type": "date", "class": "sk-control", "name": "b/a", "data-action-id": "a",
             "data-block-id": "b", "required": None, "value": "2026-11-25"},
        ),
        (
            {"type": "static_select", "action_id": "a", "options": options("x", "y"),
             "initial_option": options("y")[0], "placeholder": plain("Pick")},
            "select",
            {"class": "sk-select", "name": "b/a", "data-action-id": "a", "data-block-id": "b",
             "required": None, "data-placeholder": "Pick"},
        ),
    ],
)  # fmt: skip
def test_input_controls_have_names_and_initial_values(
    element: dict[str, Any], tag: str, expected: dict[str, str | None]
) -> None:
    [control] = tags(render([input_block(element)]), tag)
    assert control == expected


def test_multiline_input_is_a_textarea_with_its_initial_value() -> None:
    out = render(
        [
            input_block(
                {"type": "plain_text_input", "action_id": "a", "multiline": True,
                 "initial_value": "line 1\n</textarea><script>x</script>"},
                optional=True,
            )
        ]
    )  # fmt: skip
    assert (
        '<textarea class="sk-control sk-textarea" name="b/a" data-action-id="a" '
        'data-block-id="b">line 1\n&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;</textarea>'
    ) in out
    assert '<div class="sk-label">L <span class="sk-optional">(optional)</span></div>' in out
    assert "required" not in out


def test_checkboxes_and_radio_buttons() -> None:
    out = render(
        [
            input_block(
                {
                    "type": "checkboxes",
                    "action_id": "c",
                    "options": [
                        {"text": mrkdwn("*Close*"), "value": "close",
                         "description": plain("after sending")},
                        {"text": plain("Notify"), "value": "notify"},
                    ],
                    "initial_options": [{"text": plain("Notify"), "value": "notify"}],
                },
                optional=True,
            ),
            {**input_block({"type": "radio_buttons", "action_id": "r", "options": options("a", "b"),
                            "initial_option": options("a")[0]}), "block_id": "r"},
        ]
    )  # fmt: skip
    boxes = tags(out, "input")
    assert [(b["type"], b["name"], b["value"], "checked" in b) for b in boxes] == [
        ("checkbox", "b/c", "close", False),
        ("checkbox", "b/c", "notify", True),
        ("radio", "r/r", "a", True),
        ("radio", "r/r", "b", False),
    ]
    assert '<span class="sk-option-text"><b>Close</b></span>' in out
    assert '<span class="sk-option-description">after sending</span>' in out


def test_input_names_fall_back_when_ids_are_missing() -> None:
    out = render(
        [
            {"type": "input", "label": plain("L"), "element": {"type": "plain_text_input"}},
            {"type": "actions", "elements": [{"type": "datepicker", "action_id": "d"}]},
        ]
    )
    assert [i["name"] for i in tags(out, "input")] == ["block-0/action-0", "block-1/d"]
    assert "data-block-id" not in out


def test_errors_are_shown_under_their_input() -> None:
    view = build_reply_modal(summary(), "Ticket#")
    out = render(view["blocks"], errors={MINUTES_BLOCK: "Enter whole minutes, like 15."})
    minutes = out.index(f'data-block-id="{MINUTES_BLOCK}"')
    error = out.index('<div class="sk-error">Enter whole minutes, like 15.</div>')
    assert error > minutes and out.count("sk-error") == 1
    assert out.index('name="minutes/value"') < error
    out = render(view["blocks"], errors={TEXT_BLOCK: "At most 3000 <characters>"})
    text_block = out.index(f'data-block-id="{TEXT_BLOCK}"')
    error = out.index('<div class="sk-error">At most 3000 &lt;characters&gt;</div>')
    assert text_block < error < out.index(f'data-block-id="{OPTIONS_BLOCK}"')


# --- what the bot really sends ---------------------------------------------------------------


def summary(**overrides: Any) -> TicketSummary:
    values: dict[str, Any] = {
        "id": 7,
        "number": "2026112510000017",
        "queue": "Support",
        "subject": "Printer on fire",
        "customer_name": "Alice Customer",
        "customer_email": "alice@example.com",
        "state": TicketState.NEW,
        "owner_id": None,
        "created_at": datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        "excerpt": "It prints blank pages.",
        "attachment_count": 0,
        "slack_channel": "C0SUPPORT1",
        "slack_ts": None,
    }
    values.update(overrides)
    return TicketSummary(**values)


def test_ticket_card_renders_like_slack() -> None:
    card = build_ticket_card(
        summary(owner_id="U0ALICE001", state=TicketState.OPEN, attachment_count=2), "Ticket#"
    )
    out = render(card)
    assert '<div class="sk-block sk-header">Ticket#2026112510000017</div>' in out
    assert "<b>Printer on fire</b>" in out
    assert "<b>Customer</b><br>Alice Customer &lt;alice@example.com&gt;" in out
    assert "<b>State</b><br>🟠 Open" in out
    assert '<b>Owner</b><br><span class="sk-mention">@Alice Agent</span>' in out
    assert (
        '<b>Opened</b><br><time class="sk-date" datetime="2026-11-25T09:30:00+00:00">'
        "2 hours ago</time>"
    ) in out
    assert "📎 2 attachments" in out
    buttons = [b for b in tags(out, "button") if b["data-block-id"] == ids.CARD_ACTIONS_BLOCK]
    assert [b["data-action-id"] for b in buttons] == [ids.RELEASE, ids.REPLY, ids.NOTE, ids.CLOSE]
    assert {b["data-value"] for b in buttons} == {"7"}
    assert buttons[-1]["class"] == "sk-button sk-danger"


def test_the_cards_controls_render_as_selects_and_an_overflow() -> None:
    """Priority (current one chosen), transfer (the other queues), Merge, the overflow."""
    card = build_ticket_card(summary(priority=Priority.HIGH), "Ticket#", ["Support", "Billing"])
    out = render(card)
    selects = tags(out, "select")
    assert [s.get("data-action-id") for s in selects] == [
        ids.PRIORITY,
        ids.TRANSFER,
        ids.CUSTOMER_HISTORY,
    ]
    assert '<option value="7:high" selected>High</option>' in out
    assert '<option value="7:Billing">Billing</option>' in out
    assert '<option value="7:Support">' not in out
    [merge] = [b for b in tags(out, "button") if b["data-action-id"] == ids.MERGE]
    assert merge["data-block-id"] == ids.CARD_CONTROLS_BLOCK
    assert "<b>Priority</b><br>🔶 High" in out


def test_unclaimed_card_has_a_primary_claim_button() -> None:
    out = render(build_ticket_card(summary(), "Ticket#"))
    [claim, *_] = tags(out, "button")
    assert claim["class"] == "sk-button sk-primary" and claim["data-action-id"] == ids.CLAIM
    assert "<i>unclaimed</i>" in out


def test_hostile_ticket_renders_as_text() -> None:
    hostile = "<!channel> <@U0ALICE001> <https://evil.example|bank> <script>x</script> & *b*"
    card = build_ticket_card(
        summary(subject=hostile, customer_name=hostile, excerpt=hostile, queue=hostile),
        "Ticket#",
    )
    out = render(card)
    assert "sk-broadcast" not in out
    assert tags(out, "a") == []
    assert "<script" not in out
    assert "&lt;!channel&gt; &lt;@U0ALICE001&gt;" in out
    assert out.count("sk-mention") == 0


@pytest.mark.parametrize("builder", [build_reply_modal, build_note_modal, build_close_modal])
def test_modals_render_with_their_inputs(builder: Any) -> None:
    view = builder(summary(subject="<!here> help"), "Ticket#")
    out = render(view["blocks"])
    names = [attrs.get("name") for tag, attrs in check(out).tags if tag in ("textarea", "input")]
    assert f"{TEXT_BLOCK}/value" in names and f"{MINUTES_BLOCK}/value" in names
    assert "sk-broadcast" not in out and "&lt;!here&gt; help" in out
    [textarea] = tags(out, "textarea")
    assert textarea["maxlength"] == "3000"
    assert ("required" in textarea) == (builder is not build_close_modal)


def test_reply_modal_shows_recipient_hint_and_options() -> None:
    out = render(build_reply_modal(summary(), "Ticket#")["blocks"])
    assert "<b>To:</b> alice@example.com" in out
    assert '<div class="sk-hint">Sent by email to the address above.' in out
    assert 'name="options/value" value="close_after"' in out
    assert '<input type="number" step="1"' in out and 'min="0" max="1440"' in out


def test_other_bot_views_render_without_unsupported_parts() -> None:
    article = Article(
        kind=ArticleKind.EMAIL_IN,
        author="alice@example.com",
        author_name="Alice <boss>",
        body="Hello\n> quoted\n```code```",
    )
    _, article_blocks = build_article_message(article)
    ticket = Ticket(number="2026112510000017", subject="Hi *there*", state=TicketState.PENDING)
    home = build_home_view(
        [ticket], [], {}, hook="Ticket#", command="/ticket", now=datetime.fromtimestamp(NOW, UTC)
    )
    for blocks in (article_blocks, build_ticket_list("Mine", [ticket], "Ticket#"), home["blocks"]):
        out = render(blocks)
        assert "sk-unsupported" not in out
    out = render(article_blocks)
    assert "📩 <b>Alice &lt;boss&gt;</b> wrote" in out
    assert "<blockquote>quoted</blockquote><pre>code</pre>" in out


# --- robustness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "*_~`" * 50_000,
        "<" * 200_000,
        "<@" * 100_000,
        "<" * 100_000 + ">" * 100_000,
        "<!date^" * 30_000,
        ":" * 200_000,
        ":tada" * 40_000,
        "```" * 66_666,
        "&gt; " * 40_000,
        "&gt; *\n" * 28_600,
        "*a " * 66_666,
        "*_" * 50_000 + "x" + "_*" * 50_000,
        "`" + "*" * 199_998 + "`",
        "a_" * 100_000,
        "<https://x|" + "*" * 199_990 + ">",
    ],
    ids=lambda text: repr(text[:12]),
)
def test_adversarial_mrkdwn_is_linear_and_well_formed(text: str) -> None:
    assert len(text) >= 199_990
    out = mrkdwn_to_html(text, CTX)
    check(out)
    assert out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*a _b ~c `d` c~ b_ a*", "<b>a <i>b <s>c <code>d</code> c</s> b</i> a</b>"),
        ("*a *b* c*", "<b>a *b</b> c*"),  # the nearest closer wins, so spans never nest deeper
        ("*a _b* c_", "<b>a _b</b> c_"),  # than the four markers: no recursion to exhaust
        ("*_*_*_*_x_*_*_*_*", "<b>_</b><i>*</i><b><i>x</i></b><i>*</i><b>_</b>"),
    ],
)
def test_spans_nest_and_close_in_order(text: str, expected: str) -> None:
    assert md(text) == expected


WORDS = st.sampled_from(
    ["*", "_", "~", "`", "```", "<", ">", "|", "@", "#", "!", "^", ":", "\n", " ", "a", "b1",
     "&gt; ", "&lt;", "&amp;", "<@U0ALICE001>", "<#C0SUPPORT1|x>", "<!here>", "<https://x|y>",
     "<javascript:x|y>", ":tada:", "{ago}", "<!date^1700000000^{ago}|f>", "\"", "'", "é", "🎉"]
)  # fmt: skip


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(WORDS, max_size=40).map("".join))
def test_any_mrkdwn_renders_well_formed(text: str) -> None:
    out = mrkdwn_to_html(text, CTX)
    check(out)
    assert "<script" not in out


TYPES = st.sampled_from(
    ["header", "section", "context", "divider", "image", "actions", "rich_text", "input",
     "mrkdwn", "plain_text", "button", "static_select", "multi_static_select", "overflow",
     "plain_text_input", "number_input", "checkboxes", "radio_buttons", "datepicker",
     "timepicker", "email_text_input", "url_text_input", "users_select", "channels_select",
     "rich_text_section", "rich_text_list", "rich_text_quote", "rich_text_preformatted",
     "text", "link", "user", "channel", "usergroup", "broadcast", "emoji", "date", "bogus"]
)  # fmt: skip
KEYS = (
    "text", "block_id", "action_id", "elements", "element", "fields", "accessory", "options",
    "option_groups", "initial_option", "initial_options", "initial_user", "placeholder", "label",
    "hint", "optional", "value", "url", "style", "image_url", "alt_text", "title", "multiline",
    "initial_value", "max_length", "min_length", "is_decimal_allowed", "min_value", "max_value",
    "initial_date", "emoji", "description", "unicode", "name", "user_id", "range", "timestamp",
    "format", "fallback", "indent",
)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | TYPES
    | st.sampled_from(["primary", "danger", "ordered", "https://x.test", "javascript:x", ATTACK])
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.fixed_dictionaries({"type": TYPES}, optional=dict.fromkeys(KEYS, children))
    ),
    max_leaves=25,
)


@settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(JSON, max_size=5), st.dictionaries(st.text(max_size=3), st.text(max_size=5)))
def test_any_json_renders_without_raising(blocks: list[Any], errors: dict[str, str]) -> None:
    check(blocks_to_html(blocks, CTX, errors=errors))


# --- stylesheet ------------------------------------------------------------------------------


def test_stylesheet_is_scoped_and_slack_like() -> None:
    selectors = re.findall(r"([^{}]+)\{", BLOCKKIT_CSS)
    assert selectors
    for group in selectors:
        for selector in group.split(","):
            assert selector.strip().startswith(".sk-"), selector
    for needle in ("Lato", "15px", "18px", "#007a5a", "#e01e5a", "grid-template-columns"):
        assert needle in BLOCKKIT_CSS
    used = ("mention", "button", "primary", "danger", "context", "fields", "header", "select")
    for css_class in (*used, "error", "hint", "unsupported", "control", "label", "optional"):
        assert f".sk-{css_class}" in BLOCKKIT_CSS
