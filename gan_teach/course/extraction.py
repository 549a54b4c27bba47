"""What the grader re-runs of a submission: its imports, functions, classes and constants, nothing else.

The checks must not run in the student's kernel, where a cell can replace them. The grader takes the
code of the submitted file instead and keeps only the statements that *define* something: imports,
``def`` and ``class`` statements, and assignments of a constant (``LATENT_DIM = 2``) or of a dotted
name (``F = torch.nn.functional``). Every other statement (calls, loops, training runs, and any line
that patches a module) is left out. A definition cannot run code when it is made, except through its
decorators, default values, base classes and annotations, so those are held to the same rule: dotted
names and calls of dotted names with constant arguments; annotations are never evaluated. What runs is
the students' function bodies, and only when a check calls them.
"""

from __future__ import annotations

import ast
import re
from typing import Any

__all__ = ["code_cells", "as_python", "checked_source"]

# Builtin decorators that only wrap a function; like imported names until a notebook rebinds them.
_SAFE_BUILTINS = ("property", "staticmethod", "classmethod")
# Class attributes that run code when a class is made (by a later subclass, or on its attributes).
_CREATION_HOOKS = {"__init_subclass__", "__set_name__", "__class_getitem__"}
# A magic (``%pip ...``, ``!ls``) continued on the next line with a backslash:
# IPython joins the lines and keeps the continuation's indent, which is layout.
_CONTINUED_MAGIC = re.compile(r"^([ \t]*[%!][^\n]*?)[ \t]*\\\n[ \t]*", re.M)


def code_cells(notebook: Any) -> list[str]:
    """The source of each code cell, as one string (``source`` may be a string or a list of lines).

    >>> code_cells({"cells": [{"cell_type": "code", "source": ["a = 1\\n", "b = 2"]},
    ...                       {"cell_type": "markdown", "source": "text"}]})
    ['a = 1\\nb = 2']
    """
    sources = []
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append(
                "".join(source) if isinstance(source, list) else str(source)
            )
    return sources


def as_python(code: str) -> str:
    """A code cell as plain Python: IPython's magics (``%pip ...``, ``!ls``, ``%%time``) become the calls
    they stand for (``get_ipython().run_line_magic(...)``), as IPython itself rewrites them.

    A magic continued over lines reads as the one line it stands for, whatever the continuation's indent:

    >>> as_python("%pip install \\\\\\n    x") == as_python("%pip install x")
    True
    """
    from IPython.core.inputtransformer2 import TransformerManager

    joined = None
    while joined != code:  # one continuation per pass
        joined, code = code, _CONTINUED_MAGIC.sub(r"\1 ", code)
    return TransformerManager().transform_cell(code)


def _parse(source: str) -> ast.Module | None:
    """A cell's syntax tree, its magics read as IPython's calls (which are never kept); None if invalid."""
    try:
        return ast.parse(as_python(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # not Python, or nested too deeply to read


def _root(node: ast.expr) -> str | None:
    """The first name of ``name`` or ``name.attribute.attribute``; None for anything else."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _constant(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (
        ValueError,
        TypeError,
        SyntaxError,
        MemoryError,
        RecursionError,
    ):
        return False
    return True


def _imported_call(node: ast.expr, imported: set[str]) -> bool:
    """An imported dotted name, or a call of one with constant arguments: installed code only."""
    if isinstance(node, ast.Call):
        if not all(
            _constant(argument) for argument in node.args
        ) or not all(_constant(keyword.value) for keyword in node.keywords):
            return False
        node = node.func
    return _root(node) in imported


def _kept_function(
    node: ast.FunctionDef | ast.AsyncFunctionDef, imported: set[str]
) -> bool:
    # Decorators are called when the function is made: only installed ones. Default values are
    # evaluated then too: constants, looked-up names, or calls of installed functions.
    defaults = [*node.args.defaults, *node.args.kw_defaults]
    return all(
        _imported_call(decorator, imported)
        for decorator in node.decorator_list
    ) and all(
        default is None
        or _constant(default)
        or _root(default) is not None
        or _imported_call(default, imported)
        for default in defaults
    )


def _kept_assignment(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    return all(
        isinstance(target, ast.Name) and target.id not in _CREATION_HOOKS
        for target in targets
    ) and (_constant(value) or _root(value) is not None)


def _bound(node: ast.stmt) -> list[str]:
    """The names a kept definition or assignment binds."""
    if isinstance(node, ast.Assign):
        return [
            target.id
            for target in node.targets
            if isinstance(target, ast.Name)
        ]
    if isinstance(node, ast.AnnAssign) and isinstance(
        node.target, ast.Name
    ):
        return [node.target.id]
    return [getattr(node, "name", "")]


def _kept_class(node: ast.ClassDef, imported: set[str]) -> bool:
    if node.keywords:
        return False  # a metaclass runs code when the class is made
    if not all(_imported_call(d, imported) for d in node.decorator_list):
        return False
    if not all(_root(base) is not None for base in node.bases):
        return False
    # Names bound in the class body hide the module's for the decorators and defaults after them.
    scope = set(imported)
    for statement in node.body:
        if isinstance(statement, ast.Pass) or (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
        ):
            continue  # pass, or the docstring
        if isinstance(statement, ast.AnnAssign) and statement.value is None:
            if isinstance(statement.target, ast.Name):
                continue  # a field's annotation (a dataclass): never evaluated
            return False
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if statement.name in _CREATION_HOOKS or not _kept_function(
                statement, scope
            ):
                return False
        elif not _kept_assignment(statement):
            return False
        scope.difference_update(_bound(statement))
    return True


def _kept(node: ast.stmt, imported: set[str]) -> bool:
    """Whether to keep a top-level statement; updates ``imported``, the names bound by imports."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        if isinstance(node, ast.ImportFrom) and (
            node.level or node.module == "__future__"
        ):
            return False
        for alias in node.names:
            imported.add((alias.asname or alias.name).split(".")[0])
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        kept = _kept_function(node, imported)
    elif isinstance(node, ast.ClassDef):
        kept = _kept_class(node, imported)
    else:
        kept = _kept_assignment(node)
    if (
        kept
    ):  # the name now holds the student's object, not an installed one
        imported.difference_update(_bound(node))
    return kept


def checked_source(notebook: Any) -> list[str]:
    """The statements of a notebook's code cells that the grader re-runs before its checks, in order.

    Each statement is returned as its own piece of source, so that one that fails (an import of a
    missing module) does not stop the others.

    Args:
        notebook: the submitted notebook (an ``nbformat`` node or a plain dict).

    Returns:
        The kept statements' source, in notebook order.

    >>> cells = ["import math\\nLIMIT = 3\\nmath.pi = 3\\nprint('training...')",
    ...          "def my_area(r, scale=1.0):\\n    return math.pi * r * r * scale"]
    >>> checked_source({"cells": [{"cell_type": "code", "source": s} for s in cells]})
    ['import math', 'LIMIT = 3', 'def my_area(r, scale=1.0):\\n    return math.pi * r * r * scale']
    """
    kept: list[str] = []
    imported = set(
        _SAFE_BUILTINS
    )  # installed code, until the notebook rebinds a name
    for source in code_cells(notebook):
        tree = _parse(source)
        if tree is None:
            continue
        statements = list(tree.body)
        while statements:
            statement = statements.pop(0)
            if isinstance(statement, ast.Try):
                # try: import x / except ImportError: ... (the book's first cell): its imports
                statements[:0] = statement.body
            else:
                try:
                    if _kept(statement, imported):
                        kept.append(ast.unparse(statement))
                except RecursionError:
                    continue  # an expression nested too deeply to write back
    return kept
