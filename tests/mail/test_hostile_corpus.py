"""The hostile corpus is whole, loads, and is exactly what its generator writes.

These tests read the corpus as bytes and never parse a mail: some of them freeze or
kill a Python process that parses them without limits (that is what they are for).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mail.limits import DEFAULT_LIMITS
from tests.support.hostile_corpus import (
    CASES,
    CHECKS,
    CLASSES,
    GZIP_OVER,
    HOSTILE_DIR,
    MANIFEST,
    MAX_MESSAGE_BYTES,
    Expect,
    generate,
    load_corpus,
    load_mail,
    read_manifest,
    tnef_bomb,
)

ENTRIES = read_manifest()
FILES = [entry["file"] for entry in ENTRIES]


def test_manifest_lists_every_file_and_only_those() -> None:
    on_disk = sorted(path.name for path in HOSTILE_DIR.iterdir() if ".eml" in path.name)
    assert len(FILES) == len(set(FILES))
    assert sorted(FILES) == on_disk
    assert {(HOSTILE_DIR / name).is_file() for name in FILES} == {True}


def test_corpus_has_at_least_30_mails() -> None:
    assert len(FILES) >= 30


def test_every_class_is_known_has_mails_and_is_in_the_readme() -> None:
    used = {entry["class"] for entry in ENTRIES}
    assert used == set(CLASSES)
    readme = (HOSTILE_DIR / "README.md").read_text(encoding="utf-8")
    assert [name for name in CLASSES if f"\n| {name} |" not in readme] == []


def test_every_entry_says_what_to_expect_and_what_to_check() -> None:
    for entry in ENTRIES:
        assert set(entry) == {"file", "class", "description", "expect", "checks", "size", "sha256"}
        assert entry["description"].strip(), entry["file"]
        assert entry["expect"] in {expect.value for expect in Expect}, entry["file"]
        assert set(entry["checks"]) <= set(CHECKS), entry["file"]
        assert entry["checks"]["subject_contains"] == f"hostile/{entry['file'].split('.')[0]}"


def test_every_check_is_explained_in_the_readme() -> None:
    readme = (HOSTILE_DIR / "README.md").read_text(encoding="utf-8")
    assert [key for key in CHECKS if f"`{key}`" not in readme] == []


def test_checks_that_name_another_file_name_one_in_the_corpus() -> None:
    named = [
        entry["checks"][key]
        for entry in ENTRIES
        for key in ("not_note_on", "same_message_id_as")
        if key in entry["checks"]
    ]
    assert named
    assert set(named) <= set(FILES)


def test_stubs_are_exactly_the_mails_over_max_message_bytes() -> None:
    assert DEFAULT_LIMITS.max_message_bytes == MAX_MESSAGE_BYTES
    over = {entry["file"] for entry in ENTRIES if entry["size"] > MAX_MESSAGE_BYTES}
    stubs = {entry["file"] for entry in ENTRIES if entry["expect"] == Expect.STUB}
    assert over == stubs
    assert any(entry["size"] == MAX_MESSAGE_BYTES for entry in ENTRIES)


def test_every_mail_loads_as_the_manifest_describes_it() -> None:
    mails = load_corpus()
    assert [mail.file for mail in mails] == FILES
    for mail, entry in zip(mails, ENTRIES, strict=True):
        assert len(mail.raw) == entry["size"], mail.file
        assert hashlib.sha256(mail.raw).hexdigest() == entry["sha256"], mail.file
        assert mail.file.endswith(".gz") == (entry["size"] > GZIP_OVER), mail.file
        assert (mail.attack_class, mail.expect, mail.checks) == (
            entry["class"],
            entry["expect"],
            entry["checks"],
        )
        header_section = mail.raw.split(b"\r\n\r\n", 1)[0]
        assert mail.checks["subject_contains"].encode() in header_section, mail.file


def test_a_mail_loads_by_stem_or_file_name() -> None:
    by_stem = load_mail("tnef_multivalue_bomb")
    assert by_stem == load_mail("tnef_multivalue_bomb.eml")
    assert b"application/ms-tnef" in by_stem.raw
    assert load_mail("size_50mb").raw == load_mail("size_50mb.eml.gz").raw
    with pytest.raises(KeyError, match="no corpus file"):
        load_mail("no_such_mail")


def test_the_tnef_bomb_is_45_bytes_claiming_2_to_the_32_values() -> None:
    bomb = tnef_bomb()
    assert len(bomb) <= 45
    assert b"\xff\xff\xff\xff" in bomb


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hostile")
    generate(directory)
    return directory


def test_the_generator_builds_the_files_the_manifest_lists(regenerated: Path) -> None:
    assert sorted(path.name for path in regenerated.iterdir() if ".eml" in path.name) == sorted(
        FILES
    )
    assert [case.stem for case in CASES] == [name.split(".")[0] for name in FILES]


@pytest.mark.parametrize("name", [MANIFEST, *FILES])
def test_the_generator_reproduces_the_committed_file(regenerated: Path, name: str) -> None:
    committed = (HOSTILE_DIR / name).read_bytes()
    assert (regenerated / name).read_bytes() == committed, (
        f"{name} differs from what `python -m tests.support.hostile_corpus` writes: "
        "re-run it and commit the result (a different zlib build can also change .gz bytes)"
    )
