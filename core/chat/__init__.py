"""Chat with a base model or base + a run's adapter."""

from core.chat.session import ChatModel, ChatSession, SamplingSettings, load_chat_model

__all__ = ["ChatModel", "ChatSession", "SamplingSettings", "load_chat_model"]
