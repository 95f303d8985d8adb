"""`templates:`, `mail.locale` and the queues' `signature`, `locale` and own wording: a bad
value is one line naming the key (exit 2 through the CLI), a good one reaches the policy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app.config import ConfigError, parse_settings
from bot.app.wiring import build_policy
from models.templates import ReplyTemplate
from tests.bot.app.test_config import APP_YAML, ENV, shipped


def problems(document: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(document, ENV)
    return list(caught.value.problems)


def test_templates_locale_and_signature_reach_the_policy() -> None:
    document = shipped()
    document["templates"] = [
        {"name": "Thanks", "text": "Hello {customer_name},\n\nthanks! ({number})"},
        {"name": "Printer", "text": "Please restart the printer."},
    ]
    document["mail"]["locale"] = "de"
    document["queues"][0] |= {"signature": "{agent_name}\nSupport", "locale": "en"}
    policy = build_policy(parse_settings(document, ENV))
    assert policy.locale == "de"
    assert policy.templates == (
        ReplyTemplate("Thanks", "Hello {customer_name},\n\nthanks! ({number})"),
        ReplyTemplate("Printer", "Please restart the printer."),
    )
    assert policy.queues[0].signature == "{agent_name}\nSupport"
    assert policy.queues[0].locale == "en"


def test_without_them_english_and_no_templates() -> None:
    policy = build_policy(parse_settings(shipped(), ENV))
    assert policy.locale == "en" and policy.templates == ()
    assert policy.queues[0].signature == "" and policy.queues[0].locale is None


@pytest.mark.parametrize(
    ("where", "value", "line"),
    [
        (("mail", "locale"), "fr", "mail.locale: Input should be 'en' or 'de'"),
        (
            ("templates",),
            [{"name": "A", "text": "Hi {name}"}],
            "templates.0.text: unknown placeholder {name}; known are {customer_name}, "
            "{number}, {subject}, {agent_name}",
        ),
        (("templates",), [{"name": "", "text": "x"}], "templates.0.name: String should have"),
        (("templates",), [{"name": "A" * 76, "text": "x"}], "templates.0.name: String should"),
        (("templates",), [{"name": "A"}], "templates.0.text: is required"),
        (
            ("templates",),
            [{"name": "A", "text": "x"}, {"name": "A", "text": "y"}],
            "templates: template names must be unique",
        ),
        (("queue", "signature"), "{agent}", "queues.0.signature: unknown placeholder {agent}"),
        (("queue", "locale"), "es", "queues.0.locale: Input should be 'en' or 'de'"),
        (
            ("queue", "acknowledgement"),
            "Dear {customer_name}",
            "queues.0.acknowledgement: unknown placeholder {customer_name}",
        ),
    ],
)
def test_a_bad_value_names_its_key(where: tuple[str, ...], value: Any, line: str) -> None:
    document = shipped()
    if where[0] == "queue":
        document["queues"][0][where[1]] = value
    elif len(where) == 1:
        document[where[0]] = value
    else:
        document[where[0]][where[1]] = value
    [problem] = problems(document)
    assert problem.startswith(line), problem


def test_a_template_with_a_lone_brace_is_fine() -> None:
    document = shipped()
    document["templates"] = [{"name": "Code", "text": "Type {  and } and {{number}}"}]
    assert parse_settings(document, ENV).templates[0].text == "Type {  and } and {{number}}"


def test_the_cli_exits_2_naming_the_key(tmp_path: Path) -> None:
    document = shipped()
    document["templates"] = [{"name": "A", "text": "Hi {nmae}"}]
    config = tmp_path / "app.yaml"
    config.write_text(yaml.safe_dump(document))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--config", str(config)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **ENV},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("ticketbot: config error: templates.0.text: unknown")
    assert APP_YAML.exists()
