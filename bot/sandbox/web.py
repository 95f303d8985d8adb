"""The sandbox's web page: panes rendered from the emulator, actions sent to the bot signed.

Every click, select, form and command on the page becomes what Slack itself would send
(`SlackDriver`: signed `block_actions`, `view_submission`, slash commands, events) to the
real bot's HTTP endpoint; what the bot does comes back through the emulator, which the
page polls. Customer mail goes to the bot's own intake. The page is for one person on
this machine: requests must come from its own origin (no cross-site posts) and name it
as their Host (no DNS rebinding).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from aiohttp import web

from bot.sandbox.blockkit_html import BLOCKKIT_CSS, RenderContext
from bot.sandbox.emulator import Ephemeral, Message, SlackEmulator, UploadedFile
from bot.sandbox.emulator.config import ALICE, SUPPORT_CHANNEL
from bot.sandbox.emulator.payloads import find_element
from bot.sandbox.mail_loop import (
    MAX_UPLOAD_BYTES,
    Attachment,
    CustomerMail,
    Inbox,
)
from bot.sandbox.page import home_html, inbox_html, modal_html, shell, thread_html, timeline_html
from bot.sandbox.signer import Delivery, SlackDriver
from bot.sandbox.workspace import CHANNEL_NAMES, PEOPLE

MailSender = Callable[[CustomerMail], Awaitable[str]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
KNOWN_PEOPLE = frozenset(p.id for p in PEOPLE)


@dataclass
class SandboxPage:
    """The page's routes over one emulator, one driver to the bot, and the customer's inbox."""

    emulator: SlackEmulator
    driver: SlackDriver
    inbox: Inbox
    send_mail: MailSender
    port: int
    #: The bot's validation errors for a modal, by view id (Slack shows them inline).
    view_errors: dict[str, dict[str, str]] = field(default_factory=dict)

    def routes(self) -> web.Application:
        app = web.Application(
            client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024, middlewares=[self._guard]
        )
        app.add_routes(
            [
                web.get("/", self.index),
                web.get("/static/{name}", self.static),
                web.get("/state", self.state),
                web.get("/file/{file_id}", self.file),
                web.post("/act", self.act),
                web.post("/submit", self.submit),
                web.post("/close", self.close),
                web.post("/command", self.command),
                web.post("/thread", self.thread),
                web.post("/home", self.home),
                web.post("/mail", self.mail),
            ]
        )
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        own = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        if request.host not in own:
            return web.Response(status=421, text="this page answers only on 127.0.0.1")
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin not in (None, *(f"http://{h}" for h in own)):
            return web.Response(status=403, text="cross-site request refused")
        response = await handler(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    # -- pages and panes -------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        user = _person(request.query.get("as"))
        return web.Response(text=shell(PEOPLE, user), content_type="text/html")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "blockkit.css":
            return web.Response(text=BLOCKKIT_CSS, content_type="text/css")
        if name not in ("sandbox.css", "sandbox.js"):
            raise web.HTTPNotFound()
        text = resources.files("bot.sandbox").joinpath("static", name).read_text("utf-8")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        return web.Response(text=text, content_type=kind)

    async def file(self, request: web.Request) -> web.Response:
        found = [f for f in self.emulator.files() if f.id == request.match_info["file_id"]]
        if not found or found[0].content is None:
            raise web.HTTPNotFound()
        safe = "".join(ch for ch in found[0].filename if ch.isalnum() or ch in "._- ") or "file"
        return web.Response(
            body=found[0].content,
            content_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{safe}"'},
        )

    async def state(self, request: web.Request) -> web.Response:
        """Every pane for one person; the script swaps in those that changed."""
        user = _person(request.query.get("user"))
        ctx = self._context()
        emu = self.emulator
        messages = emu.channel_with_threads(SUPPORT_CHANNEL)
        files = _files_by_message(messages, emu.files())
        top = [m for m in messages if not m.is_reply or m.reply_broadcast]
        replies: dict[str, int] = {}
        for m in messages:
            if m.is_reply and m.thread_ts:
                replies[m.thread_ts] = replies.get(m.thread_ts, 0) + 1
        mine = [e for e in emu.ephemerals(SUPPORT_CHANNEL, user) if not e.deleted]
        panes: dict[str, Any] = {
            "channel": timeline_html(
                top, [e for e in mine if not e.thread_ts], files, replies, ctx
            ),
            "inbox": inbox_html(self.inbox.snapshot()),
        }
        thread_ts = request.query.get("thread")
        parent = emu.message(SUPPORT_CHANNEL, thread_ts) if thread_ts else None
        if parent is not None:
            in_thread = [m for m in messages if m.is_reply and m.thread_ts == parent.ts]
            notes = [e for e in mine if e.thread_ts == parent.ts]
            panes["thread"] = thread_html(parent, in_thread, notes, files, ctx)
        if request.query.get("home"):
            panes["home"] = home_html(emu.home_view(user), ctx)
        modal = self._open_modal(user)
        panes["modal"] = (
            None
            if modal is None
            else {
                "id": modal.id,
                "key": f"{modal.id}:{modal.hash}:{_digest(self.view_errors.get(modal.id, {}))}",
                "html": modal_html(modal, self.view_errors.get(modal.id, {}), ctx),
            }
        )
        return web.json_response(panes)

    def _context(self) -> RenderContext:
        users = {u.id: u.real_name or u.name for u in self.emulator.state.config.users}
        return RenderContext(users=users, channels=CHANNEL_NAMES, now=self.emulator.clock())

    def _open_modal(self, user: str) -> Any:
        open_views = [
            v for v in self.emulator.views(user_id=user) if v.type == "modal" and not v.closed
        ]
        return open_views[-1] if open_views else None

    # -- what a person does ----------------------------------------------------------

    async def act(self, request: web.Request) -> web.Response:
        """A button or select in a message, an ephemeral, a modal or the App Home."""
        body = await _json(request)
        user = _person(body.get("user"))
        action_id, value = str(body.get("action_id", "")), body.get("value")
        value = None if value is None else str(value)
        kind = body.get("kind")
        if kind == "view":
            view_id = str(body.get("view_id", ""))
            if not any(v.id == view_id for v in self.emulator.views(user_id=user)):
                raise web.HTTPNotFound()
            delivery = await self.driver.click_in_view(view_id, action_id, value=value)
            return _answer(delivery)
        target = self._target(kind, str(body.get("channel", "")), str(body.get("ts", "")), user)
        target = _as_seen(target, action_id)
        try:
            delivery = await self.driver.click(target, action_id, user=user, value=value)
        except LookupError:
            return web.json_response({"ok": False, "error": "That button is gone."})
        return _answer(delivery)

    def _target(self, kind: Any, channel: str, ts: str, user: str) -> Message | Ephemeral:
        if kind == "ephemeral":
            for eph in self.emulator.ephemerals(channel, user):
                if eph.message_ts == ts:
                    return eph
        elif kind == "message":
            found = self.emulator.message(channel, ts)
            if found is not None:
                return found
        raise web.HTTPNotFound()

    async def submit(self, request: web.Request) -> web.Response:
        """A modal's form, as `view_submission` with view.state.values; errors shown inline."""
        body = await _json(request)
        view_id = str(body.get("view_id", ""))
        user = _person(body.get("user"))
        if not any(v.id == view_id for v in self.emulator.views(user_id=user)):
            raise web.HTTPNotFound()
        values = _state_values(body.get("values"))
        delivery = await self.driver.submit_view(view_id, values)
        ack = delivery.json() if delivery.status == 200 and delivery.body else None
        if isinstance(ack, dict) and ack.get("response_action") == "errors":
            self.view_errors[view_id] = {str(k): str(v) for k, v in ack["errors"].items()}
        else:
            self.view_errors.pop(view_id, None)
        return _answer(delivery)

    async def close(self, request: web.Request) -> web.Response:
        body = await _json(request)
        view_id = str(body.get("view_id", ""))
        user = _person(body.get("user"))
        if not any(v.id == view_id for v in self.emulator.views(user_id=user)):
            raise web.HTTPNotFound()
        await self.driver.close_view(view_id)
        return web.json_response({"ok": True})

    async def command(self, request: web.Request) -> web.Response:
        body = await _json(request)
        text = str(body.get("text", "")).strip()
        command, _, rest = text.partition(" ")
        if command.startswith("/"):  # "/ticket help" or just "help"
            text = rest
        delivery = await self.driver.slash_command(
            text, user=_person(body.get("user")), channel=SUPPORT_CHANNEL
        )
        return _answer(delivery)

    async def thread(self, request: web.Request) -> web.Response:
        """A person writes in a card's thread (the bot keeps it as an internal note)."""
        body = await _json(request)
        user = _person(body.get("user"))
        text = str(body.get("text", "")).strip()
        if not text:
            return web.json_response({"ok": False, "error": "Write something first."})
        try:
            delivery = await self.driver.user_message(
                SUPPORT_CHANNEL, user, text, thread_ts=str(body.get("thread_ts", ""))
            )
        except LookupError:
            return web.json_response(
                {"ok": False, "error": "Only members of #support can write there."}
            )
        return _answer(delivery)

    async def home(self, request: web.Request) -> web.Response:
        body = await _json(request)
        return _answer(await self.driver.app_home_opened(_person(body.get("user"))))

    async def mail(self, request: web.Request) -> web.Response:
        """The customer pane's form: a mail with attachments, into the bot's intake."""
        form = await request.post()
        attachments = []
        for item in form.getall("attachments", []):
            if isinstance(item, web.FileField) and item.filename:
                content = item.file.read(MAX_UPLOAD_BYTES + 1)
                if len(content) > MAX_UPLOAD_BYTES:
                    return web.json_response({"ok": False, "error": "Attachments over 10 MB."})
                attachments.append(
                    Attachment(
                        item.filename, item.content_type or "application/octet-stream", content
                    )
                )
        mail = CustomerMail(
            sender=str(form.get("sender") or "").strip() or "customer@example.net",
            subject=str(form.get("subject") or "").strip(),
            text=str(form.get("text") or ""),
            attachments=tuple(attachments),
            in_reply_to=str(form.get("in_reply_to") or "").strip(),
            references=str(form.get("references") or "").strip(),
        )
        try:
            outcome = await self.send_mail(mail)
        except RuntimeError:  # the parse pool closes while the sandbox shuts down
            return web.json_response({"ok": False, "error": "The sandbox is stopping."})
        return web.json_response({"ok": True, "outcome": outcome})


