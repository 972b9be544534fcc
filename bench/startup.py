"""Start-up: launch to a usable window, and `tunedesk ask` to its first answer.

    python bench/startup.py [--repeat 3]

  window       `python main.py` (offscreen Qt, a fresh data folder, so the first-run
               welcome) until the event loop has shown the main window: the app prints
               a line then and quits when TUNEDESK_QUIT_WHEN_SHOWN is set (gui/app.py).
               Reference: a fresh interpreter showing an empty PySide6 window.
  first answer `python main.py ask RUN --questions Q.jsonl` on a run of the demo model
               (a one-step adapter, answers with document passages in context), until
               its first answer line. Reference: a fresh interpreter doing it the plain
               way — transformers from_pretrained of the same model, then generate
               (greedy, the same question, no passages and no adapter).
Each is the median of --repeat launches, timed from Popen to the line on stdout.
Everything runs with one BLAS thread and a temporary TUNEDESK_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE_DOCS = ROOT / "resources" / "sample_docs"
QUESTION = "Who founded Harbor Lane Bakery?"

EMPTY_WINDOW = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([sys.argv[0]])
w = QMainWindow(); w.resize(1320, 860); w.show()
QTimer.singleShot(0, lambda: (print("SHOWN", flush=True), app.quit()))
app.exec()
"""

PLAIN_ASK = r"""
import sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
folder, question = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(folder)
model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16)
ids = tok.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True, return_tensors="pt", return_dict=True)
out = model.generate(**ids, max_new_tokens=64, do_sample=False)
print("ANSWER " + tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True), flush=True)
"""


def time_to_line(argv: list[str], marker: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if marker in line:
            seconds = time.perf_counter() - started
            proc.stdout.close()
            proc.kill()  # the first answer is what we time; the rest is not needed
            proc.wait()
            return seconds, line.strip()
    proc.wait()
    raise SystemExit(f"{' '.join(argv[:4])} ended (code {proc.returncode}) without printing {marker!r}")


def median_time(argv: list[str], marker: str, env: dict[str, str], repeat: int) -> tuple[float, str]:
    runs = [time_to_line(argv, marker, env) for _ in range(repeat)]
    return statistics.median(t for t, _ in runs), runs[-1][1]


def make_run(tmp: Path) -> Path:
    """A prepared run with a one-step adapter: enough for `ask` to load base + adapter + passages."""
    from core.pipeline import prepare_run
    from core.training.config import preset_config
    from core.worker import worker_command

    run = tmp / "run"
    config = preset_config("quick", max_steps=1, save_every=0, eval_every=0, batch_size=1, max_seq_len=64,
                           replay=False)
    prepare_run([SAMPLE_DOCS], run, config)
    done = subprocess.run(worker_command(run), capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    if done.returncode != 0:
        raise SystemExit(f"training the one-step run failed:\n{done.stdout[-2000:]}")
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from core.models import resolve_model
    from core.quiet import quiet_libraries

    quiet_libraries()
    tmp = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "TUNEDESK_HOME": str(tmp / "home"), "TUNEDESK_QUIT_WHEN_SHOWN": "1"}
    load = [os.getloadavg()[0]]

    window, shown = median_time([sys.executable, "main.py"], "TUNEDESK_WINDOW_SHOWN", env, args.repeat)
    empty, _ = median_time([sys.executable, "-c", EMPTY_WINDOW], "SHOWN", env, args.repeat)

    run = make_run(tmp)
    questions = tmp / "q.jsonl"
    questions.write_text(json.dumps({"q": QUESTION}) + "\n" + json.dumps({"q": "What is the capital of France?"}) + "\n")
    ask, answer = median_time([sys.executable, "main.py", "ask", str(run), "--questions", str(questions)], '"answer"',
                              env, args.repeat)
    plain, plain_answer = median_time([sys.executable, "-c", PLAIN_ASK, str(resolve_model("demo")), QUESTION], "ANSWER",
                                      env, args.repeat)
    load.append(os.getloadavg()[0])
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nstartup: median of {args.repeat} launches, one thread, load average {min(load):.2f}–{max(load):.2f}")
    print(f"  {'':44s} {'ours':>7s} {'reference':>10s} {'ratio':>7s}")
    print(f"  {'launch → usable window (first-run welcome)':44s} {window:6.2f}s {empty:9.2f}s {window / empty:6.2f}×"
          "   (reference: empty PySide6 window)")
    print(f"  {'`ask` → first answer (tuned, with sources)':44s} {ask:6.2f}s {plain:9.2f}s {ask / plain:6.2f}×"
          "   (reference: from_pretrained + generate, base)")
    print(f"  window: {shown}")
    print(f"  our first answer: {json.loads(answer)['answer'][:100]!r}")
    print(f"  reference answer: {plain_answer[7:107]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
