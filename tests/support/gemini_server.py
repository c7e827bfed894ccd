"""A local HTTP server that speaks the Gemini REST API (``generateContent``), for tests.

It records every request body, so tests can check what the real ``langchain-google-genai``
client sent, and answers with a responder: by default one that plays a simple agent (it reads
the JSON schema the client asked for and returns a valid object of it).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], str]

_PATH = re.compile(r"^/v1(?:beta|alpha)?/models/(?P<model>[^:/]+):(?P<method>\w+)")


def agent_responder(body: dict[str, Any]) -> str:
    """Answer like a tiny agent solving 'compute 17*23' with the calculator."""
    config = body.get("generationConfig", {})
    schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
    props = set(schema.get("properties", {}))
    if "steps" in props:
        step = {"description": "Multiply 17 by 23", "expected": "391", "tool": "calculator"}
        return json.dumps({"steps": [step]})
    if "candidates" in props:  # the policy's (predicted and score serve the fused schema)
        return json.dumps({"candidates": [
            {"tool": "calculator", "args": {"expression": "17*23"}, "rationale": "exact",
             "predicted": "391", "score": 0.9},
            {"tool": "calculator", "args": {"expression": "17+23"}, "rationale": "wrong op",
             "predicted": "40", "score": 0.1},
        ]})  # fmt: skip
    if "assessments" in props:  # fused world model and critic
        return json.dumps({"assessments": [
            {"candidate_id": 0, "predicted": "391", "score": 0.9, "reason": "right"},
            {"candidate_id": 1, "predicted": "40", "score": 0.1, "reason": "wrong"},
        ]})  # fmt: skip
    if "predictions" in props:
        return json.dumps({"predictions": [
            {"candidate_id": 0, "next_state": "391"}, {"candidate_id": 1, "next_state": "40"},
        ]})  # fmt: skip
    if "scores" in props:
        return json.dumps({"scores": [
            {"candidate_id": 0, "score": 0.9, "reason": "right"},
            {"candidate_id": 1, "score": 0.1, "reason": "wrong"},
        ]})  # fmt: skip
    if props & {"decision", "final_answer"}:  # a verdict, or the final answer
        return json.dumps({
            "success": True, "decision": "finish", "critique": "the product is 391",
            "lessons": ["use the calculator for arithmetic"], "final_answer": "17 * 23 = 391",
        })  # fmt: skip
    return "17 * 23 = 391"


class GeminiServer:
    """Serve the Gemini API on a free loopback port until :meth:`close`."""

    def __init__(self, responder: Responder = agent_responder) -> None:
        self.requests: list[dict[str, Any]] = []
        self.responder = responder
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                match = _PATH.match(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if match is None:
                    return self._send(404, {"error": {"code": 404, "message": self.path}})
                server.requests.append({"model": match["model"], "method": match["method"], **body})
                reply = {
                    "candidates": [{
                        "content": {"role": "model", "parts": [{"text": server.responder(body)}]},
                        "finishReason": "STOP", "index": 0,
                    }],
                    "usageMetadata": {
                        "promptTokenCount": 12, "candidatesTokenCount": 8, "totalTokenCount": 20,
                    },
                    "modelVersion": match["model"],
                }  # fmt: skip
                if match["method"] == "streamGenerateContent":
                    data = f"data: {json.dumps(reply)}\r\n\r\n".encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return None
                return self._send(200, reply)

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()


if __name__ == "__main__":  # run standalone: python -m tests.support.gemini_server
    import time

    srv = GeminiServer()
    print(srv.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.close()
