"""Names every part of core/models agrees on. A leaf: it imports nothing of ours, so the GGUF
converter, the folder checks and the catalogue can all use it without importing each other."""

DEMO = "demo"
DEMO_NAME = "SmolLM2-135M-Instruct"
DEMO_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SOURCE_FILE = "tunedesk_source.json"  # where a converted or downloaded folder came from (and its licence)
