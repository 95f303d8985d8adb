"""The domain's view of configuration: what the rules need, nothing about transports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models.sla import SlaPolicy
from models.templates import Locale, ReplyTemplate

FollowupOnClosed = Literal["reopen", "reject", "new_ticket"]


@dataclass(frozen=True, slots=True)
class QueueRoute:
    name: str
    channel: str
    addresses: frozenset[str] = frozenset()
    signature: str = ""  # under every agent reply from this queue; empty: agent and team
    locale: Locale | None = None  # the automatic mails' language; None: `Policy.locale`
    acknowledgement: str = ""  # own wording instead of the shipped one (empty: shipped)
    closed_notice: str = ""
    escalation_group: str = ""  # a Slack user group id, mentioned by SLA warnings when unclaimed


@dataclass(frozen=True, slots=True)
class CsatPolicy:
    """Customer satisfaction after a close (`csat:`): where the rating links point and
    the key that signs them (never shown: `repr=False`)."""

    public_url: str  # the HTTP listener as customers reach it, without a trailing /
    key: bytes = field(repr=False)
    expiry_days: int = 14


@dataclass(frozen=True, slots=True)
class Policy:
    """Built once by the composition root from the validated settings."""

    queues: tuple[QueueRoute, ...]
    address: str
    display_name: str = "Support"
    ticket_hook: str = "Ticket#"
    system_id: int = 10
    followup_on_closed: FollowupOnClosed = "reopen"
    autoreply_enabled: bool = True
    autoreply_max_per_sender_per_day: int = 10
    autoreply_max_per_hour: int = 200
    autoreply_max_per_domain_per_hour: int = 30
    lock_timeout_minutes: int = 60
    first_response_minutes: int = 60
    leads: frozenset[str] = field(default_factory=frozenset)
    same_request_window_hours: float = 24
    attachments_dir: str = "data/attachments"
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_min_free_bytes: int = 512 * 1024 * 1024
    allow_guests: bool = False
    locale: Locale = "en"
    templates: tuple[ReplyTemplate, ...] = ()
    sla: SlaPolicy | None = None  # service levels (`sla:`); None: no due times, no notices
    csat: CsatPolicy | None = None  # None: no rating mail after a close

    @property
    def our_addresses(self) -> frozenset[str]:
        addresses = {self.address.lower()}
        for queue in self.queues:
            addresses |= {a.lower() for a in queue.addresses}
        return frozenset(addresses)

    @property
    def mail_domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"

    def route(self, recipients: list[str]) -> QueueRoute:
        """The first queue (in config order) that one of the recipients belongs to."""
        wanted = {r.lower() for r in recipients}
        for queue in self.queues:
            if queue.addresses & wanted:
                return queue
        return self.queues[0]

    def queue(self, name: str) -> QueueRoute:
        for queue in self.queues:
            if queue.name == name:
                return queue
        return self.queues[0]
