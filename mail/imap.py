"""The IMAP poller: hands every new message of one folder to the handler exactly once.

Progress is kept by UID: the store remembers the folder's UIDVALIDITY and the last
UID handled, so a restart neither misses nor repeats mail. Messages are fetched
several per round trip (bounded in count and bytes) and handed over one by one in
UID order; those stored are marked \\Seen and recorded together after the batch, or
before the error when the handler raises: the pass stops there and the same message
comes again next pass. The handler de-duplicates, which makes a UIDVALIDITY reset
(refetch everything) safe.

Between passes the poller waits for an IDLE push (when the server offers IDLE and
`idle` is on), a `wake()`, or `poll_seconds`. Connection and protocol errors end the
connection; it is re-opened after an exponential, capped and jittered backoff, with
one log line per failure. Only the process holding the store's lease polls.
`status()` says how it is doing, for /healthz and /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from mail.errors import ImapError, MailError, MessageHandlerError
from mail.imap_client import Fetched, ImapClient, Security
from mail.imap_wire import MailboxStatus, redact_username

__all__ = [
    "BatchHandler",
    "ImapConfig",
    "ImapPoller",
    "MailboxStore",
    "MessageHandler",
    "PolledMessage",
    "PollerStatus",
]

logger = logging.getLogger(__name__)

# Servers may drop a session idle for 30 minutes (RFC 3501 5.4), so IDLE is renewed before.
_MAX_IDLE_SECONDS = 29 * 60
#: UIDs whose sizes are asked in one command.
SIZE_BATCH = 500
#: One FETCH brings at most this many messages and (unless one message alone is bigger)
#: this many bytes: round trips are few, and memory stays bounded whatever waits.
FETCH_BATCH = 50
FETCH_BATCH_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ImapConfig:
    """`mail.imap` from app.yaml. The password is kept out of repr() and so out of logs."""

    host: str
    port: int
    security: Security
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    poll_seconds: float = 30
    idle: bool = True


class MailboxStore(Protocol):
    """Where the poller's progress and lease live (the database, in production)."""

    async def load(self, mailbox: str) -> tuple[int | None, int]:
        """(uidvalidity, last UID handled); (None, 0) for a mailbox never seen."""
        ...

    async def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None: ...

    async def acquire(self, mailbox: str, owner: str, ttl_seconds: float) -> bool:
        """Take or renew the lease on `mailbox` for `ttl_seconds`; True if `owner` holds it."""
        ...


@dataclass(frozen=True, slots=True)
class PolledMessage:
    """One fetched message and where it came from.

    `raw` holds at most the poller's `max_bytes`; `size` is what the server says the
    whole message has, so a handler can tell a cut-off mail from a complete one.
    """

    raw: bytes
    size: int
    uid: int
    uidvalidity: int
    mailbox: str

    @property
    def truncated(self) -> bool:
        return self.size > len(self.raw)

    @property
    def identity(self) -> str:
        """Names this message for good: the same mail fetched again has the same identity."""
        return f"{self.mailbox}/{self.uidvalidity}/{self.uid}"


MessageHandler = Callable[[PolledMessage], Awaitable[None]]
"""Stores and commits one message; raises when it could not (the message is retried)."""

BatchHandler = Callable[[Sequence[PolledMessage]], Awaitable[tuple[int, BaseException | None]]]
"""Stores and commits a FETCH batch at once: (how many of its first messages are stored,
why the next one is not, if it is not). Those after a refused one are handed over again."""

PollerState = Literal["starting", "connected", "disconnected", "standby", "stopped"]


@dataclass(frozen=True, slots=True)
class PollerStatus:
    """How the poller is doing: `standby` while another process holds the mailbox's lease;
    `last_poll` is the Unix time its last pass finished; `last_error` is the last failure's
    line (as logged; no password, the username redacted), "" once a pass succeeds."""

    state: PollerState
    last_poll: float | None
    last_error: str


def fetch_batches(
    uids: Sequence[int], sizes: Mapping[int, int], max_bytes: int | None
) -> list[list[int]]:
    """`uids` in order, cut into FETCH batches by count and bytes (`max_bytes` of a message
    at most); a UID without a size (gone meanwhile) rides along, costing nothing."""
    batches: list[list[int]] = []
    batch: list[int] = []
    weight = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        size = size if max_bytes is None else min(size, max_bytes)
        if batch and (len(batch) >= FETCH_BATCH or weight + size > FETCH_BATCH_BYTES):
            batches.append(batch)
            batch, weight = [], 0
        batch.append(uid)
        weight += size
    if batch:
        batches.append(batch)
    return batches


