"""How soon a ticket wants an answer: one vocabulary for the ticket, its lists and its
service levels (models.sla), free of the database so pure rules can use it."""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    """How soon a ticket wants an answer; lists put urgent first (`PRIORITY_ORDER`)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


#: Most pressing first: the order of `/ticket queue`, App Home and the report's counts.
PRIORITY_ORDER = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
