"""Block Kit builders (pure: data in, JSON-ready dicts out).

Everything a customer wrote is escaped and cut to Slack's limits here, so no
mail can ping @channel, mention a user or disguise a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.render.mrkdwn import escape_within, one_line, truncate
from bot.render.sla import clock_lines
from bot.slack import ids
from models.priority import PRIORITY_ORDER, Priority
from models.store.article import Article, ArticleKind, Attachment
from models.store.ticket import Ticket, TicketState
from models.views import TicketSummary

Block = dict[str, Any]

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
EXCERPT_LIMIT = 600
SUBJECT_LIMIT = 500
FALLBACK_LIMIT = 400

STATE_LABELS = {
    TicketState.NEW: ":large_blue_circle: New",
    TicketState.OPEN: ":large_orange_circle: Open",
    TicketState.PENDING: ":hourglass_flowing_sand: Pending",
    TicketState.CLOSED: ":white_check_mark: Closed",
}


PRIORITY_LABELS = {
    Priority.URGENT: ":red_circle: Urgent",
    Priority.HIGH: ":large_orange_diamond: High",
    Priority.NORMAL: "Normal",
    Priority.LOW: ":small_blue_diamond: Low",
}
PRIORITY_WORDS = {priority: priority.value.capitalize() for priority in Priority}
#: Block Kit's limit for the options of one static select (and for its option groups).
MAX_OPTIONS = 100
OPTION_TEXT_LIMIT = 75


def mrkdwn(text: str, *, verbatim: bool = True) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": verbatim}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": False}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def slack_date(summary_time: float, fallback: str) -> str:
    """Slack renders this in each reader's time zone and keeps "ago" current."""
    return f"<!date^{int(summary_time)}^{{ago}}|{fallback}>"


def card_fallback(summary: TicketSummary, hook: str) -> str:
    """Top-level `text`: notifications and screen readers show it instead of the blocks."""
    subject = one_line(summary.subject) or "(no subject)"
    return escape_within(f"[{hook}{summary.number}] {subject}", FALLBACK_LIMIT)


LINK_TEXTS = {
    "claimed_number": ":warning: The sender is not part of {ticket}, but the subject named it;"
    " opened as a new ticket.",
    "claimed_reference": ":warning: The sender is not part of {ticket}, but the mail referred to"
    " it; opened as a new ticket.",
    "followup_to_closed": ":link: Follow-up to the closed {ticket}.",
}


def link_text(summary: TicketSummary, hook: str) -> str:
    ticket = f"*{hook}{summary.linked_number}*"
    template = LINK_TEXTS.get(summary.link_reason, ":link: Linked to {ticket}.")
    return template.format(ticket=ticket)


def card_buttons(summary: TicketSummary) -> list[dict[str, Any]]:
    value = str(summary.id)
    if summary.state == TicketState.CLOSED:
        return [button("Reopen", ids.REOPEN, value), button("Add note", ids.NOTE, value)]
    claim = (
        button("Release", ids.RELEASE, value)
        if summary.owner_id
        else button("Claim", ids.CLAIM, value, style="primary")
    )
    return [
        claim,
        button("Reply", ids.REPLY, value),
        button("Add note", ids.NOTE, value),
        button("Close", ids.CLOSE, value, style="danger"),
    ]


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT_LIMIT), "value": value}


def priority_select(summary: TicketSummary) -> dict[str, Any]:
    """`ticket_priority`: the four priorities, the current one chosen."""
    options = [
        option(PRIORITY_WORDS[p], ids.option_value(summary.id, p.value)) for p in PRIORITY_ORDER
    ]
    current = option(
        PRIORITY_WORDS[summary.priority], ids.option_value(summary.id, summary.priority)
    )
    return {
        "type": "static_select",
        "action_id": ids.PRIORITY,
        "placeholder": plain("Priority", 150),
        "options": options,
        "initial_option": current,
    }


def transfer_select(summary: TicketSummary, queues: Sequence[str]) -> dict[str, Any] | None:
    """`ticket_transfer`: the other queues, in config order. Up to 100 they are plain
    options (Block Kit's limit); beyond, option groups of 100 (up to 100 groups), so every
    queue stays reachable. None when there is nowhere else to go."""
    others = [
        option(name, ids.option_value(summary.id, name)) for name in queues if name != summary.queue
    ]
    if not others:
        return None
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.TRANSFER,
        "placeholder": plain("Move to queue…", 150),
    }
    if len(others) <= MAX_OPTIONS:
        element["options"] = others
        return element
    groups = [others[i : i + MAX_OPTIONS] for i in range(0, len(others), MAX_OPTIONS)]
    element["option_groups"] = [
        {
            "label": plain(f"Queues {i * MAX_OPTIONS + 1}–{i * MAX_OPTIONS + len(g)}", 75),
            "options": g,
        }
        for i, g in enumerate(groups[:MAX_OPTIONS])
    ]
    return element


