"""What the work in hand is about, for log lines: the ticket number, the mail's Message-ID.

One context variable, so concurrent tasks (the poller, outbox deliveries, Slack requests)
each carry their own facts. A unit of work opens a `log_scope()`; `bind()` adds facts as
they become known inside it (the Message-ID once the mail is read, the ticket number once
it is stored), and they end with the scope. The process's log formatter (bot/app/logs.py)
writes them into every line; nothing here knows how logs look.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

Fact = str | int | None

_EMPTY: Mapping[str, str] = MappingProxyType({})
_facts: ContextVar[Mapping[str, str]] = ContextVar("ticketbot_log_facts", default=_EMPTY)


def _merged(facts: Mapping[str, Fact]) -> Mapping[str, str]:
    """The current facts with `facts` added; None and "" leave a fact out."""
    merged = dict(_facts.get())
    for key, value in facts.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return MappingProxyType(merged)


@contextmanager
def log_scope(**facts: Fact) -> Iterator[None]:
    """Facts for the log lines of one unit of work (a mail, an outbox item); whatever is
    bound inside ends with it."""
    token = _facts.set(_merged(facts))
    try:
        yield
    finally:
        _facts.reset(token)


def bind(**facts: Fact) -> None:
    """Add facts to the current scope (call it inside a `log_scope`, or they outlive the work)."""
    _facts.set(_merged(facts))


def current() -> Mapping[str, str]:
    """The facts of the work in hand (read-only)."""
    return _facts.get()
