"""The `csat:` section: off by default, on only with a public URL (in Socket Mode too),
and the links' key: derived from the signing secret, or from `csat.secret`."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app.config import VERB_NEEDS, ConfigError, parse_settings
from bot.app.wiring import build_policy
from models.csat_token import derive_key
from tests.bot.app.test_config import ENV, shipped


def with_csat(csat: dict[str, Any], **slack: str) -> Any:
    document = shipped()
    document["csat"] = csat
    document["slack"].update(slack)
    return document


def problems(document: Any, env: dict[str, str], verb: str = "run") -> list[str]:
    try:
        parse_settings(document, env, VERB_NEEDS[verb])
    except ConfigError as exc:
        return list(exc.problems)
    return []


def test_off_by_default_and_in_the_shipped_file() -> None:
    settings = parse_settings(shipped(), ENV)
    assert not settings.csat.enabled and settings.csat.expiry_days == 14
    assert build_policy(settings).csat is None
    on = parse_settings(
        shipped(),
        {**ENV, "TICKETBOT_CSAT_ENABLED": "true", "TICKETBOT_PUBLIC_URL": "https://t.example/"},
    )
    policy = build_policy(on).csat
    assert policy is not None and policy.public_url == "https://t.example"
    assert policy.key == derive_key(ENV["SLACK_SIGNING_SECRET"])
    assert ENV["SLACK_SIGNING_SECRET"] not in repr(policy) and "key" not in repr(policy)


@pytest.mark.parametrize("app_token", ["", "xapp-1"])  # HTTP mode and Socket Mode alike
def test_enabled_without_a_public_url_names_the_key(app_token: str) -> None:
    document = with_csat({"enabled": True}, app_token=app_token, public_url="")
    [line] = problems(document, ENV)
    assert line.startswith("csat.enabled: the rating links need slack.public_url")


def test_a_dedicated_secret_makes_its_own_key() -> None:
    document = with_csat(
        {"enabled": True, "secret": "a long csat secret 123", "expiry_days": 3},
        public_url="https://t.example",
    )
    policy = build_policy(parse_settings(document, ENV)).csat
    assert policy is not None and policy.expiry_days == 3
    assert policy.key == derive_key("a long csat secret 123") != derive_key("secret")


@pytest.mark.parametrize(
    ("csat", "message"),
    [
        ({"enabled": True, "secret": "short"}, "csat.secret: Value error"),
        ({"expiry_days": 0}, "csat.expiry_days: Input should be greater than or equal to 1"),
        ({"expiry_days": 400}, "csat.expiry_days: Input should be less than or equal to 365"),
        ({"enable": True}, "csat.enable: is not a known key"),
    ],
)
def test_bad_values_name_the_key(csat: dict[str, Any], message: str) -> None:
    document = with_csat(csat, public_url="https://t.example")
    [line] = problems(document, ENV)
    assert line.startswith(message.replace(": Value error", ": must be at least 16"))


def test_verbs_that_do_not_read_the_public_url_are_not_stopped_by_it() -> None:
    """An unset ${TICKETBOT_PUBLIC_URL} gets a placeholder URL for `ingest` and `report`."""
    document = with_csat({"enabled": True}, public_url="${TICKETBOT_PUBLIC_URL}")
    assert problems(document, ENV, "report") == []
    assert problems(document, {"TICKETBOT_CHANNEL": "C0123456789"}, "ingest") == []
    assert problems(document, ENV, "run") == [
        "slack.public_url: environment variable TICKETBOT_PUBLIC_URL is not set"
    ]
