"""The outputs stored in the book's notebooks: re-execute them, stamp them, check them.

The book is built from the outputs committed inside ``book/*.ipynb`` (Jupyter Book's execution is off), so
two things must hold for every chapter, and this module checks both:

1. **No stored output is an error.** A notebook saved after a failed or interrupted run carries an error
   output (or a ``KeyboardInterrupt`` traceback printed to a stream); the book would publish it.
   :func:`stored_errors` finds them.
2. **The outputs came from a full run of the current code.** :func:`execute_notebook` runs a notebook
   top to bottom, writes the outputs back into the file and stamps its metadata with the mode of the run
   (``full`` or ``fast``) and a fingerprint of its code (:func:`code_fingerprint`). :func:`stamp_problems`
   says when the stamp is missing, came from a fast run, or no longer matches the code.

The fingerprint hashes the *syntax tree* of each code cell, not its text: re-wrapping a line (a magic
continued with a backslash included), renaming nothing, editing a comment keeps the stamp; changing what the
code does (a number, a call, a string it prints) breaks it. The library's own code is not part of the
fingerprint: a change there is caught by nbval, which runs every notebook in CI.

Run it as ``python -m gan_teach.course.stored_outputs {execute,check,adopt,provenance}`` (``make execute`` and the tests do).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .extraction import as_python

__all__ = [
    "MODES",
    "code_fingerprint",
    "stored_errors",
    "stamp",
    "stamp_problems",
    "execute_notebook",
    "provenance",
    "main",
]

#: How a notebook may be executed, in full (the runs the prose quotes) or in fast mode (CI).
MODES = ("full", "fast")
_TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|^KeyboardInterrupt\b|\bKeyboardInterrupt:",
    re.MULTILINE,
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _source(cell: Any) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


class _LibraryImports(ast.NodeTransformer):
    """``from gan_teach.a.b import name`` -> ``from gan_teach import name``: a name moved between the library's
    modules is still the same function, so a reorganised package does not invalidate a notebook's run."""

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if node.module and (
            node.module == "gan_teach"
            or node.module.startswith("gan_teach.")
        ):
            node.module = "gan_teach"
        return node


def code_fingerprint(notebook: Any) -> str:
    """SHA-256 of the syntax trees of a notebook's code cells, in order (comments and layout do not count).

    Where a library name is imported from does not count either (``from gan_teach.lab import GANLab`` and
    ``from gan_teach.instruments.lab import GANLab`` fingerprint alike): the name is the same function.

    Args:
        notebook: an ``nbformat`` node or the notebook's JSON as a dict.

    Returns:
        64 hexadecimal digits.

    >>> one = {"cells": [{"cell_type": "code", "source": "x = f(1,2)  # a comment"}]}
    >>> two = {"cells": [{"cell_type": "code", "source": "# checked\\nx = f(\\n    1, 2\\n)"}]}
    >>> three = {"cells": [{"cell_type": "code", "source": "x = f(1, 3)"}]}
    >>> code_fingerprint(one) == code_fingerprint(two) != code_fingerprint(three)
    True
    >>> moved = [{"cells": [{"cell_type": "code", "source": f"from {module} import GANLab"}]}
    ...          for module in ("gan_teach.lab", "gan_teach.instruments.lab", "other.lab")]
    >>> code_fingerprint(moved[0]) == code_fingerprint(moved[1]) != code_fingerprint(moved[2])
    True
    """
    digest = hashlib.sha256()
    code_cells = [
        cell for cell in notebook["cells"] if cell["cell_type"] == "code"
    ]
    for index, cell in enumerate(
        code_cells
    ):  # prose cells added or removed do not count
        code = as_python(_source(cell))
        try:
            tree = ast.dump(
                _LibraryImports().visit(ast.parse(code)),
                include_attributes=False,
            )
        except SyntaxError:  # not Python (a cell magic such as %%bash): its text is what it does
            tree = code
        digest.update(f"cell {index}\n{tree}\n".encode())
    return digest.hexdigest()