class ImapPoller:
    """Polls one folder forever (`run`), or once (`poll_once`), or just checks it (`check`)."""

    def __init__(
        self,
        config: ImapConfig,
        store: MailboxStore,
        handle: MessageHandler,
        *,
        owner: str,
        backoff_max: float = 60.0,
        backoff_initial: float = 1.0,
        lease_seconds: float | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        max_bytes: int | None = None,
        wall_clock: Callable[[], float] = time.time,
        handle_batch: BatchHandler | None = None,
    ) -> None:
        """`handle_batch`, when given, takes each FETCH batch whole instead of `handle`
        taking its messages one by one."""
        self._config = config
        self._store = store
        self._handle = handle
        self._handle_batch = handle_batch
        self._owner = owner
        self._backoff_max = backoff_max
        self._backoff_initial = min(backoff_initial, backoff_max)
        # Renewed every pass and during long batches; outlives the wait between passes.
        self._lease_seconds = lease_seconds or max(3 * config.poll_seconds, 60.0)
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._max_bytes = max_bytes  # fetch no more of one message than this
        self.mailbox_key = f"{config.username}@{config.host}:{config.port}/{config.folder}"
        self._label = (
            f"{redact_username(config.username)}@{config.host}:{config.port}/{config.folder}"
        )
        self._client: ImapClient | None = None
        self._wake = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._lease_held: bool | None = None
        self._lease_renewed_at = 0.0
        self._wall_clock = wall_clock
        self._last_poll: float | None = None
        self._last_error = ""
        #: Messages found by the pass in progress and not handed over yet (0 between passes).
        self.backlog = 0

    def status(self) -> PollerStatus:
        state: PollerState
        if self._stop_requested.is_set():
            state = "stopped"
        elif self._lease_held is False:
            state = "standby"
        elif self._client is not None and self._client.is_connected:
            state = "connected"
        elif self._last_poll is None and not self._last_error:
            state = "starting"
        else:
            state = "disconnected"
        return PollerStatus(state, self._last_poll, self._last_error)

    def wake(self) -> None:
        """Ask for a pass now (ends a wait or IDLE early; does not cut a backoff short)."""
        self._wake.set()

    async def run(self) -> None:
        """Poll until `stop()`; errors are logged and retried, never raised."""
        if self._loop_task is not None:
            raise RuntimeError("ImapPoller.run() is already running")
        if self._stop_requested.is_set():
            return  # stopped before it started: a stopped poller stays stopped
        task = asyncio.create_task(self._run_loop(), name=f"imap poller {self._label}")
        self._loop_task = task
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            # stop() had to cancel a stuck loop: that is still a normal end of run().
        finally:
            self._loop_task = None

    async def stop(self) -> None:
        """Leave IDLE, log out and make `run()` return; a stopped poller cannot run again."""
        self._stop_requested.set()
        self._wake.set()
        task = self._loop_task
        if task is None:
            await self._disconnect()
            return
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if not done:
            logger.warning("IMAP %s: poller did not stop in time; cancelling it", self._label)
            task.cancel()
            await asyncio.wait({task})

    async def poll_once(self) -> int:
        """One pass: hand over every new message; returns how many were handed over.

        Raises MessageHandlerError when the handler fails (that message stays unseen
        and is retried) and ImapError subclasses for server trouble. Not for use while
        `run()` is active: call `wake()` then.
        """
        if self._loop_task is not None:
            raise RuntimeError("ImapPoller.run() is active; call wake() instead of poll_once()")
        if not await self._hold_lease():
            return 0
        return await self._poll()

    async def check(self) -> str:
        """Connect, log in and open the folder on a fresh connection; describe what is there."""
        client = await self._open_client()
        try:
            status = await client.select(self._config.folder)
        finally:
            await client.logout()
        return f"{status.folder}: {status.exists} messages, UIDVALIDITY {status.uidvalidity}"

    # -- the loop ------------------------------------------------------------------------------

    async def _run_loop(self) -> None:
        failures = 0
        try:
            while not self._stop_requested.is_set():
                self._wake.clear()  # a wake() from now on asks for one more pass
                try:
                    if await self._hold_lease():
                        await self._poll()
                        failures = 0
                        await self._wait_for_mail()
                    else:
                        await self._disconnect()
                        await self._pause(self._config.poll_seconds)
                except MessageHandlerError as exc:
                    failures += 1
                    delay = self._backoff(failures)
                    self._last_error = str(exc)
                    self._log_handler_failure(exc, failures, delay)
                    await self._pause(delay, wakeable=False)
                except MailError as exc:
                    failures += 1
                    delay = self._backoff(failures)
                    self._last_error = str(exc)
                    logger.warning(
                        "IMAP %s: %s; reconnecting in %.1fs (failure %d)",
                        self._label,
                        exc,
                        delay,
                        failures,
                    )
                    await self._disconnect()
                    await self._pause(delay, wakeable=False)
                except Exception as exc:
                    failures += 1
                    delay = self._backoff(failures)
                    self._last_error = f"unexpected {type(exc).__name__}"
                    logger.exception(
                        "IMAP %s: unexpected error; reconnecting in %.1fs", self._label, delay
                    )
                    await self._disconnect()
                    await self._pause(delay, wakeable=False)
        finally:
            await self._disconnect()

    def _log_handler_failure(self, exc: MessageHandlerError, failures: int, delay: float) -> None:
        if failures == 1:  # the traceback once per streak, then one line per retry
            logger.error(
                "IMAP %s: %s; retrying in %.1fs", self._label, exc, delay, exc_info=exc.__cause__
            )
        else:
            logger.warning(
                "IMAP %s: %s (%s); retrying in %.1fs (failure %d)",
                self._label,
                exc,
                exc.__cause__,
                delay,
                failures,
            )

    async def _wait_for_mail(self) -> None:
        """Wait for an IDLE push, a wake() or poll_seconds, whichever comes first."""
        client = self._client
        seconds = self._config.poll_seconds
        if self._config.idle and client is not None and client.has_idle:
            await client.idle(min(seconds, _MAX_IDLE_SECONDS), self._wake)
        else:
            await self._pause(seconds)

    async def _pause(self, seconds: float, *, wakeable: bool = True) -> None:
        event = self._wake if wakeable else self._stop_requested
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    def _backoff(self, failures: int) -> float:
        """Exponential from backoff_initial, capped at backoff_max, jittered to 50-100 %."""
        ceiling = min(self._backoff_max, self._backoff_initial * 2.0 ** min(failures - 1, 32))
        return ceiling * (0.5 + random.random() / 2)  # jitter, not crypto

    # -- one pass ------------------------------------------------------------------------------

    async def _poll(self) -> int:
        """Hand over new messages in UID order; the connection is dropped on IMAP errors."""
        try:
            client = await self._connected()
            status = await client.select(self._config.folder)
            last_uid = await self._start_uid(client, status)
            count = 0
            uids = await client.uids_from(last_uid + 1)
            self.backlog = len(uids)
            for start in range(0, len(uids), SIZE_BATCH):
                chunk = uids[start : start + SIZE_BATCH]
                sizes = await client.sizes(chunk)
                for batch in fetch_batches(chunk, sizes, self._max_bytes):
                    if self._stop_requested.is_set() or not await self._renew_lease_if_due():
                        self._last_poll, self._last_error = self._wall_clock(), ""
                        return count
                    count += await self._hand_over(client, status, batch)
                    self.backlog -= len(batch)
            self._last_poll, self._last_error = self._wall_clock(), ""
            return count
        except ImapError:
            await self._disconnect()
            raise
        finally:
            self.backlog = 0

    async def _start_uid(self, client: ImapClient, status: MailboxStatus) -> int:
        """The last UID handled. A folder new to us starts at its first unread message, so
        pointing ticketbot at a long-lived inbox does not ticket (and answer) its archive;
        after a UIDVALIDITY change everything is fetched again and de-duplicated."""
        stored_validity, last_uid = await self._store.load(self.mailbox_key)
        if stored_validity == status.uidvalidity:
            return last_uid
        if stored_validity is not None:
            logger.warning(
                "IMAP %s: UIDVALIDITY changed from %d to %d; fetching all messages again "
                "(already stored ones are recognised as duplicates)",
                self._label,
                stored_validity,
                status.uidvalidity,
            )
            start = 0
        else:
            first_unseen = await client.first_unseen_uid()
            if first_unseen is not None:
                start = first_unseen - 1
            elif status.uidnext is not None:  # mail arriving from now on gets UIDNEXT or more
                start = status.uidnext - 1
            else:
                start = max(await client.uids_from(1), default=0)
            if start:
                logger.info(
                    "IMAP %s: first contact; read messages up to UID %d are left alone",
                    self._label,
                    start,
                )
        await self._store.save(self.mailbox_key, status.uidvalidity, start)
        return start

    async def _hand_over(self, client: ImapClient, status: MailboxStatus, uids: list[int]) -> int:
        """One round trip fetches `uids`; each goes to the handler in order; those handled are
        marked \\Seen and recorded together, also when the handler fails on a later one."""
        fetched = await client.fetch_many(uids, self._max_bytes)
        if self._handle_batch is not None:
            return await self._hand_over_batch(client, status, uids, fetched)
        handled: list[int] = []
        done = 0  # the last UID we are finished with (handled, or gone)
        for uid in uids:
            found = fetched.get(uid)
            if found is None:
                logger.warning("IMAP %s: UID %d vanished before it was fetched", self._label, uid)
                done = uid
                continue
            message = PolledMessage(
                found.raw, found.size, uid, status.uidvalidity, self.mailbox_key
            )
            try:
                await self._handle(message)
            except Exception as exc:
                if done:
                    await self._finish(client, status, handled, done)
                raise MessageHandlerError(
                    f"message handler failed for UID {uid}; it stays unseen and is retried",
                    uid=uid,
                ) from exc
            handled.append(uid)
            done = uid
        if done:
            await self._finish(client, status, handled, done)
        return len(handled)

    async def _hand_over_batch(
        self,
        client: ImapClient,
        status: MailboxStatus,
        uids: list[int],
        fetched: Mapping[int, Fetched],
    ) -> int:
        """The whole batch to `handle_batch`; what it stored is marked \\Seen and recorded,
        and the pass stops at the first message it did not store (retried next pass)."""
        assert self._handle_batch is not None
        messages = [
            PolledMessage(found.raw, found.size, uid, status.uidvalidity, self.mailbox_key)
            for uid in uids
            if (found := fetched.get(uid)) is not None
        ]
        for uid in uids:
            if uid not in fetched:
                logger.warning("IMAP %s: UID %d vanished before it was fetched", self._label, uid)
        try:
            count, error = await self._handle_batch(messages)
        except Exception as exc:
            count, error = 0, exc
        handled = [message.uid for message in messages[:count]]
        if error is None and count < len(messages):
            error = RuntimeError("the batch handler stopped early")
        if error is not None and count < len(messages):
            failed = messages[count].uid
            done = max((uid for uid in uids if uid < failed), default=0)
            if done:
                await self._finish(client, status, handled, done)
            raise MessageHandlerError(
                f"message handler failed for UID {failed}; it stays unseen and is retried",
                uid=failed,
            ) from error
        if uids:
            await self._finish(client, status, handled, uids[-1])
        return len(handled)

    async def _finish(
        self, client: ImapClient, status: MailboxStatus, handled: list[int], done: int
    ) -> None:
        """Stored mail is marked \\Seen, then the store remembers how far we got. A crash
        before this hands the same mails over again: the handler recognises them."""
        if handled:
            await client.mark_seen(handled)
        await self._store.save(self.mailbox_key, status.uidvalidity, done)

    # -- lease and connection ------------------------------------------------------------------

    async def _hold_lease(self) -> bool:
        held = await self._store.acquire(self.mailbox_key, self._owner, self._lease_seconds)
        self._lease_renewed_at = asyncio.get_running_loop().time()
        if held != self._lease_held:
            if held:
                logger.info("IMAP %s: polling as %s", self._label, self._owner)
            else:
                logger.info("IMAP %s: another process polls this mailbox; standing by", self._label)
            self._lease_held = held
        return held

    async def _renew_lease_if_due(self) -> bool:
        """During a long batch, renew the lease before a third of its lifetime is gone."""
        elapsed = asyncio.get_running_loop().time() - self._lease_renewed_at
        if elapsed < self._lease_seconds / 3:
            return True
        return await self._hold_lease()

    async def _connected(self) -> ImapClient:
        if self._client is not None and self._client.is_connected:
            return self._client
        await self._disconnect()
        self._client = await self._open_client()
        logger.info(
            "IMAP %s: connected (%s)",
            self._label,
            "IDLE available" if self._client.has_idle else "no IDLE, polling",
        )
        return self._client

    async def _open_client(self) -> ImapClient:
        config = self._config
        client = await ImapClient.connect(
            config.host,
            config.port,
            config.security,
            ssl_context=self._ssl_context,
            command_seconds=self._timeout,
        )
        try:
            await client.login(config.username, config.password)
        except BaseException:
            await client.abort()
            raise
        return client

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.logout()
