"""The hostile corpus through a real `ticketbot run` (issue 8, SPEC "Hostile mail").

Every mail of tests/fixtures/hostile/ is appended to Dovecot, followed at once by an
ordinary mail. For each one: the bot stays alive, the ordinary mail gets its card, the
hostile one becomes what the manifest says (a ticket, a ticket marked as read in part, a
stub, or a bounce kept raw), and whatever the manifest asks of it is checked on what
the bot actually sent to Slack and to the SMTP server. Meanwhile signed slash commands
go to the bot without pause and every one must be acked within Slack's 3 seconds, and
the bot's resident memory is sampled after every mail.
"""

from __future__ import annotations

import asyncio
import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import ALICE, SUPPORT_CHANNEL, SlackEmulator
from bot.sandbox.emulator.state import Message
from bot.sandbox.signer import SlackDriver
from tests.support.bot_process import BotFactory, BotProcess, query, wait_outbox_drained
from tests.support.dovecot import DovecotServer
from tests.support.hostile_corpus import Expect, HostileMail, load_corpus
from tests.support.slack_fixtures import SIGNING_SECRET
from tests.support.smtp_server import ReceivedMessage, SmtpServer
from tests.support.ticket_flow import block_text, cards, customer_mail, thread_texts

pytestmark = pytest.mark.e2e

#: The bot's resident set may not grow past this while it reads the corpus (the largest
#: mail it parses is 25 MiB; one over the limit is read only up to it).
MAX_RSS_BYTES = 1024 * 1024 * 1024
#: How long the ordinary mail after a hostile one may wait for its card: the hostile one
#: may use its whole parse budget (5 s) and a 25 MiB mail takes a while over IMAP.
SENTINEL_SECONDS = 60.0
READ_IN_PART = "could not be read fully"
# What a mail's text must never become in Slack: a mention, a channel link, a broadcast,
# a labelled link. The bot's own `<!date^…>` is the one markup it writes itself.
SLACK_MARKUP = re.compile(r"<(?:[@#]|!(?!date\^)|https?:)[^>]*>")
BIDI_AND_CONTROLS = {"Cc", "Cf"}
DEVICE_NAMES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


@dataclass
class Probe:
    """Signed `/ticket help` to the bot, back to back, for as long as the corpus runs."""

    events_url: str
    slack: SlackEmulator
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        async with SlackDriver(self.events_url, SIGNING_SECRET, self.slack, timeout=30) as driver:
            while not self._stop.is_set():
                delivery = await driver.slash_command("help", user=ALICE, channel=SUPPORT_CHANNEL)
                self.latencies.append(delivery.latency)
                if not delivery.acked_in_time:
                    self.failures.append(f"{delivery.status} after {delivery.latency:.2f} s")
                await asyncio.sleep(0.1)  # pacing of the probe, not synchronisation

    def stop(self) -> None:
        self._stop.set()


@contextmanager
def probing(bot: BotProcess, slack: SlackEmulator) -> Iterator[Probe]:
    probe = Probe(bot.events_url, slack)
    thread = threading.Thread(target=probe.run, name="slack-probe")
    thread.start()
    try:
        yield probe
    finally:
        probe.stop()
        thread.join(60)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def stem_cards(slack: SlackEmulator, stem: str) -> list[Message]:
    return [card for card in cards(slack) if f"hostile/{stem}" in card.text]


def sent_for(smtp: SmtpServer, mail: HostileMail) -> list[ReceivedMessage]:
    """What we sent because of this mail: to its sender's domain, or naming it."""
    domain = "@" + sender_domain(mail)
    return [
        sent
        for sent in smtp.messages
        if any(rcpt.lower().endswith(domain) for rcpt in sent.rcpt_tos)
        or f"hostile/{mail.stem}" in str(sent.message["Subject"] or "")
    ]


def sender_domain(mail: HostileMail) -> str:
    return f"{mail.stem.replace('_', '-')}.example"


