"""What the search index holds and how a word is compared (pure; shared by both databases).

Language handling, the same on SQLite and PostgreSQL:
- No stemming and no stop words (PostgreSQL's `simple` configuration, SQLite's `unicode61`):
  German and English text lie side by side in one helpdesk, so a word matches only itself
  ("printer" does not find "printers"), case-insensitively.
- Diacritics are folded away, in the indexed text and in the query alike: "Grüße", "grüße",
  "GRÜSSE" and "grusse" are one word, as are "café" and "cafe", "Ørsted" and "Orsted". Letters
  without a decomposition are spelled out (ß → ss, æ → ae, œ → oe, þ → th, ø → o, ł → l, đ → d;
  `SPELLED_OUT`: SQLite's parser allows no longer chain of replace() in one expression).
- German umlauts also have their own spelling: text with ä, ö or ü is indexed a second time
  with ae, oe, ue, so "Gruesse" and "Mueller" find "Grüße" and "Müller"; and a query word
  with an umlaut looks for both spellings, so "Müller" finds a mail signed "Mueller". A query
  "Muller" (neither spelling) finds "Müller" but not "Mueller".

PostgreSQL folds with `ticketbot_fold()`, an IMMUTABLE SQL function: `SPELLED_OUT`, then
`normalize(…, NFD)` with the combining marks removed (no extension: `unaccent` is neither
immutable nor installable everywhere), applied to the indexed text and to the query alike.
SQLite's tokenizer removes diacritics itself (`remove_diacritics 2`, on text and query) and
the triggers and the query spell out the rest with `replace()`. `fold` here is the same for
Python's own comparisons (the highlighted words of a snippet).
"""

from __future__ import annotations

import re
import unicodedata

from models.stream_safe import cap_marks, pg_cap_marks

# Each indexed text (a subject, a mail body, a note) counts up to this many characters.
MAX_INDEXED_CHARS = 100_000

SPELLED_OUT: tuple[tuple[str, str], ...] = (
    ("ß", "ss"),
    ("ẞ", "SS"),
    ("æ", "ae"),
    ("Æ", "AE"),
    ("œ", "oe"),
    ("Œ", "OE"),
    ("þ", "th"),
    ("Þ", "TH"),
    ("ø", "o"),
    ("Ø", "O"),
    ("đ", "d"),
    ("Đ", "D"),
    ("ð", "d"),
    ("Ð", "D"),
    ("ł", "l"),
    ("Ł", "L"),
)
UMLAUTS: tuple[tuple[str, str], ...] = (
    ("ä", "ae"),
    ("ö", "oe"),
    ("ü", "ue"),
    ("Ä", "Ae"),
    ("Ö", "Oe"),
    ("Ü", "Ue"),
)


_MARKS = re.compile("[\u0300-\u036f]")  # combining diacritical marks
_UMLAUT = re.compile("[äöüÄÖÜ]")
_WORD = re.compile(r"\w+")


def spell_out(text: str) -> str:
    """The letters without a decomposition spelled out (what SQLite's triggers do)."""
    for letter, spelled in SPELLED_OUT:
        text = text.replace(letter, spelled)
    return text


def fold(text: str) -> str:
    """Runs of marks cut to 30 (models.stream_safe), letters spelled out, then decomposed
    (NFD) and stripped of combining marks: what `ticketbot_fold()` does in PostgreSQL and
    the FTS5 tokenizer in SQLite. Case is left to the tokenizers."""
    return _MARKS.sub("", unicodedata.normalize("NFD", spell_out(cap_marks(text))))


def has_umlaut(text: str) -> bool:
    return _UMLAUT.search(text) is not None


def german(text: str) -> str:
    """ä → ae, ö → oe, ü → ue (nothing else)."""
    for letter, spelled in UMLAUTS:
        text = text.replace(letter, spelled)
    return text


def german_spelling(text: str) -> str:
    return fold(german(text))


def indexed_text(text: str) -> str:
    """What the index is given for one text: folded, plus its German spelling if it has
    umlauts (`ticketbot_search_text()` in PostgreSQL, the triggers in SQLite)."""
    text = text[:MAX_INDEXED_CHARS]
    if has_umlaut(text):
        return f"{fold(text)} {german_spelling(text)}"
    return fold(text)


def spellings(term: str) -> list[str]:
    """The ways a query term is looked for, unfolded (each database folds it as it folds
    the text): as typed, and with umlauts also the German way."""
    return [term, german(term)] if has_umlaut(term) else [term]


def words(text: str) -> list[str]:
    """Word characters only: what both tokenizers would index of `text` (for matching)."""
    return _WORD.findall(text)


def word_key(word: str) -> str:
    return fold(word).casefold()


# -- the same folding in SQL -------------------------------------------------------------


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def pg_functions_sql() -> list[str]:
    """`ticketbot_fold(text)` and `ticketbot_search_text(text)`: `fold` and `indexed_text`
    in PostgreSQL (a UTF-8 database: `normalize`), IMMUTABLE so they may feed an index."""
    spelled = pg_cap_marks("$1")
    for letter, out in SPELLED_OUT:
        spelled = f"replace({spelled}, {_sql_literal(letter)}, {_sql_literal(out)})"
    german_sql = "$1"
    for letter, out in UMLAUTS:
        german_sql = f"replace({german_sql}, {_sql_literal(letter)}, {_sql_literal(out)})"
    return [
        "CREATE OR REPLACE FUNCTION ticketbot_fold(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT regexp_replace("
        f"normalize({spelled}, NFD), '[\u0300-\u036f]', '', 'g') $$",
        "CREATE OR REPLACE FUNCTION ticketbot_search_text(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT CASE WHEN $1 ~ '[äöüÄÖÜ]' "
        f"THEN ticketbot_fold($1) || ' ' || ticketbot_fold({german_sql}) "
        "ELSE ticketbot_fold($1) END $$",
    ]


def sqlite_indexed_case() -> str:
    """`indexed_text` of a column `x` as an SQLite expression (the tokenizer removes
    diacritics; this spells out the rest and adds the German spelling). SQLite's parser
    allows only so deep an expression: callers name the text `x` in a flat subquery."""
    spelled = "x"
    for letter, out in SPELLED_OUT:
        spelled = f"replace({spelled}, {_sql_literal(letter)}, {_sql_literal(out)})"
    german = spelled
    for letter, out in UMLAUTS:
        german = f"replace({german}, {_sql_literal(letter)}, {_sql_literal(out)})"
    umlaut = " OR ".join(f"instr(x, {_sql_literal(letter)}) > 0" for letter, _ in UMLAUTS)
    return f"CASE WHEN {umlaut} THEN {spelled} || ' ' || {german} ELSE {spelled} END"


def sqlite_indexed_text(expression: str) -> str:
    """`indexed_text` of `expression` as an SQLite scalar subquery."""
    return (
        f"(SELECT {sqlite_indexed_case()} "
        f"FROM (SELECT substr({expression}, 1, {MAX_INDEXED_CHARS}) AS x))"
    )
