"""Issue 12 part B through signed requests and the shipped emulator (SQLite and
PostgreSQL): canned responses in the Reply form, the collision warning and its
confirmation step, and the two shortcuts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.sandbox.emulator import (
    ALICE,
    BOB,
    CAROL,
    EXTERNAL,
    LENA,
    SUPPORT_CHANNEL,
    SlackEmulator,
)
from bot.slack import ids
from models import effects
from models.outbox.items import OutboxItem
from models.store.article import Article, ArticleKind
from models.store.ticket import History, Replying, Ticket
from models.templates import ReplyTemplate
from tests.bot.running_bot import BILLING, SUPPORT, running_bot
from tests.bot.slack.test_visibility import World, make_world
from tests.support.intake import ingest
from tests.support.make_mail import make_mail
from tests.support.slack_fixtures import DriverFactory
from tests.support.slack_handlers import form_errors, in_time, open_form

TEMPLATES = (
    ReplyTemplate("Restart", "Dear {customer_name}, please restart it ({number})."),
    ReplyTemplate("Hostile", "{0} {customer_name.__class__} { {agent_name}"),
)
SIGNED = replace(SUPPORT, signature="{agent_name}\nWidget Support")


@pytest.fixture
async def world(
    database: str, slack: SlackEmulator, slack_driver_factory: DriverFactory
) -> AsyncIterator[World]:
    changes = {"templates": TEMPLATES, "queues": (SIGNED, BILLING)}
    async with running_bot(slack, leads=[LENA], policy_changes=changes) as bot:
        yield await make_world(slack, slack_driver_factory, bot)


async def choose(world: World, view_id: str, template: int, typed: str | None = None) -> None:
    values = {"text": {"value": typed}} if typed is not None else {}
    delivery = await world.driver.click_in_view(
        view_id, ids.REPLY_TEMPLATE, value=str(template), values=values
    )
    in_time(delivery)
    await world.bot.settle()


def text_field(slack: SlackEmulator, view_id: str) -> dict[str, object]:
    [block] = [
        b for b in slack.view(view_id).blocks if str(b.get("block_id", "")).startswith("text")
    ]
    return block


async def mails() -> list[Article]:
    items = await OutboxItem.filter(kind=effects.MAIL_SEND).order_by("id")
    return [await Article.get(id=i.payload["article_id"]) for i in items]


async def card_text(world: World, slack: SlackEmulator, ticket: Ticket) -> str:
    await world.bot.deliver()
    return json.dumps(world.card(slack, await Ticket.get(id=ticket.id)).blocks)


# -- canned responses ------------------------------------------------------------------


async def test_a_chosen_template_fills_the_reply_and_the_mail_is_signed(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    await choose(world, view.id, 0)
    [update] = slack.calls("views.update")
    assert update.ok and update.args.get("view_id") == view.id
    field = text_field(slack, view.id)
    assert field["block_id"] == "text_1"
    filled = f"Dear Customer of Widget jams, please restart it ({world.waiting.number})."
    assert field["element"]["initial_value"] == filled  # type: ignore[index]
    sent = in_time(await world.driver.submit_view(view.id, {}))
    assert form_errors(sent) == {} and slack.view(view.id).closed
    [mail] = await mails()
    assert mail.body == f"{filled}\n\n-- \nAlice Agent\nWidget Support\n"


async def test_a_template_goes_below_what_the_agent_typed_and_hostile_braces_stay(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    await choose(world, view.id, 1, typed="I looked at it.")
    field = text_field(slack, view.id)
    assert field["element"]["initial_value"] == (  # type: ignore[index]
        "I looked at it.\n\n{0} {customer_name.__class__} { Alice Agent"
    )


async def test_a_template_from_someone_who_is_no_agent_fills_nothing(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    slack.remove_member(SUPPORT_CHANNEL, ALICE)
    world.bot.services.members.left(SUPPORT_CHANNEL, ALICE)
    await choose(world, view.id, 0)
    assert slack.calls("views.update") == []


# -- collision -------------------------------------------------------------------------


async def test_the_card_says_who_is_replying_until_the_form_is_closed(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    assert f"\\u270d <@{ALICE}> is replying" in await card_text(world, slack, world.waiting)
    closed = await world.driver.close_view(view.id)
    assert closed is not None and in_time(closed).status == 200
    await world.bot.settle()
    assert "is replying" not in await card_text(world, slack, world.waiting)
    assert not await Replying.exists()


async def test_sending_clears_the_warning(world: World, slack: SlackEmulator) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    await world.driver.submit_view(view.id, {"text": {"value": "Fixed."}})
    await world.bot.settle()
    assert "is replying" not in await card_text(world, slack, world.waiting)


async def test_a_customer_mail_meanwhile_asks_for_confirmation_first(
    world: World, slack: SlackEmulator
) -> None:
    policy = world.bot.services.policy
    opened = await ingest(make_mail(message_id="<first@customer.example>"), policy)
    await world.bot.deliver()
    ticket = await Ticket.get(id=opened.ticket_id)
    view = await open_form(world, ticket, ids.REPLY, ALICE)
    mail = make_mail(
        subject=f"Re: [Ticket#{ticket.number}] Printer",
        body="Never mind, <!channel> it works now.",
        message_id="<later@customer.example>",
    )
    result = await ingest(mail, policy)
    assert result.ticket_id == ticket.id, result
    await OutboxItem.filter(kind=effects.MAIL_SEND).delete()  # the acknowledgement
    first = in_time(await world.driver.submit_view(view.id, {"text": {"value": "Try this."}}))
    ack = first.json()
    assert ack["response_action"] == "update" and first.view_errors == []
    shown = json.dumps(slack.view(view.id).blocks)
    assert "Since you opened this form" in shown and "it works now" in shown
    assert "<!channel>" not in shown
    assert text_field(slack, view.id)["element"]["initial_value"] == "Try this."  # type: ignore[index]
    assert await mails() == []  # nothing sent yet
    second = in_time(await world.driver.submit_view(view.id, {}))
    assert form_errors(second) == {} and slack.view(view.id).closed
    [sent] = await mails()
    assert sent.body.startswith("Try this.")


async def test_two_agents_replying_the_customer_gets_one_mail(
    world: World, slack: SlackEmulator
) -> None:
    alices = await open_form(world, world.waiting, ids.REPLY, ALICE)
    bobs = await open_form(world, world.waiting, ids.REPLY, BOB)
    shown = await card_text(world, slack, world.waiting)
    assert f"<@{ALICE}>, <@{BOB}> are replying" in shown
    await world.driver.submit_view(alices.id, {"text": {"value": "Alice's answer."}})
    bob_first = in_time(await world.driver.submit_view(bobs.id, {"text": {"value": "Bob's."}}))
    assert bob_first.json()["response_action"] == "update"
    assert "Alice's answer" in json.dumps(slack.view(bobs.id).blocks)
    assert [m.author for m in await mails()] == [ALICE]
    # Bob confirms: replying claims, and Alice holds the ticket now, so it is still refused
    again = in_time(await world.driver.submit_view(bobs.id, {}))
    assert "claimed by" in form_errors(again)["text_1"]
    assert [m.author for m in await mails()] == [ALICE]


async def test_a_forged_or_missing_stamp_counts_as_opened_long_ago(
    world: World, slack: SlackEmulator
) -> None:
    view = await open_form(world, world.waiting, ids.REPLY, ALICE)
    meta = json.loads(view.view["private_metadata"])
    with slack._mutate() as state:  # what a forged body would carry
        state.views[view.id].view["private_metadata"] = json.dumps(
            {**meta, "opened": "9" * 13 + ".0"}
        )
    first = in_time(await world.driver.submit_view(view.id, {"text": {"value": "Hello."}}))
    assert first.json()["response_action"] == "update"  # the ticket's first mail counts as new
    assert await mails() == []


# -- shortcuts -------------------------------------------------------------------------


async def test_the_phone_shortcut_opens_a_ticket_with_card_and_acknowledgement(
    world: World, slack: SlackEmulator
) -> None:
    delivery = in_time(await world.driver.global_shortcut(ids.NEW_TICKET, user=ALICE))
    await world.bot.settle()
    [view] = [v for v in slack.views(user_id=ALICE) if v.trigger_id == delivery.trigger_id]
    assert view.callback_id == ids.NEW_TICKET_VIEW
    await OutboxItem.all().delete()
    answers = {
        "email": {"value": "eva@customer.example"},
        "name": {"value": "Eva Müller"},
        "subject": {"value": "Phone: widget broken"},
        "text": {"value": "She called: the widget is broken."},
    }
    sent = in_time(await world.driver.submit_view(view.id, answers))
    assert form_errors(sent) == {}
    ticket = await Ticket.get(subject="Phone: widget broken")
    assert ticket.queue == "Support" and ticket.customer_name == "Eva Müller"
    [created] = await History.filter(ticket_id=ticket.id, event="created")
    assert created.actor == ALICE and created.detail["source"] == "phone"
    [ack] = await mails()
    assert ack.is_autoreply and ack.to_address == "eva@customer.example"
    await world.bot.deliver()
    assert any(ticket.number in json.dumps(m.blocks) for m in slack.messages(SUPPORT_CHANNEL))


async def test_someone_who_is_no_agent_gets_no_form_but_a_reason(
    world: World, slack: SlackEmulator
) -> None:
    in_time(await world.driver.global_shortcut(ids.NEW_TICKET, user=CAROL))
    await world.bot.settle()
    assert slack.views(user_id=CAROL) == []
    told = slack.messages(slack.im_channel_id(CAROL))
    assert told and "Only agents can open tickets" in told[-1].text


async def test_a_bad_address_and_a_foreign_queue_are_inline_errors(
    world: World, slack: SlackEmulator
) -> None:
    delivery = await world.driver.global_shortcut(ids.NEW_TICKET, user=ALICE)
    await world.bot.settle()
    [view] = [v for v in slack.views(user_id=ALICE) if v.trigger_id == delivery.trigger_id]
    tickets = await Ticket.all().count()
    answers = {
        "email": {"value": "not-an-address"},
        "subject": {"value": "S"},
        "text": {"value": "T"},
    }
    sent = await world.driver.submit_view(view.id, answers)
    assert set(form_errors(sent)) == {"email"}
    answers["email"] = {"value": "eva@customer.example"}
    answers["queue"] = {"value": {"selected_option": {"value": "Billing"}}}  # not hers
    sent = await world.driver.submit_view(view.id, answers)
    assert set(form_errors(sent)) == {"queue"}
    assert await Ticket.all().count() == tickets


async def test_a_message_shortcut_turns_a_customers_message_into_a_ticket(
    world: World, slack: SlackEmulator
) -> None:
    message = slack.record_user_message(
        SUPPORT_CHANNEL, EXTERNAL, "Our widget &lt;3 is broken\nsince Monday &amp; today"
    )
    delivery = in_time(await world.driver.message_shortcut(message, ids.FROM_MESSAGE, user=ALICE))
    await world.bot.settle()
    [view] = [v for v in slack.views(user_id=ALICE) if v.trigger_id == delivery.trigger_id]
    blocks = {b.get("block_id"): b for b in view.blocks}
    assert blocks["email"]["element"]["initial_value"] == "eve@partner.example"
    assert blocks["subject"]["element"]["initial_value"] == "Our widget <3 is broken"
    assert blocks["queue"]["element"]["initial_option"]["value"] == "Support"
    assert slack.calls("chat.getPermalink")[-1].ok
    sent = in_time(await world.driver.submit_view(view.id, {}))
    assert form_errors(sent) == {}
    ticket = await Ticket.get(subject="Our widget <3 is broken")
    assert ticket.customer_email == "eve@partner.example"
    [first] = await Article.filter(ticket_id=ticket.id, kind=ArticleKind.EMAIL_IN)
    assert "since Monday & today" in first.body and "/archives/C0SUPPORT1/p" in first.body
    assert await mails() == []  # no acknowledgement unless chosen
    await world.bot.deliver()
    assert any(ticket.number in json.dumps(m.blocks) for m in slack.messages(SUPPORT_CHANNEL))


async def test_an_agents_own_message_asks_for_the_address(
    world: World, slack: SlackEmulator
) -> None:
    message = slack.record_user_message(SUPPORT_CHANNEL, BOB, "Customer X called about Y")
    delivery = await world.driver.message_shortcut(message, ids.FROM_MESSAGE, user=ALICE)
    await world.bot.settle()
    [view] = [v for v in slack.views(user_id=ALICE) if v.trigger_id == delivery.trigger_id]
    email = next(b for b in view.blocks if b.get("block_id") == "email")
    assert "initial_value" not in email["element"]


async def test_a_reply_form_slack_did_not_open_says_nobody_is_replying(
    world: World, slack: SlackEmulator
) -> None:
    slack.trigger_ttl = 0  # every trigger_id has expired by the time the bot uses it
    await world.driver.click(world.card(slack, world.waiting), ids.REPLY, user=ALICE)
    await world.bot.settle()
    assert slack.views(user_id=ALICE) == []
    assert not await Replying.exists()


async def test_100_templates_and_50_queues_pass_slacks_checks(
    database: str, slack: SlackEmulator, slack_driver_factory: DriverFactory
) -> None:
    queues = (
        SUPPORT,
        BILLING,
        *(replace(BILLING, name=f"Q{i}", channel=f"C0Q{i:07d}") for i in range(48)),
    )
    many = tuple(
        ReplyTemplate(f"Template {i}", f"Text {i} for {{customer_name}}") for i in range(100)
    )
    changes = {"templates": many, "queues": queues}
    async with running_bot(slack, leads=[LENA], policy_changes=changes) as bot:
        world = await make_world(slack, slack_driver_factory, bot)
        view = await open_form(world, world.waiting, ids.REPLY, ALICE)
        await choose(world, view.id, 99)
        [update] = slack.calls("views.update")
        assert update.ok
        assert "Text 99 for Customer of Widget jams" in json.dumps(slack.view(view.id).blocks)
        shortcut = in_time(await world.driver.global_shortcut(ids.NEW_TICKET, user=LENA))
        await bot.settle()
        [phone] = [v for v in slack.views(user_id=LENA) if v.trigger_id == shortcut.trigger_id]
        menu = next(b for b in phone.blocks if b.get("block_id") == "queue")
        assert len(menu["element"]["options"]) == 50
        assert all(call.ok for call in slack.calls("views.open"))
