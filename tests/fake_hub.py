"""A stand-in for the Hugging Face hub on 127.0.0.1, and hubs that cannot be reached.

`FakeHub` serves model folders (the tiny stand-ins) under hub ids, answering the requests
huggingface_hub makes: the model's metadata with file sizes (`/api/models/<id>`), each file's
metadata (HEAD `/<id>/resolve/<revision>/<file>`) and its bytes, slowly when asked, so a first
use can be watched. Point HF_ENDPOINT (or `huggingface_hub.constants.ENDPOINT`) at `endpoint`.

`closed_endpoint()` refuses connections; `blackhole()` accepts them and never answers, as a
firewall or a dead proxy does.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """Serves `models` (hub id -> folder); each file's body takes about `seconds_per_file`."""

    def __init__(self, models: dict[str, Path], seconds_per_file: float = 0.0) -> None:
        self.models = models
        self.seconds_per_file = seconds_per_file
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://{HOST}:{self._server.server_address[1]}"

    def files(self, model_id: str) -> dict[str, Path]:
        folder = self.models[model_id]
        return {
            path.relative_to(folder).as_posix(): path
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }

    def downloads(self) -> list[str]:
        """The paths whose bytes were fetched (GET of a file), in order."""
        return [path for method, path in self.requests if method == "GET" and "/resolve/" in path]

    def __enter__(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                hub.requests.append(("GET", self.path))
                hub.answer(self, head=False)

            def do_HEAD(self) -> None:
                hub.requests.append(("HEAD", self.path))
                hub.answer(self, head=True)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def answer(self, handler: BaseHTTPRequestHandler, head: bool) -> None:
        path = handler.path.split("?", 1)[0]
        if path.startswith("/api/models/"):
            model_id = path.removeprefix("/api/models/").split("/revision/")[0]
            if model_id not in self.models:
                headers = {"X-Error-Code": "RepoNotFound"}
                return self._send(handler, 404, b'{"error":"Repository not found"}', headers)
            siblings = [
                {"rfilename": name, "size": file.stat().st_size}
                for name, file in self.files(model_id).items()
            ]
            body = json.dumps({"id": model_id, "sha": COMMIT, "siblings": siblings}).encode()
            return self._send(handler, 200, body, {"Content-Type": "application/json"})
        model_id, _, rest = path.lstrip("/").partition("/resolve/")
        name = rest.partition("/")[2]
        file = self.files(model_id).get(name) if model_id in self.models else None
        if file is None:
            headers = {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT}
            return self._send(handler, 404, b"Entry not found", headers)
        data = file.read_bytes()
        headers = {
            "X-Repo-Commit": COMMIT,
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Content-Type": "application/octet-stream",
        }
        if head:
            return self._send(handler, 200, b"", {**headers, "Content-Length": str(len(data))})
        self._send(handler, 200, data, headers, slowly=self.seconds_per_file)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str],
        slowly: float = 0.0,
    ) -> None:
        handler.send_response(status)
        headers.setdefault("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command == "HEAD":
            return
        pieces = 4 if slowly else 1
        step = max(1, -(-len(body) // pieces))
        for start in range(0, len(body), step):
            if slowly:
                time.sleep(slowly / pieces)
            handler.wfile.write(body[start : start + step])
            handler.wfile.flush()


def closed_endpoint() -> str:
    """An address where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    return f"http://{HOST}:{port}"


@contextmanager
def blackhole() -> Iterator[str]:
    """An endpoint that takes connections and never answers, like a firewall dropping replies."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(64)  # never accepted: the kernel completes handshakes, nobody reads
    try:
        yield f"http://{HOST}:{listener.getsockname()[1]}"
    finally:
        listener.close()


def go_online(monkeypatch: Any, cache: Path, endpoint: str) -> None:
    """This process's huggingface_hub as HF_ENDPOINT=`endpoint` would set it up, with an empty
    cache in `cache` and offline mode off (the suite runs with HF_HUB_OFFLINE=1)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    template = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
