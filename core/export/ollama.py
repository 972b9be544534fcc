"""Ollama: the model's Jinja chat template translated to a Go TEMPLATE, its stop words, and the Modelfile.

The most reported fine-tuning complaint with Ollama is a model that answers garbage or never stops: the
Modelfile had no TEMPLATE (or a generic one) and no stop words, so the model saw a format it was never
trained on. We do not hard-code one template string. We render the model's own Jinja template with marker
messages and read off what it writes around each role (`read_turns`): the text before and after a system,
user and assistant message, the generation prompt, a BOS the template writes itself and a default system
prompt it adds when none is given. That covers the common families (ChatML as in SmolLM2 and Qwen, Llama 3,
Gemma, Mistral's [INST], Phi-3) without naming them. The Go template is built from those pieces
(`go_template`) and checked by rendering it with a small Go-template interpreter (core/export/gotemplate.py)
against the Jinja output for the same conversation (`check_template`). A template that cannot be read this
way (one that moves the system prompt into a later turn, say) is refused with a message: a wrong template
is worse than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.errors import ModelError
from core.export.gotemplate import go_string, render

Render = Callable[[list[dict[str, str]], bool], str]
"""(messages, add_generation_prompt) → the Jinja template's output string."""

_MARK = {"system": "Sysq7", "u1": "Userq1", "a1": "Asstq1", "u2": "Userq2"}
_HINT = ("Export as 'gguf' instead and run it with llama.cpp's own template support (llama-server --jinja), "
         "or give the run's tokenizer a chat template of a common family (ChatML, Llama 3, Gemma, Mistral, Phi-3).")

CHECK_CONVERSATION = [
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris.\nIt is on the \"Seine\"."},
    {"role": "user", "content": "And what is the capital of Spain?"},
]
"""The three-turn conversation both templates render for the check: a newline and quotes in a reply
catch escaping slips."""
CHECK_SYSTEM = "You answer in one short sentence."


@dataclass(frozen=True)
class Turns:
    """What the chat template writes around each message (read off by rendering it)."""

    user_prefix: str
    user_suffix: str
    assistant_prefix: str
    assistant_suffix: str
    generation: str
    """The generation prompt: what follows the last user turn for the model to answer."""
    system_prefix: str | None
    """None: the template has no system role (it refuses a system message, as Gemma's does)."""
    system_suffix: str | None
    default_system: str | None
    """The system prompt the template adds when the conversation has none (SmolLM2 does): the Modelfile's SYSTEM."""
    bos: str
    """The BOS text the template writes itself (`{{ bos_token }}`); llama.cpp adds that token, so TEMPLATE leaves it out."""


def _cut(text: str, marks: list[str]) -> list[str]:
    """Split a rendered conversation at its marker contents, in order; ModelError if one is missing."""
    pieces = []
    for mark in marks:
        head, found, text = text.partition(mark)
        if not found:
            raise ModelError(f"The chat template does not write each message as given (the content {mark!r} is "
                             "missing or changed), so it cannot be turned into an Ollama TEMPLATE.", _HINT)
        pieces.append(head)
    return pieces + [text]


def _strip_prefix(text: str, prefix: str, what: str) -> str:
    if not text.startswith(prefix):
        raise ModelError(f"The chat template is not made of one prefix and suffix per role ({what}), so it cannot be "
                         "turned into an Ollama TEMPLATE.", _HINT)
    return text[len(prefix):]


def _strip_suffix(text: str, suffix: str, what: str) -> str:
    if suffix and not text.endswith(suffix):
        raise ModelError(f"The chat template is not made of one prefix and suffix per role ({what}), so it cannot be "
                         "turned into an Ollama TEMPLATE.", _HINT)
    return text[:len(text) - len(suffix)]


