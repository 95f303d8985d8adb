"""The deployment files: Dockerfile, compose.yaml, deploy/ticketbot.service.

There is no docker daemon here, so the Dockerfile is read and its steps are replayed: its
COPY sources into a scratch tree, its `pip install` in a fresh virtualenv, then, as the
image would, `ticketbot migrate`, its CMD against the test servers and its HEALTHCHECK
command until it passes. That replay installs every dependency from the package index
into a new virtualenv (a minute or more), so it runs in CI (`CI` set) or when
TICKETBOT_TEST_DOCKERFILE=1; the checks on the files themselves always run.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import SUPPORT_CHANNEL
from tests.support.dovecot import DovecotServer, free_port
from tests.support.slack_fixtures import SIGNING_SECRET
from tests.support.smtp_server import SmtpServer

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "compose.yaml"
UNIT = REPO / "deploy" / "ticketbot.service"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    argument: str


def instructions(text: str) -> list[Instruction]:
    """A Dockerfile's instructions, continuation lines joined, comments dropped."""
    result: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, argument = whole.partition(" ")
        result.append(Instruction(keyword.upper(), " ".join(argument.split())))
    assert not pending, "a continuation line ends the file"
    return result


def exec_form(argument: str) -> list[str]:
    value = json.loads(argument)
    assert isinstance(value, list) and all(isinstance(part, str) for part in value)
    return value


def healthcheck_command(argument: str) -> str:
    _options, _, command = argument.partition("CMD ")
    assert command, argument
    return command


def test_the_dockerfile_builds_a_slim_non_root_image_that_runs_the_bot() -> None:
    steps = instructions(DOCKERFILE.read_text())
    keywords = [step.keyword for step in steps]
    assert steps[0] == Instruction("FROM", "python:3.11-slim")
    users = [step.argument for step in steps if step.keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    runs = [step.argument for step in steps if step.keyword == "RUN"]
    assert any(shlex.split(run)[:3] == ["pip", "install", "."] for run in runs)
    assert f"--home-dir /var/lib/{users[-1]}" in runs[0] and "useradd" in runs[0]
    [cmd] = [step.argument for step in steps if step.keyword == "CMD"]
    assert exec_form(cmd) == ["ticketbot", "run"]
    [check] = [step.argument for step in steps if step.keyword == "HEALTHCHECK"]
    assert "/healthz" in healthcheck_command(check)
    assert "--start-period=" in check
    assert Instruction("EXPOSE", "3000") in steps
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for step in steps:
        if step.keyword == "COPY":
            *sources, _target = step.argument.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"
                assert source not in ignored, f"COPY {source}: .dockerignore leaves it out"


def test_compose_runs_ticketbot_with_postgresql_volumes_and_env_from_dot_env() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"ticketbot", "postgres"}
    bot, database = services["ticketbot"], services["postgres"]
    assert bot["build"] == "."
    assert bot["env_file"] == ".env"
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["environment"]["DATABASE_URL"].startswith("postgres://ticketbot:")
    assert "@postgres:5432/ticketbot" in bot["environment"]["DATABASE_URL"]
    declared = set(compose["volumes"])
    mounts = {
        volume.split(":")[0]: volume.split(":")[1]
        for volume in bot["volumes"] + database["volumes"]
    }
    assert set(mounts) == declared == {"postgres-data", "attachments"}
    assert mounts["attachments"] == bot["environment"]["TICKETBOT_ATTACHMENTS"]
    assert mounts["postgres-data"] == "/var/lib/postgresql/data"
    for service in (bot, database):
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and check["interval"]
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert "pg_isready" in " ".join(database["healthcheck"]["test"])
    assert database["image"].startswith("postgres:")
    # every variable compose reads from .env is listed in .env.example
    env_example = (REPO / ".env.example").read_text()
    assert "\nPOSTGRES_PASSWORD=\n" in env_example


