"""Streaming chat over a base model or base + LoRA adapter.

Decoding is a small explicit loop over the KV cache rather than `generate`
with a streamer thread: it yields text as each token arrives, checks the stop
request between tokens, and keeps the code path identical for CLI and GUI.
The adapter is merged into the base weights after loading, so the tuned model
decodes as fast as the base one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from core.errors import ModelError, RunError
from core.events import AnsweredBy, AnswerDone, AnswerPiece, AnswerSources, ChatEvent, Passage, never_stop
from core.store import RunDir


LOGIT_BUDGET = 25_000_000
"""Logits held at once while scoring replies (reply_likelihoods): 100 MB in fp32."""


@dataclass
class SamplingSettings:
    max_new_tokens: int = 256
    """Longest reply in tokens."""
    temperature: float = 0.0
    """0 = greedy (reproducible); higher = more varied."""
    top_p: float = 0.9
    """Nucleus sampling cut-off when temperature > 0."""
    repetition_penalty: float = 1.1
    """>1 discourages the loops small models fall into."""
    seed: int = 0


@dataclass
class ChatModel:
    model: Any
    tokenizer: Any
    label: str  # "base" or the run's name
    device: str
    eos_ids: set[int] = field(default_factory=set)
    switch: Any = None
    """core.chat.switch.AdapterSwitch when the original weights are kept beside the tuned ones."""
    lean: Any = None
    """core.chat.lean.LeanDecoder when the architecture has one (the fast path); None: transformers' forward."""

    def adapter(self, on: bool) -> Any:
        """Context in which the tuned weights (on) or the original ones answer; a no-op without a switch."""
        from contextlib import nullcontext

        return self.switch.using(on) if self.switch is not None else nullcontext()

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        return self._template_ids(messages, generation_prompt=True)

    def stream(self, messages: list[dict[str, str]], settings: SamplingSettings | None = None,
               should_stop: Callable[[], bool] = never_stop) -> Iterator[str]:
        """Yield the reply piece by piece."""
        import torch

        s = settings or SamplingSettings()
        generator = torch.Generator().manual_seed(s.seed)
        prompt = self.prompt_ids(messages)
        generated: list[int] = []
        emitted = ""
        with torch.inference_mode():
            step = self._steps(prompt, s.max_new_tokens)
            for _ in range(s.max_new_tokens):
                if should_stop():
                    return
                logits = step(generated[-1] if generated else None).float()  # (V,)
                if s.repetition_penalty != 1.0 and generated:
                    seen = torch.tensor(sorted(set(generated)), device=logits.device)
                    vals = logits[seen]
                    logits[seen] = torch.where(vals > 0, vals / s.repetition_penalty, vals * s.repetition_penalty)
                token = _pick(logits, s, generator)
                if token in self.eos_ids:
                    break
                generated.append(token)
                text = self.tokenizer.decode(generated, skip_special_tokens=True)
                if not text.endswith("\ufffd"):  # wait for the rest of a multi-byte character
                    yield text[len(emitted):]
                    emitted = text
        text = self.tokenizer.decode(generated, skip_special_tokens=True)
        if len(text) > len(emitted):
            yield text[len(emitted):]

    def _steps(self, prompt: list[int], max_new_tokens: int) -> Callable[[int | None], Any]:
        """step(previous token, or None first) → next-token logits (V,), through the lean path or transformers'."""
        import torch

        if self.lean is not None:
            cache = self.lean.new_cache(len(prompt) + max_new_tokens)
            tuned = self.switch.on if self.switch is not None else True
            return lambda token: self.lean.forward(prompt if token is None else [token], cache, tuned)
        past: list[Any] = [None]

        def step(token: int | None) -> Any:
            ids = torch.tensor([prompt if token is None else [token]], device=self.device)
            # Logits for the last position only: the prompt's others would cost a head pass per token.
            out = self.model(input_ids=ids, past_key_values=past[0], use_cache=True, logits_to_keep=1)
            past[0] = out.past_key_values
            return out.logits[0, -1]
        return step

    def reply_likelihoods(self, messages: list[dict[str, str]], replies: Sequence[str], batch: int = 8) -> list[float]:
        """Log-probability of each reply to the conversation, its end of turn included: how readily these
        weights say it (core/chat/grounding.py ranks the documents' statements by it). A sum, not a mean per
        token: once a long statement has begun, its memorised rest is nearly certain, and a mean let such
        statements outrank the short one a question asks for."""
        prompt = self.prompt_ids(messages)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        return continuation_likelihoods(self.model, prompt, [self._reply_ids(messages, prompt, r) for r in replies],
                                        pad, self.device, batch)

    def _template_ids(self, messages: list[dict[str, str]], generation_prompt: bool) -> list[int]:
        out = self.tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, tokenize=True)
        return list(out["input_ids"] if hasattr(out, "keys") else out)

    def _reply_ids(self, messages: list[dict[str, str]], prompt: list[int], reply: str) -> list[int]:
        """The reply's tokens as the chat template writes them after the prompt, up to its end of turn."""
        full = self._template_ids(messages + [{"role": "assistant", "content": reply}], generation_prompt=False)
        if full[:len(prompt)] == prompt and len(full) > len(prompt):
            rest = full[len(prompt):]
            end = next((i for i, t in enumerate(rest) if t in self.eos_ids), None)
            return rest if end is None else rest[:end + 1]
        # a template that rewrites earlier turns once a reply follows: the reply's own tokens and an end
        ids = self.tokenizer(reply, add_special_tokens=False)["input_ids"]
        return ids + sorted(self.eos_ids)[:1]

    def reply(self, messages: list[dict[str, str]], settings: SamplingSettings | None = None) -> str:
        return "".join(self.stream(messages, settings)).strip()

    def ask(self, question: str, settings: SamplingSettings | None = None) -> str:
        return self.reply([{"role": "user", "content": question}], settings)