def _common_prefix(a: str, b: str) -> int:
    """Length of the common start of a and b, never ending inside a tag: "<|assistant|>" and "<|endoftext|>"
    share "<|", which belongs to neither piece before them."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    for opener, closer in (("<", ">"), ("[", "]")):
        start = a.rfind(opener, 0, n)
        if start >= 0 and closer not in a[start:n]:
            n = start
    return n


def read_turns(render_jinja: Render, bos_token: str | None, template_source: str) -> Turns:
    """Read the per-role pieces off the Jinja template by rendering marker conversations."""
    m = _MARK
    user1, asst1, user2 = ({"role": "user", "content": m["u1"]}, {"role": "assistant", "content": m["a1"]},
                           {"role": "user", "content": m["u2"]})
    # 1. The generation prompt: what add_generation_prompt adds after a user turn (Phi-3 writes EOS without it).
    with_gen, without_gen = render_jinja([user1], True), render_jinja([user1], False)
    generation = with_gen[_common_prefix(with_gen, without_gen):]
    # 2. user → assistant → user, without a system message.
    lead, between_u1_a1, between_a1_u2, after_u2 = _cut(render_jinja([user1, asst1, user2], True),
                                                        [m["u1"], m["a1"], m["u2"]])
    user_suffix = _strip_suffix(after_u2, generation, "the generation prompt")
    assistant_prefix = _strip_prefix(between_u1_a1, user_suffix, "the end of a user turn")
    # What a render adds after the last message when no answer is asked for (Phi-3: EOS), then the assistant's end.
    end_extra = _strip_prefix(_cut(without_gen, [m["u1"]])[1], user_suffix, "the end of a user turn")
    assistant_suffix = _strip_suffix(_cut(render_jinja([user1, asst1], False), [m["u1"], m["a1"]])[2], end_extra,
                                     "the end of an assistant turn")
    user_prefix = _strip_prefix(between_a1_u2, assistant_suffix, "the start of a user turn")
    bos = bos_token if bos_token and "bos_token" in template_source and lead.startswith(bos_token) else ""
    lead = _strip_suffix(lead[len(bos):], user_prefix, "the start of a user turn")
    # 3. The same with a system message first, if the template has a system role.
    system_prefix = system_suffix = default_system = None
    try:
        with_system = render_jinja([{"role": "system", "content": m["system"]}, user1, asst1, user2], True)
    except Exception:  # Gemma-style templates raise on a system message: no system role
        with_system = None
    if with_system is not None and m["system"] in with_system:
        first, after_system, *_ = _cut(with_system, [m["system"], m["u1"], m["a1"], m["u2"]])
        system_prefix = _strip_prefix(first, bos, "the start of the conversation")
        system_suffix = _strip_suffix(after_system, user_prefix, "the end of a system turn")
        if lead:  # a conversation without a system message still starts with one: the template's default
            default_system = _strip_suffix(_strip_prefix(lead, system_prefix, "a default system prompt"), system_suffix,
                                           "a default system prompt")
    elif lead:
        raise ModelError("The chat template writes text before the first message that is not a system prompt, so it "
                         "cannot be turned into an Ollama TEMPLATE.", _HINT)
    return Turns(user_prefix, user_suffix, assistant_prefix, assistant_suffix, generation, system_prefix, system_suffix,
                 default_system, bos)


def go_template(turns: Turns) -> str:
    """The Ollama TEMPLATE (Go text/template over .Messages) that writes what the Jinja template writes.

    Every literal is a Go string inside an action, so the `{{-` markers that keep the template readable can only
    trim the template's own line breaks, never a piece's newline. A template without a system role writes a system
    message as a user turn (what Ollama's own Gemma templates do)."""
    def lit(text: str) -> str:
        return "{{ " + go_string(text) + " }}" if text else ""

    lines = ["{{- range $i, $_ := .Messages }}", "{{- $last := eq (len (slice $.Messages $i)) 1 }}"]
    if turns.system_prefix is not None:
        lines.append('{{- if eq .Role "system" }}' + lit(turns.system_prefix) + "{{ .Content }}"
                     + lit(turns.system_suffix or ""))
        user_test = '{{- else if eq .Role "user" }}'
    else:
        user_test = '{{- if or (eq .Role "user") (eq .Role "system") }}'
    lines.append(user_test + lit(turns.user_prefix) + "{{ .Content }}" + lit(turns.user_suffix)
                 + ("{{ if $last }}" + lit(turns.generation) + "{{ end }}" if turns.generation else ""))
    lines.append('{{- else if eq .Role "assistant" }}' + lit(turns.assistant_prefix) + "{{ .Content }}"
                 + ("{{ if not $last }}" + lit(turns.assistant_suffix) + "{{ end }}" if turns.assistant_suffix else ""))
    lines += ["{{- end }}", "{{- end }}"]
    return "\n".join(lines)


def stop_words(turns: Turns, special_tokens: list[str], eos_tokens: list[str]) -> list[str]:
    """PARAMETER stop lines: the special tokens that end an answer or start the next turn, and each EOS.

    A model that writes its end-of-turn token and carries on (or starts the user's next turn itself) is the
    "never stops" complaint; stopping there is what the chat in the app does too."""
    found: list[str] = []
    for piece in (turns.assistant_suffix, turns.user_prefix):
        hits = sorted((piece.find(t), t) for t in special_tokens if t and t in piece)
        found += [t for _, t in hits]
    found += [t for t in eos_tokens if t]
    return list(dict.fromkeys(found))


def ollama_messages(conversation: list[dict[str, str]], system: str | None) -> list[dict[str, str]]:
    """The messages Ollama hands the TEMPLATE: the Modelfile's SYSTEM goes first when the conversation has none."""
    if system is not None and not any(m["role"] == "system" for m in conversation):
        return [{"role": "system", "content": system}] + conversation
    return conversation


@dataclass(frozen=True)
class TemplateCheck:
    passed: bool
    conversations: int
    jinja: str
    go: str
    """The last pair compared (the first that differs, on a failure)."""


def check_template(template: str, render_jinja: Render, turns: Turns, system: str | None) -> TemplateCheck:
    """Render `template` (a Modelfile's TEMPLATE, read back from the file) for the three-turn conversation, with a
    system message where the template has that role and without one, and compare with the Jinja output."""
    cases = [CHECK_CONVERSATION]
    if turns.system_prefix is not None:
        cases.insert(0, [{"role": "system", "content": CHECK_SYSTEM}] + CHECK_CONVERSATION)
    jinja = go = ""
    for conversation in cases:
        jinja = render_jinja(conversation, True)
        if turns.bos:
            jinja = jinja[len(turns.bos):] if jinja.startswith(turns.bos) else jinja
        messages = [{"Role": m["role"], "Content": m["content"]} for m in ollama_messages(conversation, system)]
        go = render(template, {"Messages": messages})
        if jinja != go:
            return TemplateCheck(False, len(cases), jinja, go)
    return TemplateCheck(True, len(cases), jinja, go)


def _quoted(text: str) -> str:
    if '"""' in text:
        raise ModelError('The chat template contains """, which a Modelfile cannot quote.', _HINT)
    return '"""' + text + '"""'


def modelfile(gguf_name: str, template: str, stops: list[str], system: str | None) -> str:
    lines = [f"FROM ./{gguf_name}", f"TEMPLATE {_quoted(template)}"]
    lines += [f"PARAMETER stop {go_string(s)}" for s in stops]
    if system is not None:
        lines.append(f"SYSTEM {_quoted(system)}")
    return "\n".join(lines) + "\n"


def read_modelfile(path: Path) -> dict[str, Any]:
    """FROM, TEMPLATE, SYSTEM and the stop words of a Modelfile we wrote (for the check: read back from disk)."""
    import json

    text = Path(path).read_text(encoding="utf-8")
    out: dict[str, Any] = {"stop": []}
    for key in ("TEMPLATE", "SYSTEM"):
        match = re.search(rf'^{key} """(.*?)"""$', text, re.S | re.M)
        out[key.lower()] = match.group(1) if match else None
    match = re.search(r"^FROM (.+)$", text, re.M)
    out["from"] = match.group(1).strip() if match else None
    out["stop"] = [json.loads(v) for v in re.findall(r"^PARAMETER stop (\".*\")$", text, re.M)]
    return out


def ollama_name(run_id: str) -> str:
    """A model name Ollama accepts: lower case, letters, digits, - _ ."""
    return re.sub(r"[^a-z0-9._-]+", "-", f"tunedesk-{run_id}".lower()).strip("-")


def create_command(folder: Path, name: str) -> str:
    return f'ollama create {name} -f "{Path(folder) / "Modelfile"}"'
