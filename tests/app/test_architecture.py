"""The house rules the README's Architecture section promises, checked on the code itself.

import-linter (``make lint``) holds the layers; these hold what it cannot: no import
circle anywhere (inside a package too), no module over 400 lines, one clock, one error
tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

import voiceline.errors

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("voiceline", "oncall", "escalation", "webhooks", "simulator")
MAX_LINES = 400
# Alembic revisions are history: they are written once and never edited or split.
NOT_MODULES = ("voiceline/migrations/versions/",)


def _source_files(*roots: str) -> list[Path]:
    files = [p for root in roots for p in (REPO / root).rglob("*.py")]
    return [
        p for p in files if not any(str(p.relative_to(REPO)).startswith(n) for n in NOT_MODULES)
    ]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_circle() -> None:
    # Imports under TYPE_CHECKING never run, so they cannot make a circle at import time.
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    assert _cycles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.d", imported="a.b")
    assert _cycles(graph) == [["a.b", "a.c"]]


@pytest.mark.parametrize("root", [*PACKAGES, "tests"])
def test_no_module_is_over_400_lines(root: str) -> None:
    too_long = {
        str(p.relative_to(REPO)): n
        for p in _source_files(root)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}


def _calls_to_the_wall_clock(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = ast.unparse(node.func)
            if target in ("datetime.now", "datetime.utcnow", "date.today", "time.time"):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {target}()")
    return found


def test_only_the_clock_reads_the_wall_clock() -> None:
    files = _source_files("voiceline", "oncall", "escalation", "webhooks")
    found = [
        hit
        for p in files
        if p != REPO / "voiceline" / "clock.py"
        for hit in _calls_to_the_wall_clock(p)
    ]
    assert found == []


def _exception_classes() -> list[tuple[str, type]]:
    classes = []
    for path in _source_files("voiceline", "oncall", "escalation", "webhooks"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        if module.endswith("__init__"):
            module = module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(b).endswith(("Error", "Exception", "Refused", "InvalidInput"))
                for b in node.bases
            ):
                imported = __import__(module, fromlist=[node.name])
                classes.append((f"{module}.{node.name}", getattr(imported, node.name)))
    return classes


def test_every_error_of_ours_is_in_the_one_tree() -> None:
    classes = _exception_classes()
    assert len(classes) > 20  # the scan sees the tree; an empty scan would prove nothing
    outside = [
        name for name, cls in classes if not issubclass(cls, voiceline.errors.VoicelineError)
    ]
    assert outside == []


def test_the_tree_in_the_docstring_names_every_error() -> None:
    drawn = voiceline.errors.__doc__ or ""
    missing = [name for name, _ in _exception_classes() if name.rpartition(".")[2] not in drawn]
    assert missing == []
