"""The math chapter's check: a student's optimal discriminator ``D*`` on hidden density pairs."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ...instruments.theory import optimal_discriminator, pointwise_objective
from .. import ExerciseCheckError, run_check

__all__ = ["check_optimal_discriminator"]


def check_optimal_discriminator(
    student_function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    raise_on_failure: bool = False,
) -> bool:
    """Test a student's ``D*`` on hidden density pairs, and say what is wrong without giving the answer.

    Args:
        student_function: ``f(p_data, p_g) -> D`` for two ``(N,)`` float64 tensors of density values with
            ``p_data + p_g > 0`` at every point; it must return ``D`` at every point, ``(N,)``.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every check passed.
    """
    generator = torch.Generator().manual_seed(2014)
    cases = [
        torch.rand(2, 50, generator=generator, dtype=torch.float64) * scale
        for scale in (1.0, 0.01, 40.0)
    ]
    cases.append(
        torch.tensor(
            [[0.3, 0.0, 0.2, 1.0], [0.1, 0.2, 0.0, 1.0]],
            dtype=torch.float64,
        )
    )  # zeros and ties

    def run_cases() -> int:
        for p_data, p_g in cases:
            answer = student_function(p_data.clone(), p_g.clone())
            if not isinstance(answer, torch.Tensor):
                raise ExerciseCheckError(
                    f"return a torch.Tensor, not {type(answer).__name__}"
                )
            if answer.shape != p_data.shape:
                raise ExerciseCheckError(
                    f"D must have one value per point: expected shape {tuple(p_data.shape)}, got {tuple(answer.shape)}"
                )
            answer = answer.to(torch.float64)
            if not bool(torch.isfinite(answer).all()) or bool(
                (answer < 0).any() | (answer > 1).any()
            ):
                raise ExerciseCheckError(
                    "D(x) is a probability: every value must be finite and lie in [0, 1]"
                )
            best = pointwise_objective(
                optimal_discriminator(p_data, p_g), p_data, p_g
            )
            gap = best - pointwise_objective(
                answer, p_data, p_g
            )  # >= 0; 0 only at the optimum
            worst = int(gap.argmax())
            if gap[worst] > 1e-9 * (1 + best[worst].abs()):
                a, b, d = (
                    p_data[worst].item(),
                    p_g[worst].item(),
                    answer[worst].item(),
                )
                direction = (
                    "larger"
                    if d
                    < optimal_discriminator(
                        p_data[worst], p_g[worst]
                    ).item()
                    else "smaller"
                )
                raise ExerciseCheckError(
                    f"at a point where p_data = {a:.3g} and p_g = {b:.3g} your D = {d:.4f}, but a {direction} D gives a "
                    "larger p_data log D + p_g log(1 - D). Hint: maximise that expression over D for fixed densities."
                )
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
