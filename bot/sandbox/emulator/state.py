"""The emulated workspace and everything the bot did to it.

All records are plain dataclasses guarded by one re-entrant lock owned by `SlackState`; the
server thread mutates them while holding it, and test threads read deep copies through the
`SlackEmulator` accessors, so a test never sees a half-applied call.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.sandbox.emulator.config import JSON, Channel, User, WorkspaceConfig
from bot.sandbox.emulator.response_urls import ResponseUrlRegistry
from bot.sandbox.emulator.triggers import TriggerRegistry

Clock = Callable[[], float]


class ManualClock:
    """A clock that only moves when told, so TTL expiry is tested without sleeping."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`."""
        with self._lock:
            self._now += seconds


@dataclass(frozen=True)
class MessageVersion:
    """One earlier version of a message, kept so tests can see every chat.update."""

    text: str
    blocks: list[JSON] | None
    attachments: list[JSON] | None
    replaced_at: str


@dataclass
class Message:
    """A message in a channel; a reply when `thread_ts` is set and differs from `ts`."""

    channel: str
    ts: str
    text: str
    user: str
    team: str
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    metadata: JSON | None = None
    text_truncated: bool = False
    files: list[str] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    history: list[MessageVersion] = field(default_factory=list)
    edited_ts: str | None = None
    deleted: bool = False
    source: str = "api"

    @property
    def is_reply(self) -> bool:
        """True for thread replies (not for the thread parent)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, bot_profile: JSON | None = None) -> JSON:
        """The message object Slack returns and embeds in payloads."""
        out: JSON = {"type": "message", "text": self.text, "user": self.user, "ts": self.ts}
        out["team"] = self.team
        if self.blocks is not None:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments is not None:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.bot_id is not None:
            out["bot_id"] = self.bot_id
            out["app_id"] = self.app_id
            if bot_profile is not None:
                out["bot_profile"] = copy.deepcopy(bot_profile)
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.edited_ts is not None:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.metadata is not None:
            out["metadata"] = copy.deepcopy(self.metadata)
        if self.files:
            out["files"] = [{"id": f} for f in self.files]
            out["upload"] = True
        if self.reactions:
            out["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        return out


@dataclass
class Ephemeral:
    """A message only `user` sees; never part of the channel history."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[JSON] | None = None
    thread_ts: str | None = None
    source: str = "api"
    deleted: bool = False
    history: list[MessageVersion] = field(default_factory=list)


@dataclass
class ViewRecord:
    """A modal or Home tab view the bot opened, pushed, updated or published."""

    id: str
    type: str
    user_id: str
    hash: str
    view: JSON
    trigger_id: str | None = None
    root_view_id: str | None = None
    previous_view_id: str | None = None
    closed: bool = False
    history: list[JSON] = field(default_factory=list)

    @property
    def callback_id(self) -> str:
        """The view's callback_id ('' when unset)."""
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        """The view's private_metadata ('' when unset)."""
        return str(self.view.get("private_metadata") or "")

    @property
    def external_id(self) -> str:
        """The view's external_id ('' when unset)."""
        return str(self.view.get("external_id") or "")

    @property
    def blocks(self) -> list[JSON]:
        """The view's blocks."""
        return list(self.view.get("blocks") or [])

    def to_api(self, team_id: str, app_id: str, bot_id: str) -> JSON:
        """The `view` object of views.* responses and view_submission payloads."""
        out = copy.deepcopy(self.view)
        out.setdefault("private_metadata", "")
        out.setdefault("callback_id", "")
        out.setdefault("external_id", "")
        out.update(
            id=self.id,
            team_id=team_id,
            app_id=app_id,
            app_installed_team_id=team_id,
            bot_id=bot_id,
            hash=self.hash,
            state={"values": {}},
            root_view_id=self.root_view_id or self.id,
            previous_view_id=self.previous_view_id,
            clear_on_close=bool(self.view.get("clear_on_close", False)),
            notify_on_close=bool(self.view.get("notify_on_close", False)),
        )
        return out


@dataclass
class UploadedFile:
    """A file going through files.getUploadURLExternal → upload → completeUploadExternal."""

    id: str
    filename: str
    length: int
    user: str
    alt_txt: str | None = None
    title: str | None = None
    content: bytes | None = None
    completed: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None

    @property
    def filetype(self) -> str:
        """What Slack would call the file: from its bytes (sniffed), else its name."""
        return file_type(self.filename, self.content or b"")[0]

    @property
    def mimetype(self) -> str:
        return file_type(self.filename, self.content or b"")[1]

    def to_api(self) -> JSON:
        """The `file` object of files.completeUploadExternal."""
        size = len(self.content) if self.content is not None else self.length
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": size,
            "filetype": self.filetype,
            "mimetype": self.mimetype,
            "user": self.user,
            "channels": [self.channel] if self.channel else [],
        }


