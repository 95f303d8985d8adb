"""The sandbox page's HTML, built from what the emulator and the mail loop hold.

Pure functions: each pane (channel, thread, modal, App Home, the customer's inbox) is
rendered from records to a string; `web.py` serves them and the page's script swaps them
in. Everything shown is escaped here or by `blockkit_html`; the page runs no inline
script (its Content-Security-Policy allows only /static/sandbox.js).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.blockkit_html import RenderContext, blocks_to_html, mrkdwn_to_html
from bot.sandbox.emulator import Ephemeral, Message, UploadedFile, ViewRecord
from bot.sandbox.mail_loop import SentMail
from bot.sandbox.workspace import COMMAND, Person

#: Headers the customer's inbox shows for each mail, in this order.
INBOX_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "Auto-Submitted")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _clock(ts: str) -> str:
    try:
        return datetime.fromtimestamp(float(ts), UTC).strftime("%H:%M")
    except ValueError:
        return ""


def shell(people: Sequence[Person], current: str, *, title: str = "ticketbot sandbox") -> str:
    """The whole page; the panes fill in from /state once the script runs."""
    options = "".join(
        f'<option value="{_e(p.id)}"{" selected" if p.id == current else ""}>'
        f"{_e(p.name)} ({_e(p.role)})</option>"
        for p in people
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{_e(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/blockkit.css">
<link rel="stylesheet" href="/static/sandbox.css">
<script src="/static/sandbox.js" defer></script>
</head><body>
<header class="sb-top">
  <strong>ticketbot sandbox</strong>
  <span class="sb-hint">the real bot, an emulated Slack, a built-in mail loop</span>
  <label>You are <select id="sb-user">{options}</select></label>
  <button type="button" id="sb-home-button">App Home</button>
</header>
<main class="sb-main">
  <section class="sb-slack">
    <h2 class="sb-channel-name"># support</h2>
    <div id="sb-channel" class="sb-messages" aria-live="polite"></div>
    <form id="sb-command" class="sb-composer" autocomplete="off">
      <input name="text" aria-label="slash command"
        placeholder="{_e(COMMAND)} help, {_e(COMMAND)} queue, {_e(COMMAND)} report today">
      <button type="submit">Send</button>
    </form>
  </section>
  <aside class="sb-side">
    <div id="sb-thread" class="sb-pane" hidden>
      <div id="sb-thread-body"></div>
      <form class="sb-composer" id="sb-thread-form" autocomplete="off">
        <input name="text" placeholder="Reply in thread (kept as an internal note)"
          aria-label="thread reply"><button type="submit">Send</button></form>
    </div>
    <div id="sb-home" class="sb-pane" hidden></div>
  </aside>
  <section class="sb-customer">
    <h2>Customer</h2>
    <form id="sb-mail" class="sb-mail" enctype="multipart/form-data" autocomplete="off">
      <label>From <input name="sender" value="Maria Schmidt &lt;maria@example.net&gt;"></label>
      <label>Subject <input name="subject" placeholder="What is it about?"></label>
      <label>Text <textarea name="text" rows="5"></textarea></label>
      <label>Attachments <input type="file" name="attachments" multiple></label>
      <input type="hidden" name="in_reply_to"><input type="hidden" name="references">
      <div class="sb-row"><button type="submit">Send mail to support@</button>
        <span id="sb-mail-status" class="sb-hint"></span></div>
    </form>
    <h3>Inbox <span class="sb-hint">what the helpdesk sent</span></h3>
    <div id="sb-inbox"></div>
  </section>
</main>
<div id="sb-modal" class="sb-modal-backdrop" hidden></div>
<div id="sb-toast" class="sb-toast" hidden></div>
</body></html>
"""


def _files_html(files: Iterable[UploadedFile]) -> str:
    items = "".join(
        f'<li class="sb-file">📎 {_e(f.filename)} <span class="sb-hint">'
        f"{_e(_size(f.length))}</span></li>"
        for f in files
    )
    return f'<ul class="sb-files">{items}</ul>' if items else ""


def _size(length: int) -> str:
    if length < 1024:
        return f"{length} B"
    if length < 1024 * 1024:
        return f"{length / 1024:.1f} kB"
    return f"{length / 1024 / 1024:.1f} MB"


def _author(user: str, bot_id: str | None, ctx: RenderContext) -> str:
    if bot_id:
        return '<span class="sb-author">ticketbot</span> <span class="sb-app">APP</span>'
    return f'<span class="sb-author">{_e(ctx.users.get(user, user))}</span>'


def _content(text: str, blocks: Sequence[Mapping[str, Any]] | None, ctx: RenderContext) -> str:
    if blocks:
        return blocks_to_html(blocks, ctx)
    return f'<div class="sk-block">{mrkdwn_to_html(text, ctx)}</div>'


def message_html(
    message: Message,
    ctx: RenderContext,
    *,
    files: Sequence[UploadedFile] = (),
    replies: int = 0,
    in_thread: bool = False,
) -> str:
    """One channel or thread message; its interactive elements know where they live."""
    edited = ' <span class="sb-hint">(edited)</span>' if message.edited_ts else ""
    thread = ""
    if replies and not in_thread:
        label = f"{replies} repl{'y' if replies == 1 else 'ies'}"
        thread = (
            f'<button type="button" class="sb-replies" data-thread="{_e(message.ts)}">'
            f"{label}</button>"
        )
    elif not in_thread:
        thread = (
            f'<button type="button" class="sb-replies sb-quiet" data-thread="{_e(message.ts)}">'
            "Reply in thread</button>"
        )
    return (
        f'<article class="sb-message" data-kind="message" data-channel="{_e(message.channel)}"'
        f' data-ts="{_e(message.ts)}">'
        f'<div class="sb-meta">{_author(message.user, message.bot_id, ctx)} '
        f'<span class="sb-time">{_clock(message.ts)}</span>{edited}</div>'
        f"{_content(message.text, message.blocks, ctx)}{_files_html(files)}{thread}</article>"
    )


