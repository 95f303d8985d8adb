"""Every notice and refusal the domain can state has words, using exactly its facts; facts are
escaped, user ids are mentions in mrkdwn and names in plain text."""

from __future__ import annotations

import pytest

from bot.render.notices import (
    NOTICE_TEMPLATES,
    REFUSAL_TEMPLATES,
    notice_text,
    placeholders,
    refusal_text,
    user_facts,
)
from models.events import NOTICE_FACTS, REFUSAL_FACTS, Notice, Refusal
from models.work import Refused


@pytest.mark.parametrize("notice", list(Notice))
def test_every_notice_has_words_for_exactly_its_facts(notice: Notice) -> None:
    assert placeholders(NOTICE_TEMPLATES[notice]) == NOTICE_FACTS[notice]


@pytest.mark.parametrize("reason", list(Refusal))
def test_every_refusal_has_words_for_exactly_its_facts(reason: Refusal) -> None:
    assert placeholders(REFUSAL_TEMPLATES[reason]) == REFUSAL_FACTS[reason]


def test_no_template_for_a_kind_that_does_not_exist() -> None:
    assert set(NOTICE_TEMPLATES) == set(Notice)
    assert set(REFUSAL_TEMPLATES) == set(Refusal)


def test_facts_from_a_mail_are_escaped_and_user_ids_become_mentions() -> None:
    text = notice_text(
        Notice.REPLY_TO_IGNORED, {"address": "<!channel>@evil.example", "customer": "a&b@x.io"}
    )
    assert "&lt;!channel&gt;@evil.example" in text and "a&amp;b@x.io" in text
    assert "<!channel>" not in text
    assert notice_text(Notice.CLOSED_BY, {"agent": "U0ALICE001"}) == (
        ":white_check_mark: Closed by <@U0ALICE001>."
    )


def test_a_user_fact_that_is_no_user_id_is_shown_as_text() -> None:
    text = notice_text(Notice.RELEASED_BY, {"agent": "<!here>", "owner": "U0BOB00001"})
    assert text == ":unlock: &lt;!here&gt; released <@U0BOB00001>'s claim."


def test_refusals_in_mrkdwn_and_in_plain_text() -> None:
    refused = Refused(Refusal.HELD, number="2026112510000017", owner="U0ALICE001")
    assert refusal_text(refused) == "Ticket 2026112510000017 is claimed by <@U0ALICE001>."
    assert user_facts(refused) == ["U0ALICE001"]
    plain = refusal_text(refused, {"U0ALICE001": "Alice Agent"})
    assert plain == "Ticket 2026112510000017 is claimed by @Alice Agent."


def test_a_refusal_or_notice_with_the_wrong_facts_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="takes"):
        Refused(Refusal.HELD, number="1")
    with pytest.raises(ValueError, match="takes"):
        Refused(Refusal.RACE, number="1")
