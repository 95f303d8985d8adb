import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app.config import MAX_PROBLEMS, VERB_NEEDS, ConfigError, load_settings, parse_settings
from bot.app.wiring import build_policy, parse_limits

APP_YAML = Path(__file__).resolve().parents[3] / "app.yaml"
ENV_EXAMPLE = APP_YAML.with_name(".env.example")
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
        (("slack", "posts_per_second", "0"), None, "slack.posts_per_second"),
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


@pytest.mark.parametrize("verb", ["run", "check"])
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


# --- what each verb needs (issue 10) ---

RUN_NEEDS = {  # every ${NAME} without default in the shipped app.yaml, in file order
    "SLACK_BOT_TOKEN": "slack.bot_token",
    "SLACK_SIGNING_SECRET": "slack.signing_secret",
    "TICKETBOT_CHANNEL": "queues.0.channel",
    "IMAP_HOST": "mail.imap.host",
    "IMAP_USERNAME": "mail.imap.username",
    "IMAP_PASSWORD": "mail.imap.password",
    "SMTP_HOST": "mail.smtp.host",
}
WHO_NEEDS = {  # variable → the verbs that fail without it
    "SLACK_BOT_TOKEN": {"run", "check"},
    "SLACK_SIGNING_SECRET": {"run", "check"},
    "TICKETBOT_CHANNEL": {"run", "check", "ingest"},
    "IMAP_HOST": {"run", "check"},
    "IMAP_USERNAME": {"run", "check"},
    "IMAP_PASSWORD": {"run", "check"},
    "SMTP_HOST": {"run", "check"},
}


def unset_line(variable: str) -> str:
    return f"{RUN_NEEDS[variable]}: environment variable {variable} is not set"


def problems(document: Any, env: dict[str, str], verb: str) -> list[str]:
    try:
        parse_settings(document, env, VERB_NEEDS[verb])
    except ConfigError as exc:
        assert str(exc) == "\n".join(exc.problems)
        return list(exc.problems)
    return []


def test_the_table_covers_every_required_variable_and_verb() -> None:
    assert set(WHO_NEEDS) == set(ENV) == set(RUN_NEEDS)
    assert set(VERB_NEEDS) == {
        "run",
        "check",
        "migrate",
        "manifest",
        "ingest",
        "outbox",
        "report",
    }


@pytest.mark.parametrize("verb", sorted(VERB_NEEDS))
@pytest.mark.parametrize("variable", sorted(WHO_NEEDS))
def test_each_verb_needs_only_the_variables_it_reads(verb: str, variable: str) -> None:
    env = {k: v for k, v in ENV.items() if k != variable}
    expected = [unset_line(variable)] if verb in WHO_NEEDS[variable] else []
    assert problems(shipped(), env, verb) == expected


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("manifest", []),
        ("migrate", []),
        ("outbox", []),
        ("report", []),
        ("ingest", [unset_line("TICKETBOT_CHANNEL")]),
        ("check", [unset_line(name) for name in RUN_NEEDS]),
        ("run", [unset_line(name) for name in RUN_NEEDS]),
    ],
)
def test_with_an_empty_environment_every_missing_variable_is_one_line(
    verb: str, expected: list[str]
) -> None:
    assert problems(shipped(), {}, verb) == expected


def test_everything_is_needed_by_default() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(shipped(), {})
    assert list(caught.value.problems) == [unset_line(name) for name in RUN_NEEDS]


def test_manifest_and_migrate_read_their_keys_not_placeholders() -> None:
    env = {"SLACK_APP_TOKEN": "xapp-1", "TICKETBOT_PUBLIC_URL": "https://t.example.com"}
    manifest = parse_settings(shipped(), env, VERB_NEEDS["manifest"])
    assert manifest.slack.socket_mode
    assert manifest.slack.public_url == "https://t.example.com"
    assert manifest.slack.command == "/ticket"
    assert manifest.slack.http.path == "/slack/events"
    assert manifest.slack.bot_token.get_secret_value() == "xoxb-unset"  # a placeholder
    migrate = parse_settings(
        shipped(), {"DATABASE_URL": "postgres://x@h/db"}, VERB_NEEDS["migrate"]
    )
    assert migrate.database.url == "postgres://x@h/db"


