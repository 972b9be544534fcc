"""Model page: the demo model's facts, fit verdict and what it supports here; a Hub download (from a real local Hub server) becomes the project's model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gui_support import banner_texts, home, make_window, window  # noqa: F401 - fixtures
from hub_server import LocalHub, Repo

from core import projects

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json")
REPO = "TuneDeskTest/tiny-llama"


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path) -> Path:
    """A real (random, 2-layer) Llama with the demo model's tokenizer: a few MB to serve."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("served") / "tiny"
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                 num_key_value_heads=2, vocab_size=49152)).save_pretrained(str(folder))
    for name in TOKENIZER_FILES:
        shutil.copy(demo_model_dir / name, folder / name)
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# Tiny test model\n")
    return folder


def test_demo_model_facts_and_fit(window, qtbot):
    window.ctx.open_project(projects.create_project("Facts"))
    window.show_page("model")
    page = window.model_page
    qtbot.waitUntil(lambda: page.report is not None and page._task is None, timeout=180_000)
    assert page.fields["name"].text() == "SmolLM2-135M-Instruct"
    assert page.fields["architecture"].text() == "LlamaForCausalLM"
    assert page.fields["params"].text().startswith("135M")
    assert page.fields["size"].text().endswith("MB")
    assert page.fields["fits"].text().startswith("Yes — Trains here")  # core.training.estimate's verdict

    # At the smallest window the page scrolls rather than squeezing its rows until they clip and overlap.
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MINIMUM_SIZE

    window.resize(MINIMUM_SIZE)
    qtbot.waitUntil(lambda: window.size() == MINIMUM_SIZE)
    QApplication.processEvents()

    def squeezed() -> list[str]:
        out = []
        for name, label in page.fields.items():
            if label.isVisible():
                need = label.heightForWidth(label.width())  # a wrapped label: the height its lines take at its width
                need = need if need > 0 else label.minimumSizeHint().height()
                if label.height() < need:
                    out.append(f"{name} squeezed to {label.height()} px, needs {need}")
        return out

    # A label that wraps to a second line at the new width asks for a new layout pass, which Qt posts: under
    # load (CI) one processEvents can run before it. Settled is what a person sees; a second is plenty.
    def settled() -> None:
        assert not squeezed(), squeezed()

    qtbot.waitUntil(settled, timeout=2_000)  # on timeout pytest-qt raises the last AssertionError, names included
    edit = page.folder_edit
    assert edit.height() >= edit.minimumSizeHint().height(), "the folder field is squeezed"


def test_model_page_says_what_the_model_supports_here(window, qtbot):
    """The same answers as `tunedesk models list` (core/support.py): yes/no in the label, every reason in its
    tooltip. On this device the demo model trains and chats through the lean decoder; 4-bit is the device's call."""
    from core.device import detect

    device = detect()
    window.ctx.open_project(projects.create_project("Supports"))
    window.show_page("model")
    page = window.model_page
    qtbot.waitUntil(lambda: page.report is not None and page._task is None, timeout=180_000)
    label = page.fields["supports"]
    four_bit = "yes" if device.nf4 else "no"
    chat = "yes" if device.kind == "cpu" else "n/a"
    assert label.isVisible()
    assert label.text().splitlines()[0] == f"Train: yes · 4-bit: {four_bit} · fast chat: {chat}"
    tooltip = label.toolTip().splitlines()
    assert tooltip[0].startswith("Train here: Trains here")
    assert any(line.startswith("4-bit (QLoRA): ") for line in tooltip)
    if device.kind == "cpu":
        assert "Fast chat: the lean int8 decoder answers for it" in tooltip
        assert "CPU training kernels: all of TuneDesk's CPU training kernels apply" in label.toolTip()


def test_hub_download_becomes_the_projects_model(window, qtbot, tiny_repo, tmp_path, monkeypatch, demo_model_dir):
    monkeypatch.setenv("TUNEDESK_MODELS", str(tmp_path / "models"))  # downloads land here, not in the shared cache
    project = projects.create_project("Hub", model=str(demo_model_dir))  # a folder: nothing to convert first
    window.ctx.open_project(project)
    window.show_page("model")
    page = window.model_page
    qtbot.waitUntil(lambda: page._task is None, timeout=180_000)
    with LocalHub() as hub:
        hub.repos[REPO] = Repo(tiny_repo, licence="mit")
        page.hub_endpoint = hub.endpoint
        page.hub_edit.setText("TuneDeskTest/no-such-model")
        page.download_button.click()
        qtbot.waitUntil(lambda: page._download_task is None, timeout=60_000)
        qtbot.waitUntil(lambda: "TuneDeskTest/no-such-model" in banner_texts(window), timeout=10_000)

        page.hub_edit.setText(REPO)
        page.download_button.click()
        assert page.cancel_download_button.isVisible() and not page.download_button.isEnabled()
        qtbot.waitUntil(lambda: projects.open_project("Hub").model == REPO, timeout=180_000)
    qtbot.waitUntil(lambda: page._task is None and page.report is not None and page.report.spec == REPO,
                    timeout=60_000)
    assert page.fields["architecture"].text() == "LlamaForCausalLM"
    assert int(page.fields["params"].text().split("(")[1].rstrip(")").replace(",", "")) < 10_000_000
    assert f"Downloaded {REPO}" in page.download_label.text()
    qtbot.waitUntil(lambda: any("now uses" in n.message for n in window.ctx.notifier.history))  # queued to the GUI
