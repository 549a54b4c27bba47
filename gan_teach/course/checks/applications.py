"""Checks for the code exercises of the applications chapter (``book/applications.ipynb``)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ...instruments.inpainting import masked_reconstruction_loss
from .. import ExerciseCheckError, run_check

__all__ = ["check_masked_reconstruction_loss"]

LossFunction = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor
]


def _cases() -> list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Hidden cases ``(description, images, target, mask)``; masks differ in size from image to image."""
    generator = torch.Generator().manual_seed(2017)
    cases = []
    # A batch of 3 images whose masks show 1/4, 1/2 and 3/4 of the rows: a sum or a mean over all pixels shows up.
    images = (
        torch.rand(3, 1, 8, 8, generator=generator, dtype=torch.float64) * 2
        - 1
    )
    target = (
        torch.rand(3, 1, 8, 8, generator=generator, dtype=torch.float64) * 2
        - 1
    )
    mask = torch.zeros(3, 1, 8, 8, dtype=torch.float64)
    for index, visible_rows in enumerate((2, 4, 6)):
        mask[index, :, :visible_rows] = 1.0
    cases.append(
        ("three images with different visible areas", images, target, mask)
    )
    # Random scattered masks on 2 colour channels; the hidden pixels of the target are far off, on purpose.
    images = (
        torch.rand(4, 2, 5, 5, generator=generator, dtype=torch.float64) * 2
        - 1
    )
    mask = (torch.rand(4, 2, 5, 5, generator=generator) < 0.4).double()
    mask[:, 0, 0, 0] = 1.0  # at least one visible pixel per image
    target = torch.where(
        mask.bool(),
        images
        + 0.3
        * torch.randn(
            images.shape, generator=generator, dtype=torch.float64
        ),
        torch.full_like(images, 9.0),
    )
    cases.append(
        (
            "scattered masks whose hidden pixels hold junk",
            images,
            target,
            mask,
        )
    )
    # A perfect fit on the visible pixels, and nothing hidden in the second image.
    images = torch.rand(
        2, 1, 4, 4, generator=generator, dtype=torch.float64
    )
    target = images.clone()
    target[0, :, 2:] += 5.0  # differs only where it is hidden
    mask = torch.ones(2, 1, 4, 4, dtype=torch.float64)
    mask[0, :, 2:] = 0.0
    cases.append(
        (
            "an image that matches on every visible pixel",
            images,
            target,
            mask,
        )
    )
    return cases


def _diagnose(
    answer: torch.Tensor,
    images: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
) -> str:
    """Name the usual mistake that ``answer`` matches, or a general hint."""
    squared_error = (images - target) ** 2
    per_image = lambda values: values.flatten(1)  # noqa: E731  (B, ...) -> (B, pixels)
    mistakes = {
        "it equals the mean squared error over ALL pixels: the hidden pixels must not count (multiply by the mask)": per_image(
            squared_error
        ).mean(dim=1),
        "it equals the error over the HIDDEN pixels: the mask is 1 where a pixel is visible, so use mask, not 1 - mask": per_image(
            (1 - mask) * squared_error
        ).sum(dim=1)
        / per_image(1 - mask).sum(dim=1).clamp(min=1),
        "it equals the SUM of the squared errors over the visible pixels: divide by the number of visible pixels": per_image(
            mask * squared_error
        ).sum(dim=1),
        "it divides by the number of ALL pixels, so images with fewer visible pixels get a smaller loss: "
        "divide by the number of visible pixels of each image (mask.sum)": per_image(
            mask * squared_error
        ).mean(dim=1),
        "it uses absolute errors: the loss squares the differences": per_image(
            mask * (images - target).abs()
        ).sum(dim=1)
        / per_image(mask).sum(dim=1),
    }
    for message, wrong in mistakes.items():
        if answer.shape == wrong.shape and torch.allclose(
            answer, wrong, rtol=1e-6, atol=1e-9
        ):
            return f"your loss is not right yet: {message}."
    return (
        "your loss differs from the masked mean squared error. Hint: for each image, add up mask * (images - "
        "target)^2 and divide by the number of visible pixels of that image."
    )


def check_masked_reconstruction_loss(
    student_function: LossFunction, *, raise_on_failure: bool = False
) -> bool:
    """Test a student's masked reconstruction loss on hidden cases, and say what is wrong without giving the answer.

    Args:
        student_function: ``f(images, target, mask) -> loss`` for ``(B, C, H, W)`` float64 tensors, with
            ``mask`` 1 on visible pixels and 0 on hidden ones; it must return one loss per image, ``(B,)``.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every case passed.
    """
    cases = _cases()

    def run_cases() -> int:
        for description, images, target, mask in cases:
            answer = student_function(
                images.clone(), target.clone(), mask.clone()
            )
            if not isinstance(answer, torch.Tensor):
                raise ExerciseCheckError(
                    f"return a torch.Tensor, not {type(answer).__name__}"
                )
            batch_size = images.shape[0]
            if answer.dim() == 0:
                raise ExerciseCheckError(
                    f"you returned one number for a batch of {batch_size} images; return one loss per image, shape "
                    f"({batch_size},): reduce over the pixels (dims 1, 2, 3) but not over the batch"
                )
            if tuple(answer.shape) != (batch_size,):
                raise ExerciseCheckError(
                    f"expected one loss per image, shape ({batch_size},), got {tuple(answer.shape)}: "
                    "reduce over every pixel of an image, e.g. with .flatten(1).sum(dim=1)"
                )
            answer = answer.detach().to(torch.float64)
            expected = masked_reconstruction_loss(images, target, mask)
            if not torch.allclose(answer, expected, rtol=1e-6, atol=1e-9):
                raise ExerciseCheckError(
                    f"on {description}, {_diagnose(answer, images, target, mask)}"
                )
        return len(cases)

    return run_check(run_cases, raise_on_failure=raise_on_failure)
