"""Build the one-folder app with PyInstaller, then run it the way a user's machine would.

    python packaging/build.py [--skip-build]

Writes dist/TuneDesk/ (TuneDesk.exe on Windows, TuneDesk.app as well on macOS).
The smoke test runs the built program, not the source: `doctor` (torch and the
device probe load), `models list` (the bundled demo model is found), a 2-step
training run on the sample documents in a fresh data folder (GGUF conversion,
question writing, replay, training, the adapter saved; ~5 min here) and a
routed answer from it, and the window itself, off-screen, still up after 20 s. Each check prints what it ran;
the first failure stops with its output.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str], env: dict[str, str], timeout: int = 600) -> str:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    print(f"$ {' '.join(argv[1:]) or argv[0]}  ({time.perf_counter() - started:.1f} s, exit {done.returncode})")
    if done.returncode != 0:
        raise SystemExit(f"failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-build", action="store_true", help="only smoke-test an existing dist/TuneDesk")
    args = parser.parse_args()
    if not args.skip_build:
        subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(ROOT / "dist"),
                        "--workpath", str(ROOT / "build"), str(ROOT / "packaging" / "tunedesk.spec")], check=True)
    exe = ROOT / "dist" / "TuneDesk" / ("TuneDesk.exe" if sys.platform == "win32" else "TuneDesk")
    size = sum(f.stat().st_size for f in exe.parent.rglob("*") if f.is_file()) / 1e9
    print(f"built {exe} ({size:.2f} GB on disk)")
    env = dict(os.environ, TUNEDESK_HOME=tempfile.mkdtemp(prefix="tunedesk-smoke-"))
    print(run([str(exe), "doctor"], env).strip().splitlines()[0])
    listing = run([str(exe), "models", "list"], env)
    if "demo" not in listing:
        raise SystemExit(f"the bundled demo model is not listed:\n{listing}")
    # The whole loop, frozen: documents → dataset (the model writes questions and replay) → 2 steps →
    # adapter saved → a routed answer. Peft's model-card template was missing from the first build.
    run_dir = Path(env["TUNEDESK_HOME"]) / "smoke-run"
    run([str(exe), "train", str(ROOT / "resources" / "sample_docs"), "--out", str(run_dir), "--preset", "quick",
         "--max-steps", "2", "--no-eval"], env, timeout=1800)
    questions = Path(env["TUNEDESK_HOME"]) / "questions.jsonl"
    questions.write_text('{"q": "What is the capital of France?"}\n', encoding="utf-8")
    answer = run([str(exe), "ask", str(run_dir), "--questions", str(questions)], env)
    print(answer.strip()[:300])
    if "paris" not in answer.lower():
        raise SystemExit("the bundled model did not answer a general question through the routed chat")
    # The window: started off-screen, it must still be running after a while, with no traceback.
    app = subprocess.Popen([str(exe)], env=dict(env, QT_QPA_PLATFORM="offscreen"), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        code = app.wait(timeout=20)
    except subprocess.TimeoutExpired:
        code = None
        app.kill()
    output = app.communicate()[0]
    print(f"$ TuneDesk (window, off-screen, 20 s): {'still running' if code is None else f'exited {code}'}")
    if code is not None or "Traceback" in output:
        raise SystemExit(f"the app did not stay up:\n{output[-3000:]}")
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
