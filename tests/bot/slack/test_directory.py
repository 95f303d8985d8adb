"""Who someone is and who is in a channel, through the emulator: the caches behind the one
rule for "agent of a queue" (`Services.may_work_in`), and how they fail closed."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.emulator import (
    ALICE,
    BILLING_CHANNEL,
    BOB,
    CAROL,
    DAVE,
    EXTERNAL,
    GENERAL_CHANNEL,
    GUEST,
    LENA,
    PARTNER_TEAM_ID,
    SOLO,
    SUPPORT_CHANNEL,
    TEAM_ID,
    SlackEmulator,
    User,
)
from bot.slack.directory import CannotCheck, ChannelMembers, People, Person
from bot.slack.services import Services
from models.policy import Policy, QueueRoute

SUPPORT = QueueRoute("Support", SUPPORT_CHANNEL)
BILLING = QueueRoute("Billing", BILLING_CHANNEL)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lookups(slack: SlackEmulator, user: str) -> int:
    return len([c for c in slack.calls("users.info") if c.args.get("user") == user])


def services_for(
    client: AsyncWebClient,
    *,
    allow_guests: bool = False,
    leads: frozenset[str] = frozenset(),
    people: People | None = None,
    members: ChannelMembers | None = None,
) -> Services:
    policy = Policy(
        queues=(SUPPORT, BILLING),
        address="support@ticketbot.example",
        allow_guests=allow_guests,
        leads=leads,
    )
    return Services(
        policy=policy,
        members=members or ChannelMembers(client),
        people=people or People(client),
        wake_outbox=lambda: None,
    )


async def test_users_info_facts_are_read_as_slack_sends_them(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    people = People(slack_client)
    alice, guest, solo, external = [
        await people.person(user) for user in (ALICE, GUEST, SOLO, EXTERNAL)
    ]
    assert (alice.team_id, alice.name, alice.timezone, alice.is_guest) == (
        TEAM_ID,
        "Alice Agent",
        "Europe/Berlin",
        False,
    )
    assert guest.is_restricted and not guest.is_ultra_restricted and guest.is_guest
    assert solo.is_ultra_restricted and solo.is_guest
    assert external.team_id == PARTNER_TEAM_ID and not external.is_guest
    assert await people.our_team() == TEAM_ID


@pytest.mark.parametrize(
    ("user", "channel", "expected"),
    [
        (ALICE, SUPPORT_CHANNEL, True),
        (BOB, SUPPORT_CHANNEL, True),
        (GUEST, SUPPORT_CHANNEL, False),
        (SOLO, SUPPORT_CHANNEL, False),
        (EXTERNAL, SUPPORT_CHANNEL, False),
        (CAROL, SUPPORT_CHANNEL, False),
        (DAVE, SUPPORT_CHANNEL, False),
        (DAVE, BILLING_CHANNEL, True),
        (ALICE, GENERAL_CHANNEL, False),  # a member, but #general is no queue's channel
    ],
)
async def test_the_one_rule_for_an_agent_of_a_queue(
    slack: SlackEmulator, slack_client: AsyncWebClient, user: str, channel: str, expected: bool
) -> None:
    assert await services_for(slack_client).may_work_in(channel, user) is expected


async def test_guests_are_agents_only_when_allowed_and_other_workspaces_never(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    services = services_for(slack_client, allow_guests=True)
    assert await services.may_work_in(SUPPORT_CHANNEL, GUEST)
    assert await services.may_work_in(SUPPORT_CHANNEL, SOLO)
    assert not await services.may_work_in(SUPPORT_CHANNEL, EXTERNAL)
    # A single-channel guest flagged only as such is still a guest.
    slack.add_user(User("U0ULTRA001", "ultra", is_ultra_restricted=True))
    slack.add_member(SUPPORT_CHANNEL, "U0ULTRA001")
    assert not await services_for(slack_client).may_work_in(SUPPORT_CHANNEL, "U0ULTRA001")
    # A deactivated account is nobody's agent.
    slack.add_user(User("U0GONE0001", "gone", deleted=True))
    slack.add_member(SUPPORT_CHANNEL, "U0GONE0001")
    assert not await services_for(slack_client).may_work_in(SUPPORT_CHANNEL, "U0GONE0001")


async def test_queues_of_lists_the_agents_queues_and_a_lead_sees_every_queue(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    services = services_for(slack_client, leads=frozenset({LENA}))
    assert await services.queues_of(ALICE) == [SUPPORT]
    assert await services.queues_of(DAVE) == [BILLING]
    assert await services.queues_of(GUEST) == []
    assert await services.queues_of(EXTERNAL) == []
    assert await services.queues_of(CAROL) == []
    assert await services.queues_of(LENA) == []  # works in none: may act in none
    assert await services.visible_queues(LENA) == [SUPPORT, BILLING]
    assert await services.visible_channels(LENA) == [SUPPORT_CHANNEL, BILLING_CHANNEL]
    assert await services.visible_queues(DAVE) == [BILLING]


async def test_once_warm_a_check_costs_no_slack_call(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    services = services_for(slack_client)
    assert await services.may_work_in(SUPPORT_CHANNEL, ALICE)
    before = len(slack.calls())
    for _ in range(50):
        assert await services.may_work_in(SUPPORT_CHANNEL, ALICE)
    assert len(slack.calls()) == before
    assert len(slack.calls("auth.test")) == 1  # our team, asked once
    assert lookups(slack, ALICE) == 1


async def test_a_team_id_given_at_start_up_spares_auth_test(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    services = services_for(slack_client, people=People(slack_client, team_id=TEAM_ID))
    assert await services.may_work_in(SUPPORT_CHANNEL, ALICE)
    assert slack.calls("auth.test") == []


async def test_a_non_member_costs_no_users_info(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    assert not await services_for(slack_client).may_work_in(SUPPORT_CHANNEL, CAROL)
    assert lookups(slack, CAROL) == 0


async def test_people_are_looked_up_again_after_the_ttl(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = Monotonic()
    people = People(slack_client, ttl=600, clock=clock)
    services = services_for(slack_client, people=people)
    assert await services.may_work_in(SUPPORT_CHANNEL, BOB)
    slack.add_user(User(BOB, "bob", "Bob Agent", is_restricted=True))  # demoted to guest
    clock.now += 599
    assert await services.may_work_in(SUPPORT_CHANNEL, BOB)  # cached
    clock.now += 2
    assert not await services.may_work_in(SUPPORT_CHANNEL, BOB)
    assert lookups(slack, BOB) == 2


async def test_slack_failing_with_nothing_known_refuses(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    slack.faults.add("users.info", status=500, times=None)
    services = services_for(slack_client)
    with pytest.raises(CannotCheck):
        await services.may_work_in(SUPPORT_CHANNEL, ALICE)
    with pytest.raises(CannotCheck):
        await services.queues_of(ALICE)
    slack.faults.clear()
    assert await services.may_work_in(SUPPORT_CHANNEL, ALICE)  # a failure is not cached


@pytest.mark.parametrize("method", ["conversations.members", "auth.test"])
async def test_no_member_list_or_no_team_refuses_too(
    slack: SlackEmulator, slack_client: AsyncWebClient, method: str
) -> None:
    slack.faults.add(method, status=200, error="internal_error", times=None)
    with pytest.raises(CannotCheck):
        await services_for(slack_client).may_work_in(SUPPORT_CHANNEL, ALICE)


async def test_slack_failing_later_keeps_the_last_known_answer(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    clock = Monotonic()
    services = services_for(
        slack_client,
        people=People(slack_client, clock=clock),
        members=ChannelMembers(slack_client, clock=clock),
    )
    assert await services.may_work_in(SUPPORT_CHANNEL, ALICE)
    assert not await services.may_work_in(SUPPORT_CHANNEL, GUEST)
    slack.faults.add("*", status=500, times=None)
    clock.now += 3600
    assert await services.may_work_in(SUPPORT_CHANNEL, ALICE)
    assert not await services.may_work_in(SUPPORT_CHANNEL, GUEST)


async def test_someone_slack_does_not_know_is_nobody_and_names_fall_back(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    people = People(slack_client)
    assert await people.person("U0NOBODY01") == Person.nobody("U0NOBODY01")
    assert await people.name("U0NOBODY01", fallback="someone") == "someone"
    slack.add_member(SUPPORT_CHANNEL, "U0NOBODY01")
    assert not await services_for(slack_client).may_work_in(SUPPORT_CHANNEL, "U0NOBODY01")


async def test_names_and_zones_survive_a_failing_slack(
    slack: SlackEmulator, slack_client: AsyncWebClient
) -> None:
    people = People(slack_client)
    slack.faults.add("users.info", status=500, times=None)
    assert await people.name(ALICE, fallback="alice") == "alice"
    assert await people.timezone(ALICE) == "UTC"
    slack.faults.clear()
    assert await people.name(ALICE) == "Alice Agent"
    assert people.cached(ALICE) == "Alice Agent"
