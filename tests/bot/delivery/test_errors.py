"""Every failure of a Slack call has a decided outbox outcome (bot/delivery/errors.py).

Each slack_sdk error class and each aiohttp client error the code names (aiohttp.ClientError
and all below it) is listed here with the outcome it must get: `retry` (certainly not done),
`maybe_delivered` (the call may have happened), or `dead` (given up). A new class in either
library fails these tests until someone decides, as the aioimaplib and aiosmtplib tests do.
Slack's own `error` codes are a table too, checked both ways against the code's sets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import aiohttp.client_exceptions
import pytest
import slack_sdk.errors
from aiohttp.client_reqrep import ConnectionKey
from multidict import CIMultiDict, CIMultiDictProxy
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from yarl import URL

from bot.delivery.errors import (
    PERMANENT_ERRORS,
    RATE_LIMIT_ERRORS,
    may_have_landed,
    not_sent,
    to_outbox_error,
)
from models.errors import PermanentFailure, RetryLater
from models.outbox.items import OutboxItem, Outcome

BY_ANSWER = "decided by Slack's answer (status and error code): see the tables below"

SLACK_SDK_DECIDED: dict[type[BaseException], Outcome | str] = {
    SlackApiError: BY_ANSWER,
    # The rest are raised by slack_sdk itself, none of them after a request went out; they
    # keep the cautious answer they always had (a retry looks before it posts).
    SlackClientError: Outcome.MAYBE_DELIVERED,
    slack_sdk.errors.SlackRequestError: Outcome.MAYBE_DELIVERED,
    slack_sdk.errors.BotUserAccessError: Outcome.MAYBE_DELIVERED,
    slack_sdk.errors.SlackTokenRotationError: Outcome.MAYBE_DELIVERED,
    slack_sdk.errors.SlackClientNotConnectedError: Outcome.MAYBE_DELIVERED,
    slack_sdk.errors.SlackObjectFormationError: Outcome.MAYBE_DELIVERED,
    slack_sdk.errors.SlackClientConfigurationError: Outcome.MAYBE_DELIVERED,
}

_exceptions = aiohttp.client_exceptions
# Transport failures: whether Slack got the call cannot be known from here, so all may have
# landed (a connect error could be `retry`, but it was never told apart; a look costs a read).
AIOHTTP_DECIDED: dict[type[BaseException], Outcome] = {
    cls: Outcome.MAYBE_DELIVERED
    for cls in (
        aiohttp.ClientError,
        aiohttp.ClientResponseError,
        aiohttp.ContentTypeError,
        aiohttp.WSServerHandshakeError,
        aiohttp.ClientHttpProxyError,
        aiohttp.TooManyRedirects,
        aiohttp.ClientConnectionError,
        aiohttp.ClientConnectionResetError,
        aiohttp.ClientOSError,
        aiohttp.ClientConnectorError,
        aiohttp.ClientConnectorDNSError,
        aiohttp.ClientProxyConnectionError,
        _exceptions.UnixClientConnectorError,
        aiohttp.ClientSSLError,
        aiohttp.ClientConnectorSSLError,
        aiohttp.ClientConnectorCertificateError,
        aiohttp.ServerConnectionError,
        aiohttp.ServerDisconnectedError,
        aiohttp.ServerTimeoutError,
        aiohttp.ConnectionTimeoutError,
        aiohttp.SocketTimeoutError,
        aiohttp.ServerFingerprintMismatch,
        aiohttp.ClientPayloadError,
        _exceptions.UploadAbortedError,
        aiohttp.InvalidURL,
        aiohttp.InvalidUrlClientError,
        aiohttp.InvalidUrlRedirectClientError,
        aiohttp.RedirectClientError,
        aiohttp.NonHttpUrlClientError,
        aiohttp.NonHttpUrlRedirectClientError,
    )
}

# Slack's error codes that only a code change can fix: the item is given up at once.
PERMANENT_CODES = {
    "invalid_blocks": Outcome.DEAD,
    "invalid_blocks_format": Outcome.DEAD,
    "msg_blocks_too_long": Outcome.DEAD,
    "no_text": Outcome.DEAD,
    "invalid_arguments": Outcome.DEAD,
    "markdown_text_conflict": Outcome.DEAD,
    "too_many_attachments": Outcome.DEAD,
    "invalid_attachments": Outcome.DEAD,
    "cant_update_message": Outcome.DEAD,
    "message_not_found": Outcome.DEAD,
    "is_archived": Outcome.DEAD,
}
RATE_LIMIT_CODES = {"ratelimited": Outcome.RETRY, "rate_limited": Outcome.RETRY}
# Any other code Slack answers with: it answered, so nothing was done; try again later.
OTHER_CODES = {
    "channel_not_found": Outcome.RETRY,
    "not_in_channel": Outcome.RETRY,
    "invalid_auth": Outcome.RETRY,
    "fatal_error": Outcome.RETRY,
    "internal_error": Outcome.RETRY,
}


def subclasses(base: type[BaseException], package: str) -> list[type[BaseException]]:
    found: set[type[BaseException]] = set()
    todo = [base]
    while todo:
        cls = todo.pop()
        if cls not in found and cls.__module__.startswith(package):
            found.add(cls)
            todo += cls.__subclasses__()
    return sorted(found, key=lambda cls: cls.__name__)


def slack_sdk_errors() -> list[type[BaseException]]:
    """Every subclass of SlackClientError, and every exception slack_sdk.errors defines."""
    found = set(subclasses(SlackClientError, "slack_sdk"))
    for value in vars(slack_sdk.errors).values():
        if isinstance(value, type) and issubclass(value, BaseException):
            found.add(value)
    return sorted(found, key=lambda cls: cls.__name__)


def aiohttp_errors() -> list[type[BaseException]]:
    return subclasses(aiohttp.ClientError, "aiohttp")


def outcome_of(decision: RetryLater | PermanentFailure) -> Outcome:
    if isinstance(decision, PermanentFailure):
        return Outcome.DEAD
    return Outcome.MAYBE_DELIVERED if decision.maybe_delivered else Outcome.RETRY


def slack_answer(
    status: int, data: dict[str, Any], headers: dict[str, str] | None = None
) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=data,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("The request to the Slack API failed.", response)  # type: ignore[no-untyped-call]


_KEY = ConnectionKey("slack.com", 443, True, True, None, None, None, "slack.com")
_REQUEST = aiohttp.RequestInfo(
    URL("https://slack.com/api/chat.postMessage"),
    "POST",
    CIMultiDictProxy(CIMultiDict()),
    URL("https://slack.com/api/chat.postMessage"),
)
_CONSTRUCTORS: list[Callable[[type[Any]], BaseException]] = [
    lambda cls: cls(_REQUEST, (), status=502, message="Bad Gateway"),
    lambda cls: cls(_KEY, ConnectionRefusedError(111, "Connection refused")),
    lambda cls: cls("/run/slack.sock", _KEY, ConnectionRefusedError(111, "refused")),
    lambda cls: cls(URL("https://slack.com/x"), "bad"),
    lambda cls: cls(b"\x00" * 32, b"\x01" * 32, "slack.com", 443),
    lambda cls: cls("something failed"),
]


def make(cls: type[BaseException]) -> BaseException:
    """An instance of `cls` that can be printed (aiohttp's constructors differ)."""
    for constructor in _CONSTRUCTORS:
        try:
            error = constructor(cls)
            str(error)
        except (TypeError, AttributeError, ValueError):
            continue
        return error
    raise AssertionError(f"teach make() how to build {cls.__name__}")


def test_every_slack_sdk_error_has_a_decided_outcome() -> None:
    found = slack_sdk_errors()
    assert {cls.__name__ for cls in found if cls not in SLACK_SDK_DECIDED} == set()
    assert set(SLACK_SDK_DECIDED) <= set(found)
    assert len(found) >= 8


def test_every_aiohttp_client_error_has_a_decided_outcome() -> None:
    found = aiohttp_errors()
    assert {cls.__name__ for cls in found if cls not in AIOHTTP_DECIDED} == set()
    assert set(AIOHTTP_DECIDED) <= set(found)
    assert len(found) >= 25


@pytest.mark.parametrize(
    "cls",
    [cls for cls in slack_sdk_errors() if cls is not SlackApiError],
    ids=lambda cls: cls.__name__,
)
def test_each_slack_sdk_error_maps_as_decided(cls: type[BaseException]) -> None:
    decided = SLACK_SDK_DECIDED.get(cls)
    assert isinstance(decided, Outcome), f"decide an outcome for {cls.__name__}"
    assert outcome_of(to_outbox_error(cls("something failed"))) is decided


@pytest.mark.parametrize("cls", aiohttp_errors(), ids=lambda cls: cls.__name__)
def test_each_aiohttp_error_maps_as_decided(cls: type[BaseException]) -> None:
    decided = AIOHTTP_DECIDED.get(cls)
    assert decided is not None, f"decide an outcome for {cls.__name__}"
    decision = to_outbox_error(make(cls))
    assert outcome_of(decision) is decided
    assert str(decision).startswith(f"cannot reach slack: {cls.__name__}")


@pytest.mark.parametrize(
    "error",
    [TimeoutError(), ConnectionResetError(104, "reset"), OSError(5, "io")],
    ids=lambda error: type(error).__name__,
)
def test_timeouts_and_os_errors_may_have_landed(error: BaseException) -> None:
    assert outcome_of(to_outbox_error(error)) is Outcome.MAYBE_DELIVERED


def test_the_code_tables_are_the_code_sets_both_ways() -> None:
    assert set(PERMANENT_CODES) == PERMANENT_ERRORS
    assert set(RATE_LIMIT_CODES) == RATE_LIMIT_ERRORS
    assert not set(OTHER_CODES) & (PERMANENT_ERRORS | RATE_LIMIT_ERRORS)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [*PERMANENT_CODES.items(), *RATE_LIMIT_CODES.items(), *OTHER_CODES.items()],
)
def test_each_slack_error_code_maps_as_decided(code: str, outcome: Outcome) -> None:
    decision = to_outbox_error(slack_answer(200, {"ok": False, "error": code}))
    assert outcome_of(decision) is outcome
    if code in RATE_LIMIT_CODES:
        assert isinstance(decision, RetryLater) and decision.after == 1.0