def test_ingest_reads_the_same_policy_as_run_without_slack_or_mail_secrets() -> None:
    full = parse_settings(shipped(), ENV)
    ingest = parse_settings(
        shipped(), {"TICKETBOT_CHANNEL": ENV["TICKETBOT_CHANNEL"]}, VERB_NEEDS["ingest"]
    )
    assert build_policy(ingest) == build_policy(full)
    assert parse_limits(ingest) == parse_limits(full)
    assert ingest.database == full.database


def test_an_empty_variable_counts_as_unset() -> None:
    env = {**ENV, "SLACK_BOT_TOKEN": ""}
    assert problems(shipped(), env, "run") == [
        "slack.bot_token: environment variable SLACK_BOT_TOKEN is empty"
    ]
    assert problems(shipped(), env, "manifest") == []


def test_a_variable_used_twice_is_reported_once() -> None:
    document = shipped()
    document["mail"]["smtp"]["username"] = "${IMAP_USERNAME}"
    env = {k: v for k, v in ENV.items() if k != "IMAP_USERNAME"}
    assert problems(document, env, "run") == [unset_line("IMAP_USERNAME")]


def test_a_placeholder_that_does_not_fit_reports_the_variable() -> None:
    document = shipped()
    document["mail"]["system_id"] = "${SYSTEM_ID}"  # no placeholder is a valid system id
    document["slack"]["http"]["port"] = "${PORT}"  # a port has one
    assert problems(document, ENV, "manifest") == [
        "mail.system_id: environment variable SYSTEM_ID is not set"
    ]
    assert problems(document, {**ENV, "SYSTEM_ID": "12"}, "migrate") == []
    assert problems(document, {**ENV, "SYSTEM_ID": "12"}, "run") == [
        "slack.http.port: environment variable PORT is not set"
    ]


def test_the_file_itself_is_checked_for_every_verb() -> None:
    document = shipped()
    document["slack"]["bot_token"] = "xoxp-user"
    document["slack"]["colour"] = "${COLOUR}"
    for verb in VERB_NEEDS:
        assert problems(document, {}, verb)[-2:] == [
            "slack.bot_token: must be a bot token starting with xoxb-",
            "slack.colour: is not a known key (check its spelling and indentation)",
        ]


@pytest.mark.parametrize("url", ["tickets.example.com", "ftp://tickets.example.com", "https://"])
def test_public_url_must_be_http(url: str) -> None:
    expected = ["slack.public_url: must be an http(s) URL such as https://tickets.example.com"]
    env = {**ENV, "TICKETBOT_PUBLIC_URL": url}
    assert problems(shipped(), env, "manifest") == expected
    assert problems(shipped(), env, "run") == expected


@pytest.mark.parametrize("url", ["", "https://tickets.example.com", "http://127.0.0.1:3000/"])
def test_public_url_may_be_empty_or_http(url: str) -> None:
    env = {**ENV, "TICKETBOT_PUBLIC_URL": url}
    assert parse_settings(shipped(), env).slack.public_url == url


def test_several_validation_errors_are_one_line_each() -> None:
    document = shipped()
    document["slack"]["bot_token"] = "xoxp-user"
    document["queues"][0]["channel"] = "#support"
    document["mail"]["followup_on_closed"] = "ignore"
    document["tickets"]["lock_timeout_minutes"] = "soon"
    env = {k: v for k, v in ENV.items() if k != "SMTP_HOST"}
    lines = problems(document, env, "run")
    assert lines[0] == unset_line("SMTP_HOST")
    assert [line.split(":")[0] for line in lines[1:]] == [
        "slack.bot_token",
        "queues.0.channel",
        "mail.followup_on_closed",
        "tickets.lock_timeout_minutes",
    ]
    assert not any("more problem" in line for line in lines)


