"""How mail parsing grows with hostile input: HTML to text, quote trimming, flowed text, TNEF.

    python -m tests.bench.bench_parse [--scale 1.0] [--only WORD]

Each case is built at sizes n, 2n, 4n and 8n and timed (best of 3). Printed per size: the
input size, the time and the ratio to the previous size, which is about 2 for linear
work and 4 for quadratic. The last line is PASS, or FAIL when a case grows clearly
faster than linear (8n more than 8 times 2n - linear is 4, quadratic 16 - once 8n
takes 20 ms or more; n itself is left out of this, it is the warm-up) or takes over
1 s at its largest size. A size that takes over 10 s ends its case (FAIL).
SPEC "Hostile mail": no regex on untrusted text may be worse than linear.
"""

from __future__ import annotations

import argparse
import math
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from mail.flowed import unflow
from mail.html_text import html_to_text
from mail.parse import parse_mail
from mail.quotes import trim_reply
from mail.tnef import unpack_tnef
from tests.support.make_mail import make_mail
from tests.support.tnef import PR_ATTACH_SIZE, PT_LONG, build_tnef, mapi, mapi_property

LIMIT_SECONDS = 1.0
GIVE_UP_SECONDS = 10.0
#: 8n may take at most this many times 2n (linear: 4, quadratic: 16) ...
MAX_GROWTH = 8.0
#: ... once it takes this long; below it, timer noise dominates.
NOISE_SECONDS = 0.02


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    make: Callable[[int], object]
    run: Callable[[object], object]


def _html(name: str, n: int, make: Callable[[int], str]) -> Case:
    return Case(f"html  {name}", n, make, lambda markup: html_to_text(str(markup)))


def _trim(name: str, n: int, make: Callable[[int], str]) -> Case:
    return Case(f"quote {name}", n, make, lambda text: trim_reply(str(text)))


def _parse(name: str, n: int, make: Callable[[int], bytes]) -> Case:
    return Case(f"parse {name}", n, make, lambda raw: parse_mail(bytes(raw)))  # type: ignore[arg-type]


def _tnef(name: str, n: int, make: Callable[[int], bytes]) -> Case:
    return Case(f"tnef  {name}", n, make, lambda data: unpack_tnef(bytes(data)))  # type: ignore[arg-type]


PARAGRAPH = (
    "<div style='font-family:Arial;margin:0'><p class='MsoNormal'>A paragraph of text with"
    " <a href='https://x.example/a?b=1&amp;c=2'>a <b>link</b></a> and more words, enough to"
    " make a realistic line of prose in a customer&#39;s mail.</p></div>\n"
)
NEWSLETTER_ROW = (
    "<tr><td style='padding:8px'><img src='https://t.example/p.gif' width='1' height='1'>"
    "<a href='https://news.example/item?id=42&amp;utm=mail'><span>Item</span> title</a>"
    "</td><td>Some words &nbsp;&middot;&nbsp; more words</td></tr>\n"
)
ATTRIBUTION = "On Mon, 12 Jan 2026 10:00, Alice Example <alice@example.com>\n"
SCHRIEB = "Am 12.01.2026 um 10:00 schrieb am 12.01.2026 um 10:00 " * 9 + "\n"
HINTS = "12.01.2026 10:00 2026 13/01/26 11:30 " * 12 + "\n"
WRAPPED = "On Mon, 12 Jan 2026 at 10:00, Alice Example\n<alice@example.com> said\nnothing\n"
QUOTED_ATTRIBUTIONS = "> On 12 Jan 2026 10:00 Bob wrote\nOn 12 Jan 2026 10:00 Carol\n> x\n"


def _many_attachments(count: int) -> bytes:
    return build_tnef([(f"file{n:05d}.txt", b"hello %d" % n) for n in range(count)])


def _many_mapi_properties(count: int) -> bytes:
    """One attachment whose MAPI block holds `count` small properties (all in bounds)."""
    props = [mapi_property(PT_LONG, PR_ATTACH_SIZE, struct.pack("<I", 5))] * count
    return build_tnef([("a.txt", b"hello")], attachment_mapi=mapi(props))


def _big_plain_mail(n: int) -> bytes:
    return make_mail(body="Hello there, this is a line of text.\n" * n)


def _html_mail(n: int) -> bytes:
    return make_mail(body=None, html=PARAGRAPH * n)


