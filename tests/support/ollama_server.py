"""A test-only server speaking Ollama's REST API over the real SmolLM2 GGUF, with faults injected on demand.

Not product code: it lets the Ollama backend be tested through the real `ollama` client over real HTTP, offline.

Endpoints (shapes and status codes as in Ollama's docs/api.md and server/routes.go):
- `POST /api/chat`: streamed NDJSON (default) or one JSON object; `format` ("json" or a JSON schema, enforced with a
  llama.cpp grammar), `tools` (the reply is forced to be a call of one offered tool, returned as
  `message.tool_calls`), `options` (temperature, top_p, top_k, repeat_penalty, num_predict, seed, stop);
- `GET /api/tags`, `POST /api/show`, `GET /api/version`, `GET /` ("Ollama is running").
Every served model name is backed by the same GGUF; the Llama is loaded once per server.

Faults (see `Fault`) are set from Python (`server.inject(...)`, `server.clear_faults()`) or over HTTP
(`POST /_forge/faults` with a Fault as JSON, `DELETE /_forge/faults`). Every request is logged in `server.requests`.

Run `python -m tests.support.ollama_server --port 11434` to try the CLI against it by hand.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

DEFAULT_MODELS = ("qwen2.5:7b-instruct", "mistral:7b-instruct")
VERSION = "0.12.0-forge-test"
DEFAULT_NUM_PREDICT = 256
#: How long a "hang" fault holds a request at most (it ends sooner when faults are cleared or the server stops).
HANG_S = 3600.0

FaultKind = Literal[
    "delay",  # wait delay_s before sending anything (a slow server or a model still loading)
    "hang",  # accept the request and never answer (until the faults are cleared or the server stops)
    "drip",  # send the reply, but wait delay_s before each chunk (slow token dripping)
    "status",  # answer HTTP `status` with {"error": message}
    "drop",  # send the headers and one chunk, then cut the connection
    "invalid_json",  # 200 with a body (or a stream line) that is not JSON
    "stream_error",  # one chunk, then an {"error": ...} line, as Ollama does when the runner fails mid-stream
    "not_found",  # 404 {"error": "model 'x' not found"}, as if the model were not installed
    "ignore_tools",  # answer in text even though tools were offered
]


@dataclass
class Fault:
    """One injected fault: what goes wrong, for which model and endpoint, and for how many requests."""

    kind: FaultKind
    model: str | None = None  # only requests for this model; None: any model (and requests without one)
    times: int | None = None  # the next N matching requests, then recover; None: until cleared
    delay_s: float = 1.0  # for delay and drip
    status: int = 500  # for status
    message: str = "injected failure"  # the error text of status and stream_error
    path: str = "/api/chat"  # endpoint it applies to; "*" for every endpoint

    def matches(self, path: str, model: str | None) -> bool:
        """Whether this fault applies to a request."""
        return (self.path in ("*", path)) and (self.model is None or _tagged(self.model) == _tagged(model or ""))


@dataclass
class Served:
    """One request the server received, and the fault (if any) it got."""

    method: str
    path: str
    model: str | None
    fault: str | None


@dataclass
class _Generation:
    """Counters of one generation, filled while it streams."""

    prompt_tokens: int = 0
    eval_tokens: int = 0
    finish: str = "stop"
    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None


class _Engine:
    """The one Llama instance behind every served name; a lock serialises generations."""

    def __init__(self, gguf: Path, n_ctx: int = 2048) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.llm: Any = Llama(model_path=str(gguf), n_ctx=n_ctx, verbose=False)
        self.lock = threading.Lock()
        eos = self.llm._model.token_get_text(self.llm.token_eos())
        template = self.llm.metadata.get("tokenizer.chat_template") or ""
        self.template = Jinja2ChatFormatter(template, eos_token=eos, bos_token="")
        self.size = gguf.stat().st_size

    def prompt(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> str:
        """Render the chat with the GGUF's template; tools are described in a system turn, as model templates do."""
        plain: list[Any] = [_plain(m) for m in messages]
        if tools:
            plain = [{"role": "system", "content": _tool_prompt(tools)}, *plain]
        return str(self.template(messages=plain).prompt)

    def generate(self, prompt: str, options: dict[str, Any], grammar: Any, gen: _Generation) -> Iterator[str]:
        """Stream text pieces of one completion, counting tokens into `gen` (holds the lock while it runs)."""
        with self.lock:
            gen.prompt_tokens = len(self.llm.tokenize(prompt.encode(), special=True))
            stream = self.llm.create_completion(prompt, stream=True, grammar=grammar, **_llama_options(options))
            for chunk in stream:
                choice = chunk["choices"][0]
                if choice["finish_reason"] is not None:
                    gen.finish = "length" if choice["finish_reason"] == "length" else "stop"
                else:
                    gen.eval_tokens += 1
                    gen.first_token = gen.first_token or time.perf_counter()
                if choice["text"]:
                    yield choice["text"]


