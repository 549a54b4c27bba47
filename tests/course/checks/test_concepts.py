"""The core-concepts chapter's code exercise: a generator written by hand for the two-mode mixture."""

import pytest
import torch

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.concepts import check_mixture_generator


def correct(u: torch.Tensor) -> torch.Tensor:
    left = u < 0.5  # the first half of the noise goes to the mode at -2
    within = torch.where(left, 2 * u, 2 * u - 1).clamp(
        1e-12, 1 - 1e-12
    )  # uniform again, within each half
    standard_normal = torch.distributions.Normal(
        torch.zeros((), dtype=u.dtype), torch.ones((), dtype=u.dtype)
    )
    return torch.where(left, -2.0, 2.0) + 0.5 * standard_normal.icdf(within)


def test_correct_answer_passes(capsys):
    assert check_mixture_generator(correct, raise_on_failure=True)
    assert "All 3 hidden cases passed." in capsys.readouterr().out


def test_one_mode_only_fails():
    with pytest.raises(
        ExerciseCheckError, match="half of the noise should go to each mode"
    ):
        check_mixture_generator(
            lambda u: 2 + 0.5 * correct(u).abs().sub(2),
            raise_on_failure=True,
        )


def test_point_masses_fail():
    with pytest.raises(ExerciseCheckError, match="not a single point"):
        check_mixture_generator(
            lambda u: torch.where(u < 0.5, -2.0, 2.0).to(u.dtype),
            raise_on_failure=True,
        )


def test_fresh_randomness_inside_the_generator_fails():
    def random_inside(u):
        return torch.where(u < 0.5, -2.0, 2.0).to(
            u.dtype
        ) + 0.5 * torch.randn_like(u)

    with pytest.raises(ExerciseCheckError, match="deterministic"):
        check_mixture_generator(random_inside, raise_on_failure=True)


def test_uniform_bumps_fail_on_shape():
    def uniform_bumps(u):
        within = torch.where(
            u < 0.5, 2 * u, 2 * u - 1
        )  # uniform on (0, 1): std 1/sqrt(12)
        return (
            torch.where(u < 0.5, -2.0, 2.0).to(u.dtype)
            + (within - 0.5) * 0.5 * 12**0.5
        )

    with pytest.raises(ExerciseCheckError, match="not Gaussian"):
        check_mixture_generator(uniform_bumps, raise_on_failure=True)


def test_wrong_shape_fails():
    with pytest.raises(ExerciseCheckError, match="shape"):
        check_mixture_generator(
            lambda u: correct(u)[:, None], raise_on_failure=True
        )
