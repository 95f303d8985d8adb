"""Composition root helpers: turn validated settings into what each package takes."""

from __future__ import annotations

from bot.app.config import Settings
from mail.imap import ImapConfig
from mail.limits import ParseLimits
from mail.smtp import SmtpConfig
from models.csat_token import derive_key
from models.policy import CsatPolicy, Policy, QueueRoute
from models.sla import SlaPolicy
from models.templates import ReplyTemplate


def build_policy(settings: Settings) -> Policy:
    mail = settings.mail
    return Policy(
        queues=tuple(
            QueueRoute(
                name=q.name,
                channel=q.channel,
                addresses=frozenset(q.addresses),
                signature=q.signature,
                locale=q.locale,
                acknowledgement=q.acknowledgement,
                closed_notice=q.closed_notice,
                escalation_group=q.escalation_group,
            )
            for q in settings.queues
        ),
        address=mail.address,
        display_name=mail.display_name,
        ticket_hook=mail.ticket_hook,
        system_id=mail.system_id,
        followup_on_closed=mail.followup_on_closed,
        autoreply_enabled=mail.autoreply.enabled,
        autoreply_max_per_sender_per_day=mail.autoreply.max_per_sender_per_day,
        autoreply_max_per_hour=mail.autoreply.max_per_hour,
        autoreply_max_per_domain_per_hour=mail.autoreply.max_per_domain_per_hour,
        lock_timeout_minutes=settings.tickets.lock_timeout_minutes,
        first_response_minutes=settings.tickets.first_response_minutes,
        leads=frozenset(settings.slack.leads),
        same_request_window_hours=mail.same_request_window_hours,
        attachments_dir=mail.attachments.directory,
        attachment_max_bytes=mail.attachments.max_bytes,
        attachment_min_free_bytes=mail.attachments.min_free_bytes,
        allow_guests=settings.slack.allow_guests,
        locale=mail.locale,
        templates=tuple(ReplyTemplate(t.name, t.text) for t in settings.templates),
        sla=build_sla(settings),
        csat=csat_policy(settings),
    )


def csat_policy(settings: Settings) -> CsatPolicy | None:
    """The rating links' policy, None while `csat.enabled` is off."""
    csat = settings.csat
    if not csat.enabled:
        return None
    secret = csat.secret.get_secret_value() or settings.slack.signing_secret.get_secret_value()
    return CsatPolicy(
        public_url=settings.slack.public_url.rstrip("/"),
        key=derive_key(secret),
        expiry_days=csat.expiry_days,
    )


def imap_config(settings: Settings) -> ImapConfig | None:
    imap = settings.mail.imap
    if imap is None:
        return None
    return ImapConfig(
        host=imap.host,
        port=imap.port,
        security=imap.security,
        username=imap.username,
        password=imap.password.get_secret_value(),
        folder=imap.folder,
        poll_seconds=imap.poll_seconds,
        idle=imap.idle,
    )


def smtp_config(settings: Settings) -> SmtpConfig:
    smtp = settings.mail.smtp
    return SmtpConfig(
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        username=smtp.username,
        password=smtp.password.get_secret_value(),
        timeout=smtp.timeout_seconds,
    )


def parse_limits(settings: Settings) -> ParseLimits:
    limits = settings.mail.limits
    return ParseLimits(
        parse_seconds=limits.parse_seconds,
        parse_memory_mb=limits.parse_memory_mb,
        max_message_bytes=limits.max_message_bytes,
        max_parts=limits.max_parts,
        max_attachments=limits.max_attachments,
        max_html_bytes=limits.max_html_bytes,
        max_attempts=limits.max_attempts,
    )


def build_sla(settings: Settings) -> SlaPolicy | None:
    """The service levels, or None when `sla:` is absent (no due times, no notices)."""
    sla = settings.sla
    if sla is None:
        return None
    targets = sla.targets.by_priority()
    return SlaPolicy(
        calendar=sla.calendar(),
        targets=targets,
        queue_targets={
            queue.name: queue.sla.targets.by_priority(targets)
            for queue in settings.queues
            if queue.sla is not None
        },
        warn_percent=sla.warn_percent,
    )
