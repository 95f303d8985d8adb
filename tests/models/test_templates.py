"""Templates (pure): canned replies and signatures filled safely, and the shipped wording
of the automatic mails in English and German, overridable per queue."""

from __future__ import annotations

import pytest

from models.autoreply import acknowledgement, closed_ticket_notice
from models.policy import Policy, QueueRoute
from models.templates import (
    NOTICE_PLACEHOLDERS,
    REPLY_PLACEHOLDERS,
    fill,
    reply_values,
    unknown_placeholders,
    with_signature,
)

VALUES = reply_values(
    customer_name="Eva Müller", number="2026120610000017", subject="Printer", agent_name="Alice"
)


def policy(*queues: QueueRoute, locale: str = "en") -> Policy:
    routes = queues or (QueueRoute("Support", "C1"),)
    return Policy(queues=routes, address="support@example.com", locale=locale)  # type: ignore[arg-type]


def test_known_placeholders_are_filled() -> None:
    text = "Dear {customer_name}, about {subject} ({number}): done. {agent_name}"
    assert fill(text, VALUES) == ("Dear Eva Müller, about Printer (2026120610000017): done. Alice")


@pytest.mark.parametrize(
    "text",
    ["{", "}", "{}", "{0}", "{customer_name.__class__}", "{unknown}", "{{number}}", "%s {!r}"],
)
def test_hostile_or_unknown_braces_stay_as_written(text: str) -> None:
    assert fill(text, {}) == text
    assert "{" in fill(text + "{", VALUES)  # never raises, never eats a brace


def test_a_value_holding_a_placeholder_is_not_expanded_again() -> None:
    values = {**VALUES, "customer_name": "{number} {0} {"}
    assert fill("Hi {customer_name}", values) == "Hi {number} {0} {"


def test_unknown_placeholders_are_named_for_config_errors() -> None:
    assert unknown_placeholders("{name} {number} {x}", REPLY_PLACEHOLDERS) == ["name", "x"]
    assert unknown_placeholders("{customer_name}", NOTICE_PLACEHOLDERS) == ["customer_name"]


def test_a_signature_goes_under_the_dash_dash_line() -> None:
    assert with_signature("Hi", "Alice\nSupport\n") == "Hi\n\n-- \nAlice\nSupport\n"


def test_the_english_acknowledgement_is_the_shipped_one() -> None:
    subject, body = acknowledgement(policy(), "2026120610000017", "Printer jams")
    assert subject == "[Ticket#2026120610000017] Printer jams"
    assert body.startswith("Hello,\n\nthank you for your message.")
    assert "    Printer jams\n" in body and "keep [Ticket#2026120610000017] in" in body
    assert body.endswith("-- \nSupport\n")


def test_the_german_acknowledgement_is_written_in_german() -> None:
    subject, body = acknowledgement(policy(locale="de"), "2026120610000017", "Drucker")
    assert subject == "[Ticket#2026120610000017] Drucker"
    assert body.startswith("Guten Tag,\n\nvielen Dank für Ihre Nachricht.")
    assert "Ticketnummer 2026120610000017 erfasst" in body
    assert "lassen Sie\n[Ticket#2026120610000017] im Betreff stehen" in body
    assert "Mit freundlichen Grüßen\nSupport\n" in body


def test_without_a_subject_each_locale_says_your_request() -> None:
    assert acknowledgement(policy(), "1", "")[0] == "[Ticket#1] Your request"
    assert acknowledgement(policy(locale="de"), "1", "  ")[0] == "[Ticket#1] Ihre Anfrage"


def test_the_closed_notice_in_both_locales() -> None:
    _, english = closed_ticket_notice(policy(), "7", "Re: Printer")
    _, german = closed_ticket_notice(policy(locale="de"), "7", "AW: Drucker")
    assert "which is closed, so it was not reopened" in english
    assert "bereits abgeschlossen\nund wurde daher nicht wieder geöffnet" in german


def test_a_queue_chooses_its_own_locale_and_wording() -> None:
    german = QueueRoute("Vertrieb", "C2", locale="de")
    own = QueueRoute("VIP", "C3", acknowledgement="Ticket {number} ({subject}) — {team}")
    rules = policy(QueueRoute("Support", "C1"), german, own)
    assert acknowledgement(rules, "9", "Hallo", german)[1].startswith("Guten Tag")
    assert acknowledgement(rules, "9", "Hallo", rules.queues[0])[1].startswith("Hello")
    assert acknowledgement(rules, "9", "Hi", own)[1] == "Ticket 9 (Hi) — Support"


def test_the_acknowledgement_never_repeats_more_than_the_cut_subject() -> None:
    hostile = "{customer_name} " + "x" * 500
    _, body = acknowledgement(policy(), "9", hostile)
    assert "{customer_name}" in body and "x" * 200 not in body