def stored_errors(notebook: Any) -> list[str]:
    """Every stored output of a notebook that shows a failure: error outputs and printed tracebacks.

    Args:
        notebook: an ``nbformat`` node or the notebook's JSON as a dict.

    Returns:
        One line per bad output, ``"cell N: what"``; empty when the notebook is clean. A warning on
        stderr is not a failure; a ``KeyboardInterrupt`` or a ``Traceback`` in any output is.

    >>> good = {"cell_type": "code", "source": "", "outputs": [{"output_type": "stream", "name": "stderr",
    ...         "text": "UserWarning: slow"}]}
    >>> bad = {"cell_type": "code", "source": "", "outputs": [{"output_type": "error", "ename": "KeyboardInterrupt",
    ...        "evalue": "", "traceback": []}]}
    >>> stored_errors({"cells": [good, bad]})
    ['cell 1: an error output (KeyboardInterrupt: )']
    """
    problems = []
    for index, cell in enumerate(notebook["cells"]):
        for output in (
            cell.get("outputs", []) if cell["cell_type"] == "code" else []
        ):
            kind = output.get("output_type")
            if kind == "error":
                problems.append(
                    f"cell {index}: an error output ({output.get('ename')}: {output.get('evalue')})"
                )
                continue
            texts: list[str] = []
            if kind == "stream":
                texts.append(_source({"source": output.get("text", "")}))
            elif kind in ("execute_result", "display_data"):
                for mime in ("text/plain", "text/html", "text/markdown"):
                    if mime in output.get("data", {}):
                        texts.append(
                            _source({"source": output["data"][mime]})
                        )
            for text in texts:
                match = _TRACEBACK.search(_ANSI.sub("", text))
                if match:
                    problems.append(
                        f"cell {index}: a {kind} output prints {match.group(0)!r}"
                    )
                    break
    return problems


def stamp(
    notebook: Any,
    mode: str,
    *,
    executed_by: str = "gan_teach.course.stored_outputs execute",
    note: str = "",
    code_sha256: str | None = None,
) -> dict:
    """Record in ``notebook.metadata["gan_teach"]["execution"]`` how its stored outputs were made.

    Args:
        notebook: the notebook (``nbformat`` node or dict), changed in place.
        mode: ``"full"`` or ``"fast"`` (``fast_mode()`` was on).
        executed_by: what produced the outputs; :func:`main`'s ``adopt`` writes ``"adopted"``.
        note: free text kept with the stamp (for an adoption: why the outputs are trusted).
        code_sha256: the fingerprint of the code that made the outputs; default: the notebook's code now.

    Returns:
        The stamp.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    import torch

    import gan_teach

    record = {
        "mode": mode,
        "code_sha256": code_sha256 or code_fingerprint(notebook),
        "executed_by": executed_by,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%MZ"
        ),
        "gan_teach_version": gan_teach.__version__,
        "torch_version": torch.__version__,
    }
    if note:
        record["note"] = note
    metadata = notebook.setdefault("metadata", {})
    metadata.setdefault("gan_teach", {})["execution"] = record
    return record


def stamp_problems(notebook: Any) -> list[str]:
    """Why a notebook's stored outputs are not known to come from a full run of its current code.

    Returns:
        An empty list when the stamp is there, says ``full`` and matches the code; otherwise the reasons.

    >>> notebook = {"cells": [{"cell_type": "code", "source": "x = 1"}], "metadata": {}}
    >>> stamp_problems(notebook)
    ['no execution stamp: run `make execute NOTEBOOKS=<this notebook>` (a full run) and commit it; see CONTRIBUTING.md']
    """
    record = (
        notebook.get("metadata", {}).get("gan_teach", {}).get("execution")
    )
    if not record:
        return [
            "no execution stamp: run `make execute NOTEBOOKS=<this notebook>` (a full run) and commit it; see CONTRIBUTING.md"
        ]
    problems = []
    if record.get("mode") != "full":
        problems.append(
            f"its outputs come from a {record.get('mode')!r} run; the book shows full runs: `make execute`"
        )
    if record.get("code_sha256") != code_fingerprint(notebook):
        problems.append(
            f"its code changed after the run of {record.get('date')}: re-execute it with `make execute`"
        )
    return problems


def execute_notebook(
    path: str | Path, mode: str = "full", timeout: int | None = None
) -> list[str]:
    """Run a notebook top to bottom in its own folder, write its outputs back, and stamp it.

    The file is written only when the run succeeded and no output shows an error, so a failed or
    interrupted run never leaves a half-executed notebook behind.

    Args:
        path: the ``.ipynb`` file.
        mode: ``"full"`` (``GAN_TEACH_FAST=0``: the runs the book's prose describes) or ``"fast"``.
        timeout: per-cell limit in seconds; ``None`` for none (full training runs take many minutes).

    Returns:
        The problems found (empty on success; the file is then rewritten).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import (
        CellExecutionError,
        CellTimeoutError,
        DeadKernelError,
    )

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    saved = os.environ.get("GAN_TEACH_FAST")
    os.environ["GAN_TEACH_FAST"] = (
        "1" if mode == "fast" else "0"
    )  # the kernel inherits it; it overrides CI=true
    try:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent.resolve())}},
        )
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        return [
            f"the run failed: {type(error).__name__}: {str(error).strip().splitlines()[-1][:300]}"
        ]
    finally:
        if saved is None:
            os.environ.pop("GAN_TEACH_FAST", None)
        else:
            os.environ["GAN_TEACH_FAST"] = saved
    problems = stored_errors(notebook)
    if problems:
        return problems
    # the widgets' saved state: nothing reads it (the book loads no widget
    # manager, a kernel makes its widgets afresh) and it weighs ~80 kB a page
    notebook.metadata.pop("widgets", None)
    stamp(notebook, mode)
    nbformat.write(notebook, path)
    return []


