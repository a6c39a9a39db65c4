"""The shape docs/STYLE.md asks for: no module in reconciler/ over 400 lines, no function over 50."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def test_no_module_is_over_400_lines() -> None:
    sizes = {_name(p): len(p.read_text().splitlines()) for p in _modules()}
    offenders = [f"{name} ({lines} lines)" for name, lines in sizes.items() if lines > MAX_MODULE_LINES]
    assert offenders == [], f"split these by concept (at most {MAX_MODULE_LINES} lines): {offenders}"


def test_no_function_is_over_50_lines() -> None:
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    offenders.append(f"{_name(path)}:{node.lineno} {node.name} ({lines} lines)")
    assert offenders == [], f"split these (at most {MAX_FUNCTION_LINES} lines each): {offenders}"
