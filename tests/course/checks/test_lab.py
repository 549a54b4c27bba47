import pytest
import torch
import torch.nn.functional as F

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.lab import check_fake_push
from gan_teach.instruments.lab import (
    LabSettings,
    create_lab_state,
    generator_gradients,
)


def autograd_push(discriminator, fake_points):
    points = fake_points.clone().requires_grad_(True)
    loss = F.softplus(
        -discriminator(points)
    ).sum()  # each point's own loss -log D(x), summed
    (gradient,) = torch.autograd.grad(loss, points)
    return -gradient


def backward_push(discriminator, fake_points):
    points = fake_points.detach().requires_grad_(True)
    (-torch.log(torch.sigmoid(discriminator(points)))).sum().backward()
    return -points.grad


def by_hand_push(discriminator, fake_points):
    """(1 - D(x)) times the gradient of the score: the chain rule written out."""
    points = fake_points.clone().requires_grad_(True)
    scores = discriminator(points)
    (score_gradient,) = torch.autograd.grad(scores.sum(), points)
    return (1 - torch.sigmoid(scores.detach()))[:, None] * score_gradient


@pytest.mark.parametrize(
    "answer", [autograd_push, backward_push, by_hand_push]
)
def test_correct_answers_pass(answer, capsys):
    assert check_fake_push(answer)
    assert "All 4 hidden cases passed." in capsys.readouterr().out


def test_the_library_arrows_pass():
    state = create_lab_state(
        LabSettings(width=8)
    )  # only its non-saturating loss is used

    def library_push(discriminator, fake_points):
        state.discriminator = discriminator
        return -generator_gradients(state, fake_points)

    assert check_fake_push(library_push, raise_on_failure=True)


def mean_loss_push(discriminator, fake_points):
    points = fake_points.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(
        F.softplus(-discriminator(points)).mean(), points
    )
    return -gradient


def minimax_push(discriminator, fake_points):
    points = fake_points.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(
        -F.softplus(discriminator(points)).sum(), points
    )  # log(1 - D), minimised
    return -gradient


def score_push(discriminator, fake_points):
    points = fake_points.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(discriminator(points).sum(), points)
    return gradient


WRONG = {
    "opposite way": lambda d, x: -autograd_push(d, x),
    "N times too short": mean_loss_push,
    "minimax loss": minimax_push,
    "raw score": score_push,
    "moved points": lambda d, x: x + autograd_push(d, x),
    "every arrow is zero": lambda d, x: torch.zeros_like(x),
    "shape": lambda d, x: autograd_push(d, x)[:, 0],
    "requires_grad_": lambda d, x: torch.autograd.grad(d(x).sum(), x)[0],
    "returned a list": lambda d, x: autograd_push(d, x).tolist(),
    "off by up to": lambda d, x: 2 * autograd_push(d, x),
}


@pytest.mark.parametrize("message", list(WRONG))
def test_typical_wrong_answers_fail_with_their_diagnosis(message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_fake_push(WRONG[message], raise_on_failure=True)


def test_a_failure_prints_not_yet_and_not_the_answer(capsys):
    assert not check_fake_push(lambda d, x: -autograd_push(d, x))
    out = capsys.readouterr().out
    assert out.startswith(
        "Not yet: on a hidden discriminator of width 16 and 8 points, your arrows point the opposite way"
    )
