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
from mail.limits import DEFAULT_LIMITS, MIB
from mail.mime import Part, decode_base64, flatten_message, stored_payload
from mail.parsed import ParsedAttachment
from mail.tnef import is_tnef, unpack_tnef

__all__ = ["Attachments", "Body", "extract_attachments", "extract_body", "human_size"]

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
#: Names listed for attachments past the limit; more would only be noise.
MAX_OMITTED_NAMES = 100
MAX_OMITTED_NAME = 255


@dataclass(frozen=True, slots=True)
class Body:
    """The readable text, the raw HTML (if any), and what went wrong reading them.

    `html_cut`: bytes of HTML past `max_html_bytes` that the text lacks (0 when the
    text is the text/plain part).
    """

    text: str
    html: str | None
    defects: tuple[str, ...]
    html_cut: int = 0


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


def human_size(size: int, *, round_up: bool = False) -> str:
    """A byte count as people read it: "31.2 MB", "12 kB", "800 bytes" (MB = MiB, as in config).

    `round_up` for a size compared with a limit: 25 MB and 10 bytes is "25.1 MB", not "25 MB".
    """
    for unit, name in ((MIB, "MB"), (1024, "kB")):
        if size >= unit:
            tenths = -(-size * 10 // unit) if round_up else round(size * 10 / unit)
            return f"{tenths / 10:.1f}".removesuffix(".0") + f" {name}"
    return f"{size} bytes"


def _cut_html(html: str, max_bytes: int) -> tuple[str, int]:
    """`html` cut to `max_bytes` of UTF-8 (on a character boundary) and the bytes cut off."""
    if len(html) * 4 <= max_bytes:
        return html, 0
    data = html.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return html, 0
    return data[:max_bytes].decode("utf-8", "ignore"), len(data) - max_bytes


def extract_body(root: Part, max_html_bytes: int = DEFAULT_LIMITS.max_html_bytes) -> Body:
    """Choose and decode the body; an empty text/plain alternative defers to the HTML.

    HTML past `max_html_bytes` is cut before it is converted (conversion is the
    costly part), and a text made from cut HTML ends with a line saying so.
    """
    defects: list[str] = []
    plain_parts, html_parts = _collect(root, root)
    plain = "\n\n".join(t for t in (_decode_text(p, defects).strip("\n") for p in plain_parts) if t)
    html = "\n".join(_decode_text(p, defects) for p in html_parts) if html_parts else None
    cut = 0
    if html is not None:
        html, cut = _cut_html(html, max_html_bytes)
    if cut:
        defects.append(
            f"HTML body cut after {human_size(max_html_bytes)} "
            f"({human_size(cut)} not read, mail.limits.max_html_bytes)"
        )
    marker = ""
    if plain.strip():
        text = plain
    elif html is not None:
        text = clean_body_text(html_to_text(html))
        if cut:
            marker = (
                f"[The rest of this message ({human_size(cut)} of HTML) was not converted: "
                f"it is over the {human_size(max_html_bytes)} limit (mail.limits.max_html_bytes).]"
            )
    else:
        text = plain
    text = _BLANK_LINES.sub("\n\n\n", text).rstrip().lstrip("\n")
    if marker:
        text = f"{text}\n\n{marker}" if text else marker
    return Body(text=text, html=html, defects=tuple(defects), html_cut=cut if marker else 0)


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


@dataclass(frozen=True, slots=True)
class Attachments:
    """The attachments kept, the names of those past the limit, and what went wrong.

    `past_limit` counts every attachment not kept; `omitted` names the first 100.
    """

    kept: tuple[ParsedAttachment, ...]
    omitted: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()
    past_limit: int = 0


def _omitted_name(part: Part) -> str:
    name = part.filename or _DEFAULT_NAMES.get(part.content_type, "")
    return (name or f"unnamed {part.content_type}")[:MAX_OMITTED_NAME]


def extract_attachments(
    root: Part, max_attachments: int = DEFAULT_LIMITS.max_attachments
) -> Attachments:
    """Every non-body leaf: files, inline images, attached messages, TNEF, invites.

    The first `max_attachments` are kept (the files inside a winmail.dat count
    one by one); the rest are not decoded, only named.
    """
    defects: list[str] = []
    attachments: list[ParsedAttachment] = []
    omitted: list[str] = []
    past_limit = 0
    for part in root.leaves():
        if not _is_attachment(part, root):
            continue
        if len(attachments) >= max_attachments:
            past_limit += 1
            if len(omitted) < MAX_OMITTED_NAMES:
                omitted.append(_omitted_name(part))
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
                room = max_attachments - len(attachments)
                attachments.extend(inside[:room])
                past_limit += len(inside[room:])
                names = [a.filename[:MAX_OMITTED_NAME] for a in inside[room:]]
                omitted.extend(names[: MAX_OMITTED_NAMES - len(omitted)])
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
    if past_limit:
        defects.append(
            f"{past_limit} attachments past the first {max_attachments} not kept "
            "(mail.limits.max_attachments)"
        )
    return Attachments(tuple(attachments), tuple(omitted), tuple(defects), past_limit)
