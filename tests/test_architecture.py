"""Rules of the code's shape that no linter knows, checked by reading the source (AST).

- The laptop's sync state has one owner (fieldapp/store/sync_state.py): the sync engine and
  its helpers in sync/ hold no SQL.
- No module reaches for another of our modules' private helpers (`module._name`): what a
  module offers others is public and documented; a private name may change any day.
- A record is hard-deleted in one place (`RecordStore.purge`).

The import rules between packages (domain, store, sync, server, TUI, CLI) are contracts in
pyproject.toml ([tool.importlinter]) that .ci/run checks with `lint-imports`; this test runs
them too when import-linter is installed.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("fieldapp", "sync", "bench")
SQL = re.compile(r"\b(SELECT\b.+\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"PRAGMA\s+\w+|CREATE\s+(TABLE|INDEX))", re.IGNORECASE | re.DOTALL)


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py")
                  if "__pycache__" not in p.parts)


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def laptop_sync_modules() -> list[Path]:
    return [p for p in sources("sync") if "server" not in p.relative_to(ROOT / "sync").parts]


@pytest.mark.parametrize("path", laptop_sync_modules(), ids=lambda p: p.name)
def test_sync_holds_no_sql(path):
    module = tree(path)
    docstrings = {id(n.body[0].value) for n in ast.walk(module)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and n.body and isinstance(n.body[0], ast.Expr)}
    found = [node.lineno for node in ast.walk(module)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and id(node) not in docstrings and SQL.search(node.value)]
    assert not found, f"{path.name} lines {found}: SQL belongs in fieldapp/store/sync_state.py"


def _our_module_aliases(module: ast.Module) -> set[str]:
    """Names bound to one of our modules by `import x.y as n` / `from x import mod`."""
    names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in OURS:
                    names.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] in OURS:
            for a in node.names:
                target = ROOT / Path(*node.module.split("."), a.name)
                if target.with_suffix(".py").exists() or (target / "__init__.py").exists():
                    names.add(a.asname or a.name)
    return names


def test_no_module_uses_another_modules_private_helpers():
    offences = []
    for path in sources(*OURS):
        module = tree(path)
        aliases = _our_module_aliases(module)
        for node in ast.walk(module):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in aliases and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} "
                                f"{node.value.id}.{node.attr}")
    assert not offences, "make it public (and document it) or keep it inside:\n" + \
        "\n".join(offences)


def test_records_are_hard_deleted_in_one_place():
    places = []
    for path in sources("fieldapp", "sync"):
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(
                    r"DELETE\s+FROM\s+record\b", node.value, re.IGNORECASE):
                places.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    store_places = [p for p in places if p.startswith("fieldapp/store/records.py")]
    assert len(store_places) == 1 and places == store_places, places


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            encoding="utf-8", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
