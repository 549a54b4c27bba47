"""The package's shape, kept by a test: layers import one way, no cycles, no private names across
modules, no module too long to read.

Layers, lowest first: the core (``gan_teach/*.py``), the plots (``viz``, ``curves``, ``animation``), the
instruments (``gan_teach/instruments/``), the course (``gan_teach/course/``). A module may import
its own layer and the layers below. The package's front door ``__init__`` sits on the plots: it
re-exports the core and the plots, never an instrument or the course. The learner's command line
(``cli`` and ``__main__``) sits on the instruments: ``gan-teach export --format web`` writes a
generator with the latent instrument's principal directions; it never loads the course, which has
its own command line (``gan-teach-course``).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gan_teach"
PLOTS = {"gan_teach.viz", "gan_teach.curves", "gan_teach.animation"}
FRONTS = {"gan_teach"}
LEARNER_CLI = {"gan_teach.__main__", "gan_teach.cli"}
LAYERS = {"core": 0, "plots": 1, "instruments": 2, "course": 3}
# Lines of code per module (not counting blank lines, comments and docstrings: the docstrings
# carry the math and the doctests, and should not force a split).
MAX_CODE_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {
    module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))
}


def layer(module: str) -> int:
    if module.startswith("gan_teach.course"):
        return LAYERS["course"]
    if module.startswith("gan_teach.instruments") or module in LEARNER_CLI:
        return LAYERS["instruments"]
    if module in PLOTS or module in FRONTS:
        return LAYERS["plots"]
    return LAYERS["core"]


def imports(module: str) -> list[tuple[int, str, list[str]]]:
    """``(line, imported module, imported names)`` for every import of a gan_teach module in
    ``module``, at any depth (function-level imports included)."""
    path = MODULES[module]
    package = (
        module if path.name == "__init__.py" else module.rpartition(".")[0]
    )
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name, [])
                for alias in node.names
                if alias.name.split(".")[0] == "gan_teach"
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(
                    base + ([node.module] if node.module else [])
                )
            else:
                target = node.module or ""
            if target.split(".")[0] != "gan_teach":
                continue
            names = [alias.name for alias in node.names]
            submodules = [
                f"{target}.{name}"
                for name in names
                if f"{target}.{name}" in MODULES
            ]
            for (
                submodule
            ) in submodules:  # from . import latent: the module latent
                found.append((node.lineno, submodule, []))
            rest = [
                name for name in names if f"{target}.{name}" not in MODULES
            ]
            if rest or not submodules:
                found.append((node.lineno, target, rest))
    return found


def layer_problems() -> list[str]:
    problems = []
    for module in MODULES:
        for line, target, _ in imports(module):
            if target in MODULES and layer(target) > layer(module):
                problems.append(
                    f"{module}:{line} imports {target}, a higher layer"
                )
            if (
                module not in FRONTS | PLOTS
                and layer(module) == 0
                and target in PLOTS | FRONTS | LEARNER_CLI
            ):
                problems.append(
                    f"{module}:{line}: the core imports {target}"
                )
    return problems


def private_imports() -> list[str]:
    return [
        f"{module}:{line} imports {name} from {target}"
        for module in MODULES
        for line, target, names in imports(module)
        for name in names
        if name.startswith("_")
        and not name.startswith("__")
        and target != module
    ]


def cycles() -> list[list[str]]:
    graph = {
        module: sorted(
            {
                target
                for _, target, _ in imports(module)
                if target in MODULES
            }
            - {module}
        )
        for module in MODULES
    }
    found, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in graph[module]:
            if state.get(target) == "open":
                found.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [module])
    return found


def code_lines(path: Path) -> int:
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(
            node,
            (
                ast.Module,
                ast.ClassDef,
                ast.FunctionDef,
                ast.AsyncFunctionDef,
            ),
        ):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    return sum(
        1
        for number, line in enumerate(source.splitlines(), 1)
        if line.strip()
        and not line.strip().startswith("#")
        and number not in docstrings
    )


def test_layers_import_downwards_only():
    assert layer_problems() == []


def test_no_private_name_is_imported_from_another_module():
    assert private_imports() == []


def test_no_two_modules_import_each_other():
    assert cycles() == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_short_enough_to_read(module):
    assert code_lines(MODULES[module]) <= MAX_CODE_LINES, (
        f"{module} has {code_lines(MODULES[module])} lines of code; split it at a seam "
        f"(at most {MAX_CODE_LINES}, docstrings and comments not counted)"
    )


def test_the_checks_catch_what_they_are_for(tmp_path, monkeypatch):
    """The rules themselves work: a wrong-way import, a private import and a cycle are found."""
    fake = tmp_path / "gan_teach"
    (fake / "instruments").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "instruments" / "__init__.py").write_text("")
    (fake / "models.py").write_text("from .instruments.lab import x\n")
    (fake / "instruments" / "lab.py").write_text(
        "from ..models import _check\n\ndef f():\n    from .. import models\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    modules = {
        module_name(path): path for path in sorted(fake.rglob("*.py"))
    }
    monkeypatch.setattr(sys.modules[__name__], "MODULES", modules)
    assert layer_problems() == [
        "gan_teach.models:1 imports gan_teach.instruments.lab, a higher layer"
    ]
    assert private_imports() == [
        "gan_teach.instruments.lab:1 imports _check from gan_teach.models"
    ]
    assert [
        "gan_teach.instruments.lab",
        "gan_teach.models",
        "gan_teach.instruments.lab",
    ] in cycles() or [
        "gan_teach.models",
        "gan_teach.instruments.lab",
        "gan_teach.models",
    ] in cycles()
