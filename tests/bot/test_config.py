import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import ConfigError, load_settings, parse_settings

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"
ENV = {
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "secret",
    "TICKETBOT_CHANNEL": "C0123456789",
    "IMAP_HOST": "imap.example.com",
    "IMAP_USERNAME": "support",
    "IMAP_PASSWORD": "pw",
    "SMTP_HOST": "smtp.example.com",
}


def shipped() -> Any:
    return yaml.safe_load(APP_YAML.read_text())


def test_the_shipped_file_works_with_environment_variables_only() -> None:
    settings = load_settings(APP_YAML, ENV)
    assert settings.database.url == "sqlite://data/ticketbot.sqlite3"
    assert settings.slack.bot_token.get_secret_value() == "xoxb-1"
    assert not settings.slack.socket_mode
    assert settings.slack.http.port == 3000
    assert settings.queues[0].addresses == ["support@example.com"]
    assert settings.mail.imap is not None and settings.mail.imap.port == 993
    assert settings.mail.followup_on_closed == "reopen"
    assert settings.slack.leads == []


def test_defaults_and_lists_from_the_environment() -> None:
    env = {
        **ENV,
        "SLACK_APP_TOKEN": "xapp-1",
        "TICKETBOT_LEADS": "U1, U2",
        "DATABASE_URL": "postgres://x@h/db",
    }
    settings = load_settings(APP_YAML, env)
    assert settings.slack.socket_mode
    assert settings.slack.leads == ["U1", "U2"]
    assert settings.database.url == "postgres://x@h/db"


@pytest.mark.parametrize(
    ("change", "env_drop", "message"),
    [
        (
            None,
            "SLACK_SIGNING_SECRET",
            "slack.signing_secret: environment variable SLACK_SIGNING_SECRET is not set",
        ),
        (("slack", "bot_token", "xoxp-user"), None, "slack.bot_token: must be a bot token"),
        (("mail", "followup_on_closed", "ignore"), None, "mail.followup_on_closed"),
        (
            ("mail", "address", "not-an-address"),
            None,
            "mail.address: 'not-an-address' is not an email",
        ),
        (("slack", "colour", "blue"), None, "slack.colour: is not a known key"),
        (("tickets", "lock_timeout_minutes", "soon"), None, "tickets.lock_timeout_minutes"),
        (("database", "url", "mysql://x"), None, "database.url: must start with"),
    ],
)
def test_bad_values_name_the_key(
    change: tuple[str, str, str] | None, env_drop: str | None, message: str
) -> None:
    document = shipped()
    if change:
        section, key, value = change
        document[section][key] = value
    env = {k: v for k, v in ENV.items() if k != env_drop}
    with pytest.raises(ConfigError) as caught:
        parse_settings(document, env)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_queue_channel_must_be_a_channel_id() -> None:
    document = shipped()
    document["queues"][0]["channel"] = "#support"
    with pytest.raises(
        ConfigError, match=r"queues\.0\.channel: '#support' is not a Slack channel id"
    ):
        parse_settings(document, ENV)


def test_environment_values_cannot_inject_yaml() -> None:
    settings = parse_settings(shipped(), {**ENV, "TICKETBOT_DISPLAY_NAME": "x\nevil: [1, 2]"})
    assert settings.mail.display_name == "x\nevil: [1, 2]"


@pytest.mark.parametrize("verb", ["run", "check", "migrate", "manifest", "ingest"])
def test_cli_bad_config_exits_2_with_one_line(tmp_path: Path, verb: str) -> None:
    config = tmp_path / "app.yaml"
    config.write_text(APP_YAML.read_text())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **ENV}
    del env["SLACK_BOT_TOKEN"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", verb, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "ticketbot: config error: slack.bot_token: environment variable SLACK_BOT_TOKEN is not set"
    ]
    assert "Traceback" not in result.stderr


def test_cli_missing_file_and_broken_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("slack: [unclosed\n")
    for path, expected in [
        (tmp_path / "missing.yaml", "not found"),
        (broken, "is not valid YAML at line"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "check", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