def ephemeral_html(ephemeral: Ephemeral, ctx: RenderContext) -> str:
    """A message only its recipient sees, marked as Slack marks it."""
    return (
        f'<article class="sb-message sb-ephemeral" data-kind="ephemeral"'
        f' data-channel="{_e(ephemeral.channel)}" data-ts="{_e(ephemeral.message_ts)}">'
        f'<div class="sb-meta">{_author("", "bot", ctx)} '
        f'<span class="sb-time">{_clock(ephemeral.message_ts)}</span> '
        f'<span class="sb-only-you">Only visible to you</span></div>'
        f"{_content(ephemeral.text, ephemeral.blocks, ctx)}</article>"
    )


def timeline_html(
    messages: Sequence[Message],
    ephemerals: Sequence[Ephemeral],
    files: Mapping[str, Sequence[UploadedFile]],
    replies: Mapping[str, int],
    ctx: RenderContext,
    *,
    in_thread: bool = False,
) -> str:
    """Messages and the current person's ephemerals, oldest first, as Slack lists them."""
    entries: list[tuple[float, str]] = [
        (
            float(m.ts),
            message_html(
                m, ctx, files=files.get(m.ts, ()), replies=replies.get(m.ts, 0), in_thread=in_thread
            ),
        )
        for m in messages
    ]
    entries += [(float(e.message_ts), ephemeral_html(e, ctx)) for e in ephemerals]
    entries.sort(key=lambda entry: entry[0])
    if not entries:
        return '<p class="sb-empty">Nothing here yet.</p>'
    return "".join(body for _, body in entries)


def thread_html(
    parent: Message,
    replies: Sequence[Message],
    ephemerals: Sequence[Ephemeral],
    files: Mapping[str, Sequence[UploadedFile]],
    ctx: RenderContext,
) -> str:
    """The thread pane: the card on top, then its replies (the page keeps the input box)."""
    body = timeline_html(replies, ephemerals, files, {}, ctx, in_thread=True)
    return (
        '<div class="sb-pane-head"><strong>Thread</strong>'
        '<button type="button" class="sb-close" data-close="thread">×</button></div>'
        f"{message_html(parent, ctx, files=files.get(parent.ts, ()), in_thread=True)}"
        f'<div class="sb-thread-replies">{body}</div>'
    )


def modal_html(view: ViewRecord, errors: Mapping[str, str], ctx: RenderContext) -> str:
    """A modal as a form: its input blocks become fields named block_id/action_id."""
    spec = view.view
    title = _plain(spec.get("title"), "Modal")
    submit = _plain(spec.get("submit"), "")
    close = _plain(spec.get("close"), "Cancel")
    buttons = f'<button type="submit" class="sk-button sk-primary">{_e(submit)}</button>'
    return (
        f'<form class="sb-modal" id="sb-modal-form" data-view-id="{_e(view.id)}"'
        f' data-hash="{_e(view.hash)}" autocomplete="off">'
        f'<div class="sb-pane-head"><strong>{_e(title)}</strong>'
        '<button type="button" class="sb-close" data-close="modal">×</button></div>'
        f'<div class="sb-modal-body">{blocks_to_html(view.blocks, ctx, errors=errors)}</div>'
        f'<div class="sb-modal-foot"><button type="button" data-close="modal">{_e(close)}</button>'
        f"{buttons if submit else ''}</div></form>"
    )


def _plain(obj: Any, default: str) -> str:
    if isinstance(obj, Mapping) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return default


def home_html(view: ViewRecord | None, ctx: RenderContext) -> str:
    """The App Home tab of the current person, as the bot last published it."""
    head = (
        '<div class="sb-pane-head"><strong>App Home</strong>'
        '<button type="button" class="sb-close" data-close="home">×</button></div>'
    )
    if view is None:
        return head + '<p class="sb-empty">Opening…</p>'
    return (
        head
        + f'<div class="sb-home-view" data-view-id="{_e(view.id)}">'
        + (blocks_to_html(view.blocks, ctx) + "</div>")
    )


def inbox_html(mails: Sequence[SentMail]) -> str:
    """Every mail the helpdesk sent, newest first, with the headers that matter."""
    if not mails:
        return '<p class="sb-empty">No mail yet.</p>'
    parts = []
    for mail in reversed(mails):
        rows = "".join(
            f"<tr><th>{_e(name)}</th><td>{_e(mail.header(name))}</td></tr>"
            for name in INBOX_HEADERS
            if mail.header(name)
        )
        parts.append(
            f'<article class="sb-sent" data-number="{mail.number}">'
            f'<table class="sb-headers">{rows}</table>'
            f'<pre class="sb-body">{_e(mail.text)}</pre>'
            f'<button type="button" class="sb-answer" data-number="{mail.number}"'
            f' data-to="{_e(mail.header("To"))}" data-subject="{_e(mail.header("Subject"))}"'
            f' data-message-id="{_e(mail.header("Message-ID"))}"'
            f' data-references="{_e(mail.header("References"))}">'
            "Answer as the customer</button></article>"
        )
    return "".join(parts)
