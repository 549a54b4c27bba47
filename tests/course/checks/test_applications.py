"""The applications chapter's code exercise: a right answer passes, the usual wrong ones fail with a useful hint."""

import pytest
import torch

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.applications import (
    check_masked_reconstruction_loss,
)
from gan_teach.instruments.inpainting import masked_reconstruction_loss


def correct(images, target, mask):
    return (mask * (images - target) ** 2).flatten(1).sum(
        dim=1
    ) / mask.flatten(1).sum(dim=1)


def test_correct_answer_passes(capsys):
    assert check_masked_reconstruction_loss(correct, raise_on_failure=True)
    assert check_masked_reconstruction_loss(masked_reconstruction_loss)
    assert "All 3 hidden cases passed." in capsys.readouterr().out


def test_placeholder_fails_without_raising(capsys):
    assert not check_masked_reconstruction_loss(
        lambda images, target, mask: torch.zeros(images.shape[0])
    )
    assert capsys.readouterr().out.startswith("Not yet:")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda images, target, mask: (
                ((images - target) ** 2).flatten(1).mean(dim=1)
            ),
            "hidden pixels must not count",
        ),
        (
            lambda images, target, mask: correct(images, target, 1 - mask),
            "use mask, not 1 - mask",
        ),
        (
            lambda images, target, mask: (
                (mask * (images - target) ** 2).flatten(1).sum(dim=1)
            ),
            "SUM of the squared",
        ),
        (
            lambda images, target, mask: (
                (mask * (images - target) ** 2).flatten(1).mean(dim=1)
            ),
            "number of visible pixels",
        ),
        (
            lambda images, target, mask: (
                (mask * (images - target) ** 2).sum() / mask.sum()
            ),
            "one loss per image",
        ),
        (
            lambda images, target, mask: (
                mask * (images - target) ** 2
            ).sum(dim=(2, 3)),
            "one loss per image",
        ),
    ],
)
def test_typical_mistakes_fail_with_a_hint(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_masked_reconstruction_loss(wrong, raise_on_failure=True)


def test_the_answer_is_never_printed(capsys):
    check_masked_reconstruction_loss(
        lambda images, target, mask: torch.ones(
            images.shape[0], dtype=images.dtype
        )
    )
    output = capsys.readouterr().out
    assert "/ mask" not in output and "sum(dim=1) /" not in output
