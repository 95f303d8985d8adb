"""The one exception Web API handlers raise; the router turns it into Slack's error body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Slack API error: HTTP 200, `{"ok": false, "error": code, …extra}`.

    `messages` become `response_metadata.messages`, the way Slack explains invalid_arguments.
    """

    def __init__(self, error: str, *, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body Slack would answer with."""
        out: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            out["response_metadata"] = {"messages": list(self.messages)}
        return out
