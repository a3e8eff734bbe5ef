"""A stand-in OpenAI-compatible server on loopback (http.server in a thread) that answers
POST /v1/chat/completions with the real response shape, or fails the way it is told."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def completion(content: str) -> dict[str, Any]:
    """A chat.completion body as OpenAI's API returns it."""
    return {
        "id": "chatcmpl-9xKefuTest0001", "object": "chat.completion", "created": 1733480000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                             "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 312, "completion_tokens": 41, "total_tokens": 353,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                "accepted_prediction_tokens": 0,
                                                "rejected_prediction_tokens": 0}},
        "system_fingerprint": "fp_0ba0d124f1",
    }


@dataclass
class FakeLLM:
    """What the next requests get: `content` in a completion, or `status`/`raw`/`delay`."""

    url: str = ""
    content: str = "Use Settings → Security to reset it [1]."
    status: int = 200
    raw: bytes | None = None  # sent as-is instead of a completion
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def _handler(llm: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            llm.headers.append(dict(self.headers))
            llm.requests.append({"path": self.path, **json.loads(body)})
            if llm.delay:
                time.sleep(llm.delay)
            payload = llm.raw if llm.raw is not None else json.dumps(
                completion(llm.content) if llm.status == 200 else
                {"error": {"message": "boom", "type": "server_error"}}).encode()
            self.send_response(llm.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            # The client may have given up already (the timeout test).
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def fake_llm() -> Iterator[FakeLLM]:
    llm = FakeLLM()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(llm))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    llm.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield llm
    finally:
        server.shutdown()
        server.server_close()
