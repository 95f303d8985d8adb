"""Pick the readable body and the attachments out of a MIME tree.

The body is what a person wrote: text/plain from the preferred alternative,
else the HTML converted to text; the parts of a multipart/mixed (Apple Mail
splits text around inline images) are joined. Everything else a customer
sent - files, inline images, forwarded messages, invites - is an attachment, so
nothing sent to the helpdesk silently disappears; winmail.dat is replaced by the
files inside it when it can be unpacked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mail.charsets import decode_bytes
from mail.flowed import unflow
from mail.html_text import html_to_text
from mail.mime import Part, decode_base64, flatten_message, stored_payload
from mail.parsed import ParsedAttachment
from mail.tnef import is_tnef, unpack_tnef

__all__ = ["Body", "extract_attachments", "extract_body"]

#: Machine-readable report parts: read by bounce detection, not shown as files.
MACHINE_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/global-disposition-notification",
        "message/feedback-report",
        "text/rfc822-headers",
        "message/global-headers",
    }
)
EMBEDDED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_DEFAULT_NAMES = {
    "message/rfc822": "message.eml",
    "message/global": "message.eml",
    "application/ms-tnef": "winmail.dat",
    "application/vnd.ms-tnef": "winmail.dat",
    "text/calendar": "invite.ics",
}
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufeff]")
_BLANK_LINES = re.compile(r"\n{4,}")


@dataclass(frozen=True, slots=True)
class Body:
    """The readable text, the raw HTML (if any), and what went wrong reading them."""

    text: str
    html: str | None
    defects: tuple[str, ...]


def _is_body_part(part: Part, root: Part) -> bool:
    """Inline text/plain or text/html without a filename (a lone top-level part may have one)."""
    if not part.is_leaf or part.content_type not in ("text/plain", "text/html"):
        return False
    if part.disposition == "attachment":
        return False
    return part is root or not part.filename


def _collect(part: Part, root: Part) -> tuple[list[Part], list[Part]]:
    """The text/plain and text/html parts that make up the body below `part`."""
    if part.is_leaf:
        if not _is_body_part(part, root):
            return [], []
        return ([part], []) if part.content_type == "text/plain" else ([], [part])
    if part.content_type == "multipart/alternative":
        found = [_collect(child, root) for child in part.children]
        plain = next((texts for texts, _ in found if texts), [])
        html = next((htmls for _, htmls in reversed(found) if htmls), [])
        return plain, html
    if part.content_type == "multipart/related":
        start = (part.param("start") or "").strip("<> ")
        chosen = next(
            (c for c in part.children if start and c.content_id == start), part.children[0]
        )
        return _collect(chosen, root)
    all_plain: list[Part] = []
    all_html: list[Part] = []
    for child in part.children:
        child_plain, child_html = _collect(child, root)
        all_plain.extend(child_plain)
        all_html.extend(child_html)
    return all_plain, all_html


def clean_body_text(text: str) -> str:
    """Normalise newlines to "\\n" and drop NULs and other control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _BODY_CONTROL.sub("", text)


def _decode_text(part: Part, defects: list[str]) -> str:
    data, payload_defects = part.payload()
    defects.extend(payload_defects)
    decoded = decode_bytes(data, part.param("charset"))
    if decoded.defect:
        defects.append(decoded.defect)
    text = clean_body_text(decoded.text)
    if (part.param("format") or "").lower() == "flowed":
        text = unflow(text, delsp=(part.param("delsp") or "").lower() == "yes")
    return text


def extract_body(root: Part) -> Body:
    """Choose and decode the body; an empty text/plain alternative defers to the HTML."""
    defects: list[str] = []
    plain_parts, html_parts = _collect(root, root)
    plain = "\n\n".join(t for t in (_decode_text(p, defects).strip("\n") for p in plain_parts) if t)
    html = "\n".join(_decode_text(p, defects) for p in html_parts) if html_parts else None
    if plain.strip():
        text = plain
    elif html is not None:
        text = clean_body_text(html_to_text(html))
    else:
        text = plain
    text = _BLANK_LINES.sub("\n\n\n", text).rstrip()
    return Body(text=text.lstrip("\n"), html=html, defects=tuple(defects))


def _embedded_bytes(part: Part, defects: list[str]) -> bytes:
    """The bytes of an attached message, as close to how it was sent as the parser allows."""
    payload = stored_payload(part.message)
    if not isinstance(payload, list) or not payload:
        data, payload_defects = part.payload()
        defects.extend(payload_defects)
        return data
    try:
        data = flatten_message(payload[0])
    except Exception:  # a message the generator cannot write back: keep what we can
        defects.append(f"attached message in part {part.path} could not be re-serialised")
        return b""
    if part.transfer_encoding == "base64":  # the parser read the encoded text as a message
        data, b64_defects = decode_base64(data.lstrip(b"\r\n"))
        defects.extend(b64_defects)
    return data


def _is_attachment(part: Part, root: Part) -> bool:
    if part.content_type in MACHINE_TYPES or _is_body_part(part, root):
        return False
    if part.content_type.startswith("multipart/"):
        return False  # a container cut off by the nesting limit: nothing to store
    if part.filename or part.disposition == "attachment":
        return True
    # An unnamed text/plain or text/html that is not the body is an unchosen alternative.
    return part.content_type not in ("text/plain", "text/html")


def extract_attachments(root: Part) -> tuple[tuple[ParsedAttachment, ...], tuple[str, ...]]:
    """Every non-body leaf: files, inline images, attached messages, TNEF, invites."""
    defects: list[str] = []
    attachments: list[ParsedAttachment] = []
    for part in root.leaves():
        if not _is_attachment(part, root):
            continue
        if part.content_type in EMBEDDED_MESSAGE_TYPES:
            content = _embedded_bytes(part, defects)
        else:
            content, payload_defects = part.payload()
            defects.extend(payload_defects)
        filename = part.filename or _DEFAULT_NAMES.get(part.content_type, "")
        if is_tnef(part.content_type, filename):
            inside, defect = unpack_tnef(content)
            defects.extend([defect] if defect else [])
            if inside:
                attachments.extend(inside)
                continue
        content_id = part.content_id
        disposition = part.disposition
        attachments.append(
            ParsedAttachment(
                filename=filename,
                content_type=part.content_type,
                content=content,
                content_id=content_id,
                is_inline=disposition == "inline"
                or (disposition is None and content_id is not None),
            )
        )
    return tuple(attachments), tuple(defects)
