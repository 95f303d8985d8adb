"""Send mail over SMTP with aiosmtplib; failures are sorted into temporary and permanent."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from mail.errors import SmtpError, SmtpPermanentError, SmtpTemporaryError


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """`mail.smtp`; the password stays out of repr() and so out of logs and tracebacks."""

    host: str
    port: int
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0


def translate_smtp_error(exc: BaseException) -> SmtpError:
    """The one mapping from aiosmtplib/OS errors to ours: 5xx is permanent, the rest may pass."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= c < 600 for c in codes):
            return SmtpPermanentError(f"all recipients refused: {exc}")
        return SmtpTemporaryError(f"recipients refused for now: {exc}")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SmtpTemporaryError(
            f"SMTP login refused ({exc.code}): check mail.smtp.username/password"
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 500 <= exc.code < 600:
            return SmtpPermanentError(f"SMTP server refused the mail ({exc.code} {exc.message})")
        return SmtpTemporaryError(f"SMTP server deferred the mail ({exc.code} {exc.message})")
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError | ssl.SSLError):
        return SmtpTemporaryError(f"cannot talk to the SMTP server: {type(exc).__name__}: {exc}")
    return SmtpTemporaryError(f"unexpected {type(exc).__name__}: {exc}")


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> None:
        """Send `message` to exactly `recipients` (the envelope is never read from headers:
        aiosmtplib would re-parse a To such as `"a@x,b@y"@z` into several recipients)."""
        if not recipients:
            raise SmtpPermanentError("no recipients")
        config = self._config
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=recipients,
                hostname=config.host,
                port=config.port,
                use_tls=config.security == "ssl",
                start_tls=config.security == "starttls",
                username=config.username or None,
                password=config.password or None,
                timeout=config.timeout,
            )
        except Exception as exc:
            raise translate_smtp_error(exc) from exc

    async def check(self) -> str:
        """Connect (and log in when configured) without sending anything, for `ticketbot check`."""
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "ssl",
            start_tls=config.security == "starttls",
            timeout=config.timeout,
        )
        try:
            await client.connect()
            if config.username:
                await client.login(config.username, config.password)
            await client.quit()
        except Exception as exc:
            raise translate_smtp_error(exc) from exc
        return f"{config.host}:{config.port} ({config.security}) accepted the connection"
