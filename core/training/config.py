"""Training settings as one dataclass, with presets and all-at-once validation.

The config is saved as `run.json` beside the results, so a run can be
repeated or resumed from its folder alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError


CHOICES: dict[str, tuple[str, ...]] = {
    "precision": ("auto", "nf4", "bf16", "fp16", "fp32"),
    "compile": ("auto", "on", "off"),
}
"""The settings that take one of a few words: checked here, offered by the CLI and the GUI's settings."""


RETIRED = frozenset({"natural_questions"})
"""Settings that older run folders hold and that no longer do anything: read and dropped, so those runs still open."""


@dataclass
class TrainConfig:
    model: str = "demo"
    """'demo', a Hugging Face model folder, or a .gguf file."""

    preset: str = "standard"
    """The preset the values below came from (quick / standard / thorough / custom)."""

    precision: str = "auto"
    """How base weights are held: auto, nf4 (QLoRA), bf16, fp16 or fp32."""

    learning_rate: float = 2.5e-3
    """Peak learning rate for the adapter weights (LoRA tolerates higher rates than full fine-tuning)."""

    epochs: float = 5.0
    """Passes over the training examples."""

    max_steps: int = 0
    """Stop after this many optimiser steps (0 = no limit beyond the epochs)."""

    min_steps: int = 0
    """Train at least this many optimiser steps, whatever `epochs` gives (0 = no floor; `max_steps` still caps).
    A page or two of documents makes few examples, and five passes over them teach too few of their facts
    in a run that would take a minute or two: a short run can afford more passes."""

    rest_said: bool = False
    """An example the model already says word for word (each answer token its most likely next one, in the
    step that trains it) sits out its next pass over the data, then comes back to be checked: passes go to
    what is not learned yet. Replay rows, which learn a distribution, always train. One process only (the
    processes of a multi-GPU run would each rest different examples). Off by default: on the realistic dev
    set (standard preset, seeds 1234 / 7, session 27) it rested 18% of example passes and cut documents →
    adapter from 30.0 / 29.5 to 25.8 / 26.8 min per 2,000 words, but recall fell: closed-book 42.6 / 44.3% →
    44.3 / 36.1%, with passages 55.7 / 47.5% → 47.5 / 45.9%, general questions, tuned weights alone,
    50.0 / 52.1% → 43.8 / 47.9%. It still recalled 95% of its own training questions: what the extra
    passes over memorised examples buy is answers to other wordings."""

    batch_size: int = 4
    """Examples per forward pass."""

    grad_accum: int = 1
    """Forward passes per optimiser step (a larger effective batch without more memory)."""

    max_seq_len: int = 640
    """Longest example in tokens; longer ones are cut. Room for a question with two passages in its prompt."""

    lora_r: int = 16
    """LoRA rank: the size of the added weights. Higher learns more, costs more."""

    lora_alpha: int = 32
    """LoRA scaling numerator (the update is scaled by alpha / r)."""

    lora_dropout: float = 0.0
    """Dropout on the LoRA input; 0 is best for learning facts from few examples."""

    target_modules: str = "all-linear"
    """Which layers get adapters: 'all-linear' or a comma list such as 'q_proj,v_proj'."""

    warmup_ratio: float = 0.05
    """Share of steps spent ramping the learning rate up from zero."""

    weight_decay: float = 0.0
    """AdamW weight decay on the adapter weights."""

    val_fraction: float = 0.1
    """Share of examples kept aside (never trained on) to measure validation loss."""

    eval_every: int = 20
    """Steps between validation-loss measurements (0 = only at the end); a long run spreads them out to at most
    core/training/plan.py MAX_CHECKS."""

    save_every: int = 20
    """Steps between resumable checkpoints."""

    keep_checkpoints: int = 2
    """How many of the newest checkpoints to keep on disk."""

    early_stopping_patience: int = 0
    """Stop when validation loss has not improved for this many evaluations (0 = off)."""

    chunk_tokens: int = 200
    """Size of document passages in tokens."""

    overlap_tokens: int = 24
    """Tokens repeated between neighbouring passages so no fact is cut in half."""

    qa_pairs: bool = True
    """Also teach each fact as question → answer pairs, asked in the document's language from its tables,
    lists, key-value lines, steps, FAQs and prose (recall improves a lot over raw text alone)."""

    passages_in_context: bool = False
    """Also teach one wording of a quarter of the facts with two passages in the prompt, as chat with sources
    reads them. Off by default: since chat recalls first and reads only when no passage confirms what it
    recalled, these rows (two fifths of the training text's characters) no longer paid for themselves. On the
    realistic dev set, seeds 1234 / 7, turning them off took documents → adapter from 30.0 / 29.5 to 19.1 / 19.3
    min per 2,000 words with the same recall: closed-book 42.6 / 44.3% → 41.0 / 45.9%, with passages 55.7 /
    47.5% → 47.5 / 52.5%, general questions on the tuned weights alone 50.0 / 52.1% → 58.3 / 43.8%."""

    replay: bool = True
    """Mix in general questions with the model's own answers, so it keeps what it knew."""

    replay_count: int = 60
    """How many of those general questions a run mixes in (of the 120 answered once per model)."""

    replay_distribution: bool = True
    """Those questions teach the original model's whole next-word distribution (self-distillation), not only its
    answer's words, so the tuned weights alone keep more of what it knew (core/training/distil.py)."""

    anchor: float = 0.0
    """Off by default (0): how much of the documents' answers' target is the original model's own next-word
    distribution, at the words it already says (the rest of their words, the new facts, stay words): a pull
    back towards what it knew, for an export that answers everything with the tuned weights alone
    (core/training/distil.py). A trade, not a free gain: on the realistic dev set, seeds 1234 / 7, 1.0 gave
    general questions on the tuned weights alone 62.5 / 58.3% against 50.0 / 43.8% at 0, and closed-book
    recall 34.4 / 32.8% against 42.6 / 50.8%, in ~2 more minutes. Applied at every answer word instead
    (seed 1234): 0.1 gave 60.4% general, 31.1% closed-book; 0.5 64.6% and 3.3%."""

    passages: bool = True
    """Also teach whole passages, so the model can recite and summarise the documents."""

    seed: int = 1234
    """Fixes data order and initialisation so runs repeat and resume exactly."""

    compile: str = "auto"
    """Compile the model's layers for this CPU (torch.compile): ~8% faster steps than the eager CPU
    kernels after a 10–40 s compile. auto = for CPU runs of 150 steps or more when a C++ compiler is
    installed; on or off."""

    report: bool = True
    """When training finishes, check what the model learned: questions about the documents in new words and
    everyday questions, the tuned model's answers beside the original's (report.json, shown in the app)."""

    gradient_checkpointing: bool = False
    """4-bit (nf4) runs only: recompute activations during the backward pass instead of keeping them, for
    less memory at about a third more time per step. Off: small models fit and train faster without it."""

    def validate(self) -> None:
        """Raise one ConfigError listing every problem."""
        problems: list[str] = []
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                problems.append(f"{name} must be {', '.join(allowed[:-1])} or {allowed[-1]} (got {value!r})")
        if not 0 < self.learning_rate <= 1e-1:
            problems.append(f"learning_rate must be in (0, 0.1] (got {self.learning_rate})")
        if self.epochs <= 0 and self.max_steps <= 0:
            problems.append("epochs must be > 0, or max_steps set")
        if self.max_steps < 0:
            problems.append(f"max_steps must be ≥ 0 (got {self.max_steps})")
        if self.min_steps < 0:
            problems.append(f"min_steps must be ≥ 0 (got {self.min_steps})")
        if self.batch_size < 1:
            problems.append(f"batch_size must be ≥ 1 (got {self.batch_size})")
        if self.grad_accum < 1:
            problems.append(f"grad_accum must be ≥ 1 (got {self.grad_accum})")
        if not 32 <= self.max_seq_len <= 32768:
            problems.append(f"max_seq_len must be between 32 and 32768 (got {self.max_seq_len})")
        if not 1 <= self.lora_r <= 1024:
            problems.append(f"lora_r must be between 1 and 1024 (got {self.lora_r})")
        if self.lora_alpha < 1:
            problems.append(f"lora_alpha must be ≥ 1 (got {self.lora_alpha})")
        if not 0 <= self.lora_dropout < 1:
            problems.append(f"lora_dropout must be in [0, 1) (got {self.lora_dropout})")
        if not 0 <= self.warmup_ratio < 1:
            problems.append(f"warmup_ratio must be in [0, 1) (got {self.warmup_ratio})")
        if not 0 <= self.anchor <= 1:
            problems.append(f"anchor must be between 0 and 1 (got {self.anchor})")
        if self.replay_count < 0:
            problems.append(f"replay_count must be ≥ 0 (got {self.replay_count})")
        if not 0 <= self.val_fraction < 0.9:
            problems.append(f"val_fraction must be in [0, 0.9) (got {self.val_fraction})")
        if self.eval_every < 0 or self.save_every < 0:
            problems.append("eval_every and save_every must be ≥ 0")
        if self.keep_checkpoints < 1:
            problems.append(f"keep_checkpoints must be ≥ 1 (got {self.keep_checkpoints})")
        if not 16 <= self.chunk_tokens <= 8192:
            problems.append(f"chunk_tokens must be between 16 and 8192 (got {self.chunk_tokens})")
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            problems.append(f"overlap_tokens must be ≥ 0 and smaller than chunk_tokens (got {self.overlap_tokens})")
        if not self.target_modules.strip():
            problems.append("target_modules must name at least one layer, or be 'all-linear'")
        if problems:
            raise ConfigError(problems)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        # Older runs kept experimental settings in a free-form "extras" dict: those that became fields
        # are read as fields, the rest (never used by any code) are dropped like retired settings.
        extras = data.get("extras") or {}
        data = {**{k: v for k, v in extras.items() if k in known}, **data}
        data = {k: v for k, v in data.items() if k not in RETIRED and k != "extras"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError([f"unknown setting {name!r}" for name in unknown])
        return cls(**data)


PRESETS: dict[str, dict[str, Any]] = {
    # A first look: fewer passes and a smaller adapter, about half the standard time.
    "quick": dict(epochs=3.0, min_steps=150, lora_r=8, lora_alpha=16, learning_rate=2.5e-3, eval_every=20,
                  save_every=20),
    # The default, chosen on the dev half of bench/data/realistic only (the test half is scored to report):
    # with questions from every element, 3 epochs at 7e-4 answered 8% of its 61 hand-written questions
    # closed-book, 5 epochs 20%, 5 at 1.5e-3 31%, 5 at 2.5e-3 with 60 replay prompts (not 120) 36%
    # (56% with passages), in 10.7 min for ~1,440 words: 14.9 min per 2,000 words, the limit we keep.
    # At least 300 steps (~5 min here): the tidy set's ~390 words learned 71% of its questions in 390 steps
    # (session 5) and 44% in the 185 that 5 epochs make of them. Tried on dev since and not kept (seed 1234, where
    # this preset gives 42.6%): 4e-3 34.4% (general questions, tuned weights alone, 46% → 33%); 120 replay
    # prompts, embedding noise (NEFTune α 5) and replay as the base model's top-16 distribution all lower too;
    # so were (session 14) German questions with the verb moved second (34.4%) and, with them, each fact taught
    # 2-4 times instead of 1-7 (36.1%); and (session 15) prose answered value first, then its statement
    # ('13:00 — On Fridays core hours end at 13:00.'): 32.8%, the model committing to a wrong value at once;
    # prose also asked without its section before it (690 steps): 32.8%, prose 0 of 15. This preset's own
    # seed 7 gives 32.8% too: its 42.6% at seed 1234 was the best of many single-seed trials, so a lever
    # measured at that one seed is compared with a lucky draw; judge the next one on two seeds or more.
    # Session 16: the tuned model recalls 88 of 90 of its own training questions word for word, so the gap is the
    # wording people use, not capacity or length. Not kept: LoRA+ (B's rate ×4) 32.8%; 30% of a question's words
    # left out at random, table cells cut to 3 or 5 wordings, 39.3% / 37.7% (29.5% at seed 7), with no cut 36.1%.
    # Kept (sessions 17-18): each prose, list, step and FAQ fact also asked by its question phrase and its 3 rarest
    # words, never a stop word (examples.py key_wording): 39.3% at seed 1234 and 45.9% at seed 7, mean 42.6%
    # against this preset's 37.7% before; with passages 49.2% at both; general questions, tuned weights alone,
    # 41.7% and 50.0% (routed: 70.8%, the base's); 730-735 steps instead of 630.
    # Kept (session 20): replay rows learn the base model's whole distribution (replay_distribution), against the
    # same tree without it: closed-book 45.9% / 49.2% (39.3% / 49.2%), with passages 57.4% / 50.8% (47.5% /
    # 55.7%), general questions, tuned weights alone, 50.0% / 47.9% (47.9% / 43.8%), seeds 1234 / 7; 760 steps.
    # Tried (session 21, seed 1234) and not kept: the replay rows' loss weighted 4x: general, weights alone, 50.0%
    # (unchanged), closed-book 47.5%, with passages 52.5%; that run's adapter scaled by 0.7 after training: general
    # 56.2% but closed-book 27.9%. Its lost general answers keep the original's style with wrong facts ('The
    # smallest prime number is 1.', 'A dog has 8 legs.'): what the documents' training overwrote, not a tone.
    # Tried (session 27, seeds 1234 / 7) and not kept on: examples the model already says rest a pass (rest_said),
    # 12% less time, 3-8 points less recall (the setting's note has the figures).
    # Kept (session 28, seeds 1234 / 7): no rows with passages in the prompt (passages_in_context off): 36% less
    # time (705 steps, not 760, and two fifths fewer characters), recall the same on average (the setting's note).
    # Tried (session 30) and not the default: the documents' answers held to the original's distribution (anchor),
    # 8 or more points of closed-book recall for 10-12 more points of general questions on the weights alone.
    # Tried (session 31, seeds 1234 / 7) and not kept: a table cell or key-value line asked without a lead answered
    # as the original model phrases a reply ('The annual leave for G5 Director is 30 days.'), the row's form kept for
    # wordings led by the section: closed-book 42.6 / 42.6% (tables 53 / 60% against 67 / 73%), with passages
    # 47.5 / 45.9%, general questions on the weights alone 47.9 / 56.2%. In the original's own frame its priors
    # compete with the new value ('The early swim starts at 08:00.'); the row's unfamiliar form has none.
    # Measured (session 32, dev, seed 1234; the same day's default gave closed-book 47.5%, with passages 59.0%,
    # general on the weights alone 50.0%, 705 steps): whole passages off (passages=False) 34.4% closed-book (lists
    # 8%, prose 20%), with passages 44.3%, general 60.4%, 660 steps and 6% less time: reciting the documents'
    # passages is worth 8-13 points of recall (one seed: a clear loss, the second was not run). Tried (seeds
    # 1234 / 7) and not kept: the second recitation of each passage reordered (sections, and lines and sentences
    # under each heading, an FAQ line kept whole), so each fact is learned beside other neighbours: closed-book
    # 42.6 / 42.6%, with passages 52.5 / 52.5%, general on the weights alone 54.2 / 58.3%, same steps and time.
    # Tried (session 35, seeds 1234 / 7; training is bit-for-bit repeatable, so session 34's runs of this preset
    # are the baseline): every answer led by its section ('Expenses — Mileage: 45p a mile'), so that the statement
    # follows the section as it did in training questions: closed-book 39.3 / 42.6% against 44.3 / 45.9%, with
    # passages 44.3 / 49.2% against 52.5 / 52.5%, steps 0% on both seeds ('Before first loaf, 2. — …' commits to a
    # section and number first): the model picks a frequent section ('Expenses — …') and then one of its facts.
    # Kept (session 36, seeds 1234 / 7 / 42, on another host: a 2-core Intel Xeon with AMX, whose runs of the
    # unchanged method read closed-book 41.0 / 41.0 / 47.5%, with passages 50.8 / 45.9 / 60.7%, general on the
    # weights alone 47.9 / 54.2 / 54.2%): a second key wording per fact, from rare words the first did not take
    # (examples.py KEY_WORDINGS): closed-book 42.6 / 44.3 / 54.1% (higher on every seed, mean +3.8), with passages
    # 45.9 / 54.1 / 55.7% (mean -0.6), general on the weights alone 58.3 / 50.0 / 58.3% (mean +3.4); 745-750 steps
    # instead of 655-660, 10.0-10.1 min per 2,000 words against 8.7-9.3.
    # Kept (session 52, seeds 1234 / 7, against 5 epochs on the same code the same day): 4 epochs instead of 5,
    # 580-584 steps instead of 725-730, 14.8 min per 2,000 words instead of 18.7-18.9 (issue #14's limit is 15):
    # closed-book 49.2 / 45.9% against 52.5 / 44.3% (mean -0.9), with passages 67.2 / 67.2% against 68.9 / 72.1%
    # (-3.3), the tuned weights alone 50.8 / 47.5% against 54.1 / 45.9%, general questions on the weights alone
    # 54.2 / 56.2% against 54.2 / 54.2%. The runs still say 93-95% of their own training questions.
    "standard": dict(epochs=4.0, min_steps=300, lora_r=16, lora_alpha=32, learning_rate=2.5e-3, eval_every=40, save_every=20,
                     early_stopping_patience=3),
    # More passes and a larger adapter. Measured (session 35, dev, seeds 1234 / 7; its help said "learns more",
    # never measured until then): closed-book 37.7 / 45.9% against standard's 44.3 / 45.9%, with passages 52.5 /
    # 52.5% against 52.5 / 52.5%, general questions on the tuned weights alone 52.1 / 35.4%, 16.0-16.4 min per
    # 2,000 words against 9.0-9.1. Standard with 7 epochs instead of 5: closed-book 44.3 / 49.2%, with passages
    # 47.5 / 50.8%, general 52.1 / 45.8%, 13.1-13.4 min. More passes do not buy recall on these documents (the
    # runs say 97-100% of their own training questions: what they lack is people's wordings); the help says so.
    "thorough": dict(epochs=8.0, min_steps=400, lora_r=32, lora_alpha=64, learning_rate=2e-3, eval_every=50, save_every=25,
                     early_stopping_patience=3),
}

PRESET_HELP = {
    "quick": "A first look: fewer passes, smaller adapter.",
    "standard": "Balanced: learns a handful of documents in minutes.",
    "thorough": "More passes and a larger adapter: about twice as long. On our benchmark documents it did not "
                "recall more than Standard.",
}


def preset_config(name: str = "standard", **overrides: Any) -> TrainConfig:
    if name not in PRESETS:
        raise ConfigError([f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}"])
    values = {**PRESETS[name], **overrides}
    return TrainConfig(preset=name, **values)