CASES = [
    _html("unclosed <a", 10_000, lambda n: "<a" * n),
    _html("unclosed </", 10_000, lambda n: "</" * n),
    _html("unclosed <!--", 10_000, lambda n: "x<!--" * n),
    _html("unclosed <head", 5_000, lambda n: "<head" * n),
    _html("unclosed <head>", 5_000, lambda n: "<head>" * n),
    _html("unclosed <title>", 5_000, lambda n: "<title>x" * n),
    _html("unclosed <script", 5_000, lambda n: "<script" * n),
    _html("unclosed <style x", 5_000, lambda n: "<style x" * n),
    _html("unclosed <![CDATA[", 5_000, lambda n: "<![CDATA[" * n),
    _html("unclosed <!x</y<?z", 5_000, lambda n: "<!x</y<?z" * n),
    _html("unbalanced quotes", 1_000, lambda n: "<a href=\"x>l</a> <p title='t>p</p>\n" * n),
    _html("open quote per tag", 5_000, lambda n: '<a href="x' * n),
    _html("nested blockquotes", 500, lambda n: "<blockquote><p>deeper</p>" * n),
    _html("nested lists", 500, lambda n: "<ul><li>deeper" * n),
    _html("unclosed <abbr>", 2_000, lambda n: "<abbr>" + "word <b>x</b> " * n),
    _html("bad &# references", 2_000, lambda n: "&#; &#x; &#-1; <p>x</p> &amp &lt\n" * n),
    _html("giant attribute", 100_000, lambda n: '<p>t</p><a href="https://' + "A" * n),
    _html("prose paragraphs", 100, lambda n: PARAGRAPH * n),
    _html("newsletter rows", 400, lambda n: "<table>" + NEWSLETTER_ROW * n + "</table>"),
    _trim("On-lines without wrote", 2_000, lambda n: "Please help.\n\n" + ATTRIBUTION * n),
    _trim("Am ... schrieb am ... lines", 300, lambda n: "Bitte.\n\n" + SCHRIEB * n),
    _trim("date and time hints", 500, lambda n: "Hi.\n\n" + HINTS * n),
    _trim("3-line wrapped attributions", 1_000, lambda n: "Hi.\n\n" + WRAPPED * n),
    _trim("quotes among attributions", 1_000, lambda n: "Hi.\n" + QUOTED_ATTRIBUTIONS * n),
    _trim("long On-lines", 250, lambda n: ("On 2026 " + "x " * 240 + "\n") * n),
    _trim("one long line", 20_000, lambda n: "On 12.01.2026 " + "word " * n + " wrote:"),
    _trim("quote/answer alternating", 5_000, lambda n: "> q\nanswer\n" * n),
    _trim("From: lines", 5_000, lambda n: "From: a\nVon: b\nSent: c\n\n" * n),
    _trim("deep > markers", 25, lambda n: (">" * 5_000 + " old text\n") * n + "New.\n"),
    Case("flow  delsp paragraph", 25_000, lambda n: "ab \n" * n, lambda t: unflow(str(t), True)),
    _parse("plain text mail", 3_000, _big_plain_mail),
    _parse("HTML-only mail", 200, _html_mail),
    _parse(
        "mail with attachment",
        20_000,
        lambda n: make_mail(attachments=[("a.bin", "application/octet-stream", b"\x01" * n)]),
    ),
    _tnef("many attachments", 250, _many_attachments),
    _tnef("many MAPI properties", 5_000, _many_mapi_properties),
]


def _best_of_3(run: Callable[[object], object], value: object) -> float:
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        run(value)
        best = min(best, time.perf_counter() - start)
        if best > GIVE_UP_SECONDS:
            break
    return best


def _size(value: object) -> int:
    return len(value) if isinstance(value, str | bytes) else 0


def bench(case: Case, scale: float) -> bool:
    """Print one case's figures; True when it stays linear and under the limit."""
    base = max(1, int(case.n * scale))
    times: list[float] = []
    print(case.name)
    for factor in (1, 2, 4, 8):
        value = case.make(base * factor)
        seconds = _best_of_3(case.run, value)
        ratio = f"x{seconds / times[-1]:5.1f}" if times and times[-1] > 0 else "      "
        times.append(seconds)
        print(f"    {_size(value):>10,} chars  {seconds * 1000:9.1f} ms  {ratio}")
        if seconds > GIVE_UP_SECONDS:
            print("    too slow: larger sizes skipped")
            return False
    growth = times[-1] / times[1] if times[1] > 0 else 0.0
    superlinear = times[-1] >= NOISE_SECONDS and growth > MAX_GROWTH
    too_slow = times[-1] > LIMIT_SECONDS
    if superlinear or too_slow:
        print(f"    FAIL: 8n/2n = {growth:.1f}, 8n takes {times[-1]:.2f} s")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every n by this")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args(argv)
    failed = [case.name for case in CASES if args.only in case.name and not bench(case, args.scale)]
    print(f"FAIL: {', '.join(failed)}" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