def from_address(mail: HostileMail) -> str:
    header = mail.raw.split(b"\r\n\r\n", 1)[0]
    found = re.search(rb"^From:(.*(?:\r\n[ \t].*)*)", header, re.MULTILINE)
    assert found, mail.file
    return parseaddr(found.group(1).decode("ascii", "replace"))[1]


def shown_texts(slack: SlackEmulator, card: Message) -> list[str]:
    return [card.text, block_text(card), *thread_texts(slack, card.ts)]


def subject_and_customer(card: Message) -> list[str]:
    """The card's fallback text, its subject section and its Customer field."""
    blocks = card.blocks or []
    return [card.text, blocks[1]["text"]["text"], blocks[2]["fields"][0]["text"]]


def check_ticket(slack: SlackEmulator, mail: HostileMail) -> Message:
    found = stem_cards(slack, mail.stem)
    assert len(found) == 1, f"{mail.file}: {len(found)} cards"
    [card] = found
    read_in_part = READ_IN_PART in block_text(card)
    if mail.expect in (Expect.TICKET_INCOMPLETE, Expect.STUB):
        assert read_in_part, f"{mail.file}: card does not say it was read in part"
    else:  # read whole: no limit cut it, the parse did not run out of its budget
        assert not read_in_part, f"{mail.file}: {block_text(card)[-600:]}"
    if mail.expect is Expect.STUB:
        assert "only its headers were read" in block_text(card), mail.file
    return card


def check_mail(
    mail: HostileMail, slack: SlackEmulator, smtp: SmtpServer, cards_by_stem: dict[str, Message]
) -> None:
    """Everything the manifest asks of one mail, on what the bot sent."""
    checks: dict[str, Any] = mail.checks
    card = cards_by_stem.get(mail.stem)
    sent = sent_for(smtp, mail)
    if checks.get("ack_to") == "from":
        assert [m.rcpt_tos for m in sent] == [(from_address(mail),)], mail.file
    if checks.get("ack_to") == "none":
        assert sent == [], f"{mail.file}: {[m.rcpt_tos for m in sent]}"
    if "ack_recipients" in checks:
        assert [len(m.rcpt_tos) for m in sent] == [checks["ack_recipients"]], mail.file
    for header in checks.get("no_injected_header", []):
        assert all(m.message[header] is None for m in sent), f"{mail.file}: {header}"
    for m in sent:
        ids = re.findall(r"<[^>]*>", str(m.message["References"] or ""))
        assert len(ids) <= checks.get("max_references", 100), mail.file
        assert all(len(i) <= 998 for i in [*ids, str(m.message["In-Reply-To"] or "")])
    if "not_note_on" in checks:
        target = cards_by_stem[checks["not_note_on"].removesuffix(".eml")]
        assert not [t for t in thread_texts(slack, target.ts) if "Delivery of a mail failed" in t]
    if card is None:
        return
    texts = shown_texts(slack, card)
    if "text_contains" in checks:
        assert checks["text_contains"] in block_text(card), mail.file
    if checks.get("no_mentions"):
        assert [SLACK_MARKUP.findall(text) for text in texts if SLACK_MARKUP.search(text)] == []
    uploads = [f for f in slack.files() if f.thread_ts == card.ts]
    if checks.get("no_control_chars"):  # the body keeps them: RTL text needs its marks
        shown = "".join([*subject_and_customer(card), *(f.filename for f in uploads)])
        shown = shown.replace("*Customer*\n", "")
        assert {c for c in shown if unicodedata.category(c) in BIDI_AND_CONTROLS} == set()
    if checks.get("no_surrogates"):
        shown = "".join(texts) + "".join(m.message.as_string() for m in sent)
        assert not re.search("[\ud800-\udfff]", shown), mail.file
    if "max_attachments" in checks:
        assert len(uploads) <= checks["max_attachments"], mail.file
    if checks.get("safe_filenames"):
        names = [f.filename for f in uploads]
        assert names, mail.file
        for name in names:
            assert not re.search(r"[/\\\x00-\x1f]", name) and name not in ("", ".", ".."), name
            assert not DEVICE_NAMES.match(name), name


