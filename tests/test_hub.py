"""Hub downloads against a real HTTP server on 127.0.0.1 laid out as the Hub (tests/hub_server.py).

Two real repos are served: the demo model saved in bf16 (270 MB, loaded and
generated with after download) and a tiny random-weight Llama (13 MB of
weights, for the mechanics: a dropped connection, a cancel and its resume,
gated access, errors). The access token lives in an in-memory keyring backend
(keyring.set_keyring), the CLI subprocess runs with keyring's "fail" backend,
as on a headless machine without a Secret Service.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from hub_server import LocalHub, Repo

from core.chat import SamplingSettings
from core.errors import Cancelled, ModelError
from core.events import Progress
from core.models.catalog import find_model, list_models, remove_model
from core.models.hub import CHUNK, download_model, hub_folder
from core.models.hub_token import forget_token, save_token, stored_token

BF16_REPO = "TuneDeskTest/SmolLM2-135M-Instruct-bf16"
TINY_REPO = "TuneDeskTest/tiny-llama"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path) -> dict[str, Path]:
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    root = tmp_path_factory.mktemp("served")
    bf16 = root / "bf16"
    AutoModelForCausalLM.from_pretrained(str(demo_model_dir), dtype=torch.bfloat16).save_pretrained(str(bf16))
    tiny = root / "tiny"
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                 num_key_value_heads=2, vocab_size=49152)).save_pretrained(str(tiny))
    for folder, licence in ((bf16, "apache-2.0"), (tiny, "mit")):
        for name in TOKENIZER_FILES:
            shutil.copy(demo_model_dir / name, folder / name)
        (folder / "README.md").write_text(f"---\nlicense: {licence}\nlibrary_name: transformers\n---\n# Test copy\n")
    gguf_only = root / "gguf-only"
    gguf_only.mkdir()
    (gguf_only / "README.md").write_text("# GGUF builds\n")
    (gguf_only / "model.Q4_K_M.gguf").write_bytes(b"GGUF" + bytes(64))
    encoder = root / "encoder"
    encoder.mkdir()
    (encoder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertForMaskedLM"]}))
    shutil.copy(tiny / "model.safetensors", encoder / "model.safetensors")
    return {"bf16": bf16, "tiny": tiny, "gguf-only": gguf_only, "encoder": encoder}


@pytest.fixture(scope="module")
def served(repos: dict[str, Path]):
    with LocalHub() as hub:
        hub.repos[BF16_REPO] = Repo(repos["bf16"])
        hub.repos[TINY_REPO] = Repo(repos["tiny"], licence="mit")
        hub.repos["TuneDeskTest/gated-tiny"] = Repo(repos["tiny"], gated=True, allowed_tokens={"hf_granted"}, licence="mit")
        hub.repos["TuneDeskTest/gguf-only"] = Repo(repos["gguf-only"])
        hub.repos["TuneDeskTest/encoder"] = Repo(repos["encoder"])
        yield hub


@pytest.fixture
def hub(served: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalHub:
    """The server with a clean request log; catalogue and models folder in tmp_path; downloads allowed."""
    import huggingface_hub.constants

    served.requests.clear()
    served.drop_after.clear()
    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TUNEDESK_MODELS", str(tmp_path / "models"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # conftest sets HF_HUB_OFFLINE=1
    return served


@pytest.fixture
def memory_keyring():
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            from keyring.errors import PasswordDeleteError

            if self.store.pop((service, username), None) is None:
                raise PasswordDeleteError(username)

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_downloaded_model_is_listed_loads_and_generates(hub: LocalHub, repos: dict[str, Path], memory_keyring):
    from core.chat import load_chat_model

    events: list = []
    entry = download_model(BF16_REPO, endpoint=hub.endpoint, on_event=events.append)
    folder = hub_folder(BF16_REPO)
    assert (entry.name, entry.source, entry.path, entry.origin) == (BF16_REPO, "hub", str(folder), BF16_REPO)
    assert entry.revision == hub.repos[BF16_REPO].sha and entry.licence == "apache-2.0"
    assert entry.architecture == "LlamaForCausalLM" and entry.params == 134_515_008 and entry.has_chat_template
    assert [e.name for e in list_models()] == ["demo", BF16_REPO]
    assert _sha256(folder / "model.safetensors") == _sha256(repos["bf16"] / "model.safetensors")
    assert not any(p.name.endswith(".part") for p in folder.iterdir())

    progress = [e for e in events if isinstance(e, Progress) and e.total]
    served_bytes = sum(f.stat().st_size for f in repos["bf16"].iterdir())
    assert progress[-1].done == progress[-1].total == served_bytes  # byte progress, complete
    dones = [e.done for e in progress]
    assert dones == sorted(dones) and len(dones) >= 3
    ticks = [e for e in progress if e.tick]
    assert len(ticks) >= 2 and not progress[-1].tick  # the running count is a bar's; "Installed …" a line of its own

    question = "What is the capital of France?"
    settings = SamplingSettings(max_new_tokens=12)
    downloaded = load_chat_model(model=BF16_REPO).ask(question, settings)
    assert "Paris" in downloaded
    assert downloaded == load_chat_model(model=str(repos["bf16"])).ask(question, settings)  # the same weights

    hub.requests.clear()  # installed: asking again downloads nothing
    assert download_model(BF16_REPO, endpoint=hub.endpoint).path == entry.path
    assert hub.requests == []
    remove_model(BF16_REPO)
    assert not folder.exists()


def test_a_dropped_connection_resumes_mid_file(hub: LocalHub, repos: dict[str, Path], memory_keyring):
    size = (repos["tiny"] / "model.safetensors").stat().st_size
    hub.drop_after[(TINY_REPO, "model.safetensors")] = 5_000_000  # the server hangs up mid-file, once
    events: list = []
    entry = download_model(TINY_REPO, endpoint=hub.endpoint, on_event=events.append, retry_wait=0.05)
    gets = hub.gets("model.safetensors")
    assert len(gets) == 2 and gets[0]["range"] is None
    start = int(gets[1]["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= 5_000_000 and start % CHUNK == 0  # continued from what was on disk, not from zero
    assert any("Connection lost" in e.message and "resuming" in e.message for e in events if isinstance(e, Progress))
    weights = Path(entry.path) / "model.safetensors"
    assert weights.stat().st_size == size
    assert _sha256(weights) == _sha256(repos["tiny"] / "model.safetensors")
    assert entry.licence == "mit"


def test_a_cancelled_download_keeps_its_bytes_and_resumes_next_time(hub: LocalHub, repos: dict[str, Path],
                                                                   memory_keyring):
    partial = hub_folder(TINY_REPO).with_name(f".{hub_folder(TINY_REPO).name}.partial")
    part = partial / "model.safetensors.part"
    size = (repos["tiny"] / "model.safetensors").stat().st_size

    def stop() -> bool:  # the user presses Stop once 3 MiB of the weights have arrived
        return part.is_file() and part.stat().st_size >= 3 * CHUNK

    events: list = []
    with pytest.raises(Cancelled):
        download_model(TINY_REPO, endpoint=hub.endpoint, on_event=events.append, should_stop=stop)
    kept = part.stat().st_size
    assert 3 * CHUNK <= kept < size
    assert (partial / "config.json").is_file() and (partial / "tokenizer.json").is_file()  # finished files kept
    assert find_model(TINY_REPO) is None and not hub_folder(TINY_REPO).exists()
    assert "kept for next time" in events[-1].message

    first_session = len(hub.requests)
    events.clear()
    entry = download_model(TINY_REPO, endpoint=hub.endpoint, on_event=events.append)
    second = hub.requests[first_session:]
    weights_gets = [r for r in second if r["path"].endswith("/model.safetensors")]
    assert [r["range"] for r in weights_gets] == [f"bytes={kept}-"]
    assert not any(r["path"].endswith("/config.json") for r in second)  # complete files are not fetched again
    assert any(isinstance(e, Progress) and e.message.startswith("Resuming") for e in events)
    assert _sha256(Path(entry.path) / "model.safetensors") == _sha256(repos["tiny"] / "model.safetensors")
    assert not partial.exists() and find_model(TINY_REPO) is not None


def test_a_gated_model_needs_a_granted_token_from_the_keyring(hub: LocalHub, memory_keyring):
    repo = "TuneDeskTest/gated-tiny"
    with pytest.raises(ModelError) as err:
        download_model(repo, endpoint=hub.endpoint)
    assert "gated" in err.value.message and "tunedesk models login" in err.value.hint
    assert not hub.gets("model.safetensors")  # refused before any file

    save_token("hf_not_yet_granted", endpoint=hub.endpoint)
    assert stored_token(hub.endpoint) == "hf_not_yet_granted"
    assert memory_keyring.store  # in the keyring, not in a file of ours
    with pytest.raises(ModelError) as err:
        download_model(repo, endpoint=hub.endpoint)
    assert "not been granted" in err.value.message and "accept the conditions" in err.value.hint
    assert hub.requests[-1]["token"] == "hf_not_yet_granted"  # the keyring's token was sent

    save_token("hf_granted", endpoint=hub.endpoint)
    entry = download_model(repo, endpoint=hub.endpoint, name="gated")
    assert entry.name == "gated" and (Path(entry.path) / "model.safetensors").is_file()
    assert {r["token"] for r in hub.requests if "/resolve/" in r["path"]} >= {"hf_granted"}
    assert forget_token(hub.endpoint) and stored_token(hub.endpoint) is None


def test_missing_and_unusable_repositories_are_explained(hub: LocalHub, memory_keyring,
                                                        monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ModelError) as err:
        download_model("nobody/no-such-model", endpoint=hub.endpoint)
    assert "There is no model 'nobody/no-such-model'" in err.value.message and "owner/name" in err.value.hint

    with pytest.raises(ModelError, match="not a Hub model name"):
        download_model("my model!", endpoint=hub.endpoint)

    with pytest.raises(ModelError) as err:
        download_model("TuneDeskTest/gguf-only", endpoint=hub.endpoint)
    assert "GGUF files only" in err.value.message and "tunedesk models add" in err.value.hint

    with pytest.raises(ModelError) as err:
        download_model("TuneDeskTest/encoder", endpoint=hub.endpoint)
    assert "BertForMaskedLM" in err.value.message
    assert hub.gets("config.json") and not hub.gets("model.safetensors")  # refused before the weights
    assert [e.name for e in list_models()] == ["demo"]

    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelError) as err:
        download_model(TINY_REPO, endpoint=hub.endpoint)
    assert "switched off" in err.value.message and "HF_HUB_OFFLINE" in err.value.hint


def test_cli_downloads_lists_and_removes(hub: LocalHub, tmp_path: Path):
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HUB_OFFLINE": "0",
           "TUNEDESK_HOME": str(tmp_path / "home"), "TUNEDESK_MODELS": str(tmp_path / "models"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}  # a headless machine without a keyring

    def tunedesk(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], env=env, capture_output=True,
                              text=True, timeout=300)

    done = tunedesk("models", "download", TINY_REPO, "--name", "tiny")
    assert done.returncode == 0, done.stderr
    assert "Installed 'tiny'" in done.stdout and "licence mit" in done.stdout
    assert f"· Installed {TINY_REPO} as 'tiny'" in done.stderr  # a statement, not swallowed by the byte bar
    listed = tunedesk("models", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["tiny"]["source"] == "hub" and rows["tiny"]["origin"] == TINY_REPO
    assert rows["tiny"]["fit"] == "trains here"
    missing = tunedesk("models", "download", "nobody/nothing")
    assert missing.returncode == 2 and "There is no model" in missing.stderr and "What to do:" in missing.stderr
    removed = tunedesk("models", "remove", "tiny")
    assert removed.returncode == 0 and not (tmp_path / "models" / "hub" / "TuneDeskTest--tiny-llama").exists()
