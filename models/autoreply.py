"""The automatic acknowledgement: when we may send one, and what it says."""

from __future__ import annotations

import secrets

from models.numbers import format_subject, strip_reply_prefixes
from models.policy import Policy


def new_message_id(policy: Policy, number: str) -> str:
    """Our own Message-ID, short (no folding anywhere) and carrying the ticket number."""
    return f"<ticket.{number}.{secrets.token_hex(8)}@{policy.mail_domain}>"


def autoreply_refusal(
    *,
    policy: Policy,
    sender: str,
    is_automatic: bool,
    automatic_reason: str | None,
    is_bounce: bool,
    sent_last_day: int,
) -> str | None:
    """Why no acknowledgement may go out (loop and flood protection), or None to send it."""
    if not policy.autoreply_enabled:
        return "auto-replies are disabled"
    if not sender:
        return "no sender address"
    if is_bounce:
        return "bounce"
    if is_automatic:
        return f"automatic mail ({automatic_reason or 'automatic'})"
    if sender.lower() in policy.our_addresses:
        return "sent from our own address"
    if sent_last_day >= policy.autoreply_max_per_sender_per_day:
        return f"{sent_last_day} auto-replies to this sender in the last 24 hours"
    return None


def acknowledgement(
    policy: Policy, number: str, subject: str, customer_name: str
) -> tuple[str, str]:
    """Subject and text of the acknowledgement for a new ticket."""
    greeting = f"Hello {customer_name}," if customer_name else "Hello,"
    tag = f"[{policy.ticket_hook}{number}]"
    body = (
        f"{greeting}\n\n"
        f"thank you for your message. We have received it and opened ticket {number}"
        f"{':' if subject else '.'}\n\n"
        + (f"    {subject}\n\n" if subject else "")
        + "An agent will answer you as soon as possible. To add anything, simply reply to this\n"
        f"mail and keep {tag} in the subject.\n\n"
        f"-- \n{policy.display_name}\n"
    )
    return format_subject(policy.ticket_hook, number, subject or "Your request"), body


def closed_ticket_notice(
    policy: Policy, number: str, subject: str, customer_name: str
) -> tuple[str, str]:
    """The answer to a reply to a closed ticket when `followup_on_closed` is `reject`."""
    greeting = f"Hello {customer_name}," if customer_name else "Hello,"
    tag = f"[{policy.ticket_hook}{number}]"
    body = (
        f"{greeting}\n\n"
        f"your message refers to ticket {number}, which is closed, so it was not reopened.\n"
        "If you still need help, please write a new mail without "
        f"{tag} in the subject and we will open a new ticket for it.\n\n"
        f"-- \n{policy.display_name}\n"
    )
    return format_subject(
        policy.ticket_hook, number, strip_reply_prefixes(subject) or "Your request"
    ), body