class _State:
    """Served models, faults and the request log, shared by all handler threads."""

    def __init__(self, models: tuple[str, ...]) -> None:
        self.models = [_tagged(m) for m in models]
        self.faults: list[Fault] = []
        self.requests: list[Served] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()  # set to cut injected delays short (faults cleared, server stopping)

    def take(self, method: str, path: str, model: str | None) -> Fault | None:
        """Log a request and consume the first fault that applies to it."""
        with self.lock:
            fault = next((f for f in self.faults if f.matches(path, model)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            self.requests.append(Served(method, path, model, fault.kind if fault else None))
            return fault

    def sleep(self, seconds: float) -> bool:
        """Wait, unless woken; True if the whole wait passed."""
        return not self.wake.wait(seconds)


class OllamaTestServer:
    """An Ollama-API server on an ephemeral loopback port, run in a background thread."""

    def __init__(self, models: tuple[str, ...] = DEFAULT_MODELS, gguf: Path | None = None, port: int = 0) -> None:
        if gguf is None:
            from agents.models.llamacpp import embedded_gguf

            gguf = embedded_gguf()
        self.engine = _Engine(gguf)
        self.state = _State(models)
        self.httpd = _HTTPServer(("127.0.0.1", port), _Handler, self.engine, self.state)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:41234 (what OLLAMA_HOST / FORGE_OLLAMA_HOST should be)."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[Served]:
        """Every request received so far."""
        with self.state.lock:
            return list(self.state.requests)

    def chat_requests(self, model: str | None = None) -> int:
        """How many /api/chat requests arrived (for one model, if given)."""
        return sum(1 for r in self.requests if r.path == "/api/chat" and (model is None or r.model == model))

    def inject(self, kind: FaultKind, **settings: Any) -> Fault:
        """Add a fault (see `Fault` for the settings); faults are checked in the order they were added."""
        fault = Fault(kind, **settings)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every fault, cut pending injected delays short, and clear the request log."""
        with self.state.lock:
            self.state.faults.clear()
            self.state.requests.clear()
        self.state.wake.set()
        self.state.wake = threading.Event()

    def start(self) -> OllamaTestServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="ollama-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self.state.wake.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def restart(self) -> OllamaTestServer:
        """Serve again on the same port after `stop` (same model and faults): a host coming back."""
        address = self.httpd.server_address[:2]
        self.state.wake = threading.Event()
        self.httpd = _HTTPServer((str(address[0]), int(address[1])), _Handler, self.engine, self.state)
        return self.start()

    def __enter__(self) -> OllamaTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the engine and the shared state."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], engine: _Engine,
                 state: _State) -> None:
        super().__init__(address, handler)
        self.engine = engine
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, resets of idle keep-alive connections) are normal here, not errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Aborted(Exception):
    """The client went away or a fault cut the reply short: stop writing."""


class _Handler(BaseHTTPRequestHandler):
    """Routes Ollama API requests and applies faults."""

    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `server.requests` instead."""

    def do_GET(self) -> None:
        """GET /, /api/version, /api/tags."""
        routes: dict[str, Callable[[], None]] = {"/": self._root, "/api/version": self._version}
        self._dispatch("GET", routes | {"/api/tags": self._tags}, None)

    def do_HEAD(self) -> None:
        """HEAD / (what `ollama` uses to check the server)."""
        self._send(200, b"", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        """POST /api/chat, /api/show and the fault-control endpoint."""
        try:
            body = self._json_body()
        except ValueError as exc:
            self._error(400, str(exc))
            return
        if self.path == "/_forge/faults":
            self._add_fault(body)
            return
        routes: dict[str, Callable[[], None]] = {"/api/chat": lambda: self._chat(body)}
        routes["/api/show"] = lambda: self._show(body)
        self._dispatch("POST", routes, body.get("model") or body.get("name"))

    def do_DELETE(self) -> None:
        """DELETE /_forge/faults clears every fault."""
        if self.path == "/_forge/faults":
            self._drain()
            self._clear_faults()
            self._send_json(200, {"status": "cleared"})
        else:
            self._send(404, b"404 page not found", "text/plain")

    def _dispatch(self, method: str, routes: dict[str, Callable[[], None]], model: str | None) -> None:
        """Apply the fault for this request, if any, then run the route (404 text for unknown paths, like Ollama)."""
        route = routes.get(self.path)
        if route is None:
            self._send(404, b"404 page not found", "text/plain")
            return
        fault = self.server.state.take(method, self.path, model)
        self._fault = fault  # a handler serves every request of one keep-alive connection: reset per request
        try:
            if fault is None or self._apply(fault, model):
                route()
        except _Aborted:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _apply(self, fault: Fault, model: str | None) -> bool:
        """Act out a fault; True when the normal reply should still follow (delays, drips, ignored tools)."""
        if fault.kind == "delay":
            if not self.server.state.sleep(fault.delay_s):
                raise _Aborted
            return True
        if fault.kind == "hang":
            self.server.state.sleep(HANG_S)
            raise _Aborted
        if fault.kind in ("drip", "ignore_tools"):
            return True  # acted out by the chat route
        if fault.kind == "status":
            self._error(fault.status, fault.message)
        elif fault.kind == "not_found":
            self._error(404, f"model '{model}' not found")
        elif fault.kind == "invalid_json":
            self._send(200, b'{"model": "broken", "message": {"role": "assistant", "content": "Hel', "application/json")
        else:  # drop, stream_error: start a stream, then break it
            self._broken_stream(fault, model)
        return False

    _fault: Fault | None = None

    def _root(self) -> None:
        self._send(200, b"Ollama is running", "text/plain; charset=utf-8")

    def _version(self) -> None:
        self._send_json(200, {"version": VERSION})

    def _tags(self) -> None:
        self._send_json(200, {"models": [self._model_entry(name) for name in self.server.state.models]})

    def _show(self, body: dict[str, Any]) -> None:
        name = str(body.get("model") or body.get("name") or "")
        if not name:
            self._error(400, "model is required")
        elif _tagged(name) not in self.server.state.models:
            self._error(404, f"model '{name}' not found")
        else:
            self._send_json(200, _show_body(self.server.engine))

    def _chat(self, body: dict[str, Any]) -> None:
        """The chat endpoint: validate, render, generate, and reply streamed or whole."""
        name = str(body.get("model") or "")
        if not name:
            self._error(400, "model is required")
            return
        if _tagged(name) not in self.server.state.models:
            self._error(404, f"model '{name}' not found")
            return
        tools = [] if self._fault and self._fault.kind == "ignore_tools" else list(body.get("tools") or [])
        try:
            grammar = _grammar(body.get("format"), tools)
        except ValueError as exc:
            self._error(400, str(exc))
            return
        engine, gen = self.server.engine, _Generation()
        prompt = engine.prompt(list(body.get("messages") or []), tools)
        options = dict(body.get("options") or {})
        pieces = engine.generate(prompt, options, grammar, gen)
        if body.get("stream", True):
            self._stream_chat(name, pieces, gen, bool(tools))
        else:
            self._whole_chat(name, pieces, gen, bool(tools))

    def _stream_chat(self, name: str, pieces: Iterator[str], gen: _Generation, tools: bool) -> None:
        """NDJSON: one chunk per piece (tool calls in one chunk at the end), then the final chunk with the counts."""
        drip = self._fault.delay_s if self._fault and self._fault.kind == "drip" else 0.0
        if drip:
            pieces = iter(list(pieces))  # generate first, so dripping never holds the model lock
        self._start_stream()
        try:
            text = ""
            for piece in pieces:
                text += piece
                if not tools:
                    self._pause(drip)
                    self._chunk(_line(_chunk_body(name, {"role": "assistant", "content": piece})))
            if tools:
                self._pause(drip)
                self._chunk(_line(_chunk_body(name, _assistant_message(text, tools))))
            self._pause(drip)
            self._chunk(_line(_final_body(name, gen, {"role": "assistant", "content": ""})))
            self._chunk(b"")
        finally:
            _close(pieces)

    def _whole_chat(self, name: str, pieces: Iterator[str], gen: _Generation, tools: bool) -> None:
        """One JSON object with the whole message and the counts."""
        text = "".join(pieces)
        self._send_json(200, _final_body(name, gen, _assistant_message(text, tools)))

    def _broken_stream(self, fault: Fault, model: str | None) -> None:
        """Start a normal-looking stream, then drop the connection or send an error line."""
        self._start_stream()
        self._chunk(_line(_chunk_body(model or "", {"role": "assistant", "content": "Hel"})))
        if fault.kind == "stream_error":
            self._chunk(_line({"error": fault.message}))
            self._chunk(b"")
            return
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        raise _Aborted

    def _pause(self, seconds: float) -> None:
        """Drip delay between chunks; abort if the faults were cleared meanwhile."""
        if seconds and not self.server.state.sleep(seconds):
            raise _Aborted

    def _model_entry(self, name: str) -> dict[str, Any]:
        """One /api/tags entry, in Ollama's shape."""
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-01-01T00:00:00Z",
            "size": self.server.engine.size,
            "digest": f"{abs(hash(name)):064x}"[:64],
            "details": _details(),
        }

    def _add_fault(self, body: dict[str, Any]) -> None:
        """POST /_forge/faults: add a fault given as JSON (the fields of `Fault`)."""
        try:
            fault = Fault(**body)
        except TypeError as exc:
            self._error(400, f"bad fault: {exc}")
            return
        with self.server.state.lock:
            self.server.state.faults.append(fault)
        self._send_json(200, asdict(fault))

    def _clear_faults(self) -> None:
        """Same as OllamaTestServer.clear_faults, from a handler."""
        state = self.server.state
        with state.lock:
            state.faults.clear()
            state.requests.clear()
        state.wake.set()
        state.wake = threading.Event()

    def _json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; ValueError with Ollama-like text otherwise."""
        raw = self._drain()
        if not raw:
            raise ValueError("missing request body")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid character in request body: {exc}") from exc
        if not isinstance(value, dict):
            raise ValueError("request body must be a JSON object")
        return value

    def _drain(self) -> bytes:
        """Read the request body (Content-Length)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _start_stream(self) -> None:
        """Headers of a chunked NDJSON reply."""
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        """Write one HTTP chunk (empty data ends the body) and flush it."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _error(self, status: int, message: str) -> None:
        self._send_json(status, {"error": message})

    def _send_json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def _tagged(name: str) -> str:
    """A model name with ':latest' added when it has no tag, as Ollama resolves names."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _now() -> str:
    """Ollama's created_at: RFC 3339 with nanoseconds-ish precision, UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _line(body: dict[str, Any]) -> bytes:
    """One NDJSON line."""
    return json.dumps(body).encode() + b"\n"


def _chunk_body(name: str, message: dict[str, Any]) -> dict[str, Any]:
    """A streamed, not-final chat chunk."""
    return {"model": name, "created_at": _now(), "message": message, "done": False}


def _final_body(name: str, gen: _Generation, message: dict[str, Any]) -> dict[str, Any]:
    """The final chat object: done, done_reason and the statistics (durations in nanoseconds)."""
    total = time.perf_counter() - gen.started
    first = (gen.first_token or time.perf_counter()) - gen.started
    return {
        "model": name,
        "created_at": _now(),
        "message": message,
        "done": True,
        "done_reason": gen.finish,
        "total_duration": int(total * 1e9),
        "load_duration": 0,
        "prompt_eval_count": gen.prompt_tokens,
        "prompt_eval_duration": int(first * 1e9),
        "eval_count": gen.eval_tokens,
        "eval_duration": int(max(total - first, 0.0) * 1e9),
    }


def _assistant_message(text: str, tools: bool) -> dict[str, Any]:
    """The assistant message: with tools, the generated JSON becomes `tool_calls` (raw text if it does not parse)."""
    if not tools:
        return {"role": "assistant", "content": text}
    try:
        call = json.loads(text)
        function = {"name": str(call["name"]), "arguments": dict(call.get("arguments") or {})}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return {"role": "assistant", "content": text}
    return {"role": "assistant", "content": "", "tool_calls": [{"function": function}]}


def _plain(message: dict[str, Any]) -> dict[str, str]:
    """A wire message as {role, content} for the GGUF's template (tool calls and results as text)."""
    content = str(message.get("content") or "")
    calls = message.get("tool_calls") or []
    if calls:
        content = json.dumps([c.get("function", {}) for c in calls])
    if message.get("role") == "tool":
        return {"role": "user", "content": f"Result of {message.get('tool_name') or 'the tool'}: {content}"}
    return {"role": str(message.get("role") or "user"), "content": content}


def _tool_prompt(tools: list[dict[str, Any]]) -> str:
    """The system text that describes the offered tools."""
    lines = [f"- {t['function']['name']}: {t['function'].get('description', '')}" for t in tools]
    return "Call one tool. Reply with JSON only. Tools:\n" + "\n".join(lines)


def _tool_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON schema accepting exactly one call of an offered tool."""
    variants = [
        {
            "type": "object",
            "properties": {"name": {"const": t["function"]["name"]}, "arguments": _arguments_schema(t)},
            "required": ["name", "arguments"],
        }
        for t in tools
    ]
    return variants[0] if len(variants) == 1 else {"anyOf": variants}


def _arguments_schema(tool: dict[str, Any]) -> dict[str, Any]:
    """The tool's parameters schema, minus keys llama.cpp's converter does not need."""
    params = dict(tool["function"].get("parameters") or {"type": "object"})
    params.setdefault("type", "object")
    return params


_GRAMMARS: dict[str, Any] = {}
_GRAMMAR_LOCK = threading.Lock()


def _grammar(fmt: Any, tools: list[dict[str, Any]]) -> Any:
    """The llama.cpp grammar for `format` ("json" or a schema) or for a forced tool call; None for free text."""
    from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

    build: Callable[..., Any]
    if tools:
        key, build = json.dumps(_tool_schema(tools), sort_keys=True), LlamaGrammar.from_json_schema
    elif fmt == "json":
        key, build = JSON_GBNF, LlamaGrammar.from_string
    elif isinstance(fmt, dict):
        key, build = json.dumps(fmt, sort_keys=True), LlamaGrammar.from_json_schema
    elif fmt in (None, ""):
        return None
    else:
        raise ValueError(f"invalid format: {fmt!r}; use \"json\" or a JSON schema")
    with _GRAMMAR_LOCK:
        if key not in _GRAMMARS:
            try:
                _GRAMMARS[key] = build(key, verbose=False)
            except Exception as exc:  # llama.cpp's converter raises bare exceptions on unsupported schemas
                raise ValueError(f"invalid JSON schema in format: {exc}") from exc
        return _GRAMMARS[key]


def _llama_options(options: dict[str, Any]) -> dict[str, Any]:
    """Ollama options to create_completion arguments (Ollama's defaults where unset)."""
    num_predict = int(options.get("num_predict") or DEFAULT_NUM_PREDICT)
    return {
        "max_tokens": num_predict if num_predict > 0 else DEFAULT_NUM_PREDICT,
        "temperature": float(options.get("temperature", 0.8)),
        "top_p": float(options.get("top_p", 0.9)),
        "top_k": int(options.get("top_k", 40)),
        "repeat_penalty": float(options.get("repeat_penalty", 1.1)),
        "seed": options.get("seed"),
        "stop": list(options.get("stop") or []) or None,
    }


def _details() -> dict[str, Any]:
    """Model details as /api/tags and /api/show report them (honest about the GGUF behind every name)."""
    return {
        "parent_model": "",
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": "134.52M",
        "quantization_level": "Q4_1",
    }


def _show_body(engine: _Engine) -> dict[str, Any]:
    """The /api/show reply."""
    return {
        "modelfile": "FROM SmolLM2-135M-Instruct.Q4_1.gguf",
        "parameters": "",
        "template": "{{ .Prompt }}",
        "details": _details(),
        "model_info": {"general.architecture": "llama", "llama.context_length": engine.llm.n_ctx()},
        "capabilities": ["completion", "tools"],
        "modified_at": "2025-01-01T00:00:00Z",
    }


def _close(pieces: Iterator[str]) -> None:
    """Close a generation early (releases the model lock when the client went away)."""
    close = getattr(pieces, "close", None)
    if close is not None:
        close()


def main() -> None:
    """Serve until interrupted: `python -m tests.support.ollama_server --port 11434 --model qwen2.5:7b-instruct`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--model", action="append", help="a model name to serve (repeatable)")
    args = parser.parse_args()
    server = OllamaTestServer(tuple(args.model or DEFAULT_MODELS), port=args.port)
    print(f"Serving {', '.join(server.state.models)} at {server.url}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
