"""The automatic acknowledgement: when we may send one, and what it says."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from models.numbers import format_subject, strip_reply_prefixes
from models.policy import Policy, QueueRoute
from models.templates import SHIPPED, Locale, fill


def new_message_id(policy: Policy, number: str) -> str:
    """Our own Message-ID, short (no folding anywhere) and carrying the ticket number."""
    return f"<ticket.{number}.{secrets.token_hex(8)}@{policy.mail_domain}>"


#: How much of the customer's subject an automatic answer repeats (SPEC: no reflector).
SUBJECT_QUOTE_CHARS = 120


@dataclass(frozen=True, slots=True)
class RecentAnswers:
    """Automatic answers already sent, counted for the flood caps."""

    to_recipient_last_day: int = 0
    last_hour: int = 0
    to_domain_last_hour: int = 0


def quote_subject(subject: str) -> str:
    """At most `SUBJECT_QUOTE_CHARS` of a customer's subject, marked when cut."""
    subject = " ".join(subject.split())
    if len(subject) <= SUBJECT_QUOTE_CHARS:
        return subject
    return subject[: SUBJECT_QUOTE_CHARS - 1].rstrip() + "…"


def autoreply_refusal(
    *,
    policy: Policy,
    sender: str,
    is_automatic: bool,
    automatic_reason: str | None,
    is_bounce: bool,
    recent: RecentAnswers,
) -> str | None:
    """Why no acknowledgement may go out (loop and flood protection), or None to send it."""
    if not policy.autoreply_enabled:
        return "auto-replies are disabled"
    if not sender:
        return "no valid sender address"
    if is_bounce:
        return "bounce"
    if is_automatic:
        return f"automatic mail ({automatic_reason or 'automatic'})"
    if sender.lower() in policy.our_addresses:
        return "sent from our own address"
    if recent.to_recipient_last_day >= policy.autoreply_max_per_sender_per_day:
        return (
            f"{recent.to_recipient_last_day} auto-replies to this sender in the last 24 hours"
            " (mail.autoreply.max_per_sender_per_day)"
        )
    if recent.last_hour >= policy.autoreply_max_per_hour:
        return f"{recent.last_hour} auto-replies in the last hour (mail.autoreply.max_per_hour)"
    if recent.to_domain_last_hour >= policy.autoreply_max_per_domain_per_hour:
        return (
            f"{recent.to_domain_last_hour} auto-replies to this domain in the last hour"
            " (mail.autoreply.max_per_domain_per_hour)"
        )
    return None


def notice_locale(policy: Policy, queue: QueueRoute) -> Locale:
    return queue.locale or policy.locale


def _notice(
    policy: Policy, queue: QueueRoute, number: str, quoted: str, own: str, *, closed: bool
) -> tuple[str, str]:
    shipped = SHIPPED[notice_locale(policy, queue)]
    values = {
        "number": number,
        "subject": quoted or shipped.no_subject,
        "ticket_tag": f"[{policy.ticket_hook}{number}]",
        "team": policy.display_name,
    }
    text = own or (shipped.closed_notice if closed else shipped.acknowledgement)
    subject = format_subject(policy.ticket_hook, number, quoted or shipped.no_subject)
    return subject, fill(text, values)


def acknowledgement(
    policy: Policy, number: str, subject: str, queue: QueueRoute | None = None
) -> tuple[str, str]:
    """Subject and text of the acknowledgement for a new ticket, in the queue's locale (or
    its own wording).

    It repeats at most `SUBJECT_QUOTE_CHARS` of the subject and nothing else the sender
    wrote (not even their name): an acknowledgement must be worthless as a carrier of a
    stranger's text to a forged address.
    """
    route = queue or policy.queues[0]
    quoted = quote_subject(subject)
    return _notice(policy, route, number, quoted, route.acknowledgement, closed=False)


def closed_ticket_notice(
    policy: Policy, number: str, subject: str, queue: QueueRoute | None = None
) -> tuple[str, str]:
    """The answer to a reply to a closed ticket when `followup_on_closed` is `reject`."""
    route = queue or policy.queues[0]
    quoted = quote_subject(strip_reply_prefixes(subject))
    return _notice(policy, route, number, quoted, route.closed_notice, closed=True)
