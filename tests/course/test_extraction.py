"""What the grader re-runs of a submission: definitions only, so no cell can reach the checks."""

import json
from pathlib import Path

import pytest

from gan_teach.course.checker import define, run_checks
from gan_teach.course.extraction import checked_source
from gan_teach.course.registry import CHAPTERS
from gan_teach.course.student import strip_solutions

BOOK = Path(__file__).resolve().parents[2] / "book"


def _kept(*cells: str) -> list[str]:
    return checked_source(
        {"cells": [{"cell_type": "code", "source": cell} for cell in cells]}
    )


def test_definitions_are_kept_and_everything_else_left_out():
    kept = _kept(
        "import torch\nfrom torch import nn\nimport torch.nn.functional as F",
        "LATENT_DIM = 2\nSIZES: tuple = (1, 2)\nact = torch.tanh",
        "def my_loss(x, scale=1.0, *, device=torch.device('cpu')):\n    return x * scale",
        "class Block(nn.Module):\n    'A block.'\n    width = 3\n    def forward(self, x):\n        return x",
        "losses = train(generator)\nfor step in range(3):\n    pass\nprint('done')",
    )
    assert kept == [
        "import torch",
        "from torch import nn",
        "import torch.nn.functional as F",
        "LATENT_DIM = 2",
        "SIZES: tuple = (1, 2)",
        "act = torch.tanh",
        "def my_loss(x, scale=1.0, *, device=torch.device('cpu')):\n    return x * scale",
        'class Block(nn.Module):\n    """A block."""\n    width = 3\n\n    def forward(self, x):\n        return x',
    ]


@pytest.mark.parametrize(
    "forgery",
    [
        # a cell that patches the checks, directly or by a call
        "import gan_teach.course.checks.math as checks\nchecks.check_optimal_discriminator = lambda f, **k: True",
        "setattr(checks, 'run_check', lambda *a, **k: True)",
        "globals().update(my_optimal_discriminator=None)",
        # code that would run when a definition is made
        "def patch(f):\n    return f\n@patch\ndef my_optimal_discriminator(p_data, p_g):\n    return p_data",
        "def patch():\n    return 1\ndef my_optimal_discriminator(p_data, p_g, x=patch()):\n    return p_data",
        "import torch\ndef my_optimal_discriminator(p_data, p_g, x=torch.manual_seed(print)):\n    return p_data",
        "class Meta(type):\n    pass\nclass Sneaky(metaclass=Meta):\n    pass",
        "class Base:\n    def __init_subclass__(cls):\n        pass",
        "class Base:\n    __init_subclass__ = classmethod",
        "class Base:\n    hook = print('made')",
        "x = patch()",
        "x = [patch() for _ in range(2)]",
        # a name that no longer means the installed function it looks like
        "property = patch\nclass A:\n    @property\n    def f(self):\n        return 1",
        "import torch\nclass A:\n    torch = patch\n    @torch.no_grad()\n    def f(self):\n        return 1",
    ],
)
def test_nothing_that_runs_code_at_definition_time_is_kept(forgery):
    kept = _kept(forgery)
    for statement in kept:
        assert statement.startswith(
            ("import", "def patch", "class Meta", "property = patch")
        ), statement


def test_magics_and_guarded_imports_are_understood():
    kept = _kept(
        "try:\n    import gan_teach\nexcept ImportError:\n    %pip install gan-teach\n    import gan_teach",
        "%matplotlib inline\nimport math",
        "%%time\nimport os",
        "def broken(:\n    pass",
    )
    assert kept == ["import gan_teach", "import math"]


def test_a_magic_continued_over_lines_is_left_out_whole():
    kept = _kept(
        "try:\n    import gan_teach\nexcept ImportError:\n"
        '    %pip install --quiet \\\n        "gan-teach @ git+https://x"\n'
        "    import gan_teach\n\nimport math"
    )
    assert kept == ["import gan_teach", "import math"]


def test_annotations_are_never_evaluated():
    namespace, problems = define(
        ["def f(x: print_and_patch()) -> undefined_name:\n    return x + 1"]
    )
    assert problems == [] and namespace["f"](1) == 2


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_solution_in_the_book_passes_and_every_starter_fails(chapter):
    """Honest students who write like the book get their true score from the definitions alone."""
    notebook = json.loads((BOOK / f"{chapter}.ipynb").read_text())
    solved = run_checks(chapter, define(checked_source(notebook))[0])
    assert all(result["passed"] for result in solved.values()), solved
    student, _ = strip_solutions(notebook)
    starter = run_checks(chapter, define(checked_source(student))[0])
    assert not any(result["passed"] for result in starter.values()), starter


def test_code_nested_too_deeply_is_left_out_not_a_crash():
    deep = "x = " + "(" * 5000 + "1" + ")" * 5000
    assert _kept("import math", deep) == ["import math"]


def test_honest_helpers_are_kept():
    kept = _kept(
        "import torch\nfrom dataclasses import dataclass",
        "@dataclass(frozen=True)\nclass Sizes:\n    side: int\n    channels: int = 3",
        "class Head(torch.nn.Module):\n    @property\n    def width(self):\n        return 1\n"
        "    @staticmethod\n    def make():\n        return 2\n    @torch.no_grad()\n    def forward(self, x):\n        return x",
    )
    assert [statement.split("\n")[0] for statement in kept] == [
        "import torch",
        "from dataclasses import dataclass",
        "@dataclass(frozen=True)",
        "class Head(torch.nn.Module):",
    ]
    namespace, problems = define(kept)
    assert problems == [] and namespace["Sizes"](4).channels == 3
