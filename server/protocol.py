"""JSON-RPC hygiene for the language server: every request answered, framing errors handled, logs bounded."""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn
from urllib.parse import unquote

import cattrs
from lsprotocol import types
from pygls.exceptions import FeatureNotificationError, JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage
from pygls.protocol import LanguageServerProtocol, lsp_method

from . import errors

if TYPE_CHECKING:
    from .app import RaglsServer

log = logging.getLogger(__name__)
MsgId = int | str
E = types.ErrorCodes
MAX_BODY = 256 << 20  # a declared Content-Length above this is a framing error
MAX_HEADER = 8192  # a header line longer than this is garbage
MAX_UNFRAMED = 16 << 20  # a body without a usable length is looked for in this many bytes at most
MAX_IN_FLIGHT = 1024  # requests being handled at once; more are answered "busy" at once
MAX_OUTSIDE = 256  # documents kept open outside every workspace folder (ragls never reads them)
QUIET_S = 0.5  # an incomplete body that is already whole JSON after this long without bytes is read as it is
CHUNK = 1 << 16
NEXT_HEADER = re.compile(rb"content-length[ \t]*:[ \t]*\d+[ \t]*\r?\n", re.I)  # cannot occur inside valid JSON
HEADER_NAME = re.compile(rb"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
NON_SPACE = re.compile(rb"[^ \t\r\n]")
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
NOTHING: Any = object()


# -- framing ------------------------------------------------------------------------------------------------------
@dataclass
class Frame:
    """What one message on the wire amounted to: a JSON value, or why its body could not be read (`error`);
    `note` says what framing problem was recovered from on the way."""

    value: Any = NOTHING
    error: str | None = None
    note: str | None = None
    surrogates: bool = False


def parse_body(body: bytes | bytearray) -> Frame:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Frame(error=f"the body is not UTF-8 (byte {exc.start})")
    try:
        return Frame(value=json.loads(text), surrogates=SURROGATE_ESCAPE.search(body) is not None)
    except (ValueError, RecursionError) as exc:
        return Frame(error=f"the body is not JSON ({errors.clip(str(exc), 120)})")


class Framer:
    """Splits a byte stream into LSP messages (`Content-Length: N` headers, a blank line, N bytes of JSON).

    A body whose length is missing, not a number, too large or too small is delimited instead by where the next
    `Content-Length: N` line starts (such a line cannot occur inside JSON), or, when nothing follows, by being
    whole JSON after QUIET_S without bytes. Bytes that are not a header start such an unframed body too."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.in_body = False
        self.length: int | None = None  # the body's declared length; None: delimited by the next header
        self.note: str | None = None  # the framing problem met on the way to this body
        self.scanned = 0  # how far the body was searched for a next header

    @property
    def waiting(self) -> bool:
        """A body has begun but is not complete."""
        return self.in_body and NON_SPACE.search(self.buf) is not None

    def feed(self, data: bytes) -> list[Frame]:
        self.buf += data
        out = []
        while (frame := self._body() if self.in_body else self._headers()) is not None:
            if frame is not NOTHING:
                out.append(frame)
        return out

    def quiet(self) -> list[Frame]:
        """No bytes came for a while: a body that is whole JSON already is the message (its length was wrong)."""
        if not self.waiting or (frame := parse_body(self.buf)).error is not None:
            return []
        if self.note is None:
            self.note = f"Content-Length {self.length} is larger than the body ({len(self.buf)} bytes)"
        return [self._deliver(len(self.buf), frame)]

    def leftover(self) -> int:
        """Bytes of an incomplete message at the end of the input."""
        m = NON_SPACE.search(self.buf)
        return 0 if m is None else len(self.buf) - m.start()

    def _headers(self) -> Any:
        buf = self.buf
        m = NON_SPACE.search(buf)  # blank lines and spaces between messages are harmless
        if m is None:
            buf.clear()
            return None
        del buf[:m.start()]
        pos, length, note = 0, None, "no Content-Length header"
        while (eol := buf.find(b"\n", pos)) >= 0:
            line = bytes(buf[pos:eol]).rstrip(b"\r")
            if not line:
                del buf[:eol + 1]
                return self._start(length, None if length is not None else note)
            name, colon, value = line.partition(b":")
            if not colon or not HEADER_NAME.fullmatch(name.strip()):
                del buf[:pos]
                return self._start(None, f"{errors.clip(line.decode('latin-1'), 40)!r} is not a header")
            if name.strip().lower() == b"content-length":
                v = value.strip()
                ok = v.isdigit() and len(v) <= 12 and int(v) <= MAX_BODY
                length, note = ((int(v), note) if ok else
                                (None, f"bad Content-Length {errors.clip(v.decode('latin-1'), 40)!r}"))
            pos = eol + 1
        if len(buf) - pos > MAX_HEADER:
            del buf[:pos]
            return self._start(None, "an over-long header line")
        return None

    def _start(self, length: int | None, note: str | None) -> Any:
        self.in_body, self.length, self.note, self.scanned = True, length, note, 0
        return NOTHING

    def _body(self) -> Frame | None:
        buf, length = self.buf, self.length
        if length is not None and len(buf) >= length:
            frame = parse_body(buf[:length])
            if frame.error is None or len(buf) == length:  # whole JSON, or a well-framed body that is not JSON
                return self._deliver(length, frame)
            if (m := NEXT_HEADER.search(buf)) is not None:
                return self._take(m.start(), frame)
            self.length, self.note = None, f"Content-Length {length} does not delimit a JSON body"
            return None
        if (m := NEXT_HEADER.search(buf, max(0, self.scanned - 32))) is not None:
            return self._take(m.start(), None)
        self.scanned = len(buf)
        if length is None and len(buf) > MAX_UNFRAMED:
            return self._deliver(len(buf) - 64, Frame(error=f"no message boundary in {MAX_UNFRAMED} bytes"))
        return None

    def _take(self, end: int, declared: Frame | None) -> Frame:
        """The body is what lies before `end`, where the next message's header starts."""
        frame = parse_body(self.buf[:end])
        if frame.error is not None and declared is not None:
            frame = declared  # not JSON either way: say why the body as declared was not
        elif frame.error is None and self.note is None and self.length is not None:
            self.note = (f"Content-Length {self.length} is {'larger' if end < self.length else 'smaller'} than the "
                         f"body ({end} bytes)")
        return self._deliver(end, frame)

    def _deliver(self, consumed: int, frame: Frame) -> Frame:
        frame.note = frame.note or self.note
        del self.buf[:consumed]
        self.in_body, self.length, self.note, self.scanned = False, None, None, 0
        return frame


# -- logging ------------------------------------------------------------------------------------------------------
class Throttle:
    """At most `per_s` log lines a second; those held back are counted in the next line that goes out."""

    def __init__(self, per_s: int = 20) -> None:
        self.per_s, self.window, self.count, self.held = per_s, 0.0, 0, 0

    def __call__(self, level: int, msg: str, *args: object) -> None:
        if not log.isEnabledFor(level):
            return
        now = time.monotonic()
        if now - self.window >= 1:
            if self.held:
                log.warning("(%d more protocol messages not logged)", self.held)
            self.window, self.count, self.held = now, 0, 0
        if self.count < self.per_s:
            self.count += 1
            log.log(level, msg, *args)
        else:
            self.held += 1


class Tracebacks:
    """A bug's traceback is logged once per place it was raised from (again after `every_s`)."""

    def __init__(self, every_s: float = 600) -> None:
        self.every_s, self.seen = every_s, dict[tuple[str, str, int], float]()

    def first(self, exc: BaseException) -> bool:
        frames = traceback.extract_tb(exc.__traceback__)
        key = (type(exc).__name__, frames[-1].filename, frames[-1].lineno or 0) if frames else (type(exc).__name__,
                                                                                               "", 0)
        now = time.monotonic()
        if now - self.seen.get(key, -self.every_s) < self.every_s:
            return False
        if len(self.seen) >= 256:
            self.seen.clear()
        self.seen[key] = now
        return True


# -- the protocol -------------------------------------------------------------------------------------------------
def _is_id(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _scrub(value: Any) -> Any:
    """Lone UTF-16 surrogates (from "\\ud800" escapes; no UTF-8 text holds them) become U+FFFD, one code unit
    for one, so positions stay right."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def _describe(exc: Exception) -> str:
    """What is wrong with a message's params, in a line; the error is then let go (`_release`)."""
    try:
        return errors.clip("; ".join(cattrs.transform_error(exc, path="$")[:3]), 300)
    except Exception:
        return errors.message(exc)
    finally:
        _release(exc)


def _release(exc: BaseException) -> None:
    """Clear the finished frames of an exception's tracebacks, its causes' and its group's members' too. cattrs's
    validation errors are held by the frames that raised them: cycles that only a full collection frees, and after
    a 20,000-message fuzz it found 320,000 such objects, holding every thread, the event loop too, for 300 ms."""
    todo, seen = [exc], set()
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if e.__traceback__ is not None:
            traceback.clear_frames(e.__traceback__)  # (a frame still running, ours, is left as it is)
            e.__traceback__ = None
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
        if isinstance(e, BaseExceptionGroup):
            todo += e.exceptions


class RaglsProtocol(LanguageServerProtocol):
    """pygls's LSP protocol with JSON-RPC hygiene: messages are checked before pygls sees them, every request is
    answered (invalid params -32602, unknown method -32601, handler failure -32603 in one line, before initialize
    -32002, after shutdown or malformed -32600), finished work is forgotten, and failures are logged briefly."""

    _server: "RaglsServer"

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self.in_flight: dict[MsgId, str] = {}  # requests received and not yet answered -> method
        self.initialize_seen = False
        self.lost = threading.Event()  # the client stopped reading
        self.warn = Throttle()
        self.tracebacks = Tracebacks()

    # -- reading ----------------------------------------------------------------------------------------------
    def receive(self, frame: Frame) -> None:
        """Handle one frame from the Framer."""
        if frame.note:
            self.warn(logging.WARNING, "framing: %s", frame.note)
        if frame.error is not None:
            self.warn(logging.WARNING, "unreadable message: %s", frame.error)
            self._error(None, E.ParseError, frame.error)
            return
        if frame.value is NOTHING:
            return
        try:
            msg = _scrub(frame.value) if frame.surrogates else frame.value
        except RecursionError:
            msg = None
        if not isinstance(msg, dict):
            self.warn(logging.WARNING, "invalid message: %s is not a JSON object", type(msg).__name__)
            self._error(None, E.InvalidRequest, "a message is a JSON object")
            return
        self.dispatch(msg)

    def dispatch(self, msg: dict[str, Any]) -> None:
        method, params, msg_id = msg.get("method"), msg.get("params", {}), msg.get("id", NOTHING)
        if method is None and msg_id is not NOTHING and ("result" in msg or "error" in msg):
            return self._response(msg)
        if msg.get("jsonrpc") != "2.0" or not isinstance(method, str) or not (msg_id is NOTHING or _is_id(msg_id)):
            self.warn(logging.WARNING, "invalid JSON-RPC message: %s", errors.clip(json.dumps(msg, default=str), 160))
            if msg_id is not NOTHING:
                self._error(msg_id if _is_id(msg_id) else None, E.InvalidRequest,
                            "not a JSON-RPC 2.0 request (jsonrpc \"2.0\", a string method, an integer or string id)")
            return
        if msg_id is NOTHING:
            return self._notification(method, params)
        return self._request(msg_id, method, params)

    def _request(self, msg_id: MsgId, method: str, params: Any) -> None:
        refusal = (
            (E.InvalidRequest, "the server is shutting down") if self._shutdown else
            (E.ServerNotInitialized, "the server is not initialized") if not self.initialize_seen
            and method != types.INITIALIZE else
            (E.InvalidRequest, "initialize was already received") if method == types.INITIALIZE
            and self.initialize_seen else
            (E.InvalidRequest, f"request id {msg_id!r} is already in use") if msg_id in self.in_flight else
            (types.LSPErrorCodes.RequestFailed, f"the server is busy ({len(self.in_flight)} requests in flight)")
            if len(self.in_flight) >= MAX_IN_FLIGHT else None)
        if refusal is not None:
            self.warn(logging.INFO, "request %r (%s) refused: %s", msg_id, errors.clip(method, 80), refusal[1])
            return self._error(msg_id, *refusal)
        if self._handler(method) is None:
            self.warn(logging.INFO, "request %r: unknown method %r", msg_id, errors.clip(method, 80))
            return self._error(msg_id, E.MethodNotFound, f"Method Not Found: {errors.clip(method, 80)}")
        try:
            message = self._structure(method, params, msg_id)
        except Exception as exc:
            text = f"invalid params for {method}: {_describe(exc)}"
            self.warn(logging.WARNING, "request %r: %s", msg_id, text)
            return self._error(msg_id, E.InvalidParams, text)
        if method == types.INITIALIZE:
            self.initialize_seen = True
        self.in_flight[msg_id] = method
        contextvars.copy_context().run(self._handle_request, msg_id, method, message.params)

    def _notification(self, method: str, params: Any) -> None:
        if (self._shutdown or not self.initialize_seen) and method != types.EXIT:
            self.warn(logging.DEBUG, "notification %s ignored: %s", errors.clip(method, 80),
                      "shutting down" if self._shutdown else "not initialized")
            return
        if method == types.CANCEL_REQUEST:
            return self._cancel(params.get("id") if isinstance(params, dict) else None)
        if self._handler(method) is None:
            self.warn(logging.DEBUG if method.startswith("$/") else logging.INFO, "notification %r ignored: no handler",
                      errors.clip(method, 80))
            return
        try:
            message = self._structure(method, params, None)
        except Exception as exc:
            self.warn(logging.WARNING, "notification %s ignored: invalid params: %s", method, _describe(exc))
            return
        contextvars.copy_context().run(self._handle_notification, method, message.params)

    def _response(self, msg: dict[str, Any]) -> None:
        """A client's response to one of our requests; a malformed one fails the request rather than hang it."""
        rid = msg["id"]
        future = self._request_futures.get(rid) if _is_id(rid) else None
        if future is None or future.done():
            self.warn(logging.DEBUG, "response to no pending request: %r", rid)
            return
        rtype = self._result_types.pop(rid, None) or JsonRPCResponseMessage
        result, error = None, None
        try:
            if "error" in msg:
                error = self._converter.structure(msg["error"], types.ResponseError)
            else:
                result = self._converter.structure({"jsonrpc": "2.0", "id": rid, "result": msg["result"]}, rtype).result
        except Exception as exc:
            text = f"malformed response: {_describe(exc)}"
            self.warn(logging.WARNING, "response %r: %s", rid, text)
            error = types.ResponseError(code=E.InternalError, message=text)
        self._handle_response(rid, result, error)

    def _handler(self, method: str) -> Any:
        return self.fm.builtin_features.get(method) or self.fm.features.get(method)

    def _structure(self, method: str, params: Any, msg_id: MsgId | None) -> Any:
        envelope: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if msg_id is not None:
            envelope["id"] = msg_id
        cls = self.get_message_type(method) or (JsonRPCNotification if msg_id is None else JsonRPCRequestMessage)
        return self._converter.structure(envelope, cls)

    def _cancel(self, msg_id: object) -> None:
        future = self._request_futures.get(msg_id) if _is_id(msg_id) and msg_id in self.in_flight else None
        if future is None:
            self.warn(logging.DEBUG, "cancel for no request in flight: %r", msg_id)
        elif future.cancel():
            self.warn(logging.DEBUG, "request %r cancelled", msg_id)

    # -- running handlers (pygls's, with finished work forgotten) ----------------------------------------------
    def _handle_request(self, msg_id: MsgId, method_name: str, params: Any) -> None:
        self._ctx_msg_id.set(msg_id)
        try:
            self._execute_handler(msg_id, self._handler(method_name), partial(self._send_handler_result,
                                                                              msg_id=msg_id), args=(params,))
        except Exception as exc:
            self.in_flight.pop(msg_id, None)
            self._answer_failure(msg_id, method_name, exc)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        try:
            self._execute_handler(str(uuid.uuid4()), self._handler(method_name),
                                  partial(self._notification_done, method=method_name), args=(params,))
        except Exception as exc:
            self._failed(f"notification {method_name}", exc)

    def _execute_handler(self, msg_id: MsgId, handler: Any, callback: Any, args: Any = None,
                         kwargs: Any = None) -> None:
        """pygls's, but a future it keeps (async, threaded and generator handlers, and each step a generator
        handler yields) is dropped once done: pygls only drops a request's, when answering it."""
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(partial(self._forget, msg_id))

    def _run_generator(self, future: Any, *, gen: Any, result_future: Any) -> None:
        """pygls's, but a step that was cancelled (the loop closing) cancels the handler instead of raising
        CancelledError out of a callback."""
        if future is not None and future.cancelled():
            gen.close()
            result_future.cancel()
            return
        super()._run_generator(future, gen=gen, result_future=result_future)

    def _forget(self, msg_id: MsgId, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    def _send_handler_result(self, future: Any, *, msg_id: MsgId) -> None:
        method = self.in_flight.pop(msg_id, "?")
        self._forget(msg_id, future)
        try:
            if future.cancelled():
                self._error(msg_id, types.LSPErrorCodes.RequestCancelled, f"request {msg_id!r} was cancelled")
            elif (exc := future.exception()) is not None:
                self._answer_failure(msg_id, method, exc)
            else:
                self._send_response(msg_id, result=future.result())
        except Exception as exc:  # never leave a request unanswered, whatever went wrong above
            self._failed("answering a request", exc)
            self._error(msg_id, E.InternalError, errors.message(exc))

    def _notification_done(self, future: Any, *, method: str) -> None:
        if not future.cancelled() and (exc := future.exception()) is not None:
            self._failed(f"notification {method}", exc, report=True)

    def _answer_failure(self, msg_id: MsgId, method: str, exc: BaseException) -> None:
        if method == types.INITIALIZE:
            self.initialize_seen = False  # the client may try again
        self._failed(f"request {msg_id!r} ({method})", exc)
        code = exc.code if isinstance(exc, JsonRpcException) else E.InternalError
        self._error(msg_id, code, errors.message(exc))

    def _failed(self, what: str, exc: BaseException, report: bool = False) -> None:
        """One line for a failure; a traceback the first time an unexpected exception comes from a place."""
        if not errors.expected(exc) and self.tracebacks.first(exc):
            log.error("%s failed: %s", what, errors.message(exc), exc_info=exc)
            if report and isinstance(exc, Exception):  # a bug the user should hear of, once
                self._server._report_server_error(exc, FeatureNotificationError)
        else:
            self.warn(logging.WARNING, "%s failed: %s", what, errors.message(exc))

    # -- writing ------------------------------------------------------------------------------------------------
    def _error(self, msg_id: MsgId | None, code: int, message: str) -> None:
        """An error response; with "id": null when the request's id could not be read."""
        self._send_data({"jsonrpc": "2.0", "id": msg_id,
                         "error": {"code": int(code), "message": errors.clip(message, errors.MAX_CHARS)}})

    def _send_data(self, data: Any) -> None:
        if self.writer is None or self.lost.is_set():
            return
        try:
            body = json.dumps(data, default=self._serialize_message)
        except Exception as exc:
            self._failed("serialising a message", exc)
            msg_id = getattr(data, "id", None)
            if msg_id is None or getattr(data, "error", None) is not None:
                return
            body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": {
                "code": int(E.InternalError), "message": f"the result could not be serialised: {errors.message(exc)}"}})
        raw = body.encode()  # ASCII: json.dumps escapes the rest
        if self._include_headers:
            raw = b"Content-Length: %d\r\nContent-Type: %s; charset=%s\r\n\r\n%s" % (
                len(raw), self.CONTENT_TYPE.encode(), self.CHARSET.encode(), raw)
        try:
            res = self.writer.write(raw)
            if inspect.isawaitable(res):
                asyncio.ensure_future(res)
        except (OSError, ValueError) as exc:  # a broken pipe, a closed stream: the client is gone
            if not self.lost.is_set():
                log.warning("the client stopped reading (%s): stopping", errors.message(exc))
                self.lost.set()

    def send_request(self, method: str, params: Any = None, callback: Any = None,
                     msg_id: MsgId | None = None) -> Future[Any]:
        """pygls's, and a request the server gave up waiting for (cancelled) is forgotten."""
        msg_id = str(uuid.uuid4()) if msg_id is None else msg_id
        future = super().send_request(method, params, callback, msg_id)
        future.add_done_callback(partial(self._given_up, msg_id))
        return future

    def _given_up(self, msg_id: MsgId, future: Future[Any]) -> None:
        if future.cancelled():
            self._forget(msg_id, future)
            self._result_types.pop(msg_id, None)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Any:
        """pygls's, over a copy of the pending requests: cancelling one runs `_forget` at once for a thread's or a
        generator's future, which removed it from the dict pygls was iterating (a client shutting down while the
        server waited on one of its own requests got an internal error)."""
        if (handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield handler, args, None
        current = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    # -- documents ----------------------------------------------------------------------------------------------
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Any:
        self.workspace.put_text_document(params.text_document)
        self._bound_outside()
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        uri = params.text_document.uri
        if unquote(uri) not in self.workspace.text_documents:
            self.warn(logging.WARNING, "didChange for %s, which is not open: ignored", errors.clip(uri, 120))
            return
        for change in params.content_changes:
            try:
                self.workspace.update_text_document(params.text_document, change)
            except Exception as exc:
                self.warn(logging.WARNING, "didChange for %s not applied: %s", errors.clip(uri, 120),
                          errors.message(exc))
                return
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    def _bound_outside(self) -> None:
        """Documents outside every workspace folder are never read: past MAX_OUTSIDE, the oldest are dropped."""
        docs = self.workspace.text_documents
        if len(docs) <= MAX_OUTSIDE or not self._server.folders:
            return
        outside = [uri for uri in docs if self._outside(uri)]
        for uri in outside[: len(outside) - MAX_OUTSIDE]:
            docs.pop(uri, None)
        if len(outside) > MAX_OUTSIDE:
            self.warn(logging.INFO, "%d documents outside the workspace folders closed (more than %d open)",
                      len(outside) - MAX_OUTSIDE, MAX_OUTSIDE)

    def _outside(self, uri: str) -> bool:
        try:
            return self._server.folder(uri) is None
        except ValueError:  # a path no file system holds ("%00")
            return True


# -- the read loop ------------------------------------------------------------------------------------------------
async def serve(protocol: RaglsProtocol, read: Callable[[], Awaitable[bytes]], stop: threading.Event) -> bool:
    """Read messages and hand them to `protocol` until the input ends, `exit`, or the client stops reading.
    False when the input ended inside a message."""
    framer = Framer()
    pending: asyncio.Future[bytes] | None = None
    while not stop.is_set() and not protocol.lost.is_set():
        if pending is None:
            pending = asyncio.ensure_future(read())
        done, _ = await asyncio.wait({pending}, timeout=QUIET_S if framer.waiting else 1.0)
        if not done:  # quiet for a while (and the loop looks at `lost` again)
            frames = framer.quiet()
        else:
            try:
                chunk = pending.result()
            except (OSError, ValueError) as exc:
                log.error("reading the input failed: %s", errors.message(exc))
                return False
            pending = None
            if not chunk:
                break
            frames = framer.feed(chunk)
        for frame in frames:
            try:
                protocol.receive(frame)
            except Exception as exc:  # a bug of ours: the loop goes on
                protocol._failed("handling a message", exc)
            await asyncio.sleep(0)  # let handlers run between messages
    if leftover := framer.leftover():
        log.error("the input ended inside a message (%d bytes unread): exiting with status 1", leftover)
        return False
    return True


def _abort(server: "RaglsServer", status: int) -> NoReturn:
    """End the process with `status` (cmd_serve would exit 0): folders closed and logs flushed first."""
    for folder in list(server.folders):
        folder.close()
    logging.shutdown()
    os._exit(status)


def _reader(stream: BinaryIO) -> Callable[[int], bytes]:
    read1 = getattr(stream, "read1", None)
    return read1 if read1 is not None else partial(os.read, stream.fileno())


def _protocol(server: "RaglsServer") -> RaglsProtocol:
    if not isinstance(server.protocol, RaglsProtocol):
        raise TypeError("RaglsServer must be built with protocol_cls=RaglsProtocol")
    return server.protocol


def start_io(server: "RaglsServer", stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Serve on stdio with the hardened read loop (instead of pygls's run_async). Returns the exit status: 0 when
    the client closed the input or sent `exit` after `shutdown`, 1 for `exit` without it or input that ended inside
    a message."""
    server._stop_event = stop = threading.Event()
    protocol = _protocol(server)
    protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    read = _reader(stdin or sys.stdin.buffer)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragls-stdin")  # never joined: a read may block

    async def main() -> bool:
        loop = asyncio.get_running_loop()
        return await serve(protocol, lambda: loop.run_in_executor(pool, read, CHUNK), stop)

    status = 0
    try:
        status = 0 if asyncio.run(main()) else 1
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:  # `exit` ends the loop with SystemExit: 1 without a shutdown before it
        status = exc.code if isinstance(exc.code, int) else 0
    finally:
        server.shutdown()
    return status


def start_tcp(server: "RaglsServer", host: str, port: int) -> None:
    """Serve one TCP client with the hardened read loop (instead of pygls's run_async)."""
    server._stop_event = stop = threading.Event()

    protocol = _protocol(server)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        protocol.set_writer(writer)
        ok = await serve(protocol, lambda: reader.read(CHUNK), stop)
        if not ok:
            _abort(server, 1)
        server.shutdown()

    async def main() -> None:
        server._server = await asyncio.start_server(connection, host, port)
        log.info("serving on %s:%s", host, port)
        async with server._server:
            await server._server.serve_forever()

    try:
        asyncio.run(main())
    except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
        pass


def install(server: "RaglsServer") -> None:
    """Harden `server`'s protocol handling (called once by create_server): its protocol must be RaglsProtocol
    (RaglsServer passes it to pygls); stdio and TCP are served by the read loop above."""
    _protocol(server)
    server.start_io = partial(start_io, server)  # type: ignore[method-assign]
    server.start_tcp = partial(start_tcp, server)  # type: ignore[method-assign]
