"""The failures chapter's exercise check accepts right answers and explains typical wrong ones."""

import pytest
import torch
import torch.nn.functional as F

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.failures import check_non_saturating_loss
from gan_teach.losses import non_saturating_generator_loss


def test_accepts_softplus_logsigmoid_and_the_library(capsys):
    assert check_non_saturating_loss(
        lambda logits: F.softplus(-logits).mean()
    )
    assert check_non_saturating_loss(
        lambda logits: -F.logsigmoid(logits).mean()
    )
    assert check_non_saturating_loss(non_saturating_generator_loss)
    assert "All 4 hidden cases passed." in capsys.readouterr().out


def test_accepts_binary_cross_entropy_with_logits_against_ones():
    assert check_non_saturating_loss(
        lambda logits: F.binary_cross_entropy_with_logits(
            logits, torch.ones_like(logits)
        ),
        raise_on_failure=True,
    )


@pytest.mark.parametrize(
    "wrong_answer,message",
    [
        (
            lambda logits: -torch.log(torch.sigmoid(logits)).mean(),
            "use a function that works on the logits",
        ),
        (
            lambda logits: torch.log(1 - torch.sigmoid(logits)).mean(),
            "minimax \\(saturating\\) loss",
        ),
        (lambda logits: F.logsigmoid(logits).mean(), "the sign is wrong"),
        (
            lambda logits: F.softplus(-logits).sum(),
            "that is the sum over the batch",
        ),
        (lambda logits: F.softplus(-logits), "return one number"),
        (
            lambda logits: (
                -torch.log(torch.sigmoid(logits).clamp(min=1e-8)).mean()
            ),
            "clamp the probability",
        ),
        (
            lambda logits: float(F.softplus(-logits).mean().detach()),
            "return a tensor",
        ),
        (lambda logits: F.softplus(-logits.detach()).mean(), "no gradient"),
    ],
)
def test_explains_typical_wrong_answers(wrong_answer, message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_non_saturating_loss(wrong_answer, raise_on_failure=True)


def test_prints_without_raising_and_without_the_answer(capsys):
    assert not check_non_saturating_loss(lambda logits: logits.mean() * 0)
    output = capsys.readouterr().out
    assert output.startswith("Not yet:") and "softplus(-" not in output


def test_a_crash_in_the_students_function_is_reported():
    def crashes(logits):
        raise RuntimeError("boom")

    with pytest.raises(
        ExerciseCheckError, match="raised RuntimeError: boom"
    ):
        check_non_saturating_loss(crashes, raise_on_failure=True)