def _as_seen(target: Message | Ephemeral, action_id: str) -> Message | Ephemeral:
    """The message as the person saw it: a click on a card the bot has since updated (two
    agents clicking Claim at once) carries the card's earlier blocks, as in Slack."""
    if not isinstance(target, Message) or find_element(target.blocks or [], action_id):
        return target
    for version in reversed(target.history):
        if find_element(version.blocks or [], action_id):
            return replace(target, text=version.text, blocks=version.blocks)
    return target


def _person(value: object) -> str:
    return str(value) if value in KNOWN_PEOPLE else ALICE


async def _json(request: web.Request) -> Mapping[str, Any]:
    if request.content_type != "application/json":  # a cross-site form cannot send JSON
        raise web.HTTPUnsupportedMediaType(text="send JSON")
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object, please")
    return body


def _state_values(raw: object) -> dict[str, dict[str, Any]]:
    """The page's {"block_id/action_id": value} as the driver's {block_id: {action_id: v}}."""
    values: dict[str, dict[str, Any]] = {}
    if not isinstance(raw, dict):
        return values
    for name, value in raw.items():
        block_id, _, action_id = str(name).partition("/")
        if action_id:
            values.setdefault(block_id, {})[action_id] = value
    return values


def _answer(delivery: Delivery | None) -> web.Response:
    if delivery is None:
        return web.json_response({"ok": True})
    ok = 200 <= delivery.status < 300
    return web.json_response({"ok": ok, "status": delivery.status, "ms": delivery.latency * 1000})


def _files_by_message(
    messages: list[Message], files: list[UploadedFile]
) -> dict[str, list[UploadedFile]]:
    by_id = {f.id: f for f in files}
    return {m.ts: [by_id[i] for i in m.files if i in by_id] for m in messages if m.files}


def _digest(errors: Mapping[str, str]) -> str:
    return hashlib.sha1(
        json.dumps(errors, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()[:8]
