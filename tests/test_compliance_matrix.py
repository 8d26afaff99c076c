"""docs/compliance.md names real tests: a renamed or deleted test fails here,
so the matrix never points to proof that does not exist."""

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
MATRIX = TESTS.parent / "docs" / "compliance.md"


def named_tests() -> set[tuple[str, str]]:
    return set(re.findall(r"`(test_\w+\.py)::(test_\w+)`", MATRIX.read_text("utf-8")))


def defined_tests(module: str) -> set[str]:
    tree = ast.parse((TESTS / module).read_text("utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_test_the_matrix_names_exists():
    named = named_tests()
    assert len(named) > 40
    missing = sorted(
        f"{module}::{name}"
        for module, name in named
        if not (TESTS / module).exists() or name not in defined_tests(module)
    )
    assert missing == []
