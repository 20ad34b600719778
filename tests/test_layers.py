"""The import graph: import-linter's layer contracts (pyproject.toml) hold and no module import
cycle exists anywhere in counterscan.

Both tools find modules by walking the `counterscan` package folder, but our subpackages live in
top-level folders (`serve/` is `counterscan.serve`, see pyproject's package-dir). So each check
runs in a subprocess over a tree of symbolic links shaped like the installed package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def package_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tmp/counterscan/ = links to counterscan/*.py plus one link per subpackage folder."""
    root = tmp_path_factory.mktemp("layers")
    pkg = root / "counterscan"
    pkg.mkdir()
    for path in (REPO / "counterscan").iterdir():
        if path.suffix == ".py":
            (pkg / path.name).symlink_to(path)
    for folder in SUBPACKAGES:
        (pkg / folder).symlink_to(REPO / folder, target_is_directory=True)
    return root


def _run(args: list[str], tree: Path) -> subprocess.CompletedProcess[str]:
    """Run from the tree (not the repo, whose counterscan/ would be found first on sys.path);
    PYTHONPATH puts the tree before the editable install's finder."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(args, cwd=tree, env=env, capture_output=True, text=True, timeout=300)


def test_import_linter_contracts_hold(package_tree: Path) -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = _run([str(lint), str(REPO / "pyproject.toml")], package_tree)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_module_import_cycles(package_tree: Path) -> None:
    done = _run([sys.executable, "-c", CYCLES, "counterscan"], package_tree)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_cycle_finder_finds_a_cycle(package_tree: Path) -> None:
    done = _run([sys.executable, "-c", CYCLES, "selftest"], package_tree)
    assert json.loads(done.stdout) == [["pkg.a", "pkg.b"]]
