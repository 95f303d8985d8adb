"""The ingest socket: `ticketbot ingest` hands raw mail to the running bot (bot/app/pipe.py).

Who may connect is decided by the file system, as for PostgreSQL's Unix socket: the
socket gets `ingest.socket_mode` (default 0600: the bot's own user) and
`ingest.socket_group`, set before it listens, so no peer ever sees a wider mode. A peer
that may connect is trusted to send mail, nothing more: what it sends is bounded like
any mail from the internet. The header must be one JSON line of at most
`MAX_HEADER_BYTES`, the mail at most `mail.limits.max_message_bytes`, and both must
arrive within `READ_SECONDS`; anything else is refused with a line saying why, logged
at most once a minute, and the connection closed. A peer that hangs up before its mail
is complete stores nothing. A complete mail goes through the same `store` as mail from
IMAP (the runtime's `receive`), and the answer is written only after it is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import socket
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.app.pipe import MAX_HEADER_BYTES, BadRequest, encode_answer, parse_request
from bot.app.web import RefusalLog

logger = logging.getLogger(__name__)

# (raw, whole size, name) → the outcome line, or None when it could not be stored now.
Store = Callable[[bytes, int, str], Awaitable[str | None]]

READ_SECONDS = 60.0  # header and mail together; a local MTA sends 25 MiB in well under 1 s
MAX_IN_FLIGHT = 8  # mails read or stored at once (memory: each may hold the size limit)
STREAM_LIMIT = 64 * 1024  # the reader's buffer; the header itself is checked against less
CLOSE_SECONDS = 10.0  # on shutdown, how long mails in hand may take to be stored


class PipeServer:
    """Listens on a Unix socket while the bot runs; `start` and `close` from the runtime."""

    def __init__(
        self,
        path: str,
        store: Store,
        *,
        max_bytes: int,
        mode: int = 0o600,
        group: str = "",
        read_seconds: float = READ_SECONDS,
    ) -> None:
        self.path = Path(path)
        self._store = store
        self._max_bytes = max_bytes
        self._mode = mode
        self._group = group
        self._read_seconds = read_seconds
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._server: asyncio.AbstractServer | None = None
        self._inode: int | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._refusals = RefusalLog(
            endpoint=f"the ingest socket {path}",
            hint="`ticketbot ingest` never sends such requests; check what connects to it",
            log=logger,
        )

    async def start(self) -> bool:
        """Listen; False when another live process already answers on the path (it takes
        the piped mail then). `OSError` when the socket cannot be made (its message names
        the path)."""
        if await self._taken():
            logger.warning(
                "another process answers on the ingest socket %s; this one does not listen "
                "(set ingest.socket to a path of its own)",
                self.path,
            )
            return False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            sock.bind(str(self.path))
            # Mode and group before listen(): until then a connect is refused anyway.
            os.chmod(self.path, self._mode)
            if self._group:
                os.chown(self.path, -1, _gid(self._group))
            self._inode = os.stat(self.path).st_ino
            self._server = await asyncio.start_unix_server(
                self._accept, sock=sock, limit=STREAM_LIMIT
            )
        except OSError as exc:  # the socket's own errors do not name the path
            sock.close()
            raise OSError(f"ingest.socket {self.path}: {exc.strerror or exc}") from None
        except BaseException:
            sock.close()
            raise
        return True

    async def _taken(self) -> bool:
        """Whether a live process listens on the path; a stale socket file is removed, any
        other file is left alone and refused."""
        try:
            mode = os.lstat(self.path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return False  # nothing there (a directory in the way: start says so)
        if not stat.S_ISSOCK(mode):
            raise OSError(
                f"ingest.socket {self.path} exists and is no socket; "
                "remove it or choose another path"
            )
        try:
            _, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.path), 2.0)
        except (ConnectionRefusedError, FileNotFoundError):
            self.path.unlink(missing_ok=True)  # left by a process that is gone
            return False
        except TimeoutError:  # listening, but too busy to accept
            return True
        except OSError as exc:
            raise OSError(
                f"ingest.socket {self.path} exists and cannot be tried ({exc.strerror}); "
                "remove it if no ticketbot uses it"
            ) from None
        writer.close()
        return True

    async def close(self) -> None:
        """Stop listening, remove the socket (if it is still ours), let mails in hand finish."""
        if self._server is None:
            return
        self._server.close()
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._inode:
                self.path.unlink()
        if self._handlers:
            _, pending = await asyncio.wait(self._handlers, timeout=CLOSE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            async with self._slots:
                answer = await self._serve(reader)
            if answer is not None:
                writer.write(answer)
                await asyncio.wait_for(writer.drain(), self._read_seconds)
        except (OSError, TimeoutError):
            pass  # the client went away before its answer: the mail, if complete, is stored
        except Exception:
            logger.exception("ingest socket: unexpected error; the connection is closed")
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader) -> bytes | None:
        """Read one request within the bounds and store its mail; the answer line, or None
        when the peer left first."""
        try:
            async with asyncio.timeout(self._read_seconds):
                request = parse_request(await reader.readuntil(b"\n"), self._max_bytes)
                raw = await reader.readexactly(request.length)
        except asyncio.IncompleteReadError as exc:  # hung up mid-header or mid-mail
            if exc.partial:
                logger.info("ingest socket: the client left after %d bytes", len(exc.partial))
            return None
        except asyncio.LimitOverrunError:
            return self._refuse(f"the header is over {MAX_HEADER_BYTES} bytes", STREAM_LIMIT)
        except TimeoutError:
            return self._refuse(f"it did not send its mail within {self._read_seconds:g} s", 0)
        except BadRequest as exc:
            return self._refuse(str(exc), 0)
        outcome = await self._store(raw, request.size, request.name)
        if outcome is None:
            return encode_answer("retry", "the database does not answer; try again later")
        return encode_answer("stored", outcome)

    def _refuse(self, why: str, size: int) -> bytes:
        self._refusals.refused(why, size)
        return encode_answer("refused", why)


def _gid(group: str) -> int:
    """`ingest.socket_group` as a group id: a number, or a name known to the system."""
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise OSError(f"ingest.socket_group: no group named {group!r} on this system") from None
