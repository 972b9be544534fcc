"""Models from the Hugging Face Hub: resumable, cancellable downloads (the access token: hub_token.py).

Why not `hf_hub_download` / `snapshot_download` for the bytes: in
huggingface_hub 2.x an interrupted transfer deletes its partial file
(`file_download._download_to_tmp_and_move`: "do not keep a partial file
around"), so a cancel or a lost connection restarts a multi-GB file from zero,
and progress only reaches a tqdm bar. We use the library for everything else —
the endpoint (HF_ENDPOINT), auth headers, its HTTP session (proxies, offline
mode), the repo listing (`HfApi.model_info`, pinned to one commit), file URLs
and its error classes (gated, not found) — and own the byte loop: each file
streams into `<name>.part`, continuing with an HTTP Range request from what is
on disk, in 1 MiB pieces so a stop request is answered within one piece.
Finished files are checked against the Hub's SHA-256 (LFS) or git blob id, so a
resumed file is proven identical to the original.

On disk: `<models>/hub/<owner>--<name>/`, assembled in a hidden `.partial`
folder and renamed when complete, so the catalogue never lists half a model.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from core.errors import Cancelled, DiskError, ModelError
from core.events import OnEvent, Progress, ShouldStop, ignore_event, never_stop
from core.models.catalog import CatalogEntry, check_name_free, describe_folder, find_model, register
from core.models.folders import not_a_causal_lm
from core.models.hub_token import hub_token
from core.models.names import SOURCE_FILE
from core.paths import models_dir

CHUNK = 1 << 20  # bytes between stop checks and progress updates
STATE_FILE = ".tunedesk-download.json"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_WEIGHTS = (".safetensors",)
_EXTRA_FILES = {"tokenizer.model", "merges.txt", "vocab.txt", "spiece.model", "README.md", "LICENSE", "LICENSE.md",
                "LICENSE.txt"}


# --- what to download ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    sha256: str | None  # LFS files
    blob_id: str | None  # git blob sha1, for small files


def hub_folder(repo_id: str) -> Path:
    return models_dir() / "hub" / repo_id.replace("/", "--")


def pick_files(siblings: list[Any]) -> list[RemoteFile]:
    """Config, tokenizer and safetensors weights at the top level; .bin only when there is no safetensors."""
    top = [s for s in siblings if "/" not in s.rfilename]
    names = {s.rfilename for s in top}
    has_safetensors = any(n.endswith(_WEIGHTS) for n in names)

    def wanted(n: str) -> bool:
        if n.endswith(_WEIGHTS) or n in _EXTRA_FILES or n.endswith((".jinja", ".tiktoken")):
            return True
        if n.startswith("pytorch_model") and (n.endswith(".bin") or n.endswith(".bin.index.json")):
            return not has_safetensors
        return n.endswith(".json") and not n.startswith("adapter_")

    files = [RemoteFile(s.rfilename, int(s.size or (s.lfs.size if s.lfs else 0)),
                        s.lfs.sha256 if s.lfs else None, s.blob_id) for s in top if wanted(s.rfilename)]
    # config.json first (the model is checked before any weight arrives), then small to large.
    return sorted(files, key=lambda f: (f.name != "config.json", f.size, f.name))


def _not_a_base_model(repo_id: str, names: set[str]) -> ModelError | None:
    if "config.json" in names:
        return None
    if any(n.endswith(".gguf") for n in names):
        return ModelError(f"{repo_id} holds GGUF files only, not a transformers model.",
                          "Download the .gguf file you want from its page, then: tunedesk models add FILE.gguf")
    if "adapter_config.json" in names:
        return ModelError(f"{repo_id} is a LoRA adapter, not a base model.",
                          "Download the base model it was made for instead.")
    return ModelError(f"{repo_id} has no config.json: it is not a transformers model.",
                      "Pick a text-generation model repository (its Files tab lists config.json and *.safetensors).")


# --- errors in words -------------------------------------------------------------------------------------

def _gated(repo_id: str, endpoint: str, had_token: bool) -> ModelError:
    page = f"{endpoint}/{repo_id}"
    if had_token:
        return ModelError(f"{repo_id} is gated, and your saved access token has not been granted access.",
                          f"Open {page} while logged in, accept the conditions, wait for approval, then try again.")
    return ModelError(f"{repo_id} is gated: its authors ask you to accept their conditions before downloading.",
                      f"Open {page}, accept the conditions, create an access token at {endpoint}/settings/tokens "
                      "and save it with: tunedesk models login")


def _explain(exc: Exception, repo_id: str, endpoint: str, had_token: bool) -> ModelError:
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, OfflineModeIsEnabled, RemoteEntryNotFoundError,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    if isinstance(exc, OfflineModeIsEnabled):
        return ModelError("Downloads are switched off on this computer (HF_HUB_OFFLINE is set).",
                          "Unset the HF_HUB_OFFLINE environment variable and try again.")
    if isinstance(exc, GatedRepoError):
        return _gated(repo_id, endpoint, had_token)
    if isinstance(exc, RevisionNotFoundError):
        return ModelError(f"{repo_id} has no branch, tag or commit with that name.", "Leave out --revision to get 'main'.")
    if isinstance(exc, RemoteEntryNotFoundError):
        return ModelError(f"A file listed by {repo_id} is missing on the server.", "Try again later, or pick another revision.")
    if isinstance(exc, RepositoryNotFoundError):
        return ModelError(f"There is no model '{repo_id}' on {endpoint} (or it is private).",
                          "Check the spelling: owner/name, as in the model page's address. If it is private, save an "
                          "access token with: tunedesk models login")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return ModelError(f"The Hub answered with an error ({status}) for {repo_id}.",
                          "Try again in a few minutes; what was already downloaded is kept.")
    return ModelError(f"Could not reach {endpoint}: {type(exc).__name__}: {str(exc)[:200]}",
                      "Check the internet connection (and proxy settings), then run the same command again: "
                      "the download resumes where it stopped.")


def _transient(exc: Exception) -> bool:
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError):
        return exc.response is not None and exc.response.status_code in (408, 429, 500, 502, 503, 504)
    return isinstance(exc, httpx2.TransportError) and not isinstance(exc, (httpx2.ProxyError, httpx2.UnsupportedProtocol))


# --- the download ----------------------------------------------------------------------------------------

def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


class _Meter:
    """Byte progress across all files, throttled to a few events a second."""

    def __init__(self, repo_id: str, total: int, done: int, on_event: OnEvent) -> None:
        self.repo_id, self.total, self.done, self.on_event = repo_id, total, done, on_event
        self.last = 0.0

    def add(self, n: int, force: bool = False) -> None:
        self.done += n
        now = time.monotonic()
        if force or now - self.last >= 0.2:
            self.last = now
            self.on_event(Progress("download", f"Downloading {self.repo_id}: {_mb(self.done)} of {_mb(self.total)}",
                                   self.done, self.total, tick=True))


def _verify(path: Path, file: RemoteFile) -> bool:
    if file.sha256:
        digest = hashlib.sha256()
    elif file.blob_id:
        digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    else:
        return True
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == (file.sha256 or file.blob_id)


def _sleep(seconds: float, should_stop: ShouldStop) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if should_stop():
            raise Cancelled
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))


def _open_part(part: Path, mode: str) -> Any:
    try:
        return open(part, mode)
    except OSError as exc:
        raise _disk_error(part, exc) from exc


def _write(out: Any, part: Path, piece: bytes) -> None:
    try:
        out.write(piece)
    except OSError as exc:
        raise _disk_error(part, exc) from exc


def _disk_error(part: Path, exc: OSError) -> DiskError:
    return DiskError(f"Could not write {part}: {exc.strerror or exc}",
                     "Free some disk space, then run the same command again: the download resumes.")


def _fetch(url: str, part: Path, file: RemoteFile, headers: dict[str, str], meter: _Meter, should_stop: ShouldStop,
           retries: int, retry_wait: float) -> None:
    """Stream one file into `part`, continuing from its current size; retry transient failures."""
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session, hf_raise_for_status

    failures = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        if have > file.size:  # not ours to continue: start over
            part.unlink()
            meter.add(-have)
            have = 0
        if have == file.size and file.size > 0:
            return
        request_headers = dict(headers)
        if have:
            request_headers["Range"] = f"bytes={have}-"
        received = 0
        try:
            with get_session().stream("GET", url, headers=request_headers, timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT) as r:
                hf_raise_for_status(r)
                if have and r.status_code == 200:  # the server ignored Range: rewrite from the start
                    meter.add(-have)
                    have = 0
                with _open_part(part, "ab" if have else "wb") as out:
                    for piece in r.iter_bytes(CHUNK):
                        if should_stop():
                            raise Cancelled
                        _write(out, part, piece)
                        received += len(piece)
                        meter.add(len(piece))
            if file.size == 0:
                return
            if received == 0:
                raise ModelError(f"The server sent no data for {file.name}.",
                                 "Try again later; what was already downloaded is kept.")
        except (Cancelled, DiskError, ModelError):
            raise
        except Exception as exc:
            if not _transient(exc):
                raise
            failures = 0 if received else failures + 1
            if failures > retries:
                raise
            have = part.stat().st_size if part.exists() else 0
            meter.on_event(Progress("download", f"Connection lost in {file.name} at {_mb(have)}; resuming from there…",
                                    meter.done, meter.total))
            _sleep(retry_wait * 2 ** max(0, failures - 1), should_stop)


def download_model(repo_id: str, revision: str = "main", name: str | None = None, endpoint: str | None = None,
                   token: str | None = None, on_event: OnEvent = ignore_event, should_stop: ShouldStop = never_stop,
                   retries: int = 5, retry_wait: float = 1.0) -> CatalogEntry:
    """Download owner/name from the Hub into the models folder and add it to the catalogue.

    Resumable: files already complete are kept, partial ones continue where they
    stopped (also after a crash or Ctrl-C). Cancellable: `should_stop` raises
    Cancelled within 1 MiB, keeping what arrived.
    """
    from huggingface_hub import HfApi, constants, hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    repo_id = repo_id.strip().strip("/")
    if not _REPO_ID.match(repo_id):
        raise ModelError(f"'{repo_id}' is not a Hub model name.", "Write it as owner/name, e.g. HuggingFaceTB/SmolLM2-135M-Instruct")
    endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
    name = name or repo_id
    existing = find_model(name)
    if existing is not None and existing.source == "hub" and existing.origin == repo_id and not existing.missing:
        on_event(Progress("download", f"{repo_id} is already installed as '{name}'.", existing.size_bytes, existing.size_bytes))
        return existing
    check_name_free(name)
    token = token or hub_token(endpoint)
    auth: Any = token or False  # False: never send a token huggingface_hub finds elsewhere to a foreign endpoint
    on_event(Progress("download", f"Looking up {repo_id} on {urlparse(endpoint).netloc or endpoint}…"))
    try:
        info = HfApi(endpoint=endpoint, token=auth, library_name="tunedesk").model_info(
            repo_id, revision=revision, files_metadata=True)
    except Exception as exc:
        raise _explain(exc, repo_id, endpoint, bool(token)) from exc
    siblings = info.siblings or []
    problem = _not_a_base_model(repo_id, {s.rfilename for s in siblings})
    if problem:
        raise problem
    if info.gated and not token:
        raise _gated(repo_id, endpoint, False)
    files = pick_files(siblings)
    commit = info.sha or revision
    licence = (info.card_data or {}).get("license") if info.card_data else None
    licence = licence or next((t.split(":", 1)[1] for t in (info.tags or []) if t.startswith("license:")), None)

    target = hub_folder(repo_id)
    partial = target.with_name(f".{target.name}.partial")
    state = partial / STATE_FILE
    if partial.exists():
        try:
            previous = json.loads(state.read_text(encoding="utf-8")).get("commit")
        except (OSError, ValueError):
            previous = None
        if previous != commit:  # a new commit since the last attempt: old bytes would mix two versions
            shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"repo": repo_id, "commit": commit, "endpoint": endpoint}), encoding="utf-8")

    def on_disk(f: RemoteFile) -> int:
        final, part = partial / f.name, partial / f"{f.name}.part"
        return final.stat().st_size if final.is_file() else (part.stat().st_size if part.is_file() else 0)

    total = sum(f.size for f in files)
    kept = sum(min(on_disk(f), f.size) for f in files)
    if kept:
        on_event(Progress("download", f"Resuming {repo_id}: {_mb(kept)} of {_mb(total)} already here.", kept, total))
    meter = _Meter(repo_id, total, kept, on_event)
    headers = build_hf_headers(token=auth, library_name="tunedesk")
    try:
        for f in files:
            final, part = partial / f.name, partial / f"{f.name}.part"
            if final.is_file() and final.stat().st_size == f.size:
                continue
            url = hf_hub_url(repo_id, f.name, revision=commit, endpoint=endpoint)
            _fetch(url, part, f, headers, meter, should_stop, retries, retry_wait)
            if not _verify(part, f):
                meter.add(-part.stat().st_size)
                part.unlink()
                raise ModelError(f"{f.name} from {repo_id} arrived damaged (its checksum does not match).",
                                 "Run the same command again to download that file anew.")
            part.replace(final)
            if f.name == "config.json":
                _check_config(final, repo_id)
    except Cancelled:
        meter.add(0, force=True)
        on_event(Progress("download", f"Download of {repo_id} stopped; {_mb(meter.done)} kept for next time.",
                          meter.done, total))
        raise
    except (ModelError, DiskError):
        raise
    except Exception as exc:
        raise _explain(exc, repo_id, endpoint, bool(token)) from exc
    meter.add(0, force=True)

    (partial / SOURCE_FILE).write_text(json.dumps({"hub": repo_id, "revision": commit, "endpoint": endpoint,
                                                   "licence": licence}), encoding="utf-8")
    state.unlink()
    if target.exists():  # left from a model removed from the list: replace it
        shutil.rmtree(target)
    partial.rename(target)
    entry = register(describe_folder(target, name, "hub", repo_id, revision=commit))
    on_event(Progress("download", f"Installed {repo_id} as '{name}' ({_mb(entry.size_bytes)}).", total, total))
    return entry


def _check_config(config_file: Path, repo_id: str) -> None:
    """Refuse a repository that is not a causal LM as soon as its config arrives, before the weights."""
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except ValueError:
        config = {}
    problem = not_a_causal_lm(config if isinstance(config, dict) else {})
    if problem:
        raise ModelError(f"{repo_id} is {problem}, which cannot be fine-tuned here as a text generator.",
                         "Pick a text-generation model (Llama, Qwen, Mistral, Gemma, Phi, SmolLM, …).")