def test_the_systemd_unit_runs_the_bot_unprivileged_and_does_not_restart_on_exit_2(
    tmp_path: Path,
) -> None:
    sections: dict[str, dict[str, str]] = {}
    section = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            sections[section] = {}
            continue
        key, _, value = line.partition("=")
        sections[section][key] = value
    service = sections["Service"]
    assert service["ExecStart"].split()[1:] == ["run"]
    assert service["ExecStart"].split()[0].endswith("/ticketbot")
    assert service["User"] not in ("root", "0")
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 15  # the bot's grace period is 10 s
    assert service["WorkingDirectory"] == "/var/lib/" + service["StateDirectory"]
    assert sections["Install"]["WantedBy"] == "multi-user.target"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    # systemd's own parser, with the paths and the user of this machine
    unit = tmp_path / "ticketbot.service"
    unit.write_text(
        UNIT.read_text()
        .replace(service["ExecStart"].split()[0], "/bin/true")
        .replace(f"User={service['User']}", "User=root")
        .replace(f"Group={service['Group']}", "Group=root")
    )
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False, timeout=60
    )
    assert str(unit) not in result.stdout + result.stderr, result.stdout + result.stderr


# -- the Dockerfile's steps, replayed --------------------------------------------------------


def replay_enabled() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("TICKETBOT_TEST_DOCKERFILE"))


@pytest.mark.e2e
@pytest.mark.skipif(
    not replay_enabled(),
    reason="installs into a fresh virtualenv: set CI or TICKETBOT_TEST_DOCKERFILE",
)
def test_the_dockerfiles_steps_install_migrate_run_and_pass_the_healthcheck(
    tmp_path: Path,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    root = tmp_path / "image"  # the image's file system

    def inside(path: str) -> Path:
        return root / path.lstrip("/")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONSTRAINT"):
        if name in os.environ:  # this machine's package sources, if it has its own
            env[name] = os.environ[name]
    workdir = inside("/")
    healthcheck = cmd = ""
    for step in instructions(DOCKERFILE.read_text()):
        if step.keyword == "ENV":
            for pair in shlex.split(step.argument):
                key, _, value = pair.partition("=")
                env[key] = str(inside(value)) if value.startswith("/") else value
        elif step.keyword == "WORKDIR":
            workdir = inside(step.argument)
            workdir.mkdir(parents=True, exist_ok=True)
        elif step.keyword == "COPY":
            *sources, target = step.argument.split()
            destination = inside(target) if target.startswith("/") else workdir / target
            for source in sources:
                origin = REPO / source
                if origin.is_dir():
                    shutil.copytree(
                        origin, destination, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    into = destination / origin.name if target.endswith("/") else destination
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(origin, into)
        elif step.keyword == "RUN" and "pip install" in step.argument:
            subprocess.run(step.argument, shell=True, cwd=workdir, env=env, check=True, timeout=900)
        elif step.keyword == "RUN":  # user and directories: what matters is under data/
            for directory in ("/var/lib/ticketbot/data/attachments",):
                assert directory in step.argument
                inside(directory).mkdir(parents=True, exist_ok=True)
        elif step.keyword == "HEALTHCHECK":
            healthcheck = healthcheck_command(step.argument)
        elif step.keyword == "CMD":
            cmd = step.argument
    assert (venv / "bin" / "ticketbot").exists()
    assert not (workdir / "data" / "ticketbot.sqlite3").exists()

    port = free_port()
    env |= {  # what an operator's .env holds (the shipped app.yaml reads it)
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "TICKETBOT_CHANNEL": SUPPORT_CHANNEL,
        "TICKETBOT_HTTP_HOST": "127.0.0.1",
        "TICKETBOT_HTTP_PORT": str(port),
        "IMAP_HOST": "127.0.0.1",
        "IMAP_PORT": str(imap_server.port),
        "IMAP_SECURITY": "none",
        "IMAP_USERNAME": "support",
        "IMAP_PASSWORD": "secret",
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_SECURITY": "none",
        "TICKETBOT_LOG_FORMAT": "json",
    }
    migrate = subprocess.run(
        ["ticketbot", "migrate"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert (workdir / "data" / "ticketbot.sqlite3").exists()

    log = (tmp_path / "run.log").open("w")
    bot = subprocess.Popen(exec_form(cmd), cwd=workdir, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run(
                healthcheck, shell=True, env=env, capture_output=True, timeout=30, check=False
            )
            if probe.returncode == 0:
                break
            assert bot.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()
            time.sleep(0.5)  # polling a condition with a deadline
    finally:
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(30)
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert code == 0, output
    assert all(json.loads(line)["level"] for line in output.splitlines())  # json logs
