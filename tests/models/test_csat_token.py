"""The rating links' tokens (pure): what a genuine token says, and that nothing else
passes (a changed byte, another key, another length, another alphabet)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.csat_token import (
    MAX_TOKEN_CHARS,
    TOKEN_CHARS,
    TokenFacts,
    derive_key,
    make_token,
    read_token,
)

KEY = derive_key("a signing secret of the test")
EXPIRES = datetime(2026, 12, 21, 9, 30, tzinfo=UTC)


def test_a_token_is_compact_url_safe_and_says_what_it_was_made_of() -> None:
    token = make_token(KEY, 41, 7, EXPIRES)
    assert len(token) == TOKEN_CHARS <= MAX_TOKEN_CHARS
    assert token.replace("-", "").replace("_", "").isalnum()
    assert read_token(KEY, token) == TokenFacts(41, 7, EXPIRES)


def test_expiry_is_the_moment_written_in_it() -> None:
    facts = read_token(KEY, make_token(KEY, 1, 1, EXPIRES))
    assert facts is not None
    assert not facts.expired(datetime(2026, 12, 21, 9, 29, 59, tzinfo=UTC))
    assert facts.expired(EXPIRES)


def test_another_key_or_a_derived_key_of_another_secret_reads_nothing() -> None:
    token = make_token(KEY, 41, 7, EXPIRES)
    assert read_token(derive_key("another secret"), token) is None
    assert derive_key("x") != b"x" and len(derive_key("x")) == 32


@pytest.mark.parametrize("position", range(36))
def test_every_changed_byte_is_refused(position: int) -> None:
    raw = bytearray(base64.urlsafe_b64decode(make_token(KEY, 41, 7, EXPIRES)))
    raw[position] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    assert read_token(KEY, forged) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a",
        "A" * 47,
        "A" * 49,
        "A" * 10_000,
        "=" * 48,
        "+" * 48,
        "ä" * 48,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\x00",
        "../../../../etc/passwd/AAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_anything_else_is_refused(token: str) -> None:
    assert read_token(KEY, token) is None


@given(st.text(min_size=TOKEN_CHARS, max_size=TOKEN_CHARS))
def test_made_up_tokens_are_refused(token: str) -> None:
    assert read_token(KEY, token) is None


@given(st.integers(1, 2**63 - 1), st.integers(1, 2**63 - 1), st.integers(0, 2**32 - 1))
def test_any_fields_survive_the_round_trip(request_id: int, ticket_id: int, when: int) -> None:
    expires = datetime.fromtimestamp(when, UTC)
    assert read_token(KEY, make_token(KEY, request_id, ticket_id, expires)) == TokenFacts(
        request_id, ticket_id, expires
    )
