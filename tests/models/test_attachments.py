"""save_attachments on SQLite and PostgreSQL: rows, blobs on disk, limits, inline images."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mail.parse import parse_mail
from mail.parsed import ParsedAttachment
from models.attachments import save_attachments, uploadable
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind, Attachment
from models.store.blobs import open_attachment
from models.store.ticket import Ticket

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "mail"


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return Policy(
        queues=(QueueRoute("Support", "C0SUPPORT"),),
        address="support@ticketbot.example",
        attachments_dir=str(tmp_path / "attachments"),
        attachment_max_bytes=1024,
    )


async def new_article(number: str = "2026011510000017") -> Article:
    ticket = await Ticket.create(
        number=number,
        queue="Support",
        subject="Printer on floor 3 is broken",
        customer_email="alice@example.com",
        slack_channel="C0SUPPORT",
        last_activity_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    return await Article.create(ticket=ticket, kind=ArticleKind.EMAIL_IN, created_at=NOW)


def fixture_parts(name: str) -> tuple[ParsedAttachment, ...]:
    return parse_mail((FIXTURES / f"{name}.eml").read_bytes()).attachments


async def test_hostile_names_are_shown_safely_and_stored_by_digest(
    database: str, policy: Policy, tmp_path: Path
) -> None:
    article = await new_article()
    parts = fixture_parts("path_traversal_filenames")
    saved = await save_attachments(article, parts, policy, NOW)

    rows = await Attachment.filter(article_id=article.id).order_by("id")
    assert [a.id for a in saved] == [a.id for a in rows]
    assert [a.filename for a in rows] == ["passwd", "win.ini", "evilnameBcc_ x.txt"]
    directory = Path(policy.attachments_dir)
    for row, part in zip(rows, parts, strict=True):
        digest = hashlib.sha256(part.content).hexdigest()
        assert (row.sha256, row.size, row.too_large) == (digest, len(part.content), False)
        assert row.storage_path == f"{digest[:2]}/{digest}"
        assert (directory / row.storage_path).resolve().is_relative_to(directory.resolve())
        assert open_attachment(directory, row.storage_path) == part.content
        assert row.created_at == NOW and uploadable(row)
    assert not [p for p in tmp_path.rglob("*") if p.name in ("passwd", "win.ini")]


async def test_inline_cid_images_are_attachments_too(database: str, policy: Policy) -> None:
    article = await new_article()
    [image] = await save_attachments(article, fixture_parts("related_inline_cid"), policy, NOW)
    assert (image.filename, image.content_type) == ("error.png", "image/png")
    assert (image.is_inline, image.content_id) == (True, "screenshot.1@example.org")
    assert image.storage_path and uploadable(image)


async def test_over_the_limit_is_listed_but_not_stored(database: str, policy: Policy) -> None:
    article = await new_article()
    big = ParsedAttachment("scan.tiff", "image/tiff", b"\x00" * 1025)
    small = ParsedAttachment("note.txt", "text/plain", b"fits")
    too_large, stored = await save_attachments(article, [big, small], policy, NOW)

    assert (too_large.filename, too_large.size, too_large.too_large) == ("scan.tiff", 1025, True)
    assert too_large.storage_path == ""
    assert too_large.sha256 == hashlib.sha256(big.content).hexdigest()
    assert not uploadable(too_large)
    assert (stored.too_large, uploadable(stored)) == (False, True)
    files = [p for p in Path(policy.attachments_dir).rglob("*") if p.is_file()]
    assert [p.name for p in files] == [stored.sha256]


async def test_the_same_file_in_two_mails_is_stored_once(database: str, policy: Policy) -> None:
    logo = ParsedAttachment("logo.png", "image/png", b"\x89PNG logo", "logo@x", True)
    first = await save_attachments(await new_article(), [logo], policy, NOW)
    second = await save_attachments(
        await new_article("2026011510000025"), [replace(logo, filename="")], policy, NOW
    )
    assert first[0].storage_path == second[0].storage_path
    assert (first[0].filename, second[0].filename) == ("logo.png", "attachment.png")
    assert len([p for p in Path(policy.attachments_dir).rglob("*") if p.is_file()]) == 1
    assert await Attachment.filter(sha256=first[0].sha256).count() == 2


async def test_odd_parts_get_sensible_rows(database: str, policy: Policy) -> None:
    article = await new_article()
    parts = [
        ParsedAttachment("", "", b"?", "<angle@brackets>", True),
        ParsedAttachment("empty.txt", "text/plain", b""),
    ]
    odd, empty = await save_attachments(article, parts, policy, NOW)
    assert (odd.filename, odd.content_type, odd.content_id) == (
        "attachment",
        "application/octet-stream",
        "angle@brackets",
    )
    assert (empty.size, empty.too_large, bool(empty.storage_path)) == (0, False, True)
    assert not uploadable(empty)  # Slack refuses to reserve a 0-byte upload


async def test_nothing_to_save(database: str, policy: Policy) -> None:
    assert await save_attachments(await new_article(), [], policy, NOW) == []
    assert not Path(policy.attachments_dir).exists()


def row(**over: object) -> Attachment:
    fields: dict[str, object] = {
        "filename": "a.txt",
        "content_type": "text/plain",
        "size": 3,
        "sha256": "0" * 64,
        "storage_path": "00/" + "0" * 64,
        "created_at": NOW,
        **over,
    }
    return Attachment(**fields)


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({}, True),
        ({"too_large": True, "storage_path": ""}, False),
        ({"storage_path": ""}, False),
        ({"slack_file_id": "F0123ABC"}, False),
        ({"size": 0}, False),
    ],
)
def test_uploadable(over: dict[str, object], expected: bool) -> None:
    assert uploadable(row(**over)) is expected


async def test_no_attachment_is_written_below_the_disk_floor(database: str, policy: Policy) -> None:
    """A disk that is almost full keeps its last bytes for the database: the files are
    listed, not written, and the raw mail still holds them."""
    article = await new_article()
    full = replace(policy, attachment_min_free_bytes=10**18)
    parts = [
        ParsedAttachment("a.txt", "text/plain", b"hello"),
        ParsedAttachment("b.txt", "text/plain", b"x" * 2000),
    ]
    saved = await save_attachments(article, parts, full, NOW)
    assert [(a.filename, a.disk_full, a.too_large, a.storage_path) for a in saved] == [
        ("a.txt", True, False, ""),
        ("b.txt", False, True, ""),  # over max_bytes anyway: reported as too large
    ]
    assert not any(uploadable(a) for a in saved)
    assert not (Path(policy.attachments_dir) / hashlib.sha256(b"hello").hexdigest()[:2]).exists()
