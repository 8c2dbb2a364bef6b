"""Code health (issue 17): the package's import graph has no cycle, counting
imports inside functions; reading a report loads neither jieba nor Whoosh; the
command line imports neither."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "erqi_search"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every module of ours that ``path`` imports, at any depth of its code
    (``from . import x`` depends on the submodule ``x``, not on the package)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.startswith("erqi_search"):
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("erqi_search"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        edges[name] = {m for m in imports_of(path, set(modules)) if m in modules and m != name and m != "erqi_search"}
    return edges


def test_no_import_cycle_counting_imports_inside_functions():
    edges = graph()
    assert len(edges) > 10
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_leaf_modules_import_nothing_of_ours():
    edges = graph()
    for leaf in ("erqi_search.errors", "erqi_search.text", "erqi_search.model", "erqi_search.plan",
                 "erqi_search.ranking"):
        if leaf in edges:
            assert edges[leaf] == set(), leaf


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_reading_a_report_loads_neither_jieba_nor_whoosh():
    loaded = loaded_after("from erqi_search.ingest import read_report; read_report('seeds/001_a8b229ab2cc41fd9.txt')")
    assert not {m for m in loaded if m.split(".")[0] in ("jieba", "whoosh", "numpy")}


def test_the_command_line_module_imports_neither_whoosh_nor_jieba():
    loaded = loaded_after("import erqi_search.cli")
    assert not {m for m in loaded if m.split(".")[0] in ("jieba", "whoosh", "numpy")}
