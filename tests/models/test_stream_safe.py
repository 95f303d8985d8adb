"""Runs of combining marks are cut to 30 before anything normalises a stranger's text."""

from __future__ import annotations

import unicodedata

import pytest

from models.search_text import fold
from models.store.blobs import safe_filename
from models.stream_safe import MAX_NON_STARTERS, cap_marks

# Marks of mixed classes (230, 220, 1, 234): what makes canonical ordering quadratic.
ZALGO = "\u0301\u0316\u0337\u0360"


def longest_mark_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if unicodedata.combining(char) else 0
        longest = max(longest, run)
    return longest


@pytest.mark.parametrize(
    "text",
    [
        "Viele Grüße aus München",
        "Vie\u0302\u0323t Nam",  # Vietnamese, two marks on one letter
        "שָׁלוֹם",  # Hebrew with points
        "مُحَمَّد",  # Arabic with harakat
        "हिन्दी",  # Devanagari virama
        "a" + ZALGO * 7 + "bc",  # 28 marks: within the bound
        "",
    ],
)
def test_text_a_language_writes_is_left_alone(text: str) -> None:
    assert cap_marks(text) == text


def test_each_run_keeps_its_first_thirty_marks() -> None:
    text = "Z" + ZALGO * 25_000 + " printer " + "e" + "\u0316\u0301" * 40 + "!"
    capped = cap_marks(text)
    assert (
        capped == "Z" + (ZALGO * 8)[:MAX_NON_STARTERS] + " printer e" + ("\u0316\u0301" * 15) + "!"
    )
    assert longest_mark_run(capped) == MAX_NON_STARTERS


def test_code_points_unknown_here_count_as_marks() -> None:
    unknown = chr(0x2FFFF)  # a noncharacter: never assigned
    assert unicodedata.category(unknown) == "Cn"
    assert cap_marks("a" + unknown * 40 + "b") == "a" + unknown * 30 + "b"


def test_folding_a_flood_of_marks_keeps_the_words() -> None:
    assert fold("Gru\u0308\u00dfe " + "a" + ZALGO * 25_000 + " Caf\u00e9") == "Grusse a Cafe"


def test_a_file_name_of_marks_is_cut_before_it_is_normalised() -> None:
    name = safe_filename("report" + ZALGO * 100_000 + ".pdf", "application/pdf")
    assert name.endswith(".pdf")
    assert longest_mark_run(name) <= MAX_NON_STARTERS
