"""The MIME tree of a parsed message, read defensively.

`read_message` runs the stdlib parser but stops feeding it once the mail has
more parts than `mail.limits.max_parts`, so a 10 000-part mail costs what a
500-part one does. `build_tree` wraps each stdlib part in a `Part` whose
content type, parameters, disposition and filename are read through compat32,
which never raises on a malformed Content-Type (the `policy.default` header
objects sometimes do). Payloads are decoded here, tolerating truncated base64
and unknown transfer encodings. Attached messages stay leaves, so their text
is never mistaken for the body.
"""

from __future__ import annotations

import base64
import binascii
import io
import quopri
import re
from dataclasses import dataclass, field
from email import errors as email_errors
from email import policy
from email.feedparser import FeedParser
from email.generator import BytesGenerator
from email.message import Message
from email.utils import collapse_rfc2231_value
from functools import cached_property
from typing import Any

from mail.headers import decode_header, decode_raw
from mail.limits import DEFAULT_LIMITS

__all__ = [
    "BoundedMessage",
    "Part",
    "build_tree",
    "decode_base64",
    "decode_payload",
    "describe_defect",
    "flatten_message",
    "header_values",
    "read_message",
    "stored_payload",
    "transfer_encoding",
]

MAX_DEPTH = 40
#: Text given to the stdlib parser at a time. The part count is checked between
#: feeds, so at most this much is parsed past `max_parts` (a few hundred tiny parts).
FEED_CHARS = 8192
#: Open multiparts whose delimiters are counted in the text a cut parse left unread.
MAX_OPEN_BOUNDARIES = 10
#: Characters of a Content-Type or Content-Disposition value that parameters are read
#: from. The stdlib's parameter parser is quadratic in unbalanced quotes and semicolons
#: (200 000 of them took 43 s); real values, RFC 2231 continuations included, are shorter.
MAX_PARAM_CHARS = 8192
_PARAM_HEADERS = frozenset({"content-type", "content-disposition"})
_KNOWN_CTE = frozenset({"", "7bit", "8bit", "binary", "base64", "quoted-printable"})
_UUENCODE = frozenset({"x-uuencode", "uuencode", "uue", "x-uue"})
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/=]")
_GUESS_BOUNDARY = re.compile(
    rb"^--([^\s]{1,200}?)[ \t]*\r?\n(?=[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[A-Za-z-]*:)", re.M
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_DEFECT_TEXT: dict[type[email_errors.MessageDefect], str] = {
    email_errors.StartBoundaryNotFoundDefect: "malformed MIME boundary: boundary never appears",
    email_errors.CloseBoundaryNotFoundDefect: "malformed MIME boundary: closing boundary missing",
    email_errors.FirstHeaderLineIsContinuationDefect: "first header line is a continuation line",
    email_errors.MisplacedEnvelopeHeaderDefect: "envelope 'From ' line inside the headers",
    email_errors.MissingHeaderBodySeparatorDefect: "no blank line between headers and body",
    email_errors.MultipartInvariantViolationDefect: "multipart content type but no parts",
    email_errors.NoBoundaryInMultipartDefect: "multipart without a boundary parameter",
    email_errors.InvalidMultipartContentTransferEncodingDefect: "multipart with transfer encoding",
    email_errors.InvalidBase64PaddingDefect: "base64 with bad padding",
    email_errors.InvalidBase64CharactersDefect: "base64 with invalid characters",
    email_errors.InvalidBase64LengthDefect: "base64 truncated",
}


def describe_defect(defect: object) -> str:
    """Say in a few words what a stdlib `MessageDefect` means."""
    for kind, text in _DEFECT_TEXT.items():
        if isinstance(defect, kind):
            return text
    name = type(defect).__name__.removesuffix("Defect")
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    return f"email parser: {words}"


class BoundedMessage(Message):
    """A compat32 `Message` whose parameter headers are read at most `MAX_PARAM_CHARS` long.

    The stdlib reads parameters (boundary, charset, filename) through `get`,
    during the parse too, so bounding `get` bounds all of them; the raw header
    stays whole in `raw_items()`.
    """

    def get(self, name: str, failobj: Any = None) -> Any:
        value = super().get(name, failobj)
        long = isinstance(value, str) and len(value) > MAX_PARAM_CHARS
        return value[:MAX_PARAM_CHARS] if long and name.lower() in _PARAM_HEADERS else value


def _open_boundaries(message: Message) -> list[str]:
    """Boundaries of the multiparts still open where a parse was cut: the last-child path."""
    found: list[str] = []
    part: Message | None = message
    while part is not None and part.is_multipart() and len(found) < MAX_OPEN_BOUNDARIES:
        boundary = part.get_boundary()
        if boundary:
            found.append(boundary)
        payload = stored_payload(part)
        part = payload[-1] if isinstance(payload, list) and payload else None
    return found


def read_message(data: bytes, max_parts: int) -> tuple[Message, int]:
    """Parse `data` (compat32), stopping once it has more than `max_parts` parts.

    Returns the message and about how many more parts the text left unparsed
    holds: the delimiter lines of the multiparts still open (0 when
    everything was read).
    """
    count = 0

    def factory(*args: Any, **kwargs: Any) -> Message:
        nonlocal count
        count += 1
        return BoundedMessage(*args, **kwargs)

    parser = FeedParser(_factory=factory, policy=policy.compat32)
    count = 0  # FeedParser calls the factory once to probe its signature
    text = data.decode("ascii", "surrogateescape")
    position = 0
    while position < len(text) and count <= max_parts:
        end = text.find("\n", position + FEED_CHARS)  # whole lines: no delimiter is split
        end = len(text) if end < 0 else end + 1
        parser.feed(text[position:end])
        position = end
    message = parser.close()
    if position >= len(text):
        return message, 0
    for part in message.walk():
        # The parse was cut short: an unclosed multipart is our doing, not the sender's.
        part.defects[:] = [
            d for d in part.defects if not isinstance(d, email_errors.CloseBoundaryNotFoundDefect)
        ]
    rest = "\n" + text[position:]
    unread = sum(
        rest.count(f"\n--{boundary}{end}")
        for boundary in _open_boundaries(message)
        for end in ("\r\n", "\n")
    )
    return message, unread


def header_values(message: Message, name: str) -> list[str]:
    """All raw values of header `name` (case-insensitive), in order, unparsed."""
    wanted = name.lower()
    return [str(value) for key, value in message.raw_items() if key.strip().lower() == wanted]


def decode_base64(text: str | bytes) -> tuple[bytes, list[str]]:
    """Decode base64 that may be truncated, badly padded, concatenated or sprinkled with junk."""
    data = text.encode("ascii", "ignore") if isinstance(text, str) else text
    clean = _B64_JUNK.sub(b"", data)
    chunks = [chunk for chunk in re.split(rb"=+", clean) if chunk]
    defects: list[str] = []
    decoded: list[bytes] = []
    for index, chunk in enumerate(chunks):
        usable = chunk
        if len(chunk) % 4 == 1:
            usable = chunk[:-1]
            defects.append("base64 truncated")
        elif len(chunk) % 4 and index == len(chunks) - 1 and not clean.endswith(b"="):
            defects.append("base64 with bad padding")
        try:
            decoded.append(base64.b64decode(usable + b"=" * (-len(usable) % 4)))
        except (binascii.Error, ValueError):
            defects.append("base64 undecodable")
    return b"".join(decoded), defects


def stored_payload(message: Message) -> list[Message] | str | None:
    """The payload as the parser stored it: sub-messages, or text with 8-bit bytes escaped.

    `Message.get_payload()` decodes 8-bit text with the declared charset - lossy,
    and it raises on a malformed charset parameter - so the stored value is
    read directly.
    """
    value = vars(message).get("_payload")
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Message)]
    if isinstance(value, bytes):
        return value.decode("ascii", "surrogateescape")
    return value if isinstance(value, str) else None


