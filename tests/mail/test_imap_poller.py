"""The IMAP poller against a real Dovecot: once each, in order, \\Seen after, never lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from email import message_from_bytes
from typing import Any

import aioimaplib
import pytest

from mail.errors import (
    ImapAuthError,
    ImapConnectionError,
    ImapError,
    MessageHandlerError,
)
from mail.imap import ImapConfig, ImapPoller, PolledMessage
from mail.imap_client import TRANSLATED_ERRORS, translate_error
from mail.imap_wire import (
    encode_mailbox_name,
    parse_fetched_all,
    parse_search,
    parse_select,
    redact_username,
)
from tests.support.dovecot import HOST, DovecotServer, free_port
from tests.support.make_mail import make_mail

WAIT = 5.0  # seconds any condition below may take; far below poll_seconds=300


# -- test doubles ------------------------------------------------------------------------------


class Changes:
    """Something tests can wait on: `notify()` after each change, `until(predicate)` to wait."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


class MemoryStore(Changes):
    """In-memory MailboxStore; `grant` decides whether the lease is ours."""

    def __init__(self, *, grant: bool = True) -> None:
        super().__init__()
        self.state: dict[str, tuple[int | None, int]] = {}
        self.grant = grant
        self.acquire_calls = 0

    async def load(self, mailbox: str) -> tuple[int | None, int]:
        return self.state.get(mailbox, (None, 0))

    async def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        self.state[mailbox] = (uidvalidity, last_uid)
        self.notify()

    async def acquire(self, mailbox: str, owner: str, ttl_seconds: float) -> bool:
        assert ttl_seconds > 0
        self.acquire_calls += 1
        self.notify()
        return self.grant


class Recorder(Changes):
    """The message handler: records raw messages; can be told to fail like a broken database."""

    def __init__(self) -> None:
        super().__init__()
        self.raws: list[bytes] = []
        self.messages: list[PolledMessage] = []
        self.fail_on: set[str] = set()  # subjects to fail on, once each
        self.on_message: Callable[[bytes], object] | None = None

    async def __call__(self, message: PolledMessage) -> None:
        raw = message.raw
        subject = _subject(raw)
        if subject in self.fail_on:
            self.fail_on.discard(subject)
            self.notify()
            raise RuntimeError("database is down")
        if self.on_message is not None:
            self.on_message(raw)
        self.raws.append(raw)
        self.messages.append(message)
        self.notify()

    @property
    def subjects(self) -> list[str]:
        return [_subject(raw) for raw in self.raws]


