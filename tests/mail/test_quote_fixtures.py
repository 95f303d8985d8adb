"""What of each tests/fixtures/mail/<case>.eml reaches the ticket's Slack thread.

One test per fixture: `trim_reply(parse_mail(raw).text)` against the Slack keys
of expected/<case>.json. Required: "trimmed" (whether anything was cut) and
"slack_text" (a fragment that must stay visible). Optional: "slack_not"
(fragments that must be gone: quoted history, signature, footer),
"slack_equals" (the exact visible text) and "slack_what" (the kinds removed,
as in `TrimmedText.what`). The parse keys are checked by test_parse_fixtures.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mail.parse import parse_mail
from mail.quotes import trim_reply

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
CASES = sorted(path.stem for path in FIXTURES.glob("*.eml"))
REQUIRED = {"trimmed", "slack_text"}


def load(case: str) -> tuple[bytes, dict[str, Any]]:
    raw = (FIXTURES / f"{case}.eml").read_bytes()
    expected = json.loads((FIXTURES / "expected" / f"{case}.json").read_text(encoding="utf-8"))
    return raw, expected


def test_the_set_covers_the_reply_styles_agents_meet() -> None:
    trimmed = {case for case in CASES if load(case)[1].get("trimmed")}
    assert {
        "gmail_reply",
        "gmail_reply_de",
        "outlook_reply_en",
        "outlook_reply_en_signature",
        "outlook_reply_de",
        "apple_mail_reply",
        "apple_mail_reply_nested",
        "inline_reply",
        "gmail_forward_inline",
    } <= trimmed
    assert len(CASES) - len(trimmed) >= 40, "most mail has nothing to trim and must stay whole"


@pytest.mark.parametrize("case", CASES)
def test_slack_text(case: str) -> None:
    raw, expected = load(case)
    assert expected.keys() >= REQUIRED, (
        f"{case}.json lacks {sorted(REQUIRED - expected.keys())}: say what agents see in Slack"
    )
    text = parse_mail(raw).text

    result = trim_reply(text)

    assert result.trimmed is expected["trimmed"], result
    assert expected["slack_text"] in result.visible
    for fragment in expected.get("slack_not", []):
        assert fragment not in result.visible, fragment
    if "slack_equals" in expected:
        assert result.visible == expected["slack_equals"]
    if "slack_what" in expected:
        assert list(result.what) == expected["slack_what"]
    # Invariants for every fixture.
    assert len(result.visible) <= len(text)
    assert result.visible == result.visible.rstrip()
    assert bool(result.what) is result.trimmed
    if not result.trimmed:
        assert result.visible == text.rstrip()
    if text.strip():
        assert result.visible.strip(), "trimming must never leave nothing"
    assert trim_reply(result.visible).visible == result.visible, "trimming twice changes nothing"
