"""The labelled-rows task: rows of text with labels → a model that labels new text.

Each module imports only those above it:
    config.py     ClassifyConfig, the run's settings
    table.py      a CSV / TSV / JSONL file → a table of strings (encoding, delimiter, header sniffed)
    labelled.py   two columns → clean examples, the import report, the stratified split
    metrics.py    accuracy, macro-F1, per-label precision/recall, confusion matrix, worst rows
    model.py      the encoder (or decoder) with a classification head and LoRA
    prepare.py    a file → a run folder (run.json with task "classify", dataset/, data.json)
    train.py      the resumable training loop
    predict.py    a text, a file → labels; a labelled file → metrics
    export.py     a merged transformers folder that pipeline("text-classification") loads, checked
"""
