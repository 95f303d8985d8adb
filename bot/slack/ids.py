"""Action and callback ids: the contract with Slack (see SPEC), in one place."""

from __future__ import annotations

CLAIM = "ticket_claim"
RELEASE = "ticket_release"
REPLY = "ticket_reply"
NOTE = "ticket_note"
CLOSE = "ticket_close"
REOPEN = "ticket_reopen"
SEARCH_MORE = "search_more"  # the next page of /ticket search results
PRIORITY = "ticket_priority"  # static select on the card
TRANSFER = "ticket_transfer"  # static select of the other queues
MERGE = "ticket_merge"  # button opening the merge modal
CUSTOMER_HISTORY = "ticket_customer_history"  # the card's overflow menu


REPLY_VIEW = "ticket_reply"
NOTE_VIEW = "ticket_note"
CLOSE_VIEW = "ticket_close"
MERGE_VIEW = "ticket_merge"

CARD_ACTIONS_BLOCK = "ticket_actions"
CARD_CONTROLS_BLOCK = "ticket_controls"  # priority, transfer, merge, customer history

_MAX_ID = 2**63 - 1  # a database bigint


def ticket_id(value: object) -> int:
    """The ticket id a button value or form metadata carries, or 0 (no such ticket) when it
    is not one: a value the database cannot even compare must not fail a whole claim batch."""
    try:
        number = int(str(value))
    except ValueError:
        return 0
    return number if 0 < number <= _MAX_ID else 0


REPLY_TEMPLATE = "reply_template"  # the canned-response menu in the Reply form
FROM_MESSAGE = "ticket_from_message"  # message shortcut
NEW_TICKET = "ticket_new"  # global shortcut (a phone call)
NEW_TICKET_VIEW = "ticket_new"
FROM_MESSAGE_VIEW = "ticket_from_message"


def option_value(ticket_id: int, choice: str) -> str:
    """A select option's value: the ticket and what was chosen (a priority, a queue)."""
    return f"{ticket_id}:{choice}"


def read_option_value(value: object) -> tuple[int, str]:
    """(ticket id or 0, choice) from `option_value`'s text, whatever a request carries."""
    ticket, _, choice = str(value).partition(":")
    return ticket_id(ticket), choice