def wait_card_of(slack: SlackEmulator, db_url: str, mail: HostileMail) -> None:
    try:
        slack.wait_for(
            lambda: stem_cards(slack, mail.stem), SENTINEL_SECONDS, f"the card of {mail.file}"
        )
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; outbox: {outbox_state(db_url)}") from None


def outbox_state(db_url: str) -> str:
    rows = query(
        db_url, "SELECT kind, status, attempts, last_error FROM outbox WHERE status <> 'done'"
    )
    return repr(rows)[:2000]


def hostile_outcomes(db_url: str) -> dict[str, int]:
    rows = query(db_url, "SELECT outcome, COUNT(*) FROM inbound_message GROUP BY outcome")
    return {str(outcome): int(count) for outcome, count in rows}


def test_no_hostile_mail_stops_stalls_or_abuses_the_running_bot(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    # The subject is hostile mail, not Slack's pace (tests/e2e/test_flood.py): the emulator
    # takes posts as fast as they come.
    bot = bot_factory(db_url, slack__posts_per_second=100)
    assert bot.proc is not None
    corpus = load_corpus()
    expected_cards = 0
    seen_rss: list[tuple[int, str]] = []
    cards_by_stem: dict[str, Message] = {}
    with probing(bot, slack) as probe:
        for n, mail in enumerate(corpus, start=1):
            imap_server.append(mail.raw)
            imap_server.append(customer_mail(10_000 + n, subject=f"sentinel {n}"))
            if mail.expect is not Expect.BOUNCE_UNMATCHED:
                expected_cards += 1
            expected_cards += 1
            slack.wait_for(
                lambda n=n: any(f"sentinel {n}" in card.text for card in cards(slack)),
                timeout=SENTINEL_SECONDS,
                what=f"the card of the mail after {mail.file}",
            )
            assert bot.proc.poll() is None, f"the bot died on {mail.file}:\n{bot.log()}"
            seen_rss.append((rss_bytes(bot.proc.pid), mail.file))
            if mail.expect is Expect.BOUNCE_UNMATCHED:
                assert stem_cards(slack, mail.stem) == [], mail.file
            else:  # cards of different tickets are posted independently: wait for it too
                wait_card_of(slack, db_url, mail)
                cards_by_stem[mail.stem] = check_ticket(slack, mail)
            assert len(cards(slack)) == expected_cards, f"after {mail.file}"
    wait_outbox_drained(db_url, timeout=60)

    print(  # the figures, for `pytest -s`
        f"{len(corpus)} hostile mails; slowest ack {max(probe.latencies) * 1000:.0f} ms of "
        f"{len(probe.latencies)}; peak RSS {max(seen_rss)[0] / 2**20:.0f} MiB"
    )
    assert probe.failures == [], probe.failures
    assert len(probe.latencies) > len(corpus)
    peak, peak_file = max(seen_rss)
    assert peak < MAX_RSS_BYTES, f"{peak / 2**20:.0f} MiB after {peak_file}"
    for mail in corpus:
        check_mail(mail, slack, smtp_server, cards_by_stem)
    never = {address.lower() for mail in corpus for address in mail.checks.get("never_mail", [])}
    recipients = {rcpt.lower() for sent in smtp_server.messages for rcpt in sent.rcpt_tos}
    assert recipients & never == set()
    assert all(len(getaddresses([str(sent.message["To"])])) == 1 for sent in smtp_server.messages)
    # Nothing silently gone: each mail is a ticket or a bounce kept raw, none quarantined.
    outcomes = hostile_outcomes(db_url)
    bounces = sum(mail.expect is Expect.BOUNCE_UNMATCHED for mail in corpus)
    assert outcomes.get("bounce_unmatched") == bounces
    assert outcomes.get("quarantined", 0) == 0
    assert "Traceback" not in bot.log()
