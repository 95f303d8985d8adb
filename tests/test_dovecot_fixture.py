"""The mail test bed itself: Dovecot and the recording SMTP server do what tests rely on."""

from __future__ import annotations

import imaplib
import smtplib
import socket
from email.message import EmailMessage

import aiosmtplib
import pytest

from tests.support.dovecot import HOST, DovecotServer, _live_group_members
from tests.support.make_mail import make_mail
from tests.support.smtp_server import SmtpServer


def _mail(subject: str) -> bytes:
    return make_mail(subject=subject, message_id=f"<{subject.replace(' ', '-')}@example.org>")


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


pytestmark = pytest.mark.dovecot


class TestDovecot:
    def test_append_returns_uids_and_sets_flags(self, imap_server: DovecotServer) -> None:
        first = imap_server.append(_mail("one"))
        second = imap_server.append(_mail("two"), flags=[r"\Seen", r"\Flagged"])

        assert second == first + 1
        assert imap_server.uids() == [first, second]
        assert r"\Seen" not in imap_server.flags(first)
        assert {r"\Seen", r"\Flagged"} <= imap_server.flags(second)
        assert imap_server.fetch(first) == _mail("one")

    def test_starts_each_test_with_empty_mailboxes(self, imap_server: DovecotServer) -> None:
        imap_server.create_folder("Archive")
        imap_server.append(_mail("archived"), folder="Archive")
        imap_server.append(_mail("inbox"))

        imap_server.reset_all()

        assert imap_server.uids() == []
        with imap_server.connect() as imap:
            typ, folders = imap.list()
        assert typ == "OK"
        assert [line for line in folders if b"Archive" in (line or b"")] == []

    def test_recreate_mailbox_renumbers_under_new_uidvalidity(
        self, imap_server: DovecotServer
    ) -> None:
        imap_server.append(_mail("old one"))
        imap_server.append(_mail("old two"))
        before = imap_server.uidvalidity()

        after = imap_server.recreate_mailbox()

        assert after != before
        assert imap_server.uidvalidity() == after
        assert imap_server.uids() == [1, 2]
        assert imap_server.fetch(1) == _mail("old one")

    def test_recreate_mailbox_can_drop_the_messages(self, imap_server: DovecotServer) -> None:
        imap_server.append(_mail("gone"))

        imap_server.recreate_mailbox(keep_messages=False)

        assert imap_server.uids() == []

    def test_users_can_be_added_and_wrong_passwords_fail(self, imap_server: DovecotServer) -> None:
        imap_server.add_user("billing", "s3cret")

        uid = imap_server.append(_mail("for billing"), user="billing")

        assert imap_server.uids(user="billing") == [uid]
        assert imap_server.uids() == []  # mailboxes are per user
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            imap = imaplib.IMAP4(HOST, imap_server.port, timeout=5)
            try:
                imap.login("billing", "wrong")
            finally:
                imap.logout()

    def test_stop_leaves_no_process_and_start_serves_the_same_port(
        self, imap_server: DovecotServer
    ) -> None:
        uid = imap_server.append(_mail("survives a restart"))

        imap_server.stop()

        assert not imap_server.running
        assert imap_server.last_pgid is not None
        assert _live_group_members(imap_server.last_pgid) == []
        assert not _accepts(imap_server.port)

        imap_server.start()

        assert imap_server.running
        assert imap_server.uids() == [uid]

    def test_log_and_config_stay_in_the_private_directory(self, imap_server: DovecotServer) -> None:
        config = imap_server.config_path.read_text()

        assert f"base_dir = {imap_server.root}/run" in config
        assert f"port = {imap_server.port}" in config
        assert "starting up" in imap_server.log_text()

    def test_tls_port_presents_the_test_certificate(self, imap_server: DovecotServer) -> None:
        if not imap_server.tls or imap_server.tls_port is None:
            pytest.skip("no openssl to make a certificate")

        imap = imaplib.IMAP4_SSL(
            HOST, imap_server.tls_port, ssl_context=imap_server.client_ssl_context(), timeout=5
        )
        try:
            typ, _ = imap.login("support", "secret")
        finally:
            imap.logout()

        assert typ == "OK"


class TestSmtpServer:
    def _send(self, server: SmtpServer, subject: str) -> None:
        with smtplib.SMTP(server.host, server.port, timeout=5) as client:
            client.sendmail("bot@example.com", ["a@example.org", "b@example.org"], _mail(subject))

    def test_records_envelope_and_message(self, smtp_server: SmtpServer) -> None:
        self._send(smtp_server, "recorded")

        [received] = smtp_server.wait_for(1)

        assert received.mail_from == "bot@example.com"
        assert received.rcpt_tos == ("a@example.org", "b@example.org")
        assert received.message["Subject"] == "recorded"
        assert b"Subject: recorded" in received.raw

    def test_each_test_starts_empty(self, smtp_server: SmtpServer) -> None:
        assert smtp_server.messages == []

    def test_fault_mode_answers_temporary_failure_then_recovers(
        self, smtp_server: SmtpServer
    ) -> None:
        smtp_server.fail_next(1)

        with pytest.raises(smtplib.SMTPDataError) as failure:
            self._send(smtp_server, "first try")
        self._send(smtp_server, "second try")

        assert failure.value.smtp_code == 451
        assert [m.message["Subject"] for m in smtp_server.wait_for(1)] == ["second try"]
        assert smtp_server.handler.rejected == 1

    def test_wait_for_predicate_times_out_with_a_reason(self, smtp_server: SmtpServer) -> None:
        with pytest.raises(TimeoutError, match="received 0 message"):
            smtp_server.wait_for(lambda messages: len(messages) > 0, timeout=0.05)

    async def test_async_wait_does_not_block_the_sender(self, smtp_server: SmtpServer) -> None:
        message = EmailMessage()
        message["From"] = "bot@example.com"
        message["To"] = "c@example.org"
        message["Subject"] = "async"
        message.set_content("hi")

        await aiosmtplib.send(message, hostname=smtp_server.host, port=smtp_server.port)
        received = await smtp_server.wait(
            lambda msgs: any(m.rcpt_tos == ("c@example.org",) for m in msgs)
        )

        assert received[0].message["Subject"] == "async"

    def test_auth_records_the_login(self) -> None:
        server = SmtpServer(users={"mailer": "pw"})
        server.start()
        try:
            with smtplib.SMTP(server.host, server.port, timeout=5) as client:
                client.login("mailer", "pw")
                client.sendmail("bot@example.com", ["d@example.org"], _mail("authed"))
            [received] = server.wait_for(1)
        finally:
            server.stop()

        assert received.auth_login == "mailer"
