"""Errors raised by the mail package: one tree, so callers never see aioimaplib or ssl types.

    MailError                    base: anything the mail side could not do
    ├── ImapError                the IMAP server refused a command or answered nonsense
    │   ├── ImapAuthError        login refused: check mail.imap.username / password
    │   └── ImapConnectionError  connect, TLS, timeout or dropped connection: retry later
    ├── MessageHandlerError      the message handler raised; the message is retried
    └── SmtpError                sending mail failed
        ├── SmtpTemporaryError   4xx, connection or TLS trouble: retry later
        └── SmtpPermanentError   5xx: the server will never take this mail

Third-party exceptions are translated in one place per protocol
(`mail.imap_client.translate_error` for IMAP), with the original kept as `__cause__`.
Messages say what to check next and never contain passwords.
"""

from __future__ import annotations


class MailError(Exception):
    """Base class of every error the mail package raises."""


class ImapError(MailError):
    """The IMAP server refused a command or broke the protocol."""


class ImapAuthError(ImapError):
    """The server refused our login; retrying will not help until the config changes."""


class ImapConnectionError(ImapError):
    """No usable connection: refused, unreachable, TLS failure, timeout or dropped."""


class MessageHandlerError(MailError):
    """The message handler raised for one message; it stays unseen and is handed over again.

    The handler's own exception is `__cause__`.
    """

    def __init__(self, message: str, *, uid: int) -> None:
        super().__init__(message)
        self.uid = uid


class SmtpError(MailError):
    """Sending mail over SMTP failed."""


class SmtpTemporaryError(SmtpError):
    """Connection trouble or a 4xx answer: the same mail may go through later."""


class SmtpPermanentError(SmtpError):
    """A 5xx answer: the server will never take this mail as it is."""
