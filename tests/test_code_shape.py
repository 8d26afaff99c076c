"""The code's shape, checked like its behaviour.

``lint-imports`` (run by ``make test``) holds the layers contract and the
acyclic-packages contract; these tests hold what it does not express: no
module imports itself back through any chain, modules stay small, and the
package's own modules are imported at the top of a file, not hidden in a
function, unless a comment says why.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "wagtail_leadgen"
MAX_MODULE_LINES = 500


def package_modules() -> list[Path]:
    return sorted(
        path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts
    )


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively: the groups of modules importing each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("wagtail_leadgen", exclude_type_checking_imports=True)


def test_no_module_of_the_package_imports_itself_back(graph):
    imports = {
        module: set(graph.find_modules_directly_imported_by(module))
        for module in graph.modules
        if ".migrations" not in module
    }
    cycles = [group for group in _strongly_connected(imports) if len(group) > 1]
    assert cycles == []


def test_services_and_the_audit_log_never_reach_the_admin_layer(graph):
    """A command, a task or the API runs a service without loading a view,
    the admin hooks or an editor panel (what lint-imports' layers also say)."""
    admin = (
        "wagtail_leadgen.views",
        "wagtail_leadgen.wagtail_hooks",
        "wagtail_leadgen.panels",
    )
    callers = [
        module
        for module in graph.modules
        if module.startswith(("wagtail_leadgen.services", "wagtail_leadgen.audit"))
    ]
    reached = {
        caller: sorted(
            name
            for name in graph.find_modules_directly_imported_by(caller)
            if name.startswith(admin)
        )
        for caller in callers
    }
    assert {caller: names for caller, names in reached.items() if names} == {}


@pytest.mark.parametrize(
    "path", package_modules(), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def _explained(lines: list[str], index: int) -> bool:
    """A comment on the import's line, or above the block of imports it is in."""
    if "#" in lines[index]:
        return True
    while index > 0 and lines[index - 1].strip().startswith(("from ", "import ")):
        index -= 1
    return index > 0 and lines[index - 1].strip().startswith("#")


def _local_imports_of_the_package(path: Path) -> list[int]:
    """Lines of imports of the package's own modules inside a function,
    without a comment on that line or the one above saying why."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            own = (isinstance(inner, ast.ImportFrom) and inner.level > 0) or (
                isinstance(inner, ast.ImportFrom | ast.Import)
                and any(
                    name.startswith("wagtail_leadgen")
                    for name in (
                        [inner.module or ""]
                        if isinstance(inner, ast.ImportFrom)
                        else [alias.name for alias in inner.names]
                    )
                )
            )
            if not own:
                continue
            if not _explained(lines, inner.lineno - 1):
                found.append(inner.lineno)
    return found


@pytest.mark.parametrize(
    "path", package_modules(), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_the_package_s_own_modules_are_imported_at_the_top(path):
    assert _local_imports_of_the_package(path) == []