def card_controls(summary: TicketSummary, queues: Sequence[str]) -> Block:
    """The second row of the card: priority, transfer, merge and the customer's history
    (the first row, `card_buttons`, is the ticket's work)."""
    value = str(summary.id)
    elements: list[dict[str, Any]] = [priority_select(summary)]
    transfer = transfer_select(summary, queues)
    if transfer is not None:
        elements.append(transfer)
    elements.append(button("Merge…", ids.MERGE, value))
    elements.append(
        {
            "type": "overflow",
            "action_id": ids.CUSTOMER_HISTORY,
            "options": [option("Customer's other tickets", value)],
        }
    )
    return {"type": "actions", "block_id": ids.CARD_CONTROLS_BLOCK, "elements": elements}


def build_merged_card(summary: TicketSummary, hook: str) -> list[Block]:
    """A merged ticket's card: a pointer to the survivor, no buttons."""
    subject = one_line(summary.subject) or "(no subject)"
    return [
        {"type": "header", "text": plain(f"{hook}{summary.number}", HEADER_LIMIT)},
        {
            "type": "section",
            "text": mrkdwn(
                f":twisted_rightwards_arrows: Merged into *{hook}{summary.merged_into_number}*;"
                " it goes on there (mail to this number lands there too)."
            ),
        },
        {"type": "context", "elements": [mrkdwn(escape_within(subject, SUBJECT_LIMIT))]},
    ]


def build_ticket_card(summary: TicketSummary, hook: str, queues: Sequence[str] = ()) -> list[Block]:
    """The card; `queues` (every queue's name, in config order) offers the transfer."""
    if summary.merged_into_number:
        return build_merged_card(summary, hook)
    subject = one_line(summary.subject) or "(no subject)"
    owner = f"<@{summary.owner_id}>" if summary.owner_id else "_unclaimed_"
    opened = slack_date(
        summary.created_at.timestamp(), summary.created_at.strftime("%Y-%m-%d %H:%M UTC")
    )
    excerpt = summary.excerpt.strip()
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{hook}{summary.number}", HEADER_LIMIT)},
        {"type": "section", "text": mrkdwn(f"*{escape_within(subject, SUBJECT_LIMIT)}*")},
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Customer*\n{escape_within(customer_label(summary), FIELD_LIMIT - 20)}"),
                mrkdwn(f"*State*\n{STATE_LABELS[summary.state]}"),
                mrkdwn(f"*Owner*\n{owner}"),
                mrkdwn(f"*Opened*\n{opened}"),
                mrkdwn(f"*Queue*\n{escape_within(summary.queue, 100)}"),
                mrkdwn(f"*Priority*\n{PRIORITY_LABELS[summary.priority]}"),
            ],
        },
    ]
    if excerpt:
        blocks.append({"type": "section", "text": mrkdwn(escape_within(excerpt, EXCERPT_LIMIT))})
    if summary.linked_number:
        blocks.append({"type": "context", "elements": [mrkdwn(link_text(summary, hook))]})
    if summary.incomplete:
        reason = escape_within(one_line(summary.incomplete), 500)
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn(f":warning: This mail could not be read fully: {reason}.")],
            }
        )
    if summary.attachment_count:
        count = summary.attachment_count
        blocks.append(
            {
                "type": "context",
                "elements": [mrkdwn(f":paperclip: {count} attachment{'s' * (count != 1)}")],
            }
        )
    if summary.clocks:
        blocks.append({"type": "context", "elements": [mrkdwn(clock_lines(summary.clocks))]})
    blocks.extend(replying_line(summary))
    blocks.append(
        {"type": "actions", "block_id": ids.CARD_ACTIONS_BLOCK, "elements": card_buttons(summary)}
    )
    blocks.append(card_controls(summary, queues))
    return blocks


def replying_line(summary: TicketSummary) -> list[Block]:
    """The collision warning: "✍ <agent> is replying" while someone has the Reply form open
    (no block when nobody has)."""
    if not summary.writers:
        return []
    names = ", ".join(f"<@{w.user_id}>" for w in summary.writers[:5])
    verb = "are" if len(summary.writers) > 1 else "is"
    return [{"type": "context", "elements": [mrkdwn(f"✍ {names} {verb} replying")]}]


def customer_label(summary: TicketSummary) -> str:
    name = one_line(summary.customer_name)
    email = summary.customer_email or "unknown sender"
    return f"{name} <{email}>" if name else email


ARTICLE_TEXT_LIMIT = 2900


def article_heading(article: Article) -> str:
    who = escape_within(one_line(article.author_name or article.author or "Someone"), 200)
    if article.kind == ArticleKind.EMAIL_IN:
        return f":envelope_with_arrow: *{who}* wrote"
    if article.kind == ArticleKind.EMAIL_OUT:
        return f":outbox_tray: *{who}* replied by mail"
    if article.kind == ArticleKind.NOTE:
        if article.author.startswith(("U", "W")) and article.author.isalnum():
            return f":memo: Internal note by <@{article.author}>"
        return f":memo: Internal note ({who})"
    return f":information_source: {who}"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def attachment_list(files: list[Attachment], shown: int = 10) -> str:
    """The files of a mail: what will be uploaded below, and what is too large to."""
    lines = []
    for file in files[:shown]:
        name = escape_within(one_line(file.filename) or "attachment", 80)
        line = f":paperclip: {name} ({human_size(file.size)})"
        if file.too_large:
            line += " — too large to upload; it stays with the mail (`/ticket show`)"
        elif file.disk_full:
            line += " — not stored, the server's disk is almost full; it stays with the raw mail"
        elif file.is_inline:
            line += " — inline image"
        lines.append(line)
    if len(files) > shown:
        lines.append(f"… and {len(files) - shown} more")
    return truncate("\n".join(lines), SECTION_LIMIT)


