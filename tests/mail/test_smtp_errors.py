"""Every aiosmtplib error has a decided outcome: temporary (the outbox retries the mail) or
permanent (the mail is given up). A new aiosmtplib error class fails here until someone
decides which, as `test_every_aioimaplib_exception_is_translated` does for IMAP."""

from __future__ import annotations

import inspect
import ssl
from enum import Enum
from typing import Any

import aiosmtplib
import aiosmtplib.errors
import pytest

from mail.errors import SmtpPermanentError, SmtpTemporaryError
from mail.smtp import translate_smtp_error


class Decided(Enum):
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    BY_CODE = "5xx permanent, else temporary"
    BY_CODES = "permanent when every recipient got a 5xx, else temporary"


TEMPORARY, PERMANENT, BY_CODE, BY_CODES = Decided

DECIDED: dict[type[aiosmtplib.SMTPException], Decided] = {
    aiosmtplib.SMTPException: TEMPORARY,
    aiosmtplib.SMTPServerDisconnected: TEMPORARY,
    aiosmtplib.SMTPConnectError: TEMPORARY,
    aiosmtplib.SMTPTimeoutError: TEMPORARY,
    aiosmtplib.SMTPConnectTimeoutError: TEMPORARY,
    aiosmtplib.SMTPReadTimeoutError: TEMPORARY,
    aiosmtplib.SMTPNotSupported: TEMPORARY,  # e.g. no STARTTLS: the config, not the mail
    aiosmtplib.SMTPAuthenticationError: TEMPORARY,  # even a 535: the config, not the mail
    aiosmtplib.SMTPResponseException: BY_CODE,
    aiosmtplib.SMTPConnectResponseError: BY_CODE,
    aiosmtplib.SMTPHeloError: BY_CODE,
    aiosmtplib.SMTPDataError: BY_CODE,
    aiosmtplib.SMTPSenderRefused: BY_CODE,
    aiosmtplib.SMTPRecipientRefused: BY_CODE,
    aiosmtplib.SMTPRecipientsRefused: BY_CODES,
}


def aiosmtplib_errors() -> list[type[aiosmtplib.SMTPException]]:
    """Every exception class aiosmtplib has: what it exports and every subclass of its base."""
    found: set[type[aiosmtplib.SMTPException]] = set()
    todo = [aiosmtplib.SMTPException]
    while todo:
        cls = todo.pop()
        if cls not in found and cls.__module__.startswith("aiosmtplib"):
            found.add(cls)
            todo += cls.__subclasses__()
    for module in (aiosmtplib, aiosmtplib.errors):
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseException):
                assert issubclass(value, aiosmtplib.SMTPException), name
                found.add(value)
    return sorted(found, key=lambda cls: cls.__name__)


def make(cls: type[aiosmtplib.SMTPException], code: int) -> aiosmtplib.SMTPException:
    """An instance of `cls` carrying `code` where it takes one (the signatures differ)."""
    if issubclass(cls, aiosmtplib.SMTPRecipientsRefused):
        return cls([aiosmtplib.SMTPRecipientRefused(code, "no", "a@example.com")])
    parameters = list(inspect.signature(cls.__init__).parameters)[1:]
    build: Any = cls
    if parameters[0] == "code":
        extra = ["someone@example.com"] * (len(parameters) - 2)
        return build(code, "server says no", *extra)  # type: ignore[no-any-return]
    return cls("server says no")


def test_every_aiosmtplib_error_has_a_decided_outcome() -> None:
    undecided = [cls.__name__ for cls in aiosmtplib_errors() if cls not in DECIDED]
    assert undecided == [], "decide: temporary or permanent (tests/mail/test_smtp_errors.py)"
    gone = [cls.__name__ for cls in DECIDED if cls not in aiosmtplib_errors()]
    assert gone == []


def test_the_aiosmtplib_error_list_is_not_empty() -> None:
    names = {cls.__name__ for cls in aiosmtplib_errors()}
    assert {"SMTPException", "SMTPResponseException", "SMTPRecipientsRefused"} <= names
    assert len(names) >= 15


@pytest.mark.parametrize("cls", aiosmtplib_errors(), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("code", [421, 450, 550, 554])
def test_each_aiosmtplib_error_maps_as_decided(
    cls: type[aiosmtplib.SMTPException], code: int
) -> None:
    decided = DECIDED.get(cls)
    if decided is None:
        pytest.fail(f"{cls.__name__} has no decided outcome")
    permanent = decided is PERMANENT or (decided in (BY_CODE, BY_CODES) and code >= 500)

    translated = translate_smtp_error(make(cls, code))

    assert type(translated) is (SmtpPermanentError if permanent else SmtpTemporaryError)


def test_recipients_refused_is_permanent_only_when_every_refusal_is() -> None:
    refused = [
        aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@example.com"),
        aiosmtplib.SMTPRecipientRefused(450, "mailbox busy", "b@example.com"),
    ]
    assert isinstance(
        translate_smtp_error(aiosmtplib.SMTPRecipientsRefused(refused)), SmtpTemporaryError
    )
    assert isinstance(
        translate_smtp_error(aiosmtplib.SMTPRecipientsRefused(refused[:1])), SmtpPermanentError
    )


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
        ssl.SSLError(1, "wrong version number"),
        KeyError("a bug of ours"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_everything_else_is_temporary(error: BaseException) -> None:
    assert isinstance(translate_smtp_error(error), SmtpTemporaryError)
