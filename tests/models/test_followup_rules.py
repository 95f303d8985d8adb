"""Follow-up detection rules (pure, table-driven)."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.followup import find_ticket_number, normalise_subject
from models.numbers import format_number, is_valid_number

VALID = "2026112510000017"
INVALID = "2026112510000018"  # wrong check digit


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (f"Re: [Ticket#{VALID}] Printer", VALID),
        (f"AW: [ticket#{VALID}] Drucker", VALID),
        (f"WG: Fwd: [ Ticket# {VALID} ] x", VALID),
        (f"RE:[TICKET#{VALID}]", VALID),
        (f"[Ticket#{INVALID}] forged or mistyped", None),
        (f"[Ticket#{INVALID}] and [Ticket#{VALID}]", VALID),
        (f"Ticket#{VALID} without brackets", None),
        ("[Ticket#123] too short", None),
        ("", None),
    ],
)
def test_find_ticket_number(subject: str, expected: str | None) -> None:
    assert find_ticket_number(subject, "Ticket#") == expected


def test_another_hook() -> None:
    assert find_ticket_number(f"Re: [Case:{VALID}]", "Case:") == VALID
    assert find_ticket_number(f"Re: [Ticket#{VALID}]", "Case:") is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Printer broken", "Re: printer  BROKEN"),
        ("Printer broken", f"AW: [Ticket#{VALID}] Printer broken"),
        ("Printer broken", "Fwd: Re: WG: Printer broken "),
    ],
)
def test_normalised_subjects_match(a: str, b: str) -> None:
    assert normalise_subject(a, "Ticket#") == normalise_subject(b, "Ticket#")


def test_different_questions_differ() -> None:
    assert normalise_subject("Printer broken", "Ticket#") != normalise_subject(
        "Printer fixed", "Ticket#"
    )


@settings(max_examples=500, deadline=None)
@given(subject=st.text(), hook=st.sampled_from(["Ticket#", "Case:", "T#", "Anfrage-Nr."]))
def test_detection_never_raises_and_only_finds_valid_numbers(subject: str, hook: str) -> None:
    number = find_ticket_number(subject, hook)
    assert number is None or (number in subject and is_valid_number(number))
    normalised = normalise_subject(subject, hook)
    assert normalised == normalised.strip()
    assert find_ticket_number(normalised, hook) is None or number is not None


@settings(max_examples=300, deadline=None)
@given(prefix=st.text(max_size=30), suffix=st.text(max_size=30), counter=st.integers(1, 99999))
def test_a_valid_hook_is_found_wherever_it_stands(prefix: str, suffix: str, counter: int) -> None:
    number = format_number(date(2026, 11, 25), 10, counter)
    found = find_ticket_number(f"{prefix} [Ticket#{number}] {suffix}", "Ticket#")
    # Another valid hook earlier in the text may win; ours is found when alone.
    if find_ticket_number(prefix, "Ticket#") is None:
        assert found == number
