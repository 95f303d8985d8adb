"""`ticketbot sandbox` in a real browser: Playwright drives Debian's chromium against a real
sandbox process (its own bot, emulator, mail loop and SQLite), as an evaluator would.

One walk through the whole loop - a customer's mail, claim, a refused second claim, a
reply by mail, the customer's answer in the thread, close with minutes, an outsider
refused, a lead's report - with a screenshot after each step under the test's tmp dir;
and a mail built to break out of its card: script tags, a broadcast, a labelled link.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.sandbox.emulator.config import ALICE, BOB, CAROL, LENA
from tests.support.dovecot import free_port

pytestmark = pytest.mark.e2e

playwright = pytest.importorskip("playwright.sync_api")
playwright.expect.set_options(timeout=20_000)  # a step may wait this long for the bot
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Generous: the first start imports everything and migrates SQLite on a busy CI machine.
START_SECONDS = 60.0
STEP_MS = 20_000  # how long one step may wait for the bot's answer to show


@dataclass
class Sandbox:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    started_in: float


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """`ticketbot sandbox` with an empty environment: no config, no variable, no secret."""
    port = free_port()
    log = tmp_path / "sandbox.log"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--data", "data"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_serving(url, proc, log)
        yield Sandbox(url, proc, log, time.monotonic() - started)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")


def _wait_serving(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sandbox exited {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling a condition with a deadline
    raise AssertionError(f"sandbox not serving after {START_SECONDS}s:\n{log.read_text()}")


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must apt-get install chromium)")
        pytest.skip("chromium is not installed")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Walk:
    """The page, and a numbered screenshot after every step."""

    def __init__(self, page: object, shots: Path) -> None:
        self.page = page
        self.shots = shots
        self.step = 0
        shots.mkdir()

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(self.shots / f"{self.step:02d}-{name}.png"))  # type: ignore[attr-defined]

    def be(self, user: str) -> None:
        self.page.select_option("#sb-user", user)  # type: ignore[attr-defined]

    def card(self, text: str) -> object:
        return self.page.locator("#sb-channel article.sb-message", has_text=text)  # type: ignore[attr-defined]

    def expect(self, locator: object) -> object:
        return playwright.expect(locator)  # type: ignore[attr-defined]


def send_mail(walk: Walk, sender: str, subject: str, text: str) -> None:
    page = walk.page
    page.fill("#sb-mail [name=sender]", sender)  # type: ignore[attr-defined]
    page.fill("#sb-mail [name=subject]", subject)  # type: ignore[attr-defined]
    page.fill("#sb-mail [name=text]", text)  # type: ignore[attr-defined]
    page.click("#sb-mail button[type=submit]")  # type: ignore[attr-defined]


def test_the_whole_loop_in_the_browser(sandbox: Sandbox, browser: object, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})  # type: ignore[attr-defined]
    page.set_default_timeout(STEP_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    walk = Walk(page, tmp_path / "screens")
    page.goto(sandbox.url)
    expect = playwright.expect

    # A fresh sandbox is never empty: three sample tickets, acknowledgements for two of them
    # (the out-of-office answer is automatic mail and gets none).
    for subject in ("Drucker im 3. Stock", "Invoice 2026-1187", "Out of Office"):
        expect(walk.card(subject)).to_have_count(1)
    expect(page.locator("#sb-inbox article.sb-sent")).to_have_count(2)
    expect(page.locator("#sb-inbox")).not_to_contain_text("tom.becker@example.org")
    walk.shot("samples")

    # The customer writes, with an attachment.
    page.set_input_files(
        "#sb-mail [name=attachments]",
        files=[{"name": "photo.txt", "mimeType": "text/plain", "buffer": b"smoke everywhere"}],
    )
    send_mail(walk, "Maria Schmidt <maria@example.net>", "Printer on fire", "It is burning!")
    card = walk.card("Printer on fire")
    expect(card.get_by_role("button", name="Claim", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Reply", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Close", exact=True)).to_be_visible()
    number = re.search(r"Ticket#(\d{16})", card.inner_text())
    assert number, card.inner_text()
    ack = page.locator("#sb-inbox article.sb-sent", has_text="Printer on fire")
    expect(ack).to_contain_text(f"[Ticket#{number.group(1)}] Printer on fire")
    expect(ack).to_contain_text("auto-replied")
    walk.shot("customer-mail-carded")

    # Alice claims while Bob looks at the card as it was (his page stops refreshing, as when
    # two agents click at once); his claim is refused with her name.
    bob = browser.new_page(viewport={"width": 1500, "height": 1000})  # type: ignore[attr-defined]
    bob.set_default_timeout(STEP_MS)
    bob.goto(f"{sandbox.url}?as={BOB}")
    bobs_card = bob.locator("#sb-channel article.sb-message", has_text="Printer on fire")
    expect(bobs_card.get_by_role("button", name="Claim", exact=True)).to_be_visible()
    bob.route("**/state*", lambda route: route.abort())
    walk.be(ALICE)
    card.get_by_role("button", name="Claim", exact=True).click()
    expect(card).to_contain_text("@Alice Agent")
    expect(card.get_by_role("button", name="Release", exact=True)).to_be_visible()
    walk.shot("alice-claimed")
    bobs_card.get_by_role("button", name="Claim", exact=True).click()
    bob.unroute("**/state*")
    refusal = bob.locator("#sb-channel article.sb-ephemeral", has_text="claimed by")
    expect(refusal).to_contain_text(f"Ticket {number.group(1)} is claimed by @Alice Agent")
    expect(refusal).to_contain_text("Only visible to you")
    expect(bobs_card).to_contain_text("@Alice Agent")
    bob.screenshot(path=str(tmp_path / "screens" / "03b-bob-refused.png"))

    # Alice's App Home lists the ticket she holds.
    walk.be(ALICE)
    page.click("#sb-home-button")
    home = page.locator("#sb-home")
    expect(home).to_contain_text("Printer on fire")
    walk.shot("alice-app-home")
    home.locator("[data-close=home]").click()
    expect(home).to_be_hidden()

    # Alice marks it urgent: a select in the card acts at once, as in Slack.
    card.locator("select[data-action-id=ticket_priority]").select_option(label="Urgent")
    expect(card).to_contain_text("🔴 Urgent")
    walk.shot("urgent")

    # Alice answers by mail through the modal, starting from a canned response.
    expect(page.locator("#sb-channel article.sb-ephemeral")).to_have_count(0)  # Bob's only
    card.get_by_role("button", name="Reply", exact=True).click()
    modal = page.locator("#sb-modal-form")
    expect(modal).to_contain_text("maria@example.net")
    modal.locator("select[data-action-id=reply_template]").select_option(label="Please restart")
    expect(modal.locator("textarea")).to_have_value(re.compile(r"^Hello Maria Schmidt,"))
    modal.locator("textarea").fill("Please leave the building, we are on our way.")
    walk.shot("reply-modal")
    modal.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#sb-modal")).to_be_hidden()
    answer = page.locator("#sb-inbox article.sb-sent", has_text="we are on our way")
    expect(answer).to_contain_text(f"Re: [Ticket#{number.group(1)}] Printer on fire")
    expect(answer).to_contain_text("In-Reply-To")
    expect(card).to_contain_text("Pending")
    walk.shot("reply-in-inbox")

    # The customer answers that mail; it lands in the card's thread and reopens the ticket.
    answer.get_by_role("button", name="Answer as the customer", exact=True).click()
    page.fill("#sb-mail [name=text]", "The fire is out now, thank you!")
    page.click("#sb-mail button[type=submit]")
    expect(card).to_contain_text("Open")
    card.locator("button.sb-replies").click()
    thread = page.locator("#sb-thread-body")
    expect(thread).to_contain_text("The fire is out now")
    expect(thread).to_contain_text("photo.txt")
    walk.shot("customer-answer-in-thread")

    # Alice closes it with minutes.
    card.get_by_role("button", name="Close", exact=True).click()
    modal = page.locator("#sb-modal-form")
    modal.locator("input[type=number], input[name$='minutes']").first.fill("15")
    modal.get_by_role("button", name="Close ticket", exact=True).or_(
        modal.locator("button[type=submit]")
    ).first.click()
    expect(page.locator("#sb-modal")).to_be_hidden()
    expect(card).to_contain_text("Closed")
    expect(card.get_by_role("button", name="Reopen", exact=True)).to_be_visible()
    walk.shot("closed")

    # Carol is not in #support: her click changes nothing.
    walk.be(CAROL)
    card.get_by_role("button", name="Reopen", exact=True).click()
    refused = page.locator("#sb-channel article.sb-ephemeral", has_text="Only members of")
    expect(refused).to_contain_text("#support")
    expect(card).to_contain_text("Closed")
    walk.shot("outsider-refused")

    # Lena, a lead, asks for today's numbers.
    walk.be(LENA)
    page.fill("#sb-command [name=text]", "/ticket report today")
    page.press("#sb-command [name=text]", "Enter")
    report = page.locator("#sb-channel article.sb-ephemeral", has_text="Created")
    expect(report).to_contain_text("Closed")
    created = re.search(r"Created\s+(\d+)", report.inner_text())
    assert created and int(created.group(1)) == 4, report.inner_text()
    walk.shot("lead-report")

    assert errors == []
    shots = sorted(p.name for p in (tmp_path / "screens").iterdir())
    assert len(shots) == walk.step + 1 == 12


def test_customer_text_cannot_run_script_ping_or_link(
    sandbox: Sandbox, browser: object, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page.set_default_timeout(STEP_MS)
    walk = Walk(page, tmp_path / "screens")
    page.goto(sandbox.url)
    expect = playwright.expect
    hostile = "<script>window.__pwned = 1</script> <!channel> <https://evil.example|click me>"
    send_mail(
        walk,
        '"<!here> Eve" <eve@example.net>',
        "Hello <script>window.__pwned = 2</script> <!channel>",
        f'{hostile}\n<img src=x onerror="window.__pwned = 3"> <@{ALICE}>',
    )
    card = walk.card("Hello <script>")
    expect(card).to_contain_text("<!channel>")
    expect(card).to_contain_text("<https://evil.example|click me>")
    expect(card).to_contain_text("<img src=x onerror=")
    walk.shot("hostile-card")

    assert page.evaluate("window.__pwned") is None
    assert card.locator("script, img, a").count() == 0
    assert card.locator(".sk-broadcast, .sk-mention, .sk-channel, .sk-usergroup").count() == 0
    assert page.locator("#sb-channel script").count() == 0


def _request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_the_page_answers_only_its_own_origin(sandbox: Sandbox) -> None:
    status, headers = _request(sandbox.url)
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert _request(sandbox.url, headers={"Host": "evil.example"})[0] == 421
    act = sandbox.url + "act"
    body = b'{"user": "U0ALICE001", "kind": "message", "action_id": "ticket_claim"}'
    json_type = {"Content-Type": "application/json"}
    cross_site = {**json_type, "Origin": "https://evil.example"}
    assert _request(act, method="POST", headers=cross_site, data=body)[0] == 403
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _request(act, method="POST", headers=form, data=b"user=U0ALICE001")[0] == 415
    assert _request(act, method="POST", headers=json_type, data=body)[0] == 404  # no such card
