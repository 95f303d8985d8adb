"""Follow-up detection rules (pure, table-driven)."""

import pytest

from models.followup import find_ticket_number, normalise_subject

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
