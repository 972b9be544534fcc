"""Chat with a base model or base + a run's adapter.

    session.py   ChatModel (decoding), ChatSession (history, routing; answers as core events), load_chat_model
    assembly.py  ChatModels (the loaded-model cache) and open_session (a run's routed session), for CLI and GUI
    routing.py   which weights answer a question; switch.py: both sets of weights in one loaded model
    batch.py     batched greedy answers (replay data, evaluation); lean.py, quantize.py: the fast CPU decoder
"""

from core.chat.assembly import ChatModels, open_session
from core.chat.session import ChatModel, ChatSession, SamplingSettings, load_chat_model

__all__ = ["ChatModel", "ChatModels", "ChatSession", "SamplingSettings", "load_chat_model", "open_session"]