class LogWatcher(logging.Handler):
    """Collects the mail package's log records and lets a test wait for one."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.changes = Changes()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.changes.notify()

    def messages(self, containing: str = "") -> list[str]:
        return [r.getMessage() for r in self.records if containing in r.getMessage()]

    async def until(self, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
        await self.changes.until(predicate, timeout)


def _crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _subject(raw: bytes) -> str:
    return str(message_from_bytes(raw)["Subject"])


def _mail(subject: str, **overrides: Any) -> bytes:
    message_id = f"<{subject.replace(' ', '.')}@example.com>"
    return make_mail(subject=subject, message_id=message_id, **overrides)


def _config(server: DovecotServer, **overrides: object) -> ImapConfig:
    values: dict[str, object] = {
        "host": HOST,
        "port": server.port,
        "security": "none",
        "username": "support",
        "password": "secret",
        "poll_seconds": 300,
    }
    values.update(overrides)
    return ImapConfig(**values)  # type: ignore[arg-type]


def _poller(
    config: ImapConfig, store: MemoryStore, handler: Recorder, **kwargs: object
) -> ImapPoller:
    options: dict[str, object] = {"backoff_initial": 0.05, "backoff_max": 0.2, "timeout": 5.0}
    options.update(kwargs)
    return ImapPoller(config, store, handler, owner="test-process", **options)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(poller: ImapPoller) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(poller.run())
    try:
        yield task
    finally:
        await poller.stop()
        await asyncio.wait_for(task, WAIT)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def handler() -> Recorder:
    return Recorder()


@pytest.fixture
def logs() -> Iterator[LogWatcher]:
    watcher = LogWatcher()
    logger = logging.getLogger("mail")
    previous = logger.level
    logger.addHandler(watcher)
    logger.setLevel(logging.INFO)
    try:
        yield watcher
    finally:
        logger.removeHandler(watcher)
        logger.setLevel(previous)


# -- polling ----------------------------------------------------------------------------------


@pytest.mark.dovecot
class TestPolling:
    async def test_first_contact_leaves_already_read_mail_alone(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        imap_server.append(_mail("old and read"), flags=[r"\Seen"])
        imap_server.append(_mail("unread"))
        imap_server.append(_mail("read later"), flags=[r"\Seen"])
        poller = _poller(_config(imap_server), store, handler)
        try:
            assert await poller.poll_once() == 2
            imap_server.append(_mail("read by someone before we fetched it"), flags=[r"\Seen"])
            assert await poller.poll_once() == 1
        finally:
            await poller.stop()
        assert handler.subjects == ["unread", "read later", "read by someone before we fetched it"]

    async def test_first_contact_with_everything_read_starts_after_the_last_message(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        imap_server.append(_mail("archive"), flags=[r"\Seen"])
        poller = _poller(_config(imap_server), store, handler)
        try:
            assert await poller.poll_once() == 0
            imap_server.append(_mail("new"))
            assert await poller.poll_once() == 1
        finally:
            await poller.stop()
        assert handler.subjects == ["new"]

    async def test_hands_over_each_new_message_once_in_uid_order_then_marks_seen(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        uids = [imap_server.append(_mail(s)) for s in ("first", "second", "third")]
        seen_while_handling: list[bool] = []
        handler.on_message = lambda raw: seen_while_handling.append(
            r"\Seen" in imap_server.flags(uids[len(seen_while_handling)])
        )
        poller = _poller(_config(imap_server), store, handler)

        try:
            first_pass = await poller.poll_once()
            second_pass = await poller.poll_once()
        finally:
            await poller.stop()

        assert (first_pass, second_pass) == (3, 0)  # "UID n:*" also matched the last UID
        assert handler.subjects == ["first", "second", "third"]
        assert seen_while_handling == [False, False, False]  # fetched with BODY.PEEK
        assert all(r"\Seen" in imap_server.flags(uid) for uid in uids)
        assert store.state[poller.mailbox_key] == (imap_server.uidvalidity(), uids[-1])
        assert poller.mailbox_key == f"support@{HOST}:{imap_server.port}/INBOX"

    async def test_a_message_over_max_bytes_is_fetched_only_up_to_it(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        big = _mail("big", body="x" * 300_000)
        small = _mail("small")
        uids = [imap_server.append(big), imap_server.append(small)]
        poller = _poller(_config(imap_server), store, handler, max_bytes=100_000)
        try:
            assert await poller.poll_once() == 2
        finally:
            await poller.stop()

        first, second = handler.messages
        assert len(first.raw) == 100_000 and first.raw == _crlf(big)[:100_000]
        assert first.size >= len(big) and first.truncated
        assert second.raw == _crlf(small) and not second.truncated
        assert first.identity == f"{poller.mailbox_key}/{imap_server.uidvalidity()}/{uids[0]}"
        assert second.uid == uids[1]

    async def test_restart_skips_what_was_handled_and_picks_up_new_mail(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        imap_server.append(_mail("before restart"))
        first = _poller(_config(imap_server), store, handler)
        try:
            await first.poll_once()
        finally:
            await first.stop()
        imap_server.append(_mail("while down"))

        second = _poller(_config(imap_server), store, handler)
        try:
            handed_over = await second.poll_once()
        finally:
            await second.stop()

        assert handed_over == 1
        assert handler.subjects == ["before restart", "while down"]

    async def test_handler_failure_leaves_the_message_unseen_and_retries_it(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        ok, broken, after = (imap_server.append(_mail(s)) for s in ("ok", "broken", "after"))
        handler.fail_on = {"broken"}
        poller = _poller(_config(imap_server), store, handler)

        try:
            with pytest.raises(MessageHandlerError) as failure:
                await poller.poll_once()
            assert failure.value.uid == broken
            assert isinstance(failure.value.__cause__, RuntimeError)
            assert store.state[poller.mailbox_key][1] == ok  # not advanced past the failure
            assert r"\Seen" in imap_server.flags(ok)
            assert r"\Seen" not in imap_server.flags(broken)
            assert r"\Seen" not in imap_server.flags(after)  # the pass stopped there

            retried = await poller.poll_once()
        finally:
            await poller.stop()

        assert retried == 2
        assert handler.subjects == ["ok", "broken", "after"]
        assert r"\Seen" in imap_server.flags(broken)

    async def test_handler_failure_in_run_backs_off_and_retries(
        self,
        imap_server: DovecotServer,
        store: MemoryStore,
        handler: Recorder,
        logs: LogWatcher,
    ) -> None:
        imap_server.append(_mail("flaky"))
        handler.fail_on = {"flaky"}
        poller = _poller(_config(imap_server), store, handler)

        async with running(poller):
            await handler.until(lambda: handler.subjects == ["flaky"])

        [failure] = [r for r in logs.records if "handler failed" in r.getMessage()]
        assert failure.exc_info is not None  # the traceback, logged once
        assert failure.levelno == logging.ERROR

    async def test_uidvalidity_change_hands_everything_over_again(
        self,
        imap_server: DovecotServer,
        store: MemoryStore,
        handler: Recorder,
        logs: LogWatcher,
    ) -> None:
        imap_server.append(_mail("one"))
        imap_server.append(_mail("two"))
        poller = _poller(_config(imap_server), store, handler)

        async with running(poller):
            await handler.until(lambda: len(handler.raws) == 2)
            old_validity = store.state[poller.mailbox_key][0]
            new_validity = imap_server.recreate_mailbox()
            poller.wake()
            await handler.until(lambda: len(handler.raws) == 4)

        assert handler.subjects == ["one", "two", "one", "two"]  # dedupe is the handler's job
        assert store.state[poller.mailbox_key] == (new_validity, 2)
        assert logs.messages(f"UIDVALIDITY changed from {old_validity} to {new_validity}")

    async def test_a_2_mb_message_arrives_intact(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        payload = os.urandom(1_600_000)  # about 2.2 MB once base64-encoded
        raw = _mail("big", attachments=[("big.bin", "application/octet-stream", payload)])
        assert len(raw) > 2_000_000
        imap_server.append(raw)
        poller = _poller(_config(imap_server), store, handler)

        try:
            await poller.poll_once()
        finally:
            await poller.stop()

        assert handler.raws == [raw]

    async def test_poll_once_is_refused_while_run_is_active(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        poller = _poller(_config(imap_server), store, handler)

        async with running(poller):
            await store.until(lambda: store.acquire_calls > 0)
            with pytest.raises(RuntimeError, match="wake"):
                await poller.poll_once()


# -- waiting for mail ---------------------------------------------------------------------------


@pytest.mark.dovecot
class TestWaiting:
    async def test_idle_push_hands_new_mail_over_without_wake(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        uid = imap_server.append(_mail("already there"))
        poller = _poller(_config(imap_server, idle=True), store, handler)

        async with running(poller):
            # Pass finished: no command is left before IDLE, so only IDLE can report the next one.
            await store.until(lambda: store.state.get(poller.mailbox_key, (0, 0))[1] == uid)
            imap_server.append(_mail("pushed"))
            await handler.until(lambda: handler.subjects == ["already there", "pushed"])

    async def test_mail_announced_during_a_pass_is_not_left_for_the_next_poll(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        imap_server.append(_mail("first"))
        # Arrives while "first" is handled: Dovecot announces it in the STORE reply, not in IDLE.
        handler.on_message = lambda raw: (
            imap_server.append(_mail("during")) if _subject(raw) == "first" else None
        )
        poller = _poller(_config(imap_server, idle=True), store, handler)

        async with running(poller):
            await handler.until(lambda: handler.subjects == ["first", "during"])

    async def test_wake_polls_when_idle_is_off(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        imap_server.append(_mail("already there"))
        poller = _poller(_config(imap_server, idle=False), store, handler)

        async with running(poller):
            await handler.until(lambda: len(handler.raws) == 1)
            imap_server.append(_mail("woken"))
            poller.wake()
            await handler.until(lambda: handler.subjects == ["already there", "woken"])

    async def test_stop_leaves_idle_and_logs_out(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        log_start = len(imap_server.log_text())
        imap_server.append(_mail("one"))
        poller = _poller(_config(imap_server), store, handler)

        def poller_logged_out() -> bool:
            # Dovecot logs a LOGOUT as "Disconnected: Logged out"; only the poller's
            # session in this test fetched a body.
            lines = imap_server.log_text()[log_start:].splitlines()
            return any("Logged out" in line and "body_count=1 " in line for line in lines)

        async with running(poller) as task:
            await handler.until(lambda: len(handler.raws) == 1)
        assert task.done() and task.exception() is None  # within WAIT: left a 300 s IDLE

        async with asyncio.timeout(WAIT):  # Dovecot's log process writes asynchronously
            while not poller_logged_out():
                await asyncio.sleep(0.05)  # polling a file: the interval of a condition wait

    async def test_cancelling_run_closes_the_connection(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        imap_server.append(_mail("one"))
        poller = _poller(_config(imap_server), store, handler)
        task = asyncio.create_task(poller.run())
        await handler.until(lambda: len(handler.raws) == 1)

        task.cancel()

        with pytest.raises(asyncio.CancelledError):
            await task  # an unclosed socket would fail the test (filterwarnings = error)

    async def test_a_poller_stopped_before_run_does_not_start(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        imap_server.append(_mail("one"))
        poller = _poller(_config(imap_server), store, handler)

        await poller.stop()
        await asyncio.wait_for(poller.run(), WAIT)

        assert store.acquire_calls == 0 and handler.raws == []

    async def test_survives_a_server_restart_with_backoff(
        self,
        imap_server: DovecotServer,
        store: MemoryStore,
        handler: Recorder,
        logs: LogWatcher,
    ) -> None:
        uid = imap_server.append(_mail("before outage"))
        poller = _poller(_config(imap_server), store, handler)

        async with running(poller):
            await store.until(lambda: store.state.get(poller.mailbox_key, (0, 0))[1] == uid)
            imap_server.stop()
            await logs.until(lambda: len(logs.messages("connection refused")) >= 2)
            imap_server.start()
            imap_server.append(_mail("after outage"))
            await handler.until(lambda: handler.subjects == ["before outage", "after outage"])

        failures = [r for r in logs.records if "reconnecting in" in r.getMessage()]
        assert len(failures) >= 2
        assert all(r.exc_info is None for r in failures)  # one line each, no traceback storm
        assert all(r.levelno == logging.WARNING for r in failures)
        assert not any("secret" in r.getMessage() for r in logs.records)

    async def test_no_lease_no_polling(self, imap_server: DovecotServer, handler: Recorder) -> None:
        uid = imap_server.append(_mail("someone else's"))
        store = MemoryStore(grant=False)
        poller = _poller(_config(imap_server, idle=False), store, handler)

        assert await poller.poll_once() == 0
        async with running(poller):
            poller.wake()
            await store.until(lambda: store.acquire_calls >= 2)
            poller.wake()
            await store.until(lambda: store.acquire_calls >= 3)
            assert handler.raws == []
            assert r"\Seen" not in imap_server.flags(uid)

            store.grant = True  # the other process went away
            poller.wake()
            await handler.until(lambda: len(handler.raws) == 1)


# -- check() and security -------------------------------------------------------------------------


@pytest.mark.dovecot
class TestCheck:
    async def test_describes_the_folder(self, imap_server: DovecotServer) -> None:
        imap_server.append(_mail("a"))
        imap_server.append(_mail("b"))
        poller = _poller(_config(imap_server), MemoryStore(), Recorder())

        description = await poller.check()

        assert description == f"INBOX: 2 messages, UIDVALIDITY {imap_server.uidvalidity()}"

    async def test_bad_password_is_an_auth_error_without_the_password(
        self, imap_server: DovecotServer, logs: LogWatcher
    ) -> None:
        config = _config(imap_server, password="wrong-password")
        poller = _poller(config, MemoryStore(), Recorder())

        with pytest.raises(ImapAuthError) as failure:
            await poller.check()

        message = str(failure.value)
        assert "check mail.imap.username and mail.imap.password" in message
        assert "AUTHENTICATIONFAILED" in message
        assert "s***" in message and "support" not in message
        assert "wrong-password" not in message + repr(config)
        assert not any("wrong-password" in m for m in logs.messages())

    async def test_closed_port_is_a_connection_error(self, imap_server: DovecotServer) -> None:
        poller = _poller(_config(imap_server, port=free_port()), MemoryStore(), Recorder())

        with pytest.raises(ImapConnectionError, match="connection refused"):
            await poller.check()

    async def test_a_folder_with_a_non_ascii_name_is_found(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        """Configured as people write it; the server knows it in modified UTF-7 (created
        here by its hand-encoded name, so the test does not trust our encoder)."""
        with imap_server.connect() as imap:
            typ, data = imap.create('"R&APw-ckfragen &- Beschwerden"')
            assert typ == "OK", data
        imap_server.append(_mail("in a german folder"), folder='"R&APw-ckfragen &- Beschwerden"')
        config = _config(imap_server, folder="Rückfragen & Beschwerden")
        poller = _poller(config, store, handler)
        try:
            await poller.poll_once()
        finally:
            await poller.stop()
        assert [message_from_bytes(raw)["Subject"] for raw in handler.raws] == [
            "in a german folder"
        ]

    async def test_unknown_folder_names_the_setting(self, imap_server: DovecotServer) -> None:
        poller = _poller(_config(imap_server, folder="Nope"), MemoryStore(), Recorder())

        with pytest.raises(ImapError, match=r"check mail\.imap\.folder") as failure:
            await poller.check()
        assert not isinstance(failure.value, ImapAuthError | ImapConnectionError)

    @pytest.mark.parametrize("security", ["starttls", "ssl"])
    async def test_tls_modes_verify_the_certificate_and_poll(
        self, imap_server: DovecotServer, security: str, store: MemoryStore, handler: Recorder
    ) -> None:
        if not imap_server.tls or imap_server.tls_port is None:
            pytest.skip("the test Dovecot has no certificate (openssl missing)")
        port = imap_server.tls_port if security == "ssl" else imap_server.port
        config = _config(imap_server, security=security, port=port)
        imap_server.append(_mail("over tls"))
        poller = _poller(config, store, handler, ssl_context=imap_server.client_ssl_context())

        try:
            description = await poller.check()
            handed_over = await poller.poll_once()
        finally:
            await poller.stop()

        assert description.startswith("INBOX: 1 messages")
        assert handed_over == 1

    @pytest.mark.parametrize("security", ["starttls", "ssl"])
    async def test_untrusted_certificate_is_refused(
        self, imap_server: DovecotServer, security: str
    ) -> None:
        if not imap_server.tls or imap_server.tls_port is None:
            pytest.skip("the test Dovecot has no certificate (openssl missing)")
        port = imap_server.tls_port if security == "ssl" else imap_server.port
        poller = _poller(
            _config(imap_server, security=security, port=port), MemoryStore(), Recorder()
        )

        with pytest.raises(ImapConnectionError, match="certificate is not trusted"):
            await poller.check()  # the default context does not trust a self-signed cert


# -- pure parts -----------------------------------------------------------------------------------


def _aioimaplib_exceptions() -> list[type[BaseException]]:
    return [
        value
        for value in vars(aioimaplib).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]


@pytest.mark.parametrize("cls", _aioimaplib_exceptions(), ids=lambda cls: cls.__name__)
def test_every_aioimaplib_exception_is_translated(cls: type[BaseException]) -> None:
    assert issubclass(cls, TRANSLATED_ERRORS)

    translated = translate_error(cls("reason"), "doing something")

    assert isinstance(translated, ImapError)
    assert str(translated).startswith("doing something: ")


def test_the_aioimaplib_exception_list_is_not_empty() -> None:
    names = {cls.__name__ for cls in _aioimaplib_exceptions()}
    assert {"AioImapException", "Abort", "CommandTimeout"} <= names


@pytest.mark.parametrize(
    ("error", "expected", "says"),
    [
        (ConnectionRefusedError(111, "Connection refused"), ImapConnectionError, "refused"),
        (socket.gaierror(-2, "Name or service not known"), ImapConnectionError, "mail.imap.host"),
        (TimeoutError(), ImapConnectionError, "in time"),
        (ConnectionResetError(104, "Connection reset by peer"), ImapConnectionError, "reset"),
        (ssl.SSLCertVerificationError(1, "verify failed"), ImapConnectionError, "not trusted"),
        (ssl.SSLError(1, "wrong version number"), ImapConnectionError, "TLS failed"),
        (aioimaplib.Abort("unexpected tagged response"), ImapError, "protocol error"),
        (ImapAuthError("already ours"), ImapAuthError, "already ours"),
    ],
)
def test_transport_errors_map_to_the_mail_tree(
    error: BaseException, expected: type[ImapError], says: str
) -> None:
    translated = translate_error(error, "connecting")

    assert type(translated) is expected
    assert says in str(translated)


def test_unknown_errors_are_not_swallowed() -> None:
    with pytest.raises(TypeError, match="not an IMAP transport error"):
        translate_error(KeyError("bug"), "polling")


def test_fetch_parsing_picks_the_requested_uid_among_unsolicited_fetches() -> None:
    lines: list[bytes | bytearray] = [
        b"3 FETCH (FLAGS (\\Seen))",
        b"4 FETCH (UID 12 BODY[] {5}",
        bytearray(b"hello"),
        b")",
        b"Fetch completed.",
    ]

    assert parse_fetched_all(lines) == {12: (b"hello", None)}


def test_fetch_parsing_finds_a_uid_sent_after_the_literal() -> None:
    lines: list[bytes | bytearray] = [
        b"1 FETCH (BODY[] {2}",
        bytearray(b"hi"),
        b" UID 7)",
        b"OK",
    ]

    assert parse_fetched_all(lines) == {7: (b"hi", None)}


def test_fetch_parsing_reads_a_partial_body_and_the_stated_size() -> None:
    lines: list[bytes | bytearray] = [
        b"1 FETCH (UID 7 RFC822.SIZE 52428800 BODY[]<0> {4}",
        bytearray(b"From"),
        b")",
        b"OK",
    ]

    assert parse_fetched_all(lines) == {7: (b"From", 52428800)}
    assert parse_fetched_all([b"1 FETCH (UID 7 BODY[] {2}", bytearray(b"hi"), b")"]) == {
        7: (b"hi", None)
    }


def test_search_parsing_drops_the_highest_uid_that_star_matches_below_the_range() -> None:
    # "UID SEARCH UID 8:*" when the highest UID is 7: the server answers "7".
    assert parse_search([b"7", b"Search completed"], 8) == []
    assert parse_search([b"9 8 10", b"Search completed (0.001 secs)."], 8) == [8, 9, 10]


def test_search_parsing_ignores_untagged_news_arriving_meanwhile() -> None:
    lines = [b"3 EXISTS", b"1 RECENT", b"12 14", b"Search completed"]
    assert parse_search(lines, 1) == [12, 14]


def test_select_parsing_reads_uidnext() -> None:
    status = parse_select(
        "INBOX", [b"[UIDVALIDITY 7] UIDs valid", b"[UIDNEXT 26] Predicted", b"OK"]
    )
    assert status is not None and status.uidnext == 26


def test_select_parsing_reads_uidvalidity_and_exists() -> None:
    lines: list[bytes | bytearray] = [
        b"FLAGS (\\Seen)",
        b"3 EXISTS",
        b"OK [UIDVALIDITY 1234] UIDs valid",
        b"[READ-WRITE] Select completed",
    ]

    status = parse_select("INBOX", lines)

    assert status is not None and (status.uidvalidity, status.exists) == (1234, 3)
    assert parse_select("INBOX", lines[:2]) is None


def test_usernames_are_redacted_for_logs() -> None:
    assert redact_username("support@example.com") == "s***@example.com"
    assert redact_username("support") == "s***"


def test_config_repr_hides_the_password() -> None:
    config = ImapConfig("h", 993, "ssl", "user", "hunter2")

    assert "hunter2" not in repr(config)


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("INBOX", "INBOX"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("Rückfragen & Beschwerden", "R&APw-ckfragen &- Beschwerden"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501's example
        ("😀", "&2D3eAA-"),  # outside the BMP: a UTF-16 surrogate pair
        ("a\tb", "a&AAk-b"),  # control characters are not printable ASCII
    ],
)
def test_mailbox_names_in_modified_utf7(name: str, wire: str) -> None:
    assert encode_mailbox_name(name) == wire


# -- status (for /healthz and /metrics) ------------------------------------------------------


class WallClock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.dovecot
class TestStatus:
    async def test_a_pass_sets_the_time_and_clears_the_error(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder
    ) -> None:
        clock = WallClock()
        poller = _poller(_config(imap_server), store, handler, wall_clock=clock)
        assert (poller.status().state, poller.status().last_poll) == ("starting", None)
        imap_server.append(_mail("one"))
        try:
            assert await poller.poll_once() == 1
            status = poller.status()
            assert (status.state, status.last_poll, status.last_error) == (
                "connected",
                clock.now,
                "",
            )
        finally:
            await poller.stop()
        assert poller.status().state == "stopped"

    async def test_standby_while_another_process_holds_the_lease(
        self, imap_server: DovecotServer, handler: Recorder
    ) -> None:
        poller = _poller(_config(imap_server), MemoryStore(grant=False), handler)
        try:
            assert await poller.poll_once() == 0
            assert (poller.status().state, poller.status().last_poll) == ("standby", None)
        finally:
            await poller.stop()

    async def test_a_refused_login_is_the_last_error_without_the_password(
        self, imap_server: DovecotServer, store: MemoryStore, handler: Recorder, logs: LogWatcher
    ) -> None:
        poller = _poller(_config(imap_server, password="wrong-password"), store, handler)
        async with running(poller):
            await logs.until(lambda: bool(logs.messages("reconnecting")))
            status = poller.status()
        assert (status.state, status.last_poll) == ("disconnected", None)
        assert "mail.imap.password" in status.last_error
        assert "wrong-password" not in status.last_error
