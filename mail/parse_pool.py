"""Pre-started parse workers with a time and a memory budget per mail.

Parsing, HTML conversion, quote trimming and TNEF unpacking of a stranger's
mail run in `mail.parse_worker` processes (SPEC "Hostile mail"): the event
loop only writes the raw bytes to a pipe and awaits the answer. A worker past
`parse_seconds`, out of memory or dead is killed and replaced, and the mail is
read again from its headers alone; if even that fails, it is kept as an
unreadable mail. Either way the caller gets a `ParsedMail`, never an
exception, and the mail becomes a ticket marked "could not be read fully".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import pickle
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from mail.limits import ParseLimits
from mail.parse import empty_mail
from mail.parse_worker import FRAME_HEADER, MAX_FRAME_SLACK, frame
from mail.parsed import ParsedMail

__all__ = ["ParsePool", "ParseResult"]

logger = logging.getLogger(__name__)

#: Time a worker may take to start (import the parser) before it counts as broken.
START_SECONDS = 60.0
#: Budget of the second, headers-only read after a full parse failed (bounded work:
#: at most 64 KiB of header block).
HEADERS_SECONDS = 2.0
#: A worker whose memory high-water mark passed this is replaced after its job: the
#: next mail should not inherit a bloated process.
RECYCLE_RSS_KB = 384 * 1024
RECYCLE_JOBS = 1000
#: A worker whose pipe closed is dying: this long to learn its exit status before SIGKILL.
DYING_SECONDS = 1.0
#: An answer holds the mail and its attachments, never much more than the mail.
ANSWER_FACTOR = 3
READ_BUFFER = 1024 * 1024
WORKER_COMMAND = (sys.executable, "-m", "mail.parse_worker")
UNREADABLE_SUBJECT = "(unreadable message)"
UNREADABLE_TEXT_BYTES = 4000


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The parsed mail, what to show of it in Slack, and what reading it cost.

    `display_text` is the text with quotes and signature trimmed (None when nothing
    was trimmed). `failure` says why the full parse did not deliver ("timeout",
    "memory", "crash: …"), None when it did; the mail's `incomplete` says it in words.
    """

    mail: ParsedMail
    display_text: str | None
    seconds: float
    peak_rss_kb: int
    failure: str | None = None


