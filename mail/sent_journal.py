"""A record, outside the database, of the mails that may have reached the SMTP server.

A mail is sent when the server answers the end of its DATA; we note that in the article
(`sent_at`) a database round trip later, and a process killed in between used to send it
again after the restart (the same Message-ID, but twice in the customer's inbox). The
journal closes that gap: as soon as the whole mail, end mark included, is in the kernel
(`SmtpSender.send(handed_over=…)`), and before the server's answer is read, a line
"+ <article id> <Message-ID>" is appended to this process's file with one write(2) — no
buffer, no await, and a SIGKILL cannot undo it. When `sent_at` is committed, "= …"
follows; a send that fails while we still run appends "- …". At the next start, `settle`
marks every article whose last line is "+" (in flight when the process died: a handful at
most) as sent, so the outbox's retry finds it sent and does not send it again.

Nothing is lost by it: the line is written only once every byte of the mail is in the
kernel, which still sends them if the process dies. What it does not cover: the few
microseconds between that write and the line, a power cut (no fsync), and a retry by
another host before this one restarts (each host settles only its own files) — there the
mail may go twice, as before. When the bytes cannot be seen to leave (TLS without asyncio's
usual internals), no line is written: at least once, as before.

Files: `<directory>/<host>-<process>.<generation>.journal`, `<process>` new at each start.
A live process holds an exclusive flock(2) on each of its files, which the kernel drops
when it dies, SIGKILL included: at start, the files of this host that nobody holds are a
dead process's, and are settled and removed (replicas sharing the directory, even with
the same pid 1 in their containers, never touch each other's). A file grows to
`max_bytes`, then the next generation starts and the one before the previous is removed
(an in-flight send is always in one of the two kept).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import socket
from collections.abc import Iterable
from pathlib import Path

from models.clock import Clock, system_clock
from models.store.article import Article

logger = logging.getLogger(__name__)

MAX_BYTES = 4 * 1024 * 1024
_SAFE_MESSAGE_ID = re.compile(r"<[\x21-\x7e]{1,990}>")
_FILE = re.compile(r"(?P<process>.+)\.(?P<generation>\d+)\.journal")


def journal_line(sign: str, article_id: int, message_id: str) -> bytes:
    return f"{sign} {article_id} {message_id}\n".encode("ascii")


def may_have_gone(lines: Iterable[bytes]) -> set[tuple[int, str]]:
    """The (article id, Message-ID) pairs whose last complete line says "+": perhaps
    sent, neither recorded ("=") nor failed ("-"). A torn or foreign line is skipped."""
    last: dict[tuple[int, str], str] = {}
    for raw in lines:
        if not raw.endswith(b"\n"):
            continue  # the write(2) a crash cut short
        parts = raw.decode("ascii", "replace").split()
        if len(parts) != 3 or parts[0] not in ("+", "-", "=") or not parts[1].isdigit():
            continue
        last[(int(parts[1]), parts[2])] = parts[0]
    return {key for key, sign in last.items() if sign == "+"}


def host_name() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "host"


def _lock(fd: int) -> bool:
    """An exclusive lock on the file, or False when a live process holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class SentJournal:
    def __init__(self, directory: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self._directory = directory
        self._max_bytes = max_bytes
        self._host = host_name()
        self._process = f"{self._host}-{os.getpid()}-{secrets.token_hex(4)}"
        self._generation = 0
        self._written = 0
        self._fds: dict[int, int] = {}  # generation → open, locked file
        self._in_flight: set[int] = set()  # articles with a "+" and no answer yet

    def path(self, generation: int) -> Path:
        return self._directory / f"{self._process}.{generation}.journal"

    async def settle(self, clock: Clock = system_clock) -> int:
        """Mark as sent what a dead process of this host may have sent; then open our own
        file. Returns how many articles were marked. A directory we cannot use is logged
        and leaves the sends as they were before the journal: at least once."""
        held: list[int] = []
        try:
            leftovers = self._leftovers(held)
            pending: set[tuple[int, str]] = set()
            for files in leftovers.values():  # one process's generations, in order
                pending |= may_have_gone(
                    line for path in files for line in path.read_bytes().splitlines(True)
                )
        except OSError as exc:
            logger.warning("no sent-mail journal in %s: %s", self._directory, exc)
            for fd in held:
                os.close(fd)
            return 0
        marked = 0
        try:
            for article_id, message_id in sorted(pending):
                marked += await Article.filter(
                    id=article_id, message_id=message_id, sent_at=None
                ).update(sent_at=clock())
            for path in (path for files in leftovers.values() for path in files):
                path.unlink(missing_ok=True)
        finally:
            for fd in held:
                os.close(fd)
        if marked:
            logger.warning(
                "%d mails may have reached the SMTP server just before this bot stopped; "
                "they count as sent and are not sent again",
                marked,
            )
        try:
            self._open(0)
        except OSError as exc:
            logger.warning("no sent-mail journal in %s: %s", self._directory, exc)
        return marked

    def _leftovers(self, held: list[int]) -> dict[str, list[Path]]:
        """This host's files that no live process holds, per process, oldest generation
        first; their locks are taken (and their descriptors put in `held`) so that no
        other starting process settles them at the same time."""
        self._directory.mkdir(parents=True, exist_ok=True)
        found: dict[str, list[tuple[int, Path]]] = {}
        for path in self._directory.glob(f"{self._host}-*.journal"):
            match = _FILE.fullmatch(path.name)
            if match is None:
                continue
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            if not _lock(fd):
                os.close(fd)
                continue
            held.append(fd)
            found.setdefault(match["process"], []).append((int(match["generation"]), path))
        return {process: [path for _, path in sorted(files)] for process, files in found.items()}

    def _open(self, generation: int) -> None:
        """A new generation: made and locked under a name no settle reads, then renamed,
        so no other process can take it for a dead one's."""
        path = self.path(generation)
        making = path.with_suffix(".new")
        fd = os.open(making, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        _lock(fd)
        os.rename(making, path)
        self._fds[generation] = fd
        self._generation, self._written = generation, 0
        old = self._fds.pop(generation - 2, None)
        if old is not None:
            self.path(generation - 2).unlink(missing_ok=True)
            os.close(old)

    def sending(self, article_id: int, message_id: str) -> None:
        """The mail is in the kernel, its answer not yet read: must not await."""
        if self._append("+", article_id, message_id):
            self._in_flight.add(article_id)

    def recorded(self, article_id: int, message_id: str) -> None:
        """`sent_at` is committed: the database knows from here on."""
        self._in_flight.discard(article_id)
        self._append("=", article_id, message_id)

    def withdrawn(self, article_id: int, message_id: str) -> None:
        """The send failed after `sending` while we ran: the outbox decides what follows."""
        self._in_flight.discard(article_id)
        self._append("-", article_id, message_id)

    def _append(self, sign: str, article_id: int, message_id: str) -> bool:
        fd = self._fds.get(self._generation)
        if fd is None or not _SAFE_MESSAGE_ID.fullmatch(message_id):
            return False  # not settled (no directory) or an id we cannot write on a line
        line = journal_line(sign, article_id, message_id)
        try:
            os.write(fd, line)
        except OSError:  # a full disk must not stop the mail: it is then at-least-once
            logger.warning("cannot write the sent-mail journal", exc_info=True)
            return False
        self._written += len(line)
        if self._written >= self._max_bytes:
            try:
                self._open(self._generation + 1)
            except OSError:
                logger.warning("cannot start a new sent-mail journal", exc_info=True)
        return True

    def close(self) -> None:
        """At a clean stop with every send answered the files go; otherwise they stay
        (a send cut off by the stop's grace period) for the next start on this host."""
        for generation, fd in self._fds.items():
            if not self._in_flight:
                self.path(generation).unlink(missing_ok=True)
            os.close(fd)
        self._fds.clear()