def build_article_message(
    article: Article, files: Sequence[Attachment] = ()
) -> tuple[str, list[Block]]:
    """A thread post for one article: heading, the (escaped, cut) text, its attachments
    (given, not read from the article: a builder does no I/O)."""
    heading = article_heading(article)
    shown = article.display_text if article.display_text is not None else article.body
    body = shown.strip() or "(no text)"
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(heading)},
        {"type": "section", "text": mrkdwn(escape_within(body, ARTICLE_TEXT_LIMIT))},
    ]
    if article.display_text is not None and article.display_text.strip() != article.body.strip():
        blocks.append(
            {
                "type": "context",
                "elements": [
                    mrkdwn("Quoted text and signature hidden; `/ticket show` has it all.")
                ],
            }
        )
    if files:
        blocks.append({"type": "context", "elements": [mrkdwn(attachment_list(list(files)))]})
    fallback = escape_within(f"{one_line(article.author_name or 'Update')}: {one_line(body)}", 300)
    return fallback, blocks


DETAIL_ARTICLES = 40


def build_ticket_details(
    summary: TicketSummary, articles: list[Article], hook: str, before: Sequence[Block] = ()
) -> list[Block]:
    """`/ticket show`: the card's facts, then `before` (the customer's other tickets), then
    every article in full (cut to fit), oldest first."""
    card = [b for b in build_ticket_card(summary, hook) if b["type"] != "actions"]
    blocks: list[Block] = [*card, *before, {"type": "divider"}]
    shown = articles[-DETAIL_ARTICLES:]
    if len(articles) > len(shown):
        blocks.append(
            {"type": "context", "elements": [mrkdwn(f"{len(articles) - len(shown)} older hidden")]}
        )
    for article in shown:
        stamp = article.created_at.strftime("%Y-%m-%d %H:%M UTC")
        prefix = f"{article_heading(article)} · {stamp}\n"
        body = escape_within(article.body.strip() or "(no text)", SECTION_LIMIT - len(prefix))
        blocks.append({"type": "section", "text": mrkdwn(prefix + body)})
    return blocks[:50]


def ticket_line(ticket: Ticket, hook: str) -> str:
    subject = escape_within(one_line(ticket.subject) or "(no subject)", 120)
    priority = "" if ticket.priority == Priority.NORMAL else f" {PRIORITY_LABELS[ticket.priority]}"
    return f"• *{hook}{ticket.number}*{priority} {subject} — {STATE_LABELS[ticket.state]}"


def build_ticket_list(title: str, tickets: list[Ticket], hook: str) -> list[Block]:
    lines = [ticket_line(t, hook) for t in tickets]
    text = "\n".join(lines) if lines else "_Nothing here._"
    return [
        {"type": "section", "text": mrkdwn(f"*{title}*")},
        {"type": "section", "text": mrkdwn(truncate(text, SECTION_LIMIT))},
    ]


def build_pointer_card(text: str) -> list[Block]:
    """An old card replaced by where the ticket went (no buttons): `text` is mrkdwn."""
    return [{"type": "section", "text": mrkdwn(truncate(text, SECTION_LIMIT))}]


def build_quarantine_card(
    headers: list[tuple[str, str]], error: str, attempts: int, size: int, inbound_id: int
) -> tuple[str, list[Block]]:
    """A mail whose intake failed every attempt: what it is, so an agent can look into it."""
    lines = [
        f"*{escape_within(name, 40)}:* {escape_within(one_line(value), 300)}"
        for name, value in headers
    ] or ["_No readable headers._"]
    blocks: list[Block] = [
        {"type": "header", "text": plain("Mail could not be processed", HEADER_LIMIT)},
        {
            "type": "section",
            "text": mrkdwn(
                f"A mail of {human_size(size)} failed {attempts} times and was set aside so the "
                "mail after it could go on. It is kept raw as inbound message "
                f"#{inbound_id}; no ticket was opened and nobody was answered."
            ),
        },
        {"type": "section", "text": mrkdwn(truncate("\n".join(lines), SECTION_LIMIT))},
        {
            "type": "context",
            "elements": [mrkdwn(f"Last error: {escape_within(one_line(error), 400)}")],
        },
    ]
    subject = next((value for name, value in headers if name == "Subject"), "")
    fallback = escape_within(f"Mail could not be processed: {one_line(subject)}", FALLBACK_LIMIT)
    return fallback, blocks
