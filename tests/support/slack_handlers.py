"""Helpers for the in-process handler tests (tests/bot/slack/test_*_unit.py): the bot of
tests/bot/running_bot.py with test_visibility's world of four tickets, and one call per
thing a person does in Slack, each checking that Slack got its ack within 3 seconds.

A test module gets the `world` fixture by importing it: `from tests.support.slack_handlers
import world_fixture  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from bot.sandbox.emulator import LENA, ApiCall, SlackEmulator, ViewRecord
from bot.sandbox.signer import Delivery
from models.store.ticket import Ticket
from tests.bot.running_bot import running_bot
from tests.bot.slack.test_visibility import World, make_world
from tests.support.slack_fixtures import DriverFactory


@pytest.fixture(name="world")
async def world_fixture(
    database: str, slack: SlackEmulator, slack_driver_factory: DriverFactory
) -> AsyncIterator[World]:
    """The running bot (Lena a lead) and its cards: waiting, held by Bob, closed (all in
    #support) and a Billing ticket; on SQLite and PostgreSQL."""
    async with running_bot(slack, leads=[LENA]) as bot:
        yield await make_world(slack, slack_driver_factory, bot)


def in_time(delivery: Delivery) -> Delivery:
    """Slack's side of every interaction: a 2xx within 3 seconds."""
    assert delivery.acked_in_time, (delivery.status, delivery.latency, delivery.body)
    return delivery


async def click(
    world: World, ticket: Ticket, action: str, user: str, *, value: str | None = None
) -> Delivery:
    """`user` clicks `action` on the ticket's card (as it is in Slack now); the bot's
    follow-ups (answers, modals) have finished when this returns."""
    slack = world.driver.emulator
    delivery = await world.driver.click(world.card(slack, ticket), action, user=user, value=value)
    await world.bot.settle()
    return in_time(delivery)


def views_opened_by(slack: SlackEmulator, click: Delivery) -> list[ApiCall]:
    """The views.open calls that used this click's trigger_id."""
    return [c for c in slack.calls("views.open") if c.args.get("trigger_id") == click.trigger_id]


async def open_form(world: World, ticket: Ticket, action: str, user: str) -> ViewRecord:
    """Click Reply / Add note / Close and return the modal the bot opened for it."""
    slack = world.driver.emulator
    opened = await click(world, ticket, action, user)
    [view] = [v for v in slack.views(user_id=user) if v.trigger_id == opened.trigger_id]
    return view


async def submit(
    world: World,
    view: ViewRecord,
    *,
    text: str | None = None,
    minutes: str | None = None,
    close_after: bool = False,
) -> Delivery:
    """Submit a form with what the person typed (None: left empty)."""
    values: dict[str, Mapping[str, Any]] = {}
    if text is not None:
        values["text"] = {"value": text}
    if minutes is not None:
        values["minutes"] = {"value": minutes}
    if close_after:
        values["options"] = {"value": ["close_after"]}
    delivery = await world.driver.submit_view(view.id, values)
    await world.bot.settle()
    return in_time(delivery)


def form_errors(delivery: Delivery) -> dict[str, str]:
    """The inline errors of a `response_action: errors` ack ({} when the form was taken)."""
    ack = delivery.json() or {}
    if ack.get("response_action") != "errors":
        return {}
    return dict(ack["errors"])


async def slash(world: World, text: str, user: str, channel: str) -> Delivery:
    """`user` runs `/ticket <text>` in `channel`; the answers after the ack have arrived."""
    delivery = await world.driver.slash_command(text, user=user, channel=channel)
    await world.bot.settle()
    return in_time(delivery)


def calls_since(slack: SlackEmulator, mark: int) -> list[str]:
    """The Web API methods called after `mark = len(slack.calls())`."""
    return [c.method for c in slack.calls()[mark:]]
