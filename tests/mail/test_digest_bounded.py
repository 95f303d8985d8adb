"""content_digest finds the header block and its fields with regular expressions, not a
Python loop per line; it must digest exactly as the line-by-line definition did, or mail
stored before would no longer be recognised as a duplicate when fetched again."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mail.digest import DIGEST_HEADERS, MAX_DIGEST_FIELDS, content_digest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:(.*)$", re.DOTALL)
_SPACES = re.compile(rb"\s+")


def reference_digest(raw: bytes) -> str:
    """The definition content_digest had before it was made bounded, line by line."""
    data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    fields: list[tuple[bytes, list[bytes]]] = []
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        line = data[position:end]
        if line.startswith((b" ", b"\t")) and fields:
            fields[-1][1].append(line)
        elif position == 0 and line.startswith(b"From "):
            pass
        else:
            match = _FIELD.match(line)
            if match is None:
                break
            fields.append((match.group(1).lower(), [match.group(2)]))
        position = end + 1
    body = data[position:] if position < len(data) else b""
    body = body[1:] if body.startswith(b"\n") else body
    digest = hashlib.sha256()
    for name, lines in fields:
        if name in DIGEST_HEADERS:
            value = b" ".join(lines)
            digest.update(name + b":" + _SPACES.sub(b" ", value).strip() + b"\n")
    digest.update(b"\n")
    digest.update(body.rstrip())
    return digest.hexdigest()


def test_every_fixture_digests_as_before() -> None:
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        assert content_digest(raw) == reference_digest(raw), path.name


PIECES = [
    b"From: a@x\n",
    b"From a@x Mon Jan 1\n",
    b"From :x\n",
    b"To : b@x\r\n",
    b"TO:c@x\r",
    b"Subject: s\n",
    b" folded\n",
    b"\tfolded\n",
    b"   \n",
    b"X-Trace: t\n",
    b"From-X: no\n",
    b"not a field\n",
    b"\n",
    b"\r\n",
    b"body text\n",
    b"References: <a@x>\n <b@x>\n",
    b"Content-Type: text/plain\n",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.binary(max_size=12), max_size=20))
def test_any_mail_digests_as_before(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    assert content_digest(raw) == reference_digest(raw)


def test_past_max_digest_fields_the_rest_is_not_digested() -> None:
    """The bounded part: past MAX_DIGEST_FIELDS author fields the rest is not digested."""
    many = b"To: a@x.example\r\n" * (MAX_DIGEST_FIELDS + 5)
    assert content_digest(many + b"\r\nbody") == content_digest(
        many + b"To: other@x.example\r\n\r\nbody"
    )
    assert content_digest(many + b"\r\nbody") != content_digest(many + b"\r\nother body")
