"""The sent-mail journal: which lines mean "may have gone", and what a restart makes of a
dead process's file — on SQLite and PostgreSQL."""

from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path

import pytest

from mail.sent_journal import SentJournal, host_name, journal_line, may_have_gone
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind
from tests.support.intake import ingest
from tests.support.make_mail import make_mail

POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    attachments_dir=tempfile.mkdtemp(prefix="ticketbot-attachments-"),
)


@pytest.mark.parametrize(
    ("lines", "pending"),
    [
        ([b"+ 1 <a@x>\n"], {(1, "<a@x>")}),
        ([b"+ 1 <a@x>\n", b"= 1 <a@x>\n"], set()),  # recorded in the database
        ([b"+ 1 <a@x>\n", b"- 1 <a@x>\n"], set()),  # failed while we ran
        ([b"+ 1 <a@x>\n", b"- 1 <a@x>\n", b"+ 1 <a@x>\n"], {(1, "<a@x>")}),  # the retry
        ([b"+ 1 <a@x>\n", b"+ 2 <b@x>\n", b"= 1 <a@x>\n"], {(2, "<b@x>")}),
        ([b"+ 1 <a@x>"], set()),  # torn: the write a crash cut short
        ([b"* 1 <a@x>\n", b"+ one <a@x>\n", b"+ 1\n", b"\xff\xfe\n"], set()),
    ],
)
def test_may_have_gone(lines: list[bytes], pending: set[tuple[int, str]]) -> None:
    assert may_have_gone(lines) == pending


@pytest.fixture
def journal_dir(tmp_path: Path) -> Path:
    """Its own directory: the SQLite database lives in tmp_path."""
    directory = tmp_path / "sending"
    directory.mkdir()
    return directory


async def acknowledgements(count: int) -> list[Article]:
    for n in range(count):
        await ingest(make_mail(message_id=f"<q{n}@customer.example>", subject=f"Help {n}"), POLICY)
    articles = await Article.filter(kind=ArticleKind.EMAIL_OUT).order_by("id")
    assert len(articles) == count and all(a.sent_at is None and a.message_id for a in articles)
    return articles


def write(path: Path, *lines: tuple[str, Article]) -> None:
    with path.open("ab") as file:
        for sign, article in lines:
            file.write(journal_line(sign, article.id, article.message_id or ""))


async def test_a_restart_marks_what_a_dead_process_may_have_sent(
    database: str, journal_dir: Path
) -> None:
    a, b, c, d, e = await acknowledgements(5)
    host = host_name()
    write(journal_dir / f"{host}-7-dead.0.journal", ("+", a), ("+", b), ("=", b), ("+", c))
    write(journal_dir / f"{host}-7-dead.1.journal", ("-", c), ("+", d))
    live = journal_dir / f"{host}-1-live.0.journal"  # a bot beside us (pid 1 too, say)
    write(live, ("+", e))
    write(journal_dir / "otherhost-7-dead.0.journal", ("+", e))  # that host settles its own
    with live.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a live process holds on its files
        journal = SentJournal(journal_dir)
        assert await journal.settle() == 2
    sent = {article.id for article in await Article.filter(sent_at__not_isnull=True)}
    assert sent == {a.id, d.id}
    left = sorted(path.name for path in journal_dir.iterdir())
    assert left == sorted([live.name, "otherhost-7-dead.0.journal", journal.path(0).name])
    journal.close()


async def test_only_the_article_with_that_message_id_is_marked(
    database: str, journal_dir: Path
) -> None:
    [article] = await acknowledgements(1)
    stale = journal_dir / f"{host_name()}-7-dead.0.journal"
    stale.write_bytes(journal_line("+", article.id, "<another-database@x>"))
    journal = SentJournal(journal_dir)
    assert await journal.settle() == 0
    assert (await Article.get(id=article.id)).sent_at is None
    journal.close()


async def test_our_lines_outlive_us_and_a_recorded_send_is_not_redone(
    database: str, journal_dir: Path
) -> None:
    a, b = await acknowledgements(2)
    first = SentJournal(journal_dir)
    assert await first.settle() == 0
    first.sending(a.id, a.message_id or "")
    first.sending(b.id, b.message_id or "")
    first.recorded(b.id, b.message_id or "")
    second = SentJournal(journal_dir)
    assert await second.settle() == 0  # the first still runs: its file is not touched
    first.close()  # what dying does to it: the lock is gone, the lines stay
    third = SentJournal(journal_dir)
    assert await third.settle() == 1
    assert (await Article.get(id=a.id)).sent_at is not None
    assert (await Article.get(id=b.id)).sent_at is None  # "=": the database already knew
    assert not first.path(0).exists()
    second.close()
    third.close()


async def test_files_roll_over_keeping_the_previous_one(database: str, journal_dir: Path) -> None:
    [article] = await acknowledgements(1)
    journal = SentJournal(journal_dir, max_bytes=200)
    await journal.settle()

    def answered_sends_until(generation: int) -> None:
        n = 0
        while journal._generation < generation:
            n += 1
            journal.sending(10_000 + n, "<other@x>")
            journal.recorded(10_000 + n, "<other@x>")

    answered_sends_until(2)
    names = sorted(path.name for path in journal_dir.iterdir())
    assert names == [journal.path(1).name, journal.path(2).name]  # generation 0 is gone
    journal.sending(article.id, article.message_id or "")  # in flight while it rolls over
    answered_sends_until(3)
    journal.close()  # died: the in-flight line is in the previous file
    after = SentJournal(journal_dir)
    assert await after.settle() == 1
    assert (await Article.get(id=article.id)).sent_at is not None
    after.close()


async def test_an_unusable_directory_leaves_sending_as_it_was(
    database: str, journal_dir: Path
) -> None:
    [article] = await acknowledgements(1)
    blocked = journal_dir / "not-a-directory"
    blocked.write_text("")
    journal = SentJournal(blocked / "journal")
    assert await journal.settle() == 0
    journal.sending(article.id, article.message_id or "")  # no file: nothing, no error
    journal.close()


async def test_a_message_id_that_cannot_be_one_line_is_not_journalled(tmp_path: Path) -> None:
    journal = SentJournal(tmp_path)
    journal._open(0)
    journal.sending(1, "<a b@x>")
    journal.sending(2, "<a@x>\n+ 3 <c@x>")
    journal.sending(4, "")
    journal.sending(5, "<ok@x>")
    journal.close()
    assert journal.path(0).read_bytes() == b"+ 5 <ok@x>\n"


async def test_a_clean_stop_with_every_send_answered_leaves_no_file(tmp_path: Path) -> None:
    journal = SentJournal(tmp_path)
    journal._open(0)
    journal.sending(1, "<a@x>")
    journal.recorded(1, "<a@x>")
    journal.sending(2, "<b@x>")
    journal.withdrawn(2, "<b@x>")
    journal.close()
    assert list(tmp_path.iterdir()) == []
