"""Verified exports of a tuned model: the adapter, a merged model, a GGUF, an Ollama Modelfile.

Each module holds one step, and imports only those above it in this list:
    gotemplate.py  a small Go text/template interpreter, to check a TEMPLATE before Ollama runs it
    ollama.py      Jinja chat template → Go TEMPLATE, stop words, the Modelfile
    merge.py       base + LoRA → merged tensors, streamed one at a time; the streaming safetensors writer
    gguf_file.py   merged tensors → GGUF (llama family), with tokenizer, special tokens and chat template
    base.py        the base model to export with: the run's own, checked by fingerprint and shapes
    verify.py      every export loaded back and compared with the in-app tuned model
    runner.py      export_run: check, write, verify, record in runs/<id>/exports/
"""

from core.export.runner import FORMATS, ExportResult, export_run

__all__ = ["FORMATS", "ExportResult", "export_run"]