def continuation_likelihoods(model: Any, prompt: list[int], continuations: Sequence[list[int]], pad: int,
                             device: str, batch: int = 8) -> list[float]:
    """Summed log-probability of each continuation after `prompt`, for a causal LM.

    The prompt (a whole conversation, hundreds of tokens by the twelfth turn) runs once; every batch of
    continuations reads its keys and values from a copy of that cache, so the cost of ranking candidates no
    longer grows with the conversation times the candidates. Continuations are padded on the right, where
    causal attention keeps the pads from every real token."""
    import copy

    import torch

    if not continuations:
        return []
    # the logits of a batch are rows × width × vocabulary: ~100 MB for the demo model's 49k words at 8 rows,
    # and five times that for a 262k-word vocabulary (Gemma), so fewer rows at a time there
    head_layer = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    vocabulary = int(head_layer.weight.shape[0]) if head_layer is not None else int(model.config.vocab_size)
    longest = max(len(c) for c in continuations)
    batch = max(1, min(batch, LOGIT_BUDGET // max(1, (longest + 1) * vocabulary)))
    head, last = prompt[:-1], prompt[-1:]
    out: list[float] = []
    with torch.inference_mode():
        shared = None
        if head:  # all of the prompt but its last token, whose logits predict each continuation's first
            shared = model(input_ids=torch.tensor([head], device=device), use_cache=True,
                           logits_to_keep=1).past_key_values
        for start in range(0, len(continuations), batch):
            rows = continuations[start:start + batch]
            width = max(len(c) for c in rows)
            ids = torch.full((len(rows), 1 + width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), len(head) + 1 + width), dtype=torch.long)
            for i, c in enumerate(rows):
                ids[i, :1 + len(c)] = torch.tensor(last + list(c))
                mask[i, :len(head) + 1 + len(c)] = 1
            cache = None
            if shared is not None:
                cache = copy.deepcopy(shared)
                cache.batch_repeat_interleave(len(rows))
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), past_key_values=cache,
                           use_cache=cache is not None).logits[:, :width].float()
            logp = torch.log_softmax(logits, dim=-1)
            for i, c in enumerate(rows):
                taken = logp[i, torch.arange(len(c)), torch.tensor(c, device=logp.device)]
                out.append(float(taken.sum()))
    return out


def _pick(logits: Any, s: SamplingSettings, generator: Any) -> int:
    import torch

    if s.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / s.temperature, dim=-1)
    sorted_p, order = torch.sort(probs, descending=True)
    cut = torch.cumsum(sorted_p, 0) - sorted_p > s.top_p
    sorted_p[cut] = 0
    choice = torch.multinomial(sorted_p.cpu() / sorted_p.sum().cpu(), 1, generator=generator)
    return int(order[int(choice)])


