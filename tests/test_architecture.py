"""The layout shows the architecture (issue 11, architecture.md): the pure core apart from its adapters.

Walks every import of ``scoring/`` and ``app/`` (module level and inside functions alike) and fails on
- a core module (flat modules of ``scoring/`` and the ``scoring/analytics`` package) importing an adapter
  (``scoring.io``, ``scoring.store``, ``scoring.cli``, ``app``), Streamlit, a database, a file format library,
  or reading/writing files;
- an import cycle among the project's modules;
- a private name (``_x``) imported from another module;
- a source file over 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ("scoring.io", "scoring.store", "scoring.cli", "scoring.__main__", "app")
FORBIDDEN_IN_CORE = {"streamlit", "sqlalchemy", "alembic", "openpyxl", "psycopg", "bcrypt", "plotly", "docx",
                     "pypdf", "csv", "tempfile", "shutil", "zipfile", "sqlite3", "requests", "urllib"}
FILE_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "mkdir", "unlink", "glob"}
# the core's own shipped data (its vocabulary) is package data, read through importlib.resources
FILE_READS_ALLOWED = {"scoring.labels"}
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    files = [*(ROOT / "scoring").rglob("*.py"), *(ROOT / "app").rglob("*.py"), ROOT / "review_app.py"]
    return {module_name(p): p for p in files if "migrations" not in p.parts}


MODULES = project_files()


def is_core(mod: str) -> bool:
    return mod.startswith("scoring") and not any(mod == a or mod.startswith(a + ".") for a in ADAPTERS)


def resolve(mod: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(mod: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import outside ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text("utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for b in node.body for n in ast.walk(b)}
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(mod, path, node)
            names = [a.name for a in node.names]
            subs = [n for n in names if f"{target}.{n}" in MODULES]
            if subs:
                out += [(f"{target}.{n}", [], node.lineno) for n in subs]
            rest = [n for n in names if n not in subs]
            if rest or not subs:
                out.append((target, rest, node.lineno))
    return out


def project_target(name: str) -> str | None:
    """The project module an import refers to (the longest known prefix), or None for a third-party one."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        cand = ".".join(parts[:k])
        if cand in MODULES:
            return cand
    return None


def test_the_core_imports_no_adapter_no_ui_no_database_no_file_format():
    problems = []
    for mod, path in sorted(MODULES.items()):
        if not is_core(mod):
            continue
        for name, _, line in imports_of(mod, path):
            top = name.split(".")[0]
            target = project_target(name)
            if target is not None and not is_core(target):
                problems.append(f"{path.relative_to(ROOT)}:{line}: core imports adapter {target}")
            elif target is None and top in FORBIDDEN_IN_CORE | {"app"}:
                problems.append(f"{path.relative_to(ROOT)}:{line}: core imports {name}")
        if mod in FILE_READS_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if called in FILE_CALLS:
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: core touches files ({called})")
    assert problems == []


def test_no_import_cycles_among_the_projects_modules():
    graph = {mod: sorted({t for name, _, _ in imports_of(mod, path)
                          if (t := project_target(name)) is not None and t != mod})
             for mod, path in MODULES.items()}
    for mod in graph:                      # importing a submodule runs its package too: not a cycle by itself
        graph[mod] = [t for t in graph[mod] if not mod.startswith(t + ".")]
    cycles, state, stack = [], {}, []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in graph.get(m, []):
            if state.get(t) == 1:
                cycles.append(" → ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == []


def test_no_private_name_is_imported_from_another_module():
    problems = []
    for mod, path in sorted(MODULES.items()):
        for name, names, line in imports_of(mod, path):
            if project_target(name) is None:
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                problems.append(f"{path.relative_to(ROOT)}:{line}: imports {', '.join(private)} from {name}")
    assert problems == []


@pytest.mark.parametrize("folder", ["scoring", "app"])
def test_no_source_file_is_longer_than_a_reader_can_hold(folder):
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / folder).rglob("*.py")
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_checker_sees_a_violation_when_there_is_one(tmp_path):
    """The walk is not vacuous: it finds the imports of a module known to use the store and openpyxl."""
    store_imports = {n for n, _, _ in imports_of("scoring.store.scenarios", MODULES["scoring.store.scenarios"])}
    assert "sqlalchemy" in store_imports and any(project_target(n) == "scoring.params" for n in store_imports)
    assert is_core("scoring.selection") and is_core("scoring.analytics") and not is_core("scoring.io.tables")
