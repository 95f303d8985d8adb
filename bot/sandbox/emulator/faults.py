"""Fault injection and an optional per-channel rate limit, both driven from tests.

A fault fires *before* the call is applied, so a faulted call never changes state — that is
what lets a test prove the bot's retry (outbox) really re-sends. A fault with `after_apply`
is the other, nastier case: Slack did the work but the answer was lost on the way (a 5xx
from a proxy, a timeout), so a blind retry would do it twice. Rules are matched under a lock
because tests add them from their own thread while the server thread consumes them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HTML_500 = "<html><head><title>500 Internal Server Error</title></head><body>oops</body></html>"


@dataclass
class Fault:
    """One rule: which calls it hits, how often, and what it answers instead.

    `status=None` means "no error", so a rule with only `delay` merely slows the call down.
    `error` with `status=200` answers a Slack API error body (e.g. `fatal_error`) on HTTP 200.
    `target` matches a Web API method name, "upload" or "response" (the non-API endpoints).
    `after_apply` (Web API methods only) applies the call first and then answers the fault.
    """

    target: str | None = None
    status: int | None = 429
    retry_after: int | None = None
    error: str | None = None
    body: str | None = None
    content_type: str | None = None
    delay: float = 0.0
    disconnect: bool = False
    times: int | None = 1
    when: Callable[[dict[str, Any]], bool] | None = None
    hits: int = 0
    after_apply: bool = False

    def matches(self, target: str, args: dict[str, Any]) -> bool:
        """True if this rule applies to a call of `target` with `args` and is not used up."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.target not in (None, "*", target):
            return False
        return self.when is None or self.when(args)

    def response_body(self) -> tuple[str, str]:
        """(body, content type) to answer with."""
        if self.body is not None:
            return self.body, self.content_type or "text/html"
        if self.status == 429:
            return '{"ok":false,"error":"ratelimited"}', "application/json"
        if self.error is not None:
            return f'{{"ok":false,"error":"{self.error}"}}', "application/json"
        return HTML_500, "text/html"


class FaultInjector:
    """The list of active fault rules (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(
        self,
        method: str | None = None,
        *,
        status: int | None = 429,
        retry_after: int | None = None,
        error: str | None = None,
        body: str | None = None,
        content_type: str | None = None,
        delay: float = 0.0,
        disconnect: bool = False,
        times: int | None = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
        after_apply: bool = False,
    ) -> Fault:
        """Add a rule; e.g. `add("chat.postMessage", status=429, retry_after=1, times=2)`.

        A 429 without `retry_after` gets `Retry-After: 1`. `times=None` never wears off.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(
            method,
            status,
            retry_after,
            error,
            body,
            content_type,
            delay,
            disconnect,
            times,
            when,
            after_apply=after_apply,
        )
        with self._lock:
            self._rules.append(fault)
        return fault

    def take(self, target: str, args: dict[str, Any]) -> Fault | None:
        """The first live rule for this call, counting the hit."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(target, args):
                    rule.hits += 1
                    return rule
        return None

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Fault]:
        """A snapshot of the rules."""
        with self._lock:
            return list(self._rules)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class ChannelRateLimit:
    """chat.postMessage's ~1 message/s/channel, as a token bucket with a burst; off by default."""

    enabled: bool = False
    per_second: float = 1.0
    burst: int = 3
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enable(self, per_second: float = 1.0, burst: int = 3) -> None:
        """Switch the limit on with a fresh set of buckets."""
        with self._lock:
            self.enabled, self.per_second, self.burst = True, per_second, burst
            self._buckets.clear()

    def disable(self) -> None:
        """Switch the limit off."""
        with self._lock:
            self.enabled = False
            self._buckets.clear()

    def acquire(self, channel: str, now: float) -> int | None:
        """None if a post may go out now, else the Retry-After seconds to answer."""
        with self._lock:
            if not self.enabled:
                return None
            bucket = self._buckets.setdefault(channel, _Bucket(float(self.burst), now))
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_second)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self.per_second))