def transfer_encoding(message: Message) -> str:
    """The Content-Transfer-Encoding token, lower-cased ("" when absent)."""
    values = header_values(message, "content-transfer-encoding")
    if not values:
        return ""
    token = re.split(r"[\s;(]", decode_raw(values[0])[0].strip(), maxsplit=1)[0]
    return _CONTROL.sub("", token.lower())[:40]


def _decode_uu(data: bytes) -> tuple[bytes, list[str]]:
    lines = iter(data.splitlines())
    if not any(line.startswith(b"begin ") for line in lines):
        return data, ["uuencoded part without a begin line, kept as sent"]
    decoded: list[bytes] = []
    for line in lines:
        if line.strip() == b"end":
            break
        try:
            decoded.append(binascii.a2b_uu(line))
        except binascii.Error:  # trailing garbage some encoders add: use the declared length
            try:
                decoded.append(binascii.a2b_uu(line[: (((line[0] - 32) & 63) * 4 + 5) // 3]))
            except (binascii.Error, IndexError):
                return b"".join(decoded), ["uuencoded part damaged"]
    return b"".join(decoded), []


def decode_payload(message: Message) -> tuple[bytes, list[str]]:
    """The content of a leaf with its transfer encoding undone, tolerant of damage."""
    raw = stored_payload(message)
    if not isinstance(raw, str):
        return b"", []
    try:
        data = raw.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # built in memory with real non-ASCII text
        data = raw.encode("utf-8", "surrogateescape")
    cte = transfer_encoding(message)
    if cte == "base64":
        return decode_base64(data)
    if cte == "quoted-printable":
        return quopri.decodestring(data), []
    if cte in _UUENCODE:
        return _decode_uu(data)
    if cte not in _KNOWN_CTE:
        return data, [f"unknown content-transfer-encoding {cte}, content kept as sent"]
    return data, []


def flatten_message(message: Message) -> bytes:
    """Serialise an embedded message back to bytes, headers as they arrived."""
    buffer = io.BytesIO()
    generator_policy = policy.compat32.clone(max_line_length=0, linesep="\r\n")
    BytesGenerator(buffer, mangle_from_=False, policy=generator_policy).flatten(message)
    return buffer.getvalue()


@dataclass
class Part:
    """One MIME node with its headers interpreted once (cached: mails can have thousands)."""

    message: Message
    content_type: str
    view: Message  # compat32 access to the Content-* headers, for safe parameter reads
    path: str
    children: list[Part] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    #: On the root: parts past `max_parts` that were not read (see `build_tree`).
    skipped_parts: int = 0
    #: On the root: parts nested deeper than `MAX_DEPTH`, not read.
    too_deep_parts: int = 0

    def param(self, name: str, header: str = "content-type") -> str | None:
        """A Content-Type (or other header's) parameter, RFC 2231 collapsed."""
        try:
            value = self.view.get_param(name, header=header)
        except Exception:  # compat32 is lenient but the input is hostile
            return None
        if value is None or (isinstance(value, str) and value == ""):
            return None
        return collapse_rfc2231_value(value)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @cached_property
    def disposition(self) -> str | None:
        """The disposition type: "attachment", "inline" or None."""
        value = self.view.get_content_disposition()
        return _CONTROL.sub("", value) if value else None

    @cached_property
    def transfer_encoding(self) -> str:
        return transfer_encoding(self.message)

    @cached_property
    def filename(self) -> str:
        """The sender's name for the part (RFC 2231 or 2047 decoded), "" if none."""
        try:
            raw = self.view.get_filename()
        except Exception:  # a malformed RFC 2231 parameter: fall back to no name
            raw = None
        if not raw:
            return ""
        decoded, _ = decode_header(raw, collapse=False)
        return decoded

    @cached_property
    def content_id(self) -> str | None:
        values = header_values(self.message, "content-id")
        if not values:
            return None
        cid = re.sub(r"[\s<>]", "", _CONTROL.sub("", decode_raw(values[0])[0]))
        return cid or None

    def payload(self) -> tuple[bytes, list[str]]:
        """The decoded content of a leaf, with defects; tolerant of broken encodings."""
        return decode_payload(self.message)

    def walk(self) -> list[Part]:
        """This part and all parts below it, depth first (not into attached messages)."""
        found = [self]
        for child in self.children:
            found.extend(child.walk())
        return found

    def leaves(self) -> list[Part]:
        return [part for part in self.walk() if part.is_leaf]


def _view(message: Message) -> Message:
    """The message itself if parsed by `read_message`, else a bounded compat32 copy of its
    Content-* headers."""
    if type(message) is BoundedMessage and message.policy is policy.compat32:
        return message
    view = BoundedMessage(policy=policy.compat32)
    for name, value in message.raw_items():
        if name.strip().lower() in ("content-type", "content-disposition"):
            view[name.strip()] = str(value)
    view.set_default_type(message.get_default_type())
    return view


@dataclass
class _Budget:
    """Parts a tree may still have, and how many it had to leave out."""

    left: int
    skipped: int = 0
    too_deep: int = 0


def _repair(message: Message, content_type: str, budget: _Budget) -> Message | None:
    """Re-split a multipart whose declared boundary never appears, guessing it from the body."""
    body, _ = decode_payload(message)
    match = _GUESS_BOUNDARY.search(body)
    if match is None:
        return None
    boundary = match.group(1).decode("ascii", "replace").replace('"', "")
    header = f'Content-Type: {content_type}; boundary="{boundary}"\r\n\r\n'.encode()
    repaired, unread = read_message(header + body, budget.left + 1)
    budget.skipped += unread
    return repaired if stored_payload(repaired) else None


def build_tree(message: Message, max_parts: int = DEFAULT_LIMITS.max_parts) -> Part:
    """Wrap `message` and its sub-parts as `Part`s; never descends into attached messages.

    At most `max_parts` parts, depth first; the number left out (with all
    they hold) is the root's `skipped_parts`.
    """
    budget = _Budget(max_parts)
    root = _build(message, "1", 0, budget)
    root.skipped_parts = budget.skipped
    root.too_deep_parts = budget.too_deep
    return root


def _build(message: Message, path: str, depth: int, budget: _Budget) -> Part:
    budget.left -= 1
    view = _view(message)
    content_type = _CONTROL.sub("", view.get_content_type())[:100]
    part = Part(message=message, content_type=content_type, view=view, path=path)
    for defect in message.defects:
        part.defects.append(describe_defect(defect))
    if not content_type.startswith("multipart/"):
        return part
    payload = stored_payload(message)
    if not isinstance(payload, list):
        repaired = _repair(message, content_type, budget)
        if repaired is None:
            part.content_type = "text/plain"  # read the unsplittable body as text
            return part
        part.defects.append("MIME parts recovered with a boundary guessed from the body")
        part.defects.extend(describe_defect(defect) for defect in repaired.defects)
        payload = stored_payload(repaired) or []
    if depth >= MAX_DEPTH:
        part.defects.append("MIME nesting too deep, inner parts ignored")
        inner = [child for child in payload if isinstance(child, Message)]
        budget.too_deep += sum(1 for child in inner for _ in child.walk())
        return part
    for index, child in enumerate(payload, start=1):
        if not isinstance(child, Message):
            continue
        if budget.left <= 0:
            budget.skipped += sum(1 for _ in child.walk())
            continue
        part.children.append(_build(child, f"{path}.{index}", depth + 1, budget))
    if not part.children:
        part.content_type = "text/plain"
    return part
