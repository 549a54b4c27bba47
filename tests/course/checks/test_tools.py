"""The tools chapter's code exercise: a right answer passes, the usual wrong ones fail with a useful hint."""

import numpy as np
import pytest
import torch

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.tools import check_diagonal_frechet_distance
from gan_teach.metrics import frechet_distance


def correct(mu1, var1, mu2, var2):
    return ((mu1 - mu2) ** 2).sum() + (
        (var1.sqrt() - var2.sqrt()) ** 2
    ).sum()


def test_correct_answers_pass(capsys):
    assert check_diagonal_frechet_distance(correct, raise_on_failure=True)
    assert check_diagonal_frechet_distance(
        lambda m1, v1, m2, v2: float(correct(m1, v1, m2, v2))
    )
    assert check_diagonal_frechet_distance(
        lambda m1, v1, m2, v2: frechet_distance(
            m1, torch.diag(v1), m2, torch.diag(v2)
        )
    )
    assert "All 5 hidden cases passed." in capsys.readouterr().out


def test_placeholder_fails_without_raising(capsys):
    assert not check_diagonal_frechet_distance(
        lambda mu1, var1, mu2, var2: 0.0
    )
    assert capsys.readouterr().out.startswith("Not yet:")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda mu1, var1, mu2, var2: ((mu1 - mu2) ** 2).sum(),
            "forgot the covariance",
        ),
        (
            lambda mu1, var1, mu2, var2: (
                ((mu1 - mu2) ** 2).sum() + ((var1 - var2) ** 2).sum()
            ),
            "standard deviations",
        ),
        (
            lambda mu1, var1, mu2, var2: (
                ((mu1 - mu2) ** 2).sum() + (var1 + var2).sum()
            ),
            "forgets - 2 tr",
        ),
        (
            lambda mu1, var1, mu2, var2: correct(
                mu1, var1, mu2, var2
            ).sqrt(),
            "do not take the root",
        ),
        (
            lambda mu1, var1, mu2, var2: (
                (mu1 - mu2) ** 2 + (var1.sqrt() - var2.sqrt()) ** 2
            ),
            "add up over",
        ),
        (lambda mu1, var1, mu2, var2: "12.5", "return a float"),
    ],
)
def test_typical_mistakes_fail_with_a_hint(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_diagonal_frechet_distance(wrong, raise_on_failure=True)


def test_diagonal_formula_matches_the_library_on_a_known_case():
    mu1, mu2 = np.zeros(2), np.ones(2)
    assert frechet_distance(
        mu1, np.eye(2), mu2, 4 * np.eye(2)
    ) == pytest.approx(4.0)
