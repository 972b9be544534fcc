"""A small Hugging Face Hub on 127.0.0.1 for download tests: real HTTP, real files, the Hub's headers.

It answers the two endpoints huggingface_hub 2.4 and TuneDesk use, the way the
Hub does (read from huggingface_hub/hf_api.py, file_download.py, utils/_http.py):

  GET  /api/models/{owner}/{name}/revision/{rev}?blobs=True
       → {"id", "sha", "gated", "cardData", "tags", "siblings": [{"rfilename", "size", "blobId", "lfs"}]}
       an unknown repo → 401 + X-Error-Code: RepoNotFound (what the Hub says to anonymous callers)
  HEAD/GET /{owner}/{name}/resolve/{rev}/{file}
       → ETag (sha256 for LFS files, git blob id otherwise), X-Repo-Commit, X-Linked-Etag/-Size,
         Accept-Ranges; `Range: bytes=N-` → 206 with Content-Range
       a gated repo without an accepted token → 401/403 + X-Error-Code: GatedRepo
       a missing file → 404 + X-Error-Code: EntryNotFound

Failure injection: `drop_after[(repo, file)] = n` closes the connection after
n bytes of the next GET of that file (once); `slow[(repo, file)] = seconds`
sleeps between 1 MiB pieces. Every request is logged in `requests`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

PIECE = 1 << 20


@dataclass
class Repo:
    folder: Path
    sha: str = "0123456789abcdef0123456789abcdef01234567"
    gated: bool = False
    allowed_tokens: set[str] = field(default_factory=set)
    licence: str | None = "apache-2.0"
    lfs_min_size: int = 10_000_000  # files this large are "LFS" (sha256 etag), as on the Hub
    _meta: dict[str, dict] = field(default_factory=dict)

    def files(self) -> dict[str, dict]:
        if not self._meta:
            for path in sorted(self.folder.iterdir()):
                if not path.is_file():
                    continue
                data_size = path.stat().st_size
                blob = hashlib.sha1(b"blob %d\0" % data_size)
                sha256 = hashlib.sha256()
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(8 << 20), b""):
                        blob.update(block)
                        sha256.update(block)
                meta = {"rfilename": path.name, "size": data_size, "blobId": blob.hexdigest()}
                if data_size >= self.lfs_min_size:
                    meta["lfs"] = {"size": data_size, "sha256": sha256.hexdigest(), "pointerSize": 134}
                self._meta[path.name] = meta
        return self._meta


class LocalHub:
    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[dict] = []
        self.drop_after: dict[tuple[str, str], int] = {}
        self.slow: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                hub._handle(self, head=True)

            def do_GET(self) -> None:
                hub._handle(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "LocalHub":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def gets(self, file: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "GET" and r["path"].endswith("/" + file)]

    # --- request handling -------------------------------------------------------------------------------
    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        h.send_response(status)
        h.send_header("X-Error-Code", code)
        h.send_header("X-Error-Message", message)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        path = unquote(urlsplit(h.path).path)
        token = (h.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        with self._lock:
            self.requests.append({"method": h.command, "path": path, "range": h.headers.get("Range"), "token": token})
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and "revision" in parts:
            i = parts.index("revision")
            return self._info(h, "/".join(parts[2:i]))
        if "resolve" in parts:
            i = parts.index("resolve")
            return self._file(h, "/".join(parts[:i]), "/".join(parts[i + 2:]), token, head)
        self._error(h, 404, "NotFound", "Not found")

    def _info(self, h: BaseHTTPRequestHandler, repo_id: str) -> None:
        repo = self.repos.get(repo_id)
        if repo is None:
            return self._error(h, 401, "RepoNotFound", "Repository not found")
        body = json.dumps({
            "id": repo_id, "modelId": repo_id, "sha": repo.sha, "private": False,
            "gated": "manual" if repo.gated else False,
            "cardData": {"license": repo.licence} if repo.licence else {},
            "tags": ["transformers", "safetensors"] + ([f"license:{repo.licence}"] if repo.licence else []),
            "siblings": list(repo.files().values()),
        }).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _file(self, h: BaseHTTPRequestHandler, repo_id: str, name: str, token: str, head: bool) -> None:
        repo = self.repos.get(repo_id)
        if repo is None:
            return self._error(h, 401, "RepoNotFound", "Repository not found")
        if repo.gated and token not in repo.allowed_tokens:
            status = 403 if token else 401
            return self._error(h, status, "GatedRepo", "Access to this model is restricted")
        meta = repo.files().get(name)
        if meta is None:
            return self._error(h, 404, "EntryNotFound", "Entry not found")
        size = meta["size"]
        start = 0
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
        etag = meta["lfs"]["sha256"] if "lfs" in meta else meta["blobId"]
        h.send_response(206 if start else 200)
        h.send_header("ETag", f'"{etag}"')
        h.send_header("X-Repo-Commit", repo.sha)
        h.send_header("Accept-Ranges", "bytes")
        if "lfs" in meta:
            h.send_header("X-Linked-Etag", f'"{etag}"')
            h.send_header("X-Linked-Size", str(size))
        if start:
            h.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        h.send_header("Content-Length", str(size - start))
        h.end_headers()
        if head:
            return
        key = (repo_id, name)
        with self._lock:
            drop = self.drop_after.pop(key, None)
        delay = self.slow.get(key, 0.0)
        sent = 0
        with open(repo.folder / name, "rb") as f:
            f.seek(start)
            while True:
                piece = f.read(PIECE)
                if not piece:
                    break
                if drop is not None and sent + len(piece) > drop:
                    h.wfile.write(piece[: drop - sent])
                    h.wfile.flush()
                    h.close_connection = True
                    h.connection.shutdown(2)  # mid-file, as a dropped network does
                    return
                try:
                    h.wfile.write(piece)
                except (BrokenPipeError, ConnectionResetError):
                    return
                sent += len(piece)
                if delay:
                    time.sleep(delay)