_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF8", "gif", "image/gif"),
    (b"%PDF-", "pdf", "application/pdf"),
    (b"PK\x03\x04", "zip", "application/zip"),
)
_TEXT_TYPES = {"csv": "text/csv", "txt": "text/plain", "json": "application/json"}


def file_type(filename: str, content: bytes) -> tuple[str, str]:
    """(filetype, mimetype) as Slack reports them: known binary formats by their magic bytes
    whatever the name says; text by the name's extension when the bytes are UTF-8 text;
    anything else is "binary" (so a PNG that is not one shows up as such)."""
    for magic, kind, mime in _MAGIC:
        if content.startswith(magic):
            return kind, mime
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "binary", "application/octet-stream"
    if extension in _TEXT_TYPES:
        return extension, _TEXT_TYPES[extension]
    return "text", "text/plain"


@dataclass(frozen=True)
class ApiCall:
    """One Web API call as the emulator saw it, including faulted and rejected ones."""

    method: str
    args: JSON
    token: str | None
    http_method: str
    time: float
    status: int
    ok: bool
    error: str | None
    faulted: bool = False


@dataclass(frozen=True)
class ResponseUrlPost:
    """One POST to a response_url, with what the emulator answered."""

    url_id: str
    body: JSON
    time: float
    status: int
    error: str | None


class SlackState:
    """Mutable workspace state; every method expects the caller to hold `lock`."""

    def __init__(self, config: WorkspaceConfig, clock: Clock = time.time) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.clock = clock
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Back to the configured workspace, with nothing recorded."""
        cfg = self.config
        self.users: dict[str, User] = {u.id: copy.deepcopy(u) for u in cfg.users}
        self.channels: dict[str, Channel] = {c.id: copy.deepcopy(c) for c in cfg.channels}
        self.bot_tokens: set[str] = set(cfg.bot_tokens)
        self.revoked_tokens: set[str] = set()
        self.scopes: list[str] = list(cfg.scopes)
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, ViewRecord] = {}
        self.home_views: dict[str, str] = {}
        self.files: dict[str, UploadedFile] = {}
        self.calls: list[ApiCall] = []
        self.response_posts: list[ResponseUrlPost] = []
        self.triggers = TriggerRegistry()
        self.response_urls = ResponseUrlRegistry()
        self._last_ts_us = 0
        self._ids = itertools.count(1)

    # -- identifiers -------------------------------------------------------------------

    def next_ts(self) -> str:
        """A message ts like '1503435956.000247', strictly increasing even on a frozen clock."""
        us = max(int(self.clock() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def serial(self) -> int:
        """A number unique within this state (ids, hashes)."""
        return next(self._ids)

    def new_id(self, prefix: str) -> str:
        """A Slack-looking id ('V', 'F', 'D' …) unique within this state."""
        return f"{prefix}0{self.serial():09d}"

    # -- lookups -----------------------------------------------------------------------

    def find_message(self, channel: str, ts: str) -> Message | None:
        """The message with this ts in the channel, if any (deleted ones included)."""
        for msg in self.messages.get(channel, []):
            if msg.ts == ts:
                return msg
        return None

    def user_by_email(self, email: str) -> User | None:
        """Case-insensitive e-mail lookup, like users.lookupByEmail."""
        wanted = email.strip().lower()
        for user in self.users.values():
            if user.email is not None and user.email.lower() == wanted:
                return user
        return None

    def im_channel(self, user_id: str) -> Channel:
        """The bot's DM with `user_id`, created on first use like conversations.open does."""
        for chan in self.channels.values():
            if chan.is_im and user_id in chan.members:
                return chan
        chan = Channel(
            id=self.new_id("D"),
            name=user_id,
            members=[user_id, self.config.bot_user_id],
            is_im=True,
        )
        self.channels[chan.id] = chan
        return chan

    def bot_profile(self) -> JSON:
        """The `bot_profile` block Slack attaches to the bot's own messages."""
        cfg = self.config
        return {
            "id": cfg.bot_id,
            "app_id": cfg.app_id,
            "name": cfg.bot_name,
            "deleted": False,
            "team_id": cfg.team_id,
        }

    def add_message(self, msg: Message) -> Message:
        """Append to the channel history; a reply marks its parent as a thread parent."""
        if msg.is_reply and msg.thread_ts is not None:
            parent = self.find_message(msg.channel, msg.thread_ts)
            if parent is not None:
                parent.thread_ts = parent.ts
        self.messages.setdefault(msg.channel, []).append(msg)
        return msg
