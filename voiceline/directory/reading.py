"""Read directory YAML into mappings and lists that remember the line of every key and item.

Stricter than ``yaml.safe_load``, because a directory is plain data:

- aliases (``*name``) are refused, so a small file cannot expand into a huge one;
- keys must be plain text (no lists or mappings as keys), and a key may appear once;
- only the standard scalar tags are read, and nesting stops at ``MAX_DEPTH``;
- control characters and undecodable bytes are refused with their line.

The document is built from the parser's events (libyaml's when installed, which reads a
10 MB file in about a second), so each problem keeps the line it was found on.
"""

from __future__ import annotations

import gc
import re
import reprlib
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.resolver import Resolver

from voiceline.errors import InvalidInput

# A directory entry nests seven levels deep (policies > steps > targets); this is room to spare.
MAX_DEPTH = 16

_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "timestamp")
)
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
_COLLECTION_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
# What YAML itself refuses (yaml.reader.Reader.NON_PRINTABLE), found here to name the line.
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a directory document, at a line (0 when unknown)."""

    line: int
    message: str

    def at(self, filename: str) -> str:
        """Return the problem as ``filename:line: message``."""
        return f"{filename}:{self.line}: {self.message}"


def by_line(problem: Problem) -> int:
    """Return the line to sort ``problem`` by, so a file's errors read top to bottom."""
    return problem.line


class YamlError(InvalidInput):
    """A document that cannot be read as directory YAML; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in problems))
        self.problems = problems


class Node(dict[str, Any]):
    """A YAML mapping that remembers the line it started on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str | None) -> int:
        """Return the line of ``key`` in this mapping, or of the mapping itself."""
        if key is not None and hasattr(self, "key_lines"):
            return self.key_lines.get(key, self.line)
        return self.line


class Seq(list[Any]):
    """A YAML sequence that remembers the line it started on and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_at(self, index: int) -> int:
        """Return the line of item ``index``, or of the sequence itself."""
        lines = getattr(self, "item_lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


def decode_utf8(raw: bytes) -> str:
    """Return ``raw`` decoded as UTF-8 (a leading BOM dropped); raise YamlError naming the line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - line_start + 1
        message = (
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {column}); "
            "save the file as UTF-8"
        )
        raise YamlError([Problem(line, message)]) from None


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


def _scalar(event: ScalarEvent) -> Any:
    """Return the value of a scalar as safe_load would; raise ValueError if it has none."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    if tag not in _SCALAR_TAGS:
        raise ValueError("write it in quotes" if event.tag is None else f"unsupported tag {tag!r}")
    if tag in _NUMBER_TAGS and len(event.value) > 64:
        raise ValueError("too many digits for a number")
    node = yaml.ScalarNode(tag, event.value)
    return SafeConstructor.yaml_constructors[tag](_CONSTRUCTOR, node)


def _container(event: yaml.Event, problems: list[Problem]) -> Node | Seq:
    """Return an empty Node or Seq for a collection that starts at ``event``."""
    tag = getattr(event, "tag", None)
    if tag not in _COLLECTION_TAGS:
        problems.append(Problem(_line(event), f"unsupported tag {tag!r}"))
    container: Node | Seq
    if type(event) is MappingStartEvent:
        container = Node()
        container.key_lines = {}
    else:
        container = Seq()
        container.item_lines = []
    container.line = _line(event)
    return container


def _build(next_event: Any, problems: list[Problem]) -> Any:
    """Return the document the parser's events describe, adding each problem to ``problems``."""
    # One loop with its state in locals: it runs for every key and value of a 10 MB
    # file. ``container`` is the collection being filled; in a mapping, ``key`` is the
    # key awaiting its value (None: a key comes next) and ``discard`` says the value is
    # dropped (after a duplicate or complex key). ``stack`` holds the enclosing states.
    # Plain scalars whose first character no implicit resolver claims are text.
    claimed = _RESOLVER.yaml_implicit_resolvers
    stack: list[tuple[Any, bool, str | None, bool]] = []
    container: Any = None
    is_map, key, discard = False, None, False
    root: Any = None
    documents = 0
    while True:
        event = next_event()
        kind = type(event)
        value: Any
        if kind is ScalarEvent:
            if is_map and key is None:
                key = event.value
                if key in container:
                    problems.append(Problem(_line(event), f"duplicate key {key!r}"))
                    discard = True
                else:
                    container.key_lines[key] = event.start_mark.line + 1
                    discard = False
                continue
            value = event.value
            if event.tag is not None or (event.implicit[0] and (not value or value[0] in claimed)):
                try:
                    value = _scalar(event)
                except (ValueError, yaml.YAMLError) as exc:
                    shown = reprlib.repr(value)
                    problems.append(Problem(_line(event), f"cannot read {shown}: {exc}"))
                    value = None
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if len(stack) >= MAX_DEPTH:
                problems.append(Problem(_line(event), f"nested more than {MAX_DEPTH} levels deep"))
                return None
            value = _container(event, problems)
            if is_map and key is None:
                what = "mapping" if kind is MappingStartEvent else "list"
                problems.append(Problem(_line(event), f"a key must be plain text, not a {what}"))
                # Read this key and then its value, and keep neither.
                stack.append((container, is_map, "", True))
                container, is_map, key, discard = value, kind is MappingStartEvent, None, False
                continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            container, is_map, key, discard = stack.pop()
            continue
        elif kind is AliasEvent:
            message = f"aliases (*{event.anchor}) are not allowed; write the value out"
            problems.append(Problem(_line(event), message))
            if is_map and key is None:
                key, discard = "", True
                continue
            value = None
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1:
                message = "a directory file holds one document (no second '---')"
                problems.append(Problem(_line(event), message))
                return None
            continue
        elif kind is StreamEndEvent:
            return root
        else:
            continue
        # Put the value where it belongs.
        if container is None:
            root = value
        elif is_map:
            if not discard:
                container[key] = value
            key = None
        else:
            container.append(value)
            container.item_lines.append(event.start_mark.line + 1)
        if kind is MappingStartEvent or kind is SequenceStartEvent:
            stack.append((container, is_map, key, discard))
            container, is_map, key, discard = value, kind is MappingStartEvent, None, False


def read_yaml(text: str) -> Any:
    """Return the one document in ``text`` as Node, Seq and scalars; raise YamlError if bad."""
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        message = f"control character U+{ord(bad.group()):04X} is not allowed in YAML"
        raise YamlError([Problem(line, message)])
    problems: list[Problem] = []
    loader = _LOADER(text)
    # The tree has no reference cycles, yet building a million containers would set off
    # the cycle collector again and again (a third of the time for 10 MB): pause it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        root = _build(loader.get_event, problems)
    except yaml.YAMLError as exc:
        problems.append(_syntax_problem(text, exc))
    finally:
        if collecting:
            gc.enable()
        loader.dispose()
    if problems:
        raise YamlError(problems)
    return root


def _syntax_problem(text: str, exc: yaml.YAMLError) -> Problem:
    """Return a syntax error as a Problem, worded by the pure-Python parser where it differs."""
    if _LOADER is not yaml.SafeLoader:
        # libyaml says "did not find expected ','"; the Python parser also says what it found.
        try:
            for _event in yaml.parse(text, Loader=yaml.SafeLoader):
                pass
        except yaml.YAMLError as detailed:
            exc = detailed
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        return Problem(mark.line + 1 if mark is not None else 0, str(exc.problem or exc.context))
    return Problem(0, str(exc))
