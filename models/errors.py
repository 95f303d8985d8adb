"""Errors the domain raises on purpose: one tree, so a caller catches what it means.

    TicketbotError             base: anything models/ raises on purpose
    ├── Refused                the agent may not do this now: a Refusal and its facts
    ├── InvalidValue           a value from outside the domain does not take (a ValueError)
    │   ├── PeriodError        a report period that cannot be understood
    │   └── MinutesOutOfRange  minutes spent outside 0..work.MAX_MINUTES (a day)
    ├── StorageError           attachment storage on disk
    │   ├── UnsafePath         a path that would leave the directory, or a symlink in the way
    │   └── CorruptBlob        a stored file whose bytes no longer match its digest
    ├── DatabaseUnavailable    the database cannot be reached or entered (names it, no password)
    └── DeliveryError          an outbox handler's verdict on one attempt
        ├── RetryLater         failed for now: try again; says whether it may have been done
        └── PermanentFailure   retrying cannot help: the item is given up

Messages are meant for people: an agent (`Refused`, worded by bot/render/), whoever asked
for a report (`PeriodError`), an operator reading the log or the outbox's `last_error`.

The database's own errors (tortoise's `IntegrityError` and friends) are handled where they
happen and are not mapped into this tree: no caller outside models/ needs to tell them
apart (a concurrent insert is resolved in place). The one exception is a database that
cannot be reached at all (refused, unknown host, no such database or role): `models.store.db`
translates that into `DatabaseUnavailable`, so `ticketbot run`, `migrate` and `check` say
so in one line. Map another here when a caller starts to need it.
"""

from __future__ import annotations

from models.events import REFUSAL_FACTS, Refusal


class TicketbotError(Exception):
    """Base class of every error models/ raises on purpose."""


class Refused(TicketbotError):
    """The agent may not do this now: a `Refusal` and its facts (`REFUSAL_FACTS`); the Slack
    side words it."""

    def __init__(self, reason: Refusal, **facts: str) -> None:
        if set(facts) != REFUSAL_FACTS[reason]:
            raise ValueError(f"{reason} takes {sorted(REFUSAL_FACTS[reason])}, not {sorted(facts)}")
        self.reason = reason
        self.facts = facts
        super().__init__(reason.value, facts)


class InvalidValue(TicketbotError, ValueError):
    """A value from outside (a command's argument, a form's field) the domain does not take.

    Also a `ValueError`, as these were before the tree existed."""


class PeriodError(InvalidValue):
    """The period argument cannot be understood; the message says what is accepted."""


class MinutesOutOfRange(InvalidValue):
    """Time spent must be whole minutes between 0 and `maximum`."""

    def __init__(self, minutes: int, maximum: int) -> None:
        super().__init__(f"minutes must be between 0 and {maximum}")
        self.minutes = minutes
        self.maximum = maximum


class StorageError(TicketbotError):
    """Base of the attachment storage errors."""


class UnsafePath(StorageError):
    """The path would leave the storage directory (or a symlink points somewhere else)."""


class CorruptBlob(StorageError):
    """A stored file's bytes no longer hash to its name."""


class DatabaseUnavailable(TicketbotError):
    """The database does not answer or refuses us; the message names it (without its
    password) and says what to check."""


class DeliveryError(TicketbotError):
    """What an outbox handler tells the worker about one failed attempt of an item."""


class RetryLater(DeliveryError):
    """The delivery failed for now; try again after `after` seconds (or the usual backoff).

    `maybe_delivered` says whether the attempt may have been done anyway: False only when
    it certainly was not (the other side answered with a refusal or a rate limit, or
    nothing was sent); an attempt that cannot tell counts as maybe delivered, so a retry
    that could do it twice looks first. The worker stores it as the item's `outcome`.
    `counts` False: the other side said *later*, not *no* (a rate limit, our own pacing):
    the attempt does not count towards giving up.
    """

    def __init__(
        self,
        reason: str,
        after: float | None = None,
        *,
        maybe_delivered: bool = True,
        counts: bool = True,
    ) -> None:
        super().__init__(reason)
        self.after = after
        self.maybe_delivered = maybe_delivered
        self.counts = counts


class PermanentFailure(DeliveryError):
    """Retrying cannot help (e.g. the message was rejected as invalid)."""
