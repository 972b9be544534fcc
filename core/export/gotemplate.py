"""A small Go text/template interpreter: the subset an Ollama TEMPLATE uses, to check ours before Ollama does.

Why our own: the check that a Modelfile's TEMPLATE renders a conversation exactly as the model's Jinja
template does must run where Ollama is not installed (tests, CI, a user's first export). Rendering the
template *text* we wrote, rather than re-assembling the pieces it was built from, is what makes the check
able to fail: a quoting slip, a trim marker eating a newline or a wrong branch all show up as a different
string. Supported: text, `{{ }}` actions with `{{-` / `-}}` trimming, string and integer literals,
`.Field`, `$`, `$var`, `$.Field`, `$x := …`, `range $i, $v := …`, `if / else if / else / end`, and the
functions eq, ne, not, and, or, len, slice, index — Go's semantics for each, as Ollama runs them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


class TemplateSyntaxError(ValueError):
    pass


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|(:=)|(,)|(-?\d+)|(\$[A-Za-z_0-9]*(?:\.[A-Za-z_]\w*)*)'
                    r'|(\.[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|\.)|([A-Za-z_]\w*))')


@dataclass
class _Node:
    kind: str  # "text" | "expr" | "assign" | "if" | "range"
    value: Any = None
    branches: list[tuple[Any, list[_Node]]] = field(default_factory=list)  # if: (condition or None for else, body)
    names: list[str] = field(default_factory=list)  # assign / range variable names


def _lex(source: str) -> list[tuple[str, str]]:
    """[("text", s) | ("action", s)], with trim markers applied to the neighbouring text."""
    parts: list[tuple[str, str]] = []
    pos = 0
    trim_next = False
    for match in _ACTION.finditer(source):
        text = source[pos:match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        if text:
            parts.append(("text", text))
        parts.append(("action", match.group(2).strip()))
        trim_next = bool(match.group(3))
        pos = match.end()
    tail = source[pos:]
    if trim_next:
        tail = tail.lstrip()
    if "{{" in tail:
        raise TemplateSyntaxError("an action is not closed with }}")
    if tail:
        parts.append(("text", tail))
    return parts


def _tokens(expr: str) -> list[str]:
    out, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        match = _TOKEN.match(expr, pos)
        if not match or match.end() == pos:
            raise TemplateSyntaxError(f"cannot read {expr[pos:]!r}")
        out.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    return out


def _parse_command(tokens: list[str], pos: int = 0, until: str | None = None) -> tuple[list[Any], int]:
    """A command: terms in a row, where a parenthesised group is a nested command."""
    terms: list[Any] = []
    while pos < len(tokens) and tokens[pos] != until:
        token = tokens[pos]
        if token == "(":
            inner, pos = _parse_command(tokens, pos + 1, ")")
            if pos >= len(tokens):
                raise TemplateSyntaxError("unclosed (")
            terms.append(inner)
        elif token == ")":
            raise TemplateSyntaxError("unexpected )")
        else:
            terms.append(token)
        pos += 1
    return terms, pos


def _parse(parts: list[tuple[str, str]], pos: int = 0, stop: tuple[str, ...] = ()) -> tuple[list[_Node], int]:
    nodes: list[_Node] = []
    while pos < len(parts):
        kind, text = parts[pos]
        if kind == "text":
            nodes.append(_Node("text", text))
            pos += 1
            continue
        word = text.split(None, 1)[0] if text else ""
        if word in stop:
            return nodes, pos
        if word == "if":
            node = _Node("if")
            condition = _parse_command(_tokens(text[2:]))[0]
            while True:
                body, pos = _parse(parts, pos + 1, ("else", "end"))
                node.branches.append((condition, body))
                if pos >= len(parts):
                    raise TemplateSyntaxError("if without end")
                closing = parts[pos][1]
                if closing == "end":
                    break
                rest = closing[4:].strip()
                condition = _parse_command(_tokens(rest[2:]))[0] if rest.startswith("if") else None
            nodes.append(node)
            pos += 1
        elif word == "range":
            toks = _tokens(text[5:])
            names: list[str] = []
            if ":=" in toks:
                split = toks.index(":=")
                names = [t for t in toks[:split] if t != ","]
                toks = toks[split + 1:]
            body, pos = _parse(parts, pos + 1, ("end",))
            if pos >= len(parts):
                raise TemplateSyntaxError("range without end")
            nodes.append(_Node("range", _parse_command(toks)[0], [(None, body)], names))
            pos += 1
        elif word in ("else", "end"):
            raise TemplateSyntaxError(f"unexpected {{{{ {word} }}}}")
        else:
            toks = _tokens(text)
            if len(toks) > 2 and toks[1] == ":=":
                nodes.append(_Node("assign", _parse_command(toks[2:])[0], names=[toks[0]]))
            else:
                nodes.append(_Node("expr", _parse_command(toks)[0]))
            pos += 1
    if stop:
        return nodes, pos
    return nodes, pos


def _truth(value: Any) -> bool:
    return value not in (None, False, 0, "") and not (hasattr(value, "__len__") and len(value) == 0)


def _field(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        if name not in value:
            return None
        return value[name]
    return getattr(value, name, None)


class _Scope:
    def __init__(self, root: Any) -> None:
        self.root, self.dot = root, root
        self.vars: dict[str, Any] = {"$": root}


def _term(term: Any, scope: _Scope) -> Any:
    if isinstance(term, list):
        return _call(term, scope)
    if term.startswith('"'):
        return json.loads(term)
    if re.fullmatch(r"-?\d+", term):
        return int(term)
    if term == ".":
        return scope.dot
    if term.startswith("."):
        value = scope.dot
        for name in term[1:].split("."):
            value = _field(value, name)
        return value
    if term.startswith("$"):
        head, *names = term.split(".")
        if head not in scope.vars:
            raise TemplateSyntaxError(f"undefined variable {head}")
        value = scope.vars[head]
        for name in names:
            value = _field(value, name)
        return value
    raise TemplateSyntaxError(f"{term} is not a value")


def _call(command: list[Any], scope: _Scope) -> Any:
    if not command:
        raise TemplateSyntaxError("empty command")
    head = command[0]
    if isinstance(head, str) and re.fullmatch(r"[A-Za-z_]\w*", head):
        args = command[1:]
        if head == "and":  # Go: the first false argument, else the last; evaluated lazily
            value = None
            for arg in args:
                value = _term(arg, scope)
                if not _truth(value):
                    return value
            return value
        if head == "or":
            value = None
            for arg in args:
                value = _term(arg, scope)
                if _truth(value):
                    return value
            return value
        values = [_term(a, scope) for a in args]
        if head == "eq":
            return any(values[0] == v for v in values[1:])
        if head == "ne":
            return values[0] != values[1]
        if head == "not":
            return not _truth(values[0])
        if head == "len":
            return len(values[0])
        if head == "slice":
            return values[0][values[1]:values[2]] if len(values) > 2 else values[0][values[1]:]
        if head == "index":
            return values[0][values[1]]
        raise TemplateSyntaxError(f"function {head} is not supported here")
    if len(command) != 1:
        raise TemplateSyntaxError(f"{command[0]} cannot take arguments")
    return _term(head, scope)


def _run(nodes: list[_Node], scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.value)
        elif node.kind == "expr":
            value = _call(node.value, scope)
            out.append("" if value is None else str(value))
        elif node.kind == "assign":
            scope.vars[node.names[0]] = _call(node.value, scope)
        elif node.kind == "if":
            for condition, body in node.branches:
                if condition is None or _truth(_call(condition, scope)):
                    _run(body, scope, out)
                    break
        elif node.kind == "range":
            items = _call(node.value, scope) or []
            saved_dot, saved_vars = scope.dot, dict(scope.vars)
            for i, item in enumerate(items):
                scope.dot = item
                if len(node.names) == 2:
                    scope.vars[node.names[0]], scope.vars[node.names[1]] = i, item
                elif len(node.names) == 1:
                    scope.vars[node.names[0]] = item
                _run(node.branches[0][1], scope, out)
            scope.dot, scope.vars = saved_dot, saved_vars


def render(template: str, data: dict[str, Any]) -> str:
    """Render `template` (Go text/template syntax, the subset above) with `data` as dot."""
    nodes, _ = _parse(_lex(template))
    out: list[str] = []
    _run(nodes, _Scope(data), out)
    return "".join(out)


def go_string(text: str) -> str:
    """A Go interpreted string literal for `text` (JSON's escapes are Go's: \\n, \\", \\\\, \\uXXXX)."""
    return json.dumps(text, ensure_ascii=False)
