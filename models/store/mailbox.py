"""Where each IMAP mailbox was left: UIDVALIDITY, last UID handled, and who polls it."""

from __future__ import annotations

from datetime import timedelta

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from models.clock import Clock, system_clock
from models.outbox.leases import StaleOwner, never_stale


class MailboxState(Model):
    id = fields.BigIntField(primary_key=True)
    mailbox = fields.CharField(max_length=500, unique=True)
    uidvalidity = fields.BigIntField(null=True)
    last_uid = fields.BigIntField(default=0)
    lease_owner = fields.CharField(max_length=200, default="")
    lease_until = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "mailbox_state"


class DatabaseMailboxStore:
    """Persists poller progress; the lease lets several processes share one mailbox safely."""

    def __init__(self, clock: Clock = system_clock, stale_owner: StaleOwner = never_stale) -> None:
        self._clock = clock
        self._stale_owner = stale_owner

    async def _row(self, mailbox: str) -> MailboxState:
        row = await MailboxState.get_or_none(mailbox=mailbox)
        if row is not None:
            return row
        try:
            return await MailboxState.create(mailbox=mailbox, updated_at=self._clock())
        except IntegrityError:  # another process created it first
            return await MailboxState.get(mailbox=mailbox)

    async def load(self, mailbox: str) -> tuple[int | None, int]:
        row = await self._row(mailbox)
        return row.uidvalidity, row.last_uid

    async def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        await self._row(mailbox)
        await MailboxState.filter(mailbox=mailbox).update(
            uidvalidity=uidvalidity, last_uid=last_uid, updated_at=self._clock()
        )

    async def acquire(self, mailbox: str, owner: str, ttl_seconds: float) -> bool:
        """Compare-and-set: a lease that is free, ours, expired or a dead process's becomes ours."""
        row = await self._row(mailbox)
        now = self._clock()
        holder = row.lease_owner
        expired = row.lease_until is None or row.lease_until < now
        if holder not in ("", owner) and not expired and not self._stale_owner(holder):
            return False
        taken = await MailboxState.filter(id=row.id, lease_owner=holder).update(
            lease_owner=owner, lease_until=now + timedelta(seconds=ttl_seconds)
        )
        return taken == 1

    async def release(self, mailbox: str, owner: str) -> None:
        await MailboxState.filter(mailbox=mailbox, lease_owner=owner).update(
            lease_owner="", lease_until=None
        )
