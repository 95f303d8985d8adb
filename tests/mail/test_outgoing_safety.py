"""Header injection from a customer's mail never reaches an outgoing header."""

from email import message_from_bytes

from mail.delivery import MailDelivery
from mail.smtp import SmtpConfig, SmtpSender
from models.outbox.items import OutboxItem
from models.policy import Policy, QueueRoute
from models.store.article import Article, ArticleKind
from models.work import Agent, reply
from tests.support.intake import ingest
from tests.support.make_mail import make_mail
from tests.support.smtp_server import SmtpServer

POLICY = Policy(
    queues=(QueueRoute("Support", "C0SUPPORT", frozenset({"support@ticketbot.example"})),),
    address="support@ticketbot.example",
    display_name="Support",
    autoreply_enabled=False,
)


async def test_crlf_in_an_encoded_subject_never_reaches_our_reply(
    database: str, smtp_server: SmtpServer
) -> None:
    hostile = "=?utf-8?q?Help=0D=0ABcc:_victim@example.org=0D=0AX-Evil:_1?="
    raw = make_mail(subject="placeholder", from_="Eve <eve@example.com>")
    raw = raw.replace(b"Subject: placeholder", b"Subject: " + hostile.encode())
    raw = raw.replace(b"From: Eve", b"From: =?utf-8?q?Eve=0D=0ABcc:_x@y.z?=")
    result = await ingest(raw, POLICY)
    assert result.ticket_id is not None
    article = await reply(result.ticket_id, Agent("U1", "Agent\r\nBcc: a@b.c"), "Answer", POLICY)
    item = await OutboxItem.filter(kind="mail.send").first()
    assert item is not None
    smtp = SmtpSender(SmtpConfig(smtp_server.host, smtp_server.port, "none"))
    try:
        await MailDelivery(smtp, from_name="S").send_article(item)
    finally:
        await smtp.close()
    [received] = await smtp_server.wait(1)
    assert received.rcpt_tos == ("eve@example.com",)
    headers = received.raw.split(b"\r\n\r\n", 1)[0]
    parsed = message_from_bytes(received.raw)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert b"\nBcc:" not in headers and b"\nX-Evil" not in headers
    assert "\n" not in (parsed["Subject"] or "") and "\r" not in (parsed["Subject"] or "")
    stored = await Article.get(id=article.id)
    assert stored.kind == ArticleKind.EMAIL_OUT
