"""The import graph: import-linter's layer contracts (pyproject.toml) hold and no module import
cycle exists anywhere in counterscan.

Both tools find modules by walking the `counterscan` package folder. Our subpackages live in
top-level folders (DESIGN.md; pyproject's package-dir installs `serve/` as `counterscan.serve`),
and `counterscan/serve` etc. are symbolic links to them, so a plain `lint-imports` at the repo
root sees the whole package. Each check runs in a subprocess from the repo root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("datasets", "model", "training", "serve")  # folder = counterscan.<folder>

# Run in the subprocess: every group of modules that import each other in a circle (Tarjan's
# strongly connected components over grimp's graph, which includes imports inside functions
# and under TYPE_CHECKING). Prints a JSON list of sorted groups.
CYCLES = """
import json, sys
import grimp

def cycles(graph):
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in sorted(graph.modules):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root); on_stack.add(root)
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child); on_stack.add(child)
                    imported = sorted(graph.find_modules_directly_imported_by(child))
                    work.append((child, iter(imported)))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop(); on_stack.discard(member); group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found

if sys.argv[1] == "selftest":
    graph = grimp.ImportGraph()
    for name in ("pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a")
    graph.add_import(importer="pkg.b", imported="pkg.c")
else:
    graph = grimp.build_graph(sys.argv[1])
print(json.dumps(cycles(graph)))
"""


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run from the repo root, as a maintainer would; its counterscan/ comes first on sys.path."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_subpackage_links_point_at_the_top_level_folders() -> None:
    for folder in SUBPACKAGES:
        link = REPO / "counterscan" / folder
        assert link.is_symlink(), f"counterscan/{folder} should link to ../{folder}"
        assert link.resolve() == (REPO / folder).resolve()


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = _run([str(lint)])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_module_import_cycles() -> None:
    done = _run([sys.executable, "-c", CYCLES, "counterscan"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    done = _run([sys.executable, "-c", CYCLES, "selftest"])
    assert json.loads(done.stdout) == [["pkg.a", "pkg.b"]]
