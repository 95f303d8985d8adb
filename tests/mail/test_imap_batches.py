"""Batched IMAP fetches: many messages per round trip, yet each handed over once, in order."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mail import imap
from mail.errors import MessageHandlerError
from mail.imap import PolledMessage, fetch_batches
from mail.imap_wire import parse_fetched_all, parse_sizes, uid_set
from tests.mail.test_imap_poller import (
    MemoryStore,
    Recorder,
    _config,
    _mail,
    _poller,
    _subject,
)
from tests.support.dovecot import DovecotServer


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def handler() -> Recorder:
    return Recorder()


@pytest.mark.parametrize(
    ("uids", "wire"),
    [([7], "7"), ([1, 2, 3, 7], "1:3,7"), ([9, 3, 4, 5, 1, 10], "1,3:5,9:10"), ([2, 2], "2")],
)
def test_uid_sets_fold_runs(uids: list[int], wire: str) -> None:
    assert uid_set(uids) == wire


def test_an_empty_uid_set_is_refused() -> None:
    with pytest.raises(ValueError):
        uid_set([])


def test_batches_are_cut_by_count_and_bytes_and_keep_uid_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap, "FETCH_BATCH", 3)
    monkeypatch.setattr(imap, "FETCH_BATCH_BYTES", 100)
    sizes = {1: 10, 2: 10, 3: 10, 4: 10, 5: 500, 6: 60, 7: 60}
    # 5 is bigger than a batch may be: it goes alone; 8 is gone (no size) and rides along.
    assert fetch_batches([1, 2, 3, 4, 5, 6, 7, 8], sizes, None) == [
        [1, 2, 3],
        [4],
        [5],
        [6],
        [7, 8],
    ]
    # Only max_bytes of a message is fetched, so only that counts.
    assert fetch_batches([5, 6], sizes, 30) == [[5, 6]]


def test_a_multi_message_fetch_reply_yields_each_body_by_uid() -> None:
    lines = [
        b"1 FETCH (UID 4 RFC822.SIZE 5 BODY[]<0> {5}",
        bytearray(b"hello"),
        b")",
        b"2 FETCH (FLAGS (\\Seen) UID 5)",  # an unsolicited flag change: no body
        b"3 FETCH (RFC822.SIZE 900 BODY[]<0> {3}",
        bytearray(b"big"),
        b" UID 6)",
        b"OK FETCH completed",
    ]
    assert parse_fetched_all(lines) == {4: (b"hello", 5), 6: (b"big", 900)}
    assert parse_sizes(
        [b"1 FETCH (UID 4 RFC822.SIZE 5)", b"2 FETCH (RFC822.SIZE 7 UID 9)", b"OK"]
    ) == {
        4: 5,
        9: 7,
    }


@pytest.mark.dovecot
class TestBatchedPolling:
    async def test_every_message_is_handed_over_once_in_uid_order_across_batches(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        subjects = [f"mail {n}" for n in range(imap.FETCH_BATCH * 2 + 7)]
        uids = [imap_server.append(_mail(subject)) for subject in subjects]
        poller = _poller(_config(imap_server), store, handler)
        try:
            assert await poller.poll_once() == len(subjects)
            assert await poller.poll_once() == 0
        finally:
            await poller.stop()
        assert handler.subjects == subjects
        assert [m.uid for m in handler.messages] == uids
        assert store.state[poller.mailbox_key][1] == uids[-1]
        assert all(r"\Seen" in imap_server.flags(uid) for uid in (uids[0], uids[-1]))
        assert poller.backlog == 0

    async def test_a_message_bigger_than_a_batch_comes_alone_and_intact(
        self,
        imap_server: DovecotServer,
        store: MemoryStore,
        handler: Recorder,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(imap, "FETCH_BATCH_BYTES", 4096)
        big = _mail("big", body="x" * 20_000 + "\n")
        imap_server.append(_mail("before"))
        imap_server.append(big)
        imap_server.append(_mail("after"))
        poller = _poller(_config(imap_server), store, handler)
        try:
            assert await poller.poll_once() == 3
        finally:
            await poller.stop()
        assert handler.subjects == ["before", "big", "after"]
        assert len(handler.raws[1]) >= 20_000

    async def test_a_failure_deep_in_a_batch_keeps_what_came_before_and_retries_the_rest(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        subjects = [f"mail {n}" for n in range(10)]
        uids = [imap_server.append(_mail(subject)) for subject in subjects]
        handler.fail_on = {"mail 6"}
        poller = _poller(_config(imap_server), store, handler)
        try:
            with pytest.raises(MessageHandlerError) as failure:
                await poller.poll_once()
            assert failure.value.uid == uids[6]
            assert store.state[poller.mailbox_key][1] == uids[5]
            assert r"\Seen" in imap_server.flags(uids[5])
            assert r"\Seen" not in imap_server.flags(uids[6])
            assert r"\Seen" not in imap_server.flags(uids[7])
            assert await poller.poll_once() == 4
        finally:
            await poller.stop()
        assert handler.subjects == subjects  # each once, in order


class BatchRecorder:
    """A batch handler: takes whole batches, stores each message up to a subject it is told
    to refuse (once), and says how many it stored."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.stored: list[str] = []
        self.refuse: set[str] = set()

    async def __call__(self, messages: Sequence[PolledMessage]) -> tuple[int, BaseException | None]:
        subjects = [_subject(m.raw) for m in messages]
        self.batches.append(subjects)
        for count, subject in enumerate(subjects):
            if subject in self.refuse:
                self.refuse.discard(subject)
                return count, RuntimeError(f"refused {subject}")
            self.stored.append(subject)
        return len(subjects), None


@pytest.mark.dovecot
class TestBatchHandler:
    async def test_whole_batches_are_handed_over_and_marked_seen(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        subjects = [f"mail {n}" for n in range(imap.FETCH_BATCH + 3)]
        uids = [imap_server.append(_mail(subject)) for subject in subjects]
        batches = BatchRecorder()
        poller = _poller(_config(imap_server), store, handler, handle_batch=batches)
        try:
            assert await poller.poll_once() == len(subjects)
            assert await poller.poll_once() == 0
        finally:
            await poller.stop()
        assert [len(b) for b in batches.batches] == [imap.FETCH_BATCH, 3]
        assert batches.stored == subjects
        assert handler.subjects == []  # the one-by-one handler is not used
        assert store.state[poller.mailbox_key][1] == uids[-1]
        assert all(r"\Seen" in imap_server.flags(uid) for uid in (uids[0], uids[-1]))

    async def test_a_refused_message_stops_the_pass_after_what_was_stored(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        subjects = [f"mail {n}" for n in range(6)]
        uids = [imap_server.append(_mail(subject)) for subject in subjects]
        batches = BatchRecorder()
        batches.refuse = {"mail 3"}
        poller = _poller(_config(imap_server), store, handler, handle_batch=batches)
        try:
            with pytest.raises(MessageHandlerError) as failure:
                await poller.poll_once()
            assert failure.value.uid == uids[3]
            assert isinstance(failure.value.__cause__, RuntimeError)
            assert store.state[poller.mailbox_key][1] == uids[2]
            assert r"\Seen" in imap_server.flags(uids[2])
            assert r"\Seen" not in imap_server.flags(uids[3])
            assert r"\Seen" not in imap_server.flags(uids[4])
            assert await poller.poll_once() == 3
        finally:
            await poller.stop()
        assert batches.batches[1] == ["mail 3", "mail 4", "mail 5"]
        assert batches.stored == subjects  # each once, in order
        assert r"\Seen" in imap_server.flags(uids[5])
