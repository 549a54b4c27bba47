"""Checks for the code exercises of the chapter "Future trends and challenges" (``book/future.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ...instruments.forensics import nearest_neighbour_distances
from .. import ExerciseCheckError, run_check

__all__ = ["check_nearest_neighbour_distance"]

NearestNeighbourFunction = Callable[..., torch.Tensor]


def _hidden_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, bool]]:
    """(description, queries, references, same_set): small, so that every reasonable method is exact."""
    generator = torch.Generator().manual_seed(2019)

    def images(count: int) -> torch.Tensor:
        return (
            torch.rand(count, 1, 4, 4, generator=generator) * 2 - 1
        )  # (count, 1, 4, 4) in [-1, 1]

    references = images(7)
    with_copy = images(5)
    with_copy[2] = references[
        4
    ]  # a "generated" image that is a training image: a memorised copy
    training = images(6)
    training[3] = training[
        1
    ]  # a training set with an exact duplicate, as real data sets have
    return [
        (
            "5 generated images against 7 training images",
            images(5),
            references,
            False,
        ),
        (
            "3 generated images against 7 training images, two channels",
            torch.rand(3, 2, 4, 4, generator=generator),
            torch.rand(7, 2, 4, 4, generator=generator),
            False,
        ),
        (
            "5 generated images, one of them a copy of a training image",
            with_copy,
            references,
            False,
        ),
        (
            "7 training images against themselves (same_set=True)",
            references,
            references,
            True,
        ),
        (
            "6 training images, two of them identical, against themselves (same_set=True)",
            training,
            training,
            True,
        ),
    ]


def check_nearest_neighbour_distance(
    student_function: NearestNeighbourFunction,
    *,
    raise_on_failure: bool = False,
) -> bool:
    """Test a student's nearest-neighbour distance on hidden cases, and say what is wrong without the answer.

    Args:
        student_function: ``f(queries, references, same_set=False) -> distances``, where ``queries`` is
            ``(Q, C, H, W)``, ``references`` is ``(R, C, H, W)``, and ``distances`` ``(Q,)`` holds, for each
            query, the Euclidean distance to its closest reference; with ``same_set=True`` the two arguments
            are the same images and each image must skip itself (by position, not by value).
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every case passed.
    """
    cases = _hidden_cases()

    def run_cases() -> int:
        for description, queries, references, same_set in cases:
            try:
                answer = student_function(
                    queries.clone(), references.clone(), same_set=same_set
                )
            except Exception as error:  # a crash is a wrong answer too; say where it happened
                raise ExerciseCheckError(
                    f"on {description} (shapes {tuple(queries.shape)} and {tuple(references.shape)}) your function "
                    f"raised {type(error).__name__}: {error}. Images are (N, C, H, W): compare them as flat vectors, "
                    "images.flatten(1), and accept the keyword argument same_set."
                ) from error
            if not isinstance(answer, torch.Tensor):
                raise ExerciseCheckError(
                    f"return a torch.Tensor of distances, not {type(answer).__name__}"
                )
            expected, _ = nearest_neighbour_distances(
                queries, references, same_set=same_set
            )
            if answer.shape != expected.shape:
                hint = ""
                if answer.numel() == len(references) and len(
                    references
                ) != len(queries):
                    hint = (
                        " You returned one value per *reference*: take the minimum over the references "
                        "for each query, not over the queries."
                    )
                elif answer.dim() == 2:
                    hint = " You returned a matrix: keep only the smallest distance for each query."
                raise ExerciseCheckError(
                    f"on {description} there must be one distance per query, shape {tuple(expected.shape)}; "
                    f"got {tuple(answer.shape)}.{hint}"
                )
            answer = answer.detach().double().cpu()
            expected = expected.double()
            if not bool(torch.isfinite(answer).all()) or bool(
                (answer < 0).any()
            ):
                raise ExerciseCheckError(
                    f"on {description} some distances are negative, NaN or infinite"
                )
            if torch.allclose(answer, expected, rtol=1e-4, atol=1e-4):
                continue
            if torch.allclose(answer, expected**2, rtol=1e-4, atol=1e-4):
                raise ExerciseCheckError(
                    f"on {description} your values are squared distances: take the square root (the Euclidean "
                    "distance is the square root of the sum of squared pixel differences)."
                )
            if same_set and bool((answer < 1e-6).all()):
                raise ExerciseCheckError(
                    f"on {description} every distance is 0: each image found itself. With same_set=True, "
                    "skip each image's own position before taking the minimum."
                )
            worst = int((answer - expected).abs().argmax())
            if expected[worst] < 1e-6:
                what = (
                    "an exact duplicate of another image in the set"
                    if same_set
                    else "an exact copy of a training image, the memorisation this check is meant to catch"
                )
                raise ExerciseCheckError(
                    f"on {description} query {worst} is {what}, so its distance must be 0; yours is "
                    f"{answer[worst].item():.4f}. Skip only the image itself (same position), never every "
                    "image at distance 0."
                )
            if answer[worst] > expected[worst]:
                raise ExerciseCheckError(
                    f"on {description} query {worst} has a reference closer than your {answer[worst].item():.4f}: "
                    "take the minimum over all references (not the mean, not the first one)."
                )
            raise ExerciseCheckError(
                f"on {description} no reference is as close to query {worst} as your {answer[worst].item():.4f}: "
                "check the distance formula (the square root of the sum of squared differences over all pixels)."
            )
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