def _notebooks(paths: Iterable[str], book: Path) -> list[Path]:
    chosen = [Path(path) for path in paths] or sorted(book.glob("*.ipynb"))
    missing = [str(path) for path in chosen if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"no such notebook: {', '.join(missing)} (pass paths such as book/lab.ipynb)"
        )
    return chosen


def _read_json(path: Path) -> dict:
    import json

    return json.loads(path.read_text(encoding="utf-8"))


def _fingerprint_at(commit: str, path: Path) -> str:
    """The code fingerprint of ``path`` as it was at ``commit`` (read with ``git show``)."""
    import json
    import subprocess

    relative = path.resolve().relative_to(
        Path(
            subprocess.run(
                ["git", "rev-parse", "--show-toplevel"],
                cwd=path.parent,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        ).resolve()
    )
    shown = subprocess.run(
        ["git", "show", f"{commit}:{relative.as_posix()}"],
        cwd=path.parent,
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0:
        raise FileNotFoundError(
            f"git cannot show {relative} at {commit}: {shown.stderr.strip()}"
        )
    return code_fingerprint(json.loads(shown.stdout))


def _run_times(notebook: Any) -> list[str]:
    """When each code cell of the stored run started (nbclient's timestamps); empty strings where none."""
    return [
        cell.get("metadata", {})
        .get("execution", {})
        .get("iopub.execute_input", "")
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    ]


def provenance(path: str | Path) -> dict:
    """Which commit stored the outputs of ``path``, and whether its code changed since (a report, no stamp).

    Walks the notebook's git history from the newest commit back while the cells' execution timestamps stay
    those of the current file: the oldest such commit is the one that stored this run. Its code fingerprint is
    compared with the current one. Use it to decide between ``adopt --at COMMIT`` and ``execute``.

    Returns:
        ``{"commit", "same_code", "one_run", "unrun_cells"}``: ``one_run`` is true when the execution counts
        go 1, 2, 3, ... in order (one top-to-bottom run); ``unrun_cells`` counts code cells with no count.
    """
    import json
    import subprocess

    path = Path(path)
    current = _read_json(path)
    times = _run_times(current)
    log = subprocess.run(
        ["git", "log", "--format=%h", "--", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    origin, origin_notebook = None, None
    for commit in log:
        shown = subprocess.run(
            ["git", "show", f"{commit}:./{path.name}"],
            cwd=path.parent,
            capture_output=True,
            text=True,
        )
        if shown.returncode != 0:
            break
        notebook = json.loads(shown.stdout)
        if _run_times(notebook) != times and set(_run_times(notebook)) - {
            ""
        } != set(times) - {""}:
            break
        origin, origin_notebook = commit, notebook
    counts = [
        cell.get("execution_count")
        for cell in current["cells"]
        if cell["cell_type"] == "code"
    ]
    numbered = [count for count in counts if count is not None]
    return {
        "commit": origin,
        "same_code": origin_notebook is not None
        and code_fingerprint(origin_notebook) == code_fingerprint(current),
        "one_run": numbered == list(range(1, len(numbered) + 1)),
        "unrun_cells": counts.count(None),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gan_teach.course.stored_outputs execute|check|adopt [NOTEBOOK ...]``; exit status 1 on problems."""
    parser = argparse.ArgumentParser(
        prog="python -m gan_teach.course.stored_outputs",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument(
        "--book",
        type=Path,
        default=Path("book"),
        help="the chapters' folder (default: book)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    execute = commands.add_parser(
        "execute",
        help="run notebooks, write their outputs back, stamp them",
    )
    execute.add_argument("--mode", choices=MODES, default="full")
    execute.add_argument(
        "--timeout",
        type=int,
        default=None,
        help="per-cell limit in seconds (default: none)",
    )
    check = commands.add_parser(
        "check",
        help="report stored errors and missing, fast or stale stamps",
    )
    check.add_argument(
        "--errors-only",
        action="store_true",
        help="only look for stored error outputs",
    )
    adopt = commands.add_parser(
        "adopt",
        help="stamp existing outputs as a full run WITHOUT running (see --note)",
    )
    adopt.add_argument(
        "--note",
        required=True,
        help="why the stored outputs are known to come from a full run of this code (kept in the stamp)",
    )
    adopt.add_argument(
        "--at",
        metavar="COMMIT",
        default=None,
        help="the commit whose code made the outputs: the stamp takes that code's fingerprint, so a "
        "change of the code since then still fails the check (default: the code now)",
    )
    commands.add_parser(
        "provenance",
        help="report the commit that stored each run and whether the code changed "
        "since (changes nothing)",
    )
    for command in (execute, check, adopt, commands.choices["provenance"]):
        command.add_argument(
            "notebooks", nargs="*", help="default: every notebook of --book"
        )
    args = parser.parse_args(argv)
    if args.command != "check":
        import nbformat

    failed = 0
    for path in _notebooks(args.notebooks, args.book):
        if args.command == "provenance":
            found = provenance(path)
            verdict = (
                "its code is unchanged since: `adopt --at` that commit if that run was a full one"
                if found["same_code"]
                and found["one_run"]
                and not found["unrun_cells"]
                else "re-execute it (`make execute`)"
            )
            print(
                f"{path}: run stored by {found['commit']}; code unchanged since: {found['same_code']}; one "
                f"top-to-bottom run: {found['one_run']}; cells never run: {found['unrun_cells']}: {verdict}"
            )
            continue
        if args.command == "execute":
            print(f"{path}: executing ({args.mode})", flush=True)
            started = datetime.datetime.now()
            problems = execute_notebook(path, args.mode, args.timeout)
            seconds = (datetime.datetime.now() - started).total_seconds()
            print(
                f"{path}: {'FAILED, file left as it was' if problems else 'done, outputs written'} ({seconds:.0f} s)"
            )
        else:
            notebook = (
                nbformat.read(path, as_version=4)
                if args.command == "adopt"
                else _read_json(path)
            )
            problems = stored_errors(notebook)
            if args.command == "check" and not args.errors_only:
                problems += stamp_problems(notebook)
            if args.command == "adopt" and not problems:
                fingerprint = (
                    _fingerprint_at(args.at, path) if args.at else None
                )
                by = (
                    f"adopted (outputs of the code at {args.at})"
                    if args.at
                    else "adopted"
                )
                stamp(
                    notebook,
                    "full",
                    executed_by=by,
                    note=args.note,
                    code_sha256=fingerprint,
                )
                nbformat.write(notebook, path)
                print(f"{path}: stamped as a full run (adopted)")
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