class ChatSession:
    """A conversation: history plus a model, and for a tuned run, a router.

    With a router (core/chat/routing.py), each question about the documents is answered
    by the tuned weights. When `passages` is on, its best passages are found (kept in
    `last_sources`, shown as the answer's sources), and the answer is the documents' own
    statement that those passages hold and the tuned weights, their silent draft and the search
    rank highest; where the passages hold none of the run's statements, the tuned weights answer
    with the passages in context (core/chat/grounding.py). Any other question
    is answered by the original weights, which kept their general knowledge. Without
    one, the model answers everything as loaded.

    `answer` yields the reply as core events (core/events.py), so the CLI prints them,
    the GUI's worker re-emits them and tests collect them; `send` yields only its text.
    """

    def __init__(self, model: ChatModel, system: str | None = None, router: Any = None,
                 passages: bool = True, documents_unavailable: str = "") -> None:
        self.model = model
        self.system = system
        self.router = router
        self.passages = passages
        self.documents_unavailable = documents_unavailable
        """Why a trained run answers without its router (core/chat/assembly.py), reported with each answer."""
        self.last_route: Any = None
        self.last_sources: list[Any] = []
        self.history: list[dict[str, str]] = []

    def messages(self) -> list[dict[str, str]]:
        return ([{"role": "system", "content": self.system}] if self.system else []) + self.history

    def answer(self, text: str, settings: SamplingSettings | None = None,
               should_stop: Callable[[], bool] = never_stop) -> Iterator[ChatEvent]:
        """AnsweredBy, AnswerSources, then an AnswerPiece per decoded piece, then AnswerDone (also after a stop)."""
        previous = next((m["content"] for m in reversed(self.history) if m["role"] == "user"), None)
        self.history.append({"role": "user", "content": text})
        messages = self.messages()
        self.last_sources = []
        self.last_route = self.router.route(text, previous) if self.router is not None else None
        about_documents = self.last_route is None or self.last_route.about_documents
        yield AnsweredBy(self.answered_by, self.documents_unavailable)
        parts: list[str] = []
        try:
            with self.model.adapter(about_documents):
                quoted = None
                if self.last_route is not None and about_documents and self.passages:
                    self.last_sources, quoted = self._quote_or_read(messages, text, settings, should_stop)
                    if quoted is None:  # read: only this turn carries the passages; history keeps the question
                        from core.retrieval import grounded_prompt

                        messages = messages[:-1] + [{"role": "user", "content": grounded_prompt(text, self.last_sources)}]
                yield AnswerSources(tuple(Passage(s.source, s.index, s.text, s.score) for s in self.last_sources),
                                    quoted=quoted is not None)
                pieces = iter([quoted]) if quoted is not None else self.model.stream(messages, settings, should_stop)
                for piece in pieces:
                    parts.append(piece)
                    yield AnswerPiece(piece)
        finally:  # a stopped reply is still kept, as far as it got
            self.history.append({"role": "assistant", "content": "".join(parts).strip()})
        yield AnswerDone("".join(parts).strip(), stopped=should_stop())

    def _quote_or_read(self, messages: list[dict[str, str]], question: str, settings: SamplingSettings | None,
                       should_stop: Callable[[], bool]) -> tuple[list[Any], str | None]:
        """(sources, the documents' statement that answers, else None: read the passages): core/chat/grounding.py.

        Three voices rank the statements the passages hold: the tuned weights' likelihood of each as the reply,
        the search's similarity of each to the question, and to the tuned weights' own closed-book answer (a
        silent draft). The passage that holds the chosen statement is put first among the sources."""
        from dataclasses import replace

        from core.chat.grounding import DRAFT_TOKENS, best_statement, supported

        sources = list(self.last_route.passages)
        candidates = supported(getattr(self.router, "statements", ()), [p.text for p in sources])
        if not candidates:
            return sources, None
        texts = [c for c, _ in candidates]
        s = settings or SamplingSettings()
        draft = "".join(self.model.stream(messages, replace(s, temperature=0.0, max_new_tokens=min(
            s.max_new_tokens, DRAFT_TOKENS)), should_stop)).strip()
        if should_stop():
            return sources, None
        signals = [self.model.reply_likelihoods(messages, texts), self.router.similarity(question, texts)]
        if draft:
            signals.append(self.router.similarity(draft, texts))
        statement, n = candidates[best_statement(signals)]
        return [sources[n]] + sources[:n] + sources[n + 1:], statement

    def send(self, text: str, settings: SamplingSettings | None = None,
             should_stop: Callable[[], bool] = never_stop) -> Iterator[str]:
        """The reply's text piece by piece: `answer` without the events around it."""
        for event in self.answer(text, settings, should_stop):
            if isinstance(event, AnswerPiece):
                yield event.text

    @property
    def answered_by(self) -> str:
        """Which weights wrote the last answer: "tuned", or "original" (the base model, or a question
        not about the documents)."""
        if self.last_route is not None and not self.last_route.about_documents and self.model.switch is not None:
            return "original"
        return "tuned" if self.model.label != "base" else "original"

    def reset(self) -> None:
        self.history.clear()


