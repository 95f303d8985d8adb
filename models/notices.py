"""Notices the domain posts into a ticket's thread, as a kind and its facts.

The domain says what happened; `bot/` decides how Slack shows it (and escapes
every fact that came from a mail), so no customer text is ever taken for markup.
"""

from __future__ import annotations

from enum import StrEnum


class Notice(StrEnum):
    #: A follow-up asked for answers to go elsewhere (Reply-To); facts: `address`, `customer`.
    REPLY_TO_IGNORED = "reply_to_ignored"
    #: A mail of the ticket could not be read fully; facts: `reason`.
    READ_IN_PART = "read_in_part"
