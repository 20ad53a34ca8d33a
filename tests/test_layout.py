"""The layout's rules (README, "Where things are"), read from the source: the nightly run imports neither the
training recipes nor the scorers, imports run down the data flow and never back up, no modules import each
other in a circle, and every module says its one job in its first docstring line."""

import ast
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from helpers import PROJECT

# The runtime's layers in data-flow order: a module may import its own package and anything in a lower layer.
# ``pipeline.evaluation`` scores the runtime and sits above it; only the CLI (``exoclaims eval``) reaches it.
LAYERS = (
    ("pipeline.records", "pipeline.config", "pipeline.workers"),  # typed records and settings
    ("pipeline.pubmed", "pipeline.articles"),  # fetch, parse, normalise
    ("pipeline.nlp",),
    ("pipeline.claims",),
    ("pipeline.compare",),
    ("pipeline.store",),
    ("pipeline.report",),
    ("pipeline.stages",),
    ("pipeline.check",),  # one article judged against what the nightly run stored
    ("pipeline.evaluation",),
    ("flows",),  # the Prefect flow: wires pipeline.stages together
    ("pipeline.cli",),
)
PACKAGES = ("pipeline", "flows", "training")
NIGHTLY_ENTRY_POINTS = ("flows.nightly", "pipeline.stages")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _sources() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in (PROJECT / package).rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The project module an import names (``from pipeline.compare import graded`` names pipeline.compare.graded)."""
    modules = _sources()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Every project module's imports of project modules, at any depth in the file (function-level too)."""
    graph = {}
    for module, path in _sources().items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            targets.update(t for t in map(_resolve, (n for n in names if n.split(".")[0] in PACKAGES)) if t)
        targets.discard(module)
        graph[module] = frozenset(targets)
    return graph


def _layer(module: str) -> int | None:
    for index, layer in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in layer):
            return index
    return None


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2]) if module.startswith("pipeline.") else module.split(".")[0]


def test_every_runtime_module_has_a_layer():
    unplaced = [m for m in _sources() if m.startswith(("pipeline.", "flows")) and _layer(m) is None
                and not m.startswith("pipeline.testing") and m != "pipeline"]
    assert not unplaced, f"add these modules to LAYERS (or move them): {unplaced}"


def test_imports_run_down_the_data_flow_never_back_up():
    upward = []
    for module, targets in import_graph().items():
        source = _layer(module)
        if source is None:
            continue
        for target in targets:
            layer = _layer(target)
            if layer is not None and layer > source or layer == source and _package(target) != _package(module):
                upward.append(f"{module} -> {target}")
    assert not upward, "imports from a lower layer up to a higher one:\n" + "\n".join(sorted(upward))


def test_no_modules_import_each_other_in_a_circle():
    graph = import_graph()
    cycles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def _closure(roots) -> set[str]:
    graph, seen, todo = import_graph(), set(), list(roots)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


def test_the_nightly_run_reaches_no_training_or_evaluation_code():
    reached = _closure(NIGHTLY_ENTRY_POINTS)
    assert "pipeline.compare.comparison" in reached  # the closure does follow the stages
    banned = sorted(m for m in reached if m.split(".")[0] == "training" or m.startswith("pipeline.evaluation")
                    or m.startswith("pipeline.testing"))
    assert not banned, f"the nightly run imports {banned}"


def test_nothing_in_the_runtime_imports_the_training_package():
    importers = sorted(m for m, targets in import_graph().items()
                       if not m.startswith("training") and any(t.split(".")[0] == "training" for t in targets))
    assert not importers, f"runtime modules importing training code: {importers}"


def test_importing_the_flow_and_the_cli_loads_no_training_or_evaluation_module():
    code = ("import sys, flows.nightly, pipeline.cli, pipeline.stages; "
            "print('\\n'.join(m for m in sys.modules if m.split('.')[0] == 'training' "
            "or m.startswith(('pipeline.evaluation', 'torch', 'transformers', 'sklearn'))))")
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    loaded = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True,
                            timeout=300, check=True).stdout.split()
    assert loaded == []


@pytest.mark.parametrize("module", sorted(_sources()))
def test_every_module_says_its_one_job_in_its_first_docstring_line(module):
    docstring = ast.get_docstring(ast.parse(_sources()[module].read_text(encoding="utf-8")), clean=False)
    first = (docstring or "").strip().splitlines()[0] if (docstring or "").strip() else ""
    assert first, f"{module} has no docstring"
    assert first.endswith((".", ")")) and len(first) <= 120, f"{module}: first line is not one sentence: {first!r}"