def chat_precision(device: str) -> str:
    """bf16 halves the bytes read per token, and decode is memory-bound."""
    from core.device import detect

    return "bf16" if detect().bf16 and device in ("cpu", "cuda") else "fp32"


def load_chat_model(run: Path | str | None = None, base: bool = False, model: str | None = None,
                    weights: str = "auto", switchable: bool = False, lean_path: bool = True) -> ChatModel:
    """Base model of `run` (or `model`), with the run's adapter unless `base`.

    weights: "auto" holds the Linear layers as int8 on a CPU (core/chat/quantize.py):
    decode is memory-bound there, and int8 weights decode the demo model ~1.5× faster
    on this repository's 2-core CPU (bench/chat_speed.py: 15.4 → 22.5 tokens/s on a
    busy machine, 17.6 → 25.8 on a quieter one), with short greedy answers the same
    and longer ones the same in substance, drifting in wording after a sentence.
    "full" keeps them as loaded (bf16 or fp32).

    switchable: keep the original weights beside the tuned ones (core/chat/switch.py), for a
    ChatSession with a router; declined, silently, when the second copy would crowd memory.
    lean_path: on a CPU, decode through core/chat/lean.py where the architecture allows (same
    answers, fewer ops per token); False keeps transformers' forward (bench/chat_speed.py compares).
    """
    from core.device import detect
    from core.models import load_model, load_tokenizer, resolve_model

    device = detect().kind
    adapter_dir: Path | None = None
    if run is not None:
        meta = RunDir(run).read_run()
        spec = meta.get("model_path") or meta["config"]["model"]
        if not base:
            adapter_dir = RunDir(run).adapter
            if not (adapter_dir / "adapter_config.json").is_file():
                raise RunError(f"The run in {run} has no trained adapter yet (status: {meta.get('status', '?')}).",
                               "Finish or resume the training first, or add --base to chat with the base model.")
        label = "base" if base else Path(run).name
    elif model is not None:
        spec, label = model, "base"
    else:
        spec, label = "demo", "base"
    folder = resolve_model(spec)  # also checks a folder (config, weights complete) before any load
    if adapter_dir is not None:
        from core.models import check_adapter_fits

        check_adapter_fits(adapter_dir, folder)  # a wrong base is named before any weight loads
    tokenizer = load_tokenizer(adapter_dir if adapter_dir else folder)
    net = load_model(folder, chat_precision(device), device)
    switch = None
    if adapter_dir is not None:
        from peft import PeftModel

        from core.chat.switch import fits_twice, install_switch, snapshot_linears

        originals = snapshot_linears(net) if switchable and fits_twice(net) else None
        try:
            net = PeftModel.from_pretrained(net, str(adapter_dir)).merge_and_unload()
        except Exception as exc:
            raise ModelError(f"The adapter in {adapter_dir} does not fit the base model {folder.name}: {exc}",
                             "Use the base model the run was trained on.") from exc
        if originals is not None:
            switch = install_switch(net, originals)
            del originals
    net.eval()
    if weights == "auto":
        from core.chat.quantize import int8_available, quantize_linears_int8

        if int8_available(device):  # after the merge: the adapter is folded into the int8 weights
            quantize_linears_int8(net)
    lean = None
    if device == "cpu" and lean_path:
        from core.chat.lean import lean_decoder

        lean = lean_decoder(net)
    eos = {tokenizer.eos_token_id}
    gen_eos = getattr(net.generation_config, "eos_token_id", None)
    if gen_eos is not None:
        eos |= set(gen_eos) if isinstance(gen_eos, list) else {gen_eos}
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(im_end, int) and im_end != tokenizer.unk_token_id:
        eos.add(im_end)
    return ChatModel(net, tokenizer, label, device, {e for e in eos if e is not None}, switch, lean)
