"""Action and callback ids: the contract with Slack (see SPEC), in one place."""

from __future__ import annotations

CLAIM = "ticket_claim"
RELEASE = "ticket_release"
REPLY = "ticket_reply"
NOTE = "ticket_note"
CLOSE = "ticket_close"
REOPEN = "ticket_reopen"

CARD_ACTIONS = (CLAIM, RELEASE, REPLY, NOTE, CLOSE, REOPEN)

REPLY_VIEW = "ticket_reply"
NOTE_VIEW = "ticket_note"
CLOSE_VIEW = "ticket_close"

CARD_ACTIONS_BLOCK = "ticket_actions"
