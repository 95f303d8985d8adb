"""The aiohttp application: Web API router, upload endpoint and response_url endpoint.

Request handling follows SLACK.md §3.1: arguments are merged from the query string, a form body
and a JSON body; the token comes from `Authorization: Bearer` or a `token` form field; every API
answer is HTTP 200 JSON except injected faults and rate limits.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any, NamedTuple

from aiohttp import BodyPartReader, web
from aiohttp.web_request import FileField

from bot.sandbox.emulator import api_chat, api_files, api_history, api_misc, api_views  # noqa: F401
from bot.sandbox.emulator.api import METHODS, CallContext, MethodSpec, RateLimited
from bot.sandbox.emulator.config import JSON
from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.faults import ChannelRateLimit, Fault, FaultInjector
from bot.sandbox.emulator.respond import apply_response
from bot.sandbox.emulator.state import ApiCall, SlackState


class _Incoming(NamedTuple):
    """One Web API request as the emulator records it."""

    name: str
    args: JSON
    token: str | None
    http_method: str


class EmulatorServer:
    """Owns the aiohttp routes; all state access goes through `state.changed` (the lock)."""

    def __init__(
        self, state: SlackState, faults: FaultInjector, rate_limit: ChannelRateLimit
    ) -> None:
        self.state = state
        self.faults = faults
        self.rate_limit = rate_limit
        self.root_url = ""
        self.extra_routes: list[web.RouteDef] = []

    def build_app(self) -> web.Application:
        """The aiohttp application with every emulator route."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(
            [
                web.route("*", "/api/{method}", self.handle_api),
                web.post("/upload/v1/{file_id}", self.handle_upload),
                web.post("/response/{url_id}", self.handle_response),
                *self.extra_routes,
            ]
        )
        return app

    # -- Web API -----------------------------------------------------------------------

    async def handle_api(self, request: web.Request) -> web.StreamResponse:
        """`/api/<method>`: parse, fault, authenticate, apply, record."""
        name = request.match_info["method"]
        token = _bearer(request)
        try:
            args, form_token = await _read_args(request)
        except ApiError as exc:
            return self._answer(_Incoming(name, {}, token, request.method), exc.body())
        token = token or form_token
        incoming = _Incoming(name, args, token, request.method)
        fault = self.faults.take(name, args)
        if fault is not None and not fault.after_apply:
            faulted = await self._fault(request, fault)
            if faulted is not None:
                self._record(incoming, faulted.status, None, faulted=True)
                return faulted
        spec = METHODS.get(name)
        if spec is None:
            body = {"ok": False, "error": "unknown_method", "req_method": name}
            return self._answer(incoming, body)
        with self.state.changed:
            try:
                self._authorize(spec, token)
                ctx = CallContext(self.state, args, token or "", self.root_url, self.rate_limit)
                reply = spec.handler(ctx)
            except ApiError as exc:
                return self._answer(incoming, exc.body())
            except RateLimited as limited:
                self._record(incoming, 429, "ratelimited")
                return _ratelimited(limited.retry_after)
            body, headers = reply if isinstance(reply, tuple) else (reply, {})
            if fault is None or not fault.after_apply:
                return self._answer(incoming, body, headers)
        faulted = await self._fault(request, fault)  # applied above; only the answer is lost
        if faulted is None:
            return self._answer(incoming, body, headers)
        self._record(incoming, faulted.status, None, faulted=True)
        return faulted

    def _authorize(self, spec: MethodSpec, token: str | None) -> None:
        state = self.state
        app_token = state.config.app_token
        if not token:
            raise ApiError("not_authed")
        if token in state.revoked_tokens:
            raise ApiError("token_revoked")
        wanted_ok = token == app_token if spec.token_kind == "app" else token in state.bot_tokens
        if not wanted_ok:
            known = token == app_token or token in state.bot_tokens
            raise ApiError("not_allowed_token_type" if known else "invalid_auth")
        if spec.scope is not None and spec.scope not in state.scopes:
            raise ApiError("missing_scope", needed=spec.scope, provided=",".join(state.scopes))

    def _answer(
        self, incoming: _Incoming, body: JSON, headers: dict[str, str] | None = None
    ) -> web.Response:
        """Record the call and answer HTTP 200 JSON, as Slack does even for errors."""
        error = None if body.get("ok") else str(body.get("error"))
        self._record(incoming, 200, error)
        return web.json_response(body, headers=headers)

    def _record(
        self, incoming: _Incoming, status: int, error: str | None, *, faulted: bool = False
    ) -> None:
        with self.state.changed:
            call = ApiCall(
                method=incoming.name,
                args=copy.deepcopy(incoming.args),
                token=incoming.token,
                http_method=incoming.http_method,
                time=self.state.clock(),
                status=status,
                ok=status == 200 and error is None,
                error=error,
                faulted=faulted,
            )
            self.state.calls.append(call)
            self.state.changed.notify_all()

    async def _fault(self, request: web.Request, fault: Fault) -> web.Response | None:
        """Play a fault: wait, maybe drop the connection, maybe answer an error status."""
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.disconnect:
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=599, text="disconnected")
        if fault.status is None:
            return None
        body, content_type = fault.response_body()
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return web.Response(
            status=fault.status, text=body, content_type=content_type, headers=headers
        )

    # -- upload and response_url -------------------------------------------------------

    async def handle_upload(self, request: web.Request) -> web.StreamResponse:
        """The upload_url step: raw bytes or multipart; Slack answers text 'OK - <size>'."""
        fault = self.faults.take("upload", {"file_id": request.match_info["file_id"]})
        if fault is not None and (faulted := await self._fault(request, fault)) is not None:
            return faulted
        content = await _read_upload(request)
        with self.state.changed:
            refused = api_files.store_upload(self.state, request.match_info["file_id"], content)
            self.state.changed.notify_all()
        if refused is not None:
            status = 404 if refused == "file_not_found" else 400
            return web.Response(status=status, text=refused, content_type="text/plain")
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def handle_response(self, request: web.Request) -> web.StreamResponse:
        """A POST to a response_url issued with an interaction."""
        url_id = request.match_info["url_id"]
        fault = self.faults.take("response", {"url_id": url_id})
        if fault is not None and (faulted := await self._fault(request, fault)) is not None:
            return faulted
        try:
            body: Any = json.loads(await request.read())
        except ValueError:
            body = None
        with self.state.changed:
            status, answer = apply_response(self.state, url_id, body)
            self.state.changed.notify_all()
        return web.json_response(answer, status=status)


def _bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _read_args(request: web.Request) -> tuple[JSON, str | None]:
    """Query + form/JSON body merged (body wins); also the form `token`, kept out of args."""
    args: JSON = {k: v for k, v in request.query.items() if k != "token"}
    form_token: str | None = None
    if request.method != "POST" or not request.body_exists:
        return args, None
    if request.content_type == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError("invalid_json") from None
            if not isinstance(body, dict):
                raise ApiError("json_not_object")
            body.pop("token", None)
            args.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if key == "token":
                form_token = str(value)
            elif isinstance(value, str):
                args[key] = value
            elif isinstance(value, FileField):
                args[key] = value.file.read()
            else:
                args[key] = bytes(value)
    return args, form_token


async def _read_upload(request: web.Request) -> bytes:
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader):
                return bytes(await part.read(decode=True))
        return b""
    return await request.read()


def _ratelimited(retry_after: int) -> web.Response:
    return web.json_response(
        {"ok": False, "error": "ratelimited"},
        status=429,
        headers={"Retry-After": str(retry_after)},
    )
