"""The practice chapter's exercise checks accept right answers and explain typical wrong ones."""

import pytest
import torch
from torch import nn

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.practice import (
    check_flattened_size,
    check_source_discriminator,
)


def right_flattened_size(
    image_size, channels, kernel_size=4, stride=2, padding=1
):
    side = image_size
    for _ in channels:
        side = (side + 2 * padding - kernel_size) // stride + 1
    return channels[-1] * side * side


def test_flattened_size_accepts_the_formula(capsys):
    assert check_flattened_size(right_flattened_size)
    assert "hidden cases passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong_answer,message",
    [
        (
            lambda image_size, channels, **_: 128 * 7 * 7,
            "hard-coded 128 \\* 7 \\* 7",
        ),
        (
            lambda *args, **kwargs: (
                right_flattened_size(*args, **kwargs) // args[1][-1]
            ),
            "multiply it by the last layer",
        ),
        (
            lambda *args, **kwargs: float(
                right_flattened_size(*args, **kwargs)
            ),
            "return an int",
        ),
        (
            lambda image_size, channels, **_: (
                channels[-1] * (image_size // 2 ** len(channels)) ** 2
            ),
            "once per convolution",
        ),
        (
            lambda image_size, channels, **_: (
                channels[0] * (image_size // 4) ** 2
            ),
            "not what Flatten receives",
        ),
    ],
)
def test_flattened_size_explains_wrong_answers(wrong_answer, message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_flattened_size(wrong_answer, raise_on_failure=True)


def test_flattened_size_prints_without_the_answer(capsys):
    assert not check_flattened_size(lambda *args, **kwargs: 0)
    output = capsys.readouterr().out
    assert output.startswith("Not yet:") and "32768" not in output


class _Discriminator(nn.Module):
    """The source's discriminator with its bugs switchable, for the tests."""

    def __init__(
        self,
        image_size,
        channels,
        hard_coded=False,
        sigmoid=False,
        keep_dim=False,
        functional_sigmoid=False,
    ):
        super().__init__()
        side = 7 if hard_coded else image_size // 4
        layers = [
            nn.Conv2d(channels, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(128 * side * side, 1),
        ]
        if sigmoid:
            layers.append(nn.Sigmoid())
        self.main = nn.Sequential(*layers)
        self.keep_dim, self.functional_sigmoid = (
            keep_dim,
            functional_sigmoid,
        )

    def forward(self, images):
        scores = self.main(images)  # (N, 1)
        if self.functional_sigmoid:
            scores = torch.sigmoid(scores)
        return scores if self.keep_dim else scores.squeeze(1)


def test_source_discriminator_accepts_a_fixed_one(capsys):
    assert check_source_discriminator(
        lambda image_size, channels: _Discriminator(image_size, channels)
    )
    assert "hidden cases passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "options,message",
    [
        (
            {"hard_coded": True},
            "crashed on a batch .* depends on image_size",
        ),
        ({"sigmoid": True}, "contains an nn.Sigmoid"),
        ({"functional_sigmoid": True}, "torch.sigmoid in forward"),
        ({"keep_dim": True}, "squeeze"),
    ],
)
def test_source_discriminator_explains_wrong_answers(options, message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_source_discriminator(
            lambda image_size, channels: _Discriminator(
                image_size, channels, **options
            ),
            raise_on_failure=True,
        )


def test_source_discriminator_rejects_a_non_module():
    with pytest.raises(ExerciseCheckError, match="nn.Module"):
        check_source_discriminator(
            lambda image_size, channels: (
                lambda images: images.mean((1, 2, 3))
            ),
            raise_on_failure=True,
        )
