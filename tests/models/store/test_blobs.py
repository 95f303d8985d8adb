"""Attachment storage: safe names (a table), content addressing, limits, hostile paths."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.store.blobs import (
    MAX_NAME_BYTES,
    CorruptBlob,
    UnsafePath,
    open_attachment,
    open_attachment_async,
    probe_writable,
    resolve_blob,
    safe_filename,
    store_attachment,
    store_attachment_async,
)

LONG_STEM = "x" * 300
SAFE_NAMES = [
    # (sender's name, content type, what we show and upload)
    ("report.pdf", "application/pdf", "report.pdf"),
    ("../../etc/passwd", "text/plain", "passwd"),
    ("..\\..\\windows\\win.ini", "text/plain", "win.ini"),
    ("/etc/shadow", "text/plain", "shadow"),
    ("C:\\Users\\bob\\Desktop\\scan.png", "image/png", "scan.png"),
    ("foo/..", "text/plain", "attachment.txt"),
    ("..", "application/pdf", "attachment.pdf"),
    ("", "application/pdf", "attachment.pdf"),
    ("", "image/jpeg", "attachment.jpg"),
    ("", "text/calendar", "attachment.ics"),
    ("", "application/x-never-heard-of", "attachment"),
    ("   ", "text/plain; charset=utf-8", "attachment.txt"),
    ("CON", "text/plain", "_CON"),
    ("con.txt", "text/plain", "_con.txt"),
    ("LPT1.log", "text/plain", "_LPT1.log"),
    ("nul .tar.gz", "application/gzip", "_nul .tar.gz"),
    ("CONFIG.SYS", "text/plain", "CONFIG.SYS"),
    (".htaccess", "text/plain", "htaccess"),
    ("...hidden.txt", "text/plain", "hidden.txt"),
    ("trailing. . ", "text/plain", "trailing"),
    ("evil\x00.txt", "text/plain", "evil.txt"),
    ("a\r\nBcc: x@example.com.txt", "text/plain", "a Bcc_ x@example.com.txt"),
    ("tab\there.txt", "text/plain", "tab here.txt"),
    ('a<b>c:d"e|f?g*h.txt', "text/plain", "a_b_c_d_e_f_g_h.txt"),
    ("invoice\u202egpj.exe", "application/octet-stream", "invoicegpj.exe"),
    ("Résumé – 2026.pdf", "application/pdf", "Résumé – 2026.pdf"),
    ("Re\u0301sume\u0301.pdf", "application/pdf", "Résumé.pdf"),
    ("報告書.xlsx", "application/octet-stream", "報告書.xlsx"),
    ("\udcff\udcfe.txt", "text/plain", "txt"),
    (LONG_STEM + ".pdf", "application/pdf", "x" * 251 + ".pdf"),
    ("y" * 300, "text/plain", "y" * 255),
    ("a." + "z" * 300, "text/plain", ("a." + "z" * 300)[:255]),
]


@pytest.mark.parametrize(("name", "content_type", "expected"), SAFE_NAMES)
def test_safe_filename(name: str, content_type: str, expected: str) -> None:
    assert safe_filename(name, content_type) == expected


def test_long_multibyte_names_are_cut_on_a_character_boundary_keeping_the_extension() -> None:
    name = safe_filename("é" * 300 + ".pdf", "application/pdf")
    assert name.endswith(".pdf")
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert name == "é" * 125 + ".pdf"  # 250 bytes of é, one byte left over, not half a char


@given(st.text(), st.sampled_from(["text/plain", "application/pdf", "x/y", ""]))
def test_safe_filename_always_gives_a_plain_name(name: str, content_type: str) -> None:
    safe = safe_filename(name, content_type)
    assert safe and safe not in (".", "..")
    assert len(safe.encode()) <= MAX_NAME_BYTES
    assert not set(safe) & set('/\\<>:"|?*')
    assert not safe.startswith((".", " ")) and not safe.endswith((".", " "))
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs") for ch in safe)
    assert safe_filename(safe, content_type) == safe


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_stored_under_the_digest_inside_the_directory(tmp_path: Path) -> None:
    directory = tmp_path / "attachments"
    content = b"%PDF-1.7 root:x:0:0"
    blob = store_attachment(directory, content, max_bytes=1024)
    assert blob is not None
    digest = sha(content)
    assert (blob.sha256, blob.size, blob.created) == (digest, len(content), True)
    assert blob.storage_path == f"{digest[:2]}/{digest}"
    path = directory / blob.storage_path
    assert path.read_bytes() == content
    assert path.resolve().is_relative_to(directory.resolve())
    assert sorted(p.name for p in directory.rglob("*")) == sorted([digest[:2], digest])
    assert open_attachment(directory, blob.storage_path) == content


def test_identical_content_is_stored_once(tmp_path: Path) -> None:
    first = store_attachment(tmp_path, b"same bytes", max_bytes=100)
    second = store_attachment(tmp_path, b"same bytes", max_bytes=100)
    other = store_attachment(tmp_path, b"other bytes", max_bytes=100)
    assert first is not None and second is not None and other is not None
    assert (first.created, second.created) == (True, False)
    assert first.storage_path == second.storage_path != other.storage_path
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 2


def test_a_damaged_copy_is_rewritten(tmp_path: Path) -> None:
    blob = store_attachment(tmp_path, b"good", max_bytes=100)
    assert blob is not None
    (tmp_path / blob.storage_path).write_bytes(b"bad!")
    with pytest.raises(CorruptBlob):
        open_attachment(tmp_path, blob.storage_path)
    again = store_attachment(tmp_path, b"good", max_bytes=100)
    assert again is not None and again.created
    assert open_attachment(tmp_path, blob.storage_path) == b"good"


def test_over_the_limit_nothing_is_written(tmp_path: Path) -> None:
    directory = tmp_path / "attachments"
    assert store_attachment(directory, b"x" * 11, max_bytes=10) is None
    assert not directory.exists()
    exactly = store_attachment(directory, b"x" * 10, max_bytes=10)
    assert exactly is not None and exactly.size == 10


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    for n in range(5):
        store_attachment(tmp_path, bytes([n]) * 1000, max_bytes=10_000)
    assert not [p for p in tmp_path.rglob(".incoming-*")]


async def test_async_variants_run_in_a_thread_and_agree(tmp_path: Path) -> None:
    blob = await store_attachment_async(tmp_path, b"async", max_bytes=10)
    assert blob is not None
    assert await open_attachment_async(tmp_path, blob.storage_path) == b"async"
    assert await store_attachment_async(tmp_path, b"x" * 11, max_bytes=10) is None


@pytest.mark.parametrize(
    "storage_path",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "ab/../../outside",
        "..",
        "",
        f"{'0' * 2}/{'1' * 64}",  # shard does not match the digest
        f"{'a' * 64}",
        f"AB/{'AB' * 32}",
        f"ab/{'ab' * 32}/..",
    ],
)
def test_paths_we_did_not_issue_are_refused(tmp_path: Path, storage_path: str) -> None:
    with pytest.raises(UnsafePath):
        open_attachment(tmp_path, storage_path)


def test_a_missing_blob_is_file_not_found(tmp_path: Path) -> None:
    digest = sha(b"never stored")
    with pytest.raises(FileNotFoundError):
        open_attachment(tmp_path, f"{digest[:2]}/{digest}")


def test_a_symlinked_shard_is_not_followed_out_of_the_directory(tmp_path: Path) -> None:
    directory, outside = tmp_path / "attachments", tmp_path / "outside"
    directory.mkdir()
    outside.mkdir()
    content = b"planted"
    digest = sha(content)
    (directory / digest[:2]).symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePath):
        store_attachment(directory, content, max_bytes=100)
    assert list(outside.iterdir()) == []
    (outside / digest).write_bytes(content)
    with pytest.raises(UnsafePath):
        open_attachment(directory, f"{digest[:2]}/{digest}")


def test_a_symlinked_blob_is_neither_written_through_nor_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"do not touch")
    content = b"customer file"
    digest = sha(content)
    (tmp_path / "store" / digest[:2]).mkdir(parents=True)
    link = tmp_path / "store" / digest[:2] / digest
    link.symlink_to(secret)
    with pytest.raises(UnsafePath):
        store_attachment(tmp_path / "store", content, max_bytes=100)
    with pytest.raises(UnsafePath):
        open_attachment(tmp_path / "store", f"{digest[:2]}/{digest}")
    assert secret.read_bytes() == b"do not touch"


def test_the_configured_directory_may_itself_be_a_symlink(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    configured = tmp_path / "attachments"
    configured.symlink_to(volume, target_is_directory=True)
    blob = store_attachment(configured, b"on the volume", max_bytes=100)
    assert blob is not None
    assert (volume / blob.storage_path).read_bytes() == b"on the volume"
    assert resolve_blob(configured, blob.storage_path) == volume.resolve() / blob.storage_path


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_blobs_are_private_to_the_bot(tmp_path: Path) -> None:
    blob = store_attachment(tmp_path, b"private", max_bytes=100)
    assert blob is not None
    assert (tmp_path / blob.storage_path).stat().st_mode & 0o077 == 0


def test_probe_creates_the_directory_and_leaves_nothing_behind(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "attachments"
    assert probe_writable(directory) > 0
    assert directory.is_dir() and list(directory.iterdir()) == []


def test_probe_names_a_directory_that_cannot_be(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(OSError, match="a-file"):
        probe_writable(tmp_path / "a-file" / "attachments")