@pytest.mark.parametrize(
    ("status", "data", "headers", "outcome", "after"),
    [
        (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}, Outcome.RETRY, 7.0),
        (429, {}, {}, Outcome.RETRY, 1.0),
        (500, {}, {}, Outcome.MAYBE_DELIVERED, None),
        (503, {"ok": False, "error": "service_unavailable"}, {}, Outcome.MAYBE_DELIVERED, None),
        (400, {"ok": False, "error": "invalid_blocks"}, {}, Outcome.DEAD, None),
        (404, {}, {}, Outcome.RETRY, None),
    ],
)
def test_http_status_decides_before_the_code(
    status: int, data: dict[str, Any], headers: dict[str, str], outcome: Outcome, after: float
) -> None:
    decision = to_outbox_error(slack_answer(status, data, headers))
    assert outcome_of(decision) is outcome
    if isinstance(decision, RetryLater):
        assert decision.after == after


def test_a_bug_of_ours_during_the_call_may_have_landed() -> None:
    assert outcome_of(to_outbox_error(KeyError("ts"))) is Outcome.MAYBE_DELIVERED
    assert outcome_of(not_sent("card not posted yet")) is Outcome.RETRY


@pytest.mark.parametrize(
    ("outcome", "attempts", "lease_owner", "landed"),
    [
        (Outcome.PENDING, 0, "", False),  # never attempted
        (Outcome.PENDING, 0, "dead-worker", True),  # its worker died mid-call
        (Outcome.PENDING, 2, "", True),  # attempted before the outcome was recorded
        (Outcome.RETRY, 1, "", False),
        (Outcome.RETRY, 1, "dead-worker", True),
        (Outcome.MAYBE_DELIVERED, 1, "", True),
    ],
)
def test_which_outcomes_leave_a_post_open(
    outcome: Outcome, attempts: int, lease_owner: str, landed: bool
) -> None:
    item = OutboxItem(outcome=outcome, attempts=attempts, lease_owner=lease_owner)
    assert may_have_landed(item) is landed


# What an attempted row (no lease left) says about an earlier post, for every outcome.
LANDED_AFTER_AN_ATTEMPT = {
    Outcome.PENDING: True,  # attempted before the outcome was recorded: cannot say
    Outcome.DELIVERED: False,
    Outcome.RETRY: False,
    Outcome.MAYBE_DELIVERED: True,
    Outcome.DEAD: False,
}


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_is_either_proof_or_doubt(outcome: Outcome) -> None:
    assert set(LANDED_AFTER_AN_ATTEMPT) == set(Outcome)
    item = OutboxItem(outcome=outcome, attempts=1, lease_owner="")
    assert may_have_landed(item) is LANDED_AFTER_AN_ATTEMPT[outcome]