def test_a_flood_of_problems_is_capped() -> None:
    document = shipped()
    document["mail"].update({f"typo{i}": 1 for i in range(30)})
    lines = problems(document, ENV, "run")
    assert len(lines) == MAX_PROBLEMS
    assert lines[0] == "mail.typo0: is not a known key (check its spelling and indentation)"
    assert lines[-1] == f"and {30 - MAX_PROBLEMS + 1} more problems"


def references(node: Any) -> list[tuple[str, bool]]:
    """Every `${NAME}` in a parsed YAML tree: (name, has a default)."""
    if isinstance(node, dict):
        return [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    if isinstance(node, str):
        return [
            (name, bool(default))
            for name, default in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}", node)
        ]
    return []


def test_env_example_lists_every_variable_app_yaml_reads() -> None:
    referenced = {name for name, _ in references(shipped())}
    lines = ENV_EXAMPLE.read_text().splitlines()
    listed = {}
    for before, line in zip(["", *lines], lines, strict=False):
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert before.startswith("# "), f"{name} has no comment"
            assert "required" in before or "default" in before, before
            listed[name] = value
    assert referenced <= set(listed)
    # read by the command itself, and by compose.yaml
    assert set(listed) - referenced == {
        "TICKETBOT_CONFIG",
        "TICKETBOT_LOG_LEVEL",
        "POSTGRES_PASSWORD",
    }
    required = {name for name, has_default in references(shipped()) if not has_default}
    assert required == set(RUN_NEEDS)
    for name in required:
        assert re.search(rf"^# required\b.*\n{name}=$", ENV_EXAMPLE.read_text(), re.M), name
    assert all(value == "" for value in listed.values())  # never a secret, not even a fake one
    # copied as it is, it is enough for manifest and migrate
    assert problems(shipped(), listed, "manifest") == []
    assert problems(shipped(), listed, "migrate") == []


@pytest.mark.parametrize(
    ("ingest", "expected"),
    [
        ({}, ("data/ingest.sock", 0o600, "")),
        ({"socket": "", "socket_mode": "0660", "socket_group": "mail"}, ("", 0o660, "mail")),
        ({"socket_mode": 0o640}, ("data/ingest.sock", 0o640, "")),  # 0640 unquoted in YAML
        ({"socket_mode": "0o660"}, ("data/ingest.sock", 0o660, "")),
    ],
)
def test_ingest_socket_settings(ingest: dict[str, Any], expected: tuple[str, int, str]) -> None:
    settings = parse_settings({**shipped(), "ingest": ingest}, ENV).ingest
    assert (settings.socket, settings.socket_mode, settings.socket_group) == expected


@pytest.mark.parametrize(
    ("ingest", "message"),
    [
        ({"socket_mode": 660}, "ingest.socket_mode: must be a file mode such as '0600'"),
        ({"socket_mode": "rw"}, "ingest.socket_mode"),
        ({"socket": "/" + "x" * 107}, "ingest.socket: must be at most 107 bytes"),
        ({"sockets": "/x"}, "ingest.sockets: is not a known key"),
    ],
)
def test_bad_ingest_socket_settings_name_the_key(ingest: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({**shipped(), "ingest": ingest}, ENV)
    assert message in str(caught.value)


def test_a_queues_escalation_group_is_a_user_group_id() -> None:
    document = shipped()
    document["queues"][0]["escalation_group"] = "S0TEAM0001"
    assert parse_settings(document, ENV).queues[0].escalation_group == "S0TEAM0001"
    document["queues"][0]["escalation_group"] = "@support-team"
    with pytest.raises(
        ConfigError, match=r"queues\.0\.escalation_group: '@support-team' is not a Slack user group"
    ):
        parse_settings(document, ENV)
