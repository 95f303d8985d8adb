"""Recognising a follow-up (pure): the ticket hook in a subject, normalised subjects,
and who has taken part in a ticket's conversation."""

from __future__ import annotations

import re
from collections.abc import Iterable

from models.numbers import hook_pattern, is_valid_number, strip_reply_prefixes

_SPACE = re.compile(r"\s+")


def find_ticket_number(subject: str, hook: str) -> str | None:
    """The first `[Ticket#N]` with a valid check digit; tolerant of prefixes, case, spacing."""
    for match in hook_pattern(hook).finditer(subject):
        if is_valid_number(match.group(1)):
            return match.group(1)
    return None


def normalise_subject(subject: str, hook: str) -> str:
    """What makes two requests "the same question": no Re:/AW:/Fwd:, no hook, case, spacing."""
    without_hook = hook_pattern(hook).sub(" ", subject)
    previous = None
    text = without_hook
    while previous != text:  # "Re: [Ticket#1] AW: x" needs more than one pass
        previous = text
        text = strip_reply_prefixes(text)
    return _SPACE.sub(" ", text).strip().casefold()


def addresses(values: Iterable[str]) -> set[str]:
    return {value.strip().lower() for value in values if value and "@" in value}
