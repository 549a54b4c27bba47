"""Every code exercise of the book: which chapter, which function the student writes, which check tests it.

The student edition and the grader read this list; ``tests/course/test_student.py`` checks that it
matches the book's starter cells exactly, so a new code exercise cannot be forgotten here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CodeExercise", "CODE_EXERCISES", "CHAPTERS", "exercises_of"]

#: The chapters of the book, as notebook names (book/<name>.ipynb), in the order of _toc.yml.
CHAPTERS = (
    "background",
    "concepts",
    "algorithm",
    "lab",
    "math",
    "practice",
    "latent",
    "failures",
    "applications",
    "tools",
    "future",
)


@dataclass(frozen=True)
class CodeExercise:
    """One code exercise.

    Attributes:
        chapter: the notebook's name, e.g. ``"algorithm"`` for ``book/algorithm.ipynb``.
        label: the exercise's label in the book, e.g. ``"ex-algorithm-discriminator-loss"``.
        function_name: the function the student completes in the starter cell.
        check_path: ``"module:function"`` of the check that tests it.
    """

    chapter: str
    label: str
    function_name: str
    check_path: str

    def check(self) -> Callable[..., bool]:
        """The check function itself, ``check(student_function, *, raise_on_failure=False) -> bool``."""
        module_name, function_name = self.check_path.split(":")
        return getattr(importlib.import_module(module_name), function_name)


#: Every code exercise of the book, chapter by chapter.
#:
#: :meta hide-value:
CODE_EXERCISES: tuple[CodeExercise, ...] = (
    CodeExercise(
        "background",
        "ex-background-log-likelihood",
        "my_average_log_likelihood",
        "gan_teach.course.checks.background:check_average_log_likelihood",
    ),
    CodeExercise(
        "concepts",
        "ex-concepts-mixture-generator",
        "my_mixture_generator",
        "gan_teach.course.checks.concepts:check_mixture_generator",
    ),
    CodeExercise(
        "algorithm",
        "ex-algorithm-discriminator-loss",
        "my_discriminator_loss",
        "gan_teach.course.checks.algorithm:check_discriminator_loss",
    ),
    CodeExercise(
        "algorithm",
        "ex-algorithm-discriminator-step",
        "my_discriminator_step",
        "gan_teach.course.checks.algorithm:check_discriminator_step",
    ),
    CodeExercise(
        "lab",
        "ex-lab-fake-push",
        "my_fake_push",
        "gan_teach.course.checks.lab:check_fake_push",
    ),
    CodeExercise(
        "math",
        "ex-code-optimal-discriminator",
        "my_optimal_discriminator",
        "gan_teach.course.checks.math:check_optimal_discriminator",
    ),
    CodeExercise(
        "practice",
        "ex-practice-flattened-size",
        "flattened_size",
        "gan_teach.course.checks.practice:check_flattened_size",
    ),
    CodeExercise(
        "practice",
        "ex-practice-source-discriminator",
        "make_source_discriminator",
        "gan_teach.course.checks.practice:check_source_discriminator",
    ),
    CodeExercise(
        "latent",
        "ex-latent-slerp",
        "my_slerp",
        "gan_teach.course.checks.latent:check_slerp",
    ),
    CodeExercise(
        "failures",
        "ex-failures-non-saturating-loss",
        "my_non_saturating_loss",
        "gan_teach.course.checks.failures:check_non_saturating_loss",
    ),
    CodeExercise(
        "applications",
        "ex-applications-masked-loss",
        "my_masked_reconstruction_loss",
        "gan_teach.course.checks.applications:check_masked_reconstruction_loss",
    ),
    CodeExercise(
        "tools",
        "ex-tools-diagonal-frechet",
        "my_diagonal_frechet_distance",
        "gan_teach.course.checks.tools:check_diagonal_frechet_distance",
    ),
    CodeExercise(
        "future",
        "ex-future-nearest-neighbour",
        "my_nearest_neighbour_distance",
        "gan_teach.course.checks.future:check_nearest_neighbour_distance",
    ),
)


def exercises_of(chapter: str) -> list[CodeExercise]:
    """The code exercises of one chapter, in book order.

    >>> [exercise.function_name for exercise in exercises_of("algorithm")]
    ['my_discriminator_loss', 'my_discriminator_step']
    """
    if chapter not in CHAPTERS:
        raise ValueError(
            f"unknown chapter {chapter!r}; the chapters are: {', '.join(CHAPTERS)}"
        )
    return [
        exercise
        for exercise in CODE_EXERCISES
        if exercise.chapter == chapter
    ]
