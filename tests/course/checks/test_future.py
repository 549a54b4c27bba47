"""The check of the future chapter's code exercise: a right answer passes, typical wrong ones are explained."""

import pytest
import torch

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.future import check_nearest_neighbour_distance


def _pairwise(
    queries: torch.Tensor, references: torch.Tensor
) -> torch.Tensor:
    return torch.cdist(queries.flatten(1), references.flatten(1))  # (Q, R)


def right_answer(queries, references, same_set=False):
    distances = _pairwise(queries, references)
    if same_set:
        distances.fill_diagonal_(
            float("inf")
        )  # skip each image's own position
    return distances.min(dim=1).values


def squared(queries, references, same_set=False):
    return right_answer(queries, references, same_set) ** 2


def wrong_axis(queries, references, same_set=False):
    distances = _pairwise(queries, references)
    if same_set:
        distances.fill_diagonal_(float("inf"))
    return distances.min(dim=0).values


def includes_itself(queries, references, same_set=False):
    return _pairwise(queries, references).min(dim=1).values


def skips_every_zero(queries, references, same_set=False):
    distances = _pairwise(queries, references)
    distances[distances == 0] = float("inf")
    return distances.min(dim=1).values


def skips_zeros_only_in_same_set(queries, references, same_set=False):
    distances = _pairwise(queries, references)
    if same_set:
        distances[distances == 0] = float("inf")
    return distances.min(dim=1).values


def mean_distance(queries, references, same_set=False):
    return _pairwise(queries, references).mean(dim=1)


def not_flattened(queries, references, same_set=False):
    return torch.cdist(queries, references).min(dim=1).values


def test_check_accepts_the_right_answer(capsys):
    assert check_nearest_neighbour_distance(right_answer)
    assert capsys.readouterr().out.startswith("All 5 hidden cases passed.")


@pytest.mark.parametrize(
    "wrong_answer,message",
    [
        (squared, "squared distances"),
        (wrong_axis, "one value per \\*reference\\*"),
        (includes_itself, "each image found itself"),
        (skips_every_zero, "memorisation"),
        (skips_zeros_only_in_same_set, "exact duplicate"),
        (mean_distance, "take the minimum"),
        (not_flattened, "raised"),
        (
            lambda queries, references, same_set=False: right_answer(
                queries, references, same_set
            ).tolist(),
            "torch.Tensor",
        ),
        (
            lambda queries, references: right_answer(queries, references),
            "same_set",
        ),
    ],
)
def test_check_explains_wrong_answers(wrong_answer, message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_nearest_neighbour_distance(
            wrong_answer, raise_on_failure=True
        )


def test_check_prints_instead_of_raising_by_default(capsys):
    assert not check_nearest_neighbour_distance(squared)
    output = capsys.readouterr().out
    assert output.startswith("Not yet:") and "squared distances" in output