class WorkerFailed(Exception):
    """A worker did not answer a job: out of time, out of memory, or dead."""

    def __init__(self, kind: str, seconds: float, peak_rss_kb: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.seconds = seconds
        self.peak_rss_kb = peak_rss_kb


class _Worker:
    """One `mail.parse_worker` process and the two ends of its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.jobs = 0

    @classmethod
    async def start(cls, limits: ParseLimits, command: Sequence[str]) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            *command,
            json.dumps(asdict(limits)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=READ_BUFFER,
        )
        worker = cls(process)
        try:
            async with asyncio.timeout(START_SECONDS):
                hello = await worker.read_answer(1024 * 1024)
        except BaseException:
            await worker.kill()
            raise
        if not (isinstance(hello, tuple) and hello[:1] == ("ready",)):
            await worker.kill()
            raise RuntimeError(f"parse worker answered {hello!r} instead of ready")
        return worker

    async def read_answer(self, limit: int) -> object:
        stdout = self.process.stdout
        assert stdout is not None
        (length,) = FRAME_HEADER.unpack(await stdout.readexactly(FRAME_HEADER.size))
        if length > limit:
            raise ValueError(f"parse worker answer of {length} bytes is over {limit}")
        data = await stdout.readexactly(length)
        return pickle.loads(data)

    async def run(self, job: bytes, seconds: float, answer_limit: int) -> object:
        stdin = self.process.stdin
        assert stdin is not None
        self.jobs += 1
        async with asyncio.timeout(seconds):
            stdin.write(job)
            await stdin.drain()
            return await self.read_answer(answer_limit)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def kill(self, grace: float = 0.0) -> None:
        """SIGKILL, after `grace` seconds for a worker that is ending anyway (its exit
        status tells why it died)."""
        if grace and self.process.returncode is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self.process.wait()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await self.process.wait()

    async def close(self) -> None:
        """End of input: the worker leaves its loop; killed if it does not within a second."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            async with asyncio.timeout(1.0):
                await self.process.wait()
        except TimeoutError:
            await self.kill()


class ParsePool:
    """`workers` parse processes, started before the first mail and reused.

    One mail occupies one worker; with more mails than workers the rest wait. Use
    `async with ParsePool(limits) as pool:` or `start()`/`close()`.
    """

    def __init__(
        self,
        limits: ParseLimits,
        *,
        workers: int = 1,
        command: Sequence[str] = WORKER_COMMAND,
    ) -> None:
        if workers < 1:
            raise ValueError("a parse pool needs at least one worker")
        self._limits = limits
        self._size = workers
        self._command = tuple(command)
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._starting: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def limits(self) -> ParseLimits:
        return self._limits

    async def __aenter__(self) -> ParsePool:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        workers = await asyncio.gather(
            *(_Worker.start(self._limits, self._command) for _ in range(self._size))
        )
        for worker in workers:
            self._all.add(worker)
            self._idle.put_nowait(worker)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._starting):
            task.cancel()
        await asyncio.gather(*self._starting, return_exceptions=True)
        await asyncio.gather(*(worker.close() for worker in list(self._all)))
        self._all.clear()

    async def parse(self, raw: bytes, *, headers_only: str | None = None) -> ParseResult:
        """The mail read as far as the budget allows; never raises for any `raw`.

        `headers_only`: read only the header block, for this reason (a mail over the
        size limit).
        """
        if headers_only is not None:
            return await self._headers(raw, headers_only, None)
        try:
            return await self._job(raw, None, self._limits.parse_seconds)
        except WorkerFailed as failure:
            reason = self._describe(failure)
            logger.warning("a %d-byte mail could not be parsed in full: %s", len(raw), reason)
            return await self._headers(raw, reason, failure)

    async def _headers(self, raw: bytes, reason: str, failure: WorkerFailed | None) -> ParseResult:
        try:
            result = await self._job(raw, reason, HEADERS_SECONDS)
        except WorkerFailed as second:
            logger.warning("the headers of a %d-byte mail could not be read: %s", len(raw), second)
            result = await self._unreadable(raw, reason)
        if failure is None:
            return result
        return replace(
            result,
            failure=failure.kind,
            seconds=failure.seconds + result.seconds,
            peak_rss_kb=max(failure.peak_rss_kb, result.peak_rss_kb),
        )

    def _describe(self, failure: WorkerFailed) -> str:
        limits = self._limits
        if failure.kind == "timeout":
            return (
                f"reading it took longer than {limits.parse_seconds:g} s "
                "(mail.limits.parse_seconds)"
            )
        if failure.kind == "memory":
            return (
                f"reading it needed more than {limits.parse_memory_mb} MB of memory "
                "(mail.limits.parse_memory_mb)"
            )
        return f"the parser failed on it ({failure.kind})"

    async def _job(self, raw: bytes, reason: str | None, seconds: float) -> ParseResult:
        worker = await self._take()
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer_limit = ANSWER_FACTOR * len(raw) + MAX_FRAME_SLACK
        try:
            answer = await worker.run(frame((reason, bytes(raw))), seconds, answer_limit)
        except TimeoutError:
            await self._replace(worker)
            raise WorkerFailed("timeout", loop.time() - started) from None
        except (asyncio.IncompleteReadError, ConnectionError):
            await self._replace(worker, grace=DYING_SECONDS)
            code = worker.process.returncode
            raise WorkerFailed(_death(code), loop.time() - started) from None
        except (ValueError, pickle.PickleError, EOFError, AttributeError, ImportError):
            await self._replace(worker)  # a frame we cannot read: the worker is not sane
            raise WorkerFailed("crash: malformed answer", loop.time() - started) from None
        except BaseException:
            await self._replace(worker)  # cancelled mid-job: the worker's state is unknown
            raise
        if not isinstance(answer, tuple) or answer[0] not in ("ok", "error"):
            await self._replace(worker)
            raise WorkerFailed("crash: malformed answer", loop.time() - started)
        if answer[0] == "error":
            _, kind, used, rss = answer
            await self._replace(worker)
            raise WorkerFailed(str(kind), float(used), int(rss))
        _, mail, display, used, rss = answer
        await self._give_back(worker, int(rss))
        return ParseResult(mail, display, float(used), int(rss))

    async def _take(self) -> _Worker:
        if self._closed:
            raise RuntimeError("the parse pool is closed")
        while True:
            worker = await self._idle.get()
            if worker.alive:
                return worker
            await self._replace(worker)

    async def _give_back(self, worker: _Worker, peak_rss_kb: int) -> None:
        if peak_rss_kb > RECYCLE_RSS_KB or worker.jobs >= RECYCLE_JOBS:
            await self._replace(worker, kill=False)
        else:
            self._idle.put_nowait(worker)

    async def _replace(self, worker: _Worker, *, kill: bool = True, grace: float = 0.0) -> None:
        """Retire `worker` and start its successor in the background."""
        self._all.discard(worker)
        if kill:
            await worker.kill(grace)
        else:
            await worker.close()
        if not self._closed:
            task = asyncio.create_task(self._start_one(), name="parse worker start")
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    async def _start_one(self) -> None:
        delay = 0.5
        while not self._closed:
            try:
                worker = await _Worker.start(self._limits, self._command)
            except Exception:
                logger.exception("could not start a parse worker; retrying in %.0fs", delay)
                await asyncio.sleep(delay)  # a back-off between attempts, not a synchronisation
                delay = min(delay * 2, 30.0)
                continue
            if self._closed:
                await worker.close()
                return
            self._all.add(worker)
            self._idle.put_nowait(worker)
            return

    async def _unreadable(self, raw: bytes, reason: str) -> ParseResult:
        """Nothing could be read: the raw mail is still kept and becomes a ticket."""
        # Not content_digest: on 25 MB it holds the GIL for a tenth of a second, and a mail
        # that broke two workers is rarely seen again (sha256 releases the GIL).
        digest = await asyncio.to_thread(lambda: hashlib.sha256(raw).hexdigest())
        mail = empty_mail(digest, [f"could not be read: {reason}"])
        text = raw[:UNREADABLE_TEXT_BYTES].decode("utf-8", "replace").replace("\x00", "")
        mail = replace(mail, subject=UNREADABLE_SUBJECT, text=text, incomplete=reason)
        return ParseResult(mail, None, 0.0, 0)


def _death(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        return f"crash: killed by signal {-returncode}"
    return f"crash: exit status {returncode}"
