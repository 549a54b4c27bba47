"""Checks for the code exercises of the practice chapter (``book/practice.ipynb``).

Both exercises repair the source article's discriminator, whose last layer ``Linear(128*7*7, 1)`` does
not match the feature map it receives:

- :func:`check_flattened_size` tests ``flattened_size(image_size, channels, kernel_size, stride, padding)``,
  the number of features a stack of convolutions hands to ``Flatten``;
- :func:`check_source_discriminator` tests ``make_source_discriminator(image_size, channels)``, a discriminator
  that works at any image size divisible by 4 and returns one logit per image.

Each check runs the student's function on hidden cases, prints ``All N hidden cases passed.`` or
``Not yet: <what is wrong>``, and never prints the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from .. import ExerciseCheckError, run_check

__all__ = [
    "check_flattened_size",
    "check_source_discriminator",
    "conv_stack",
]

# The source article's hard-coded size, 128 * 7 * 7: right for 28x28 images only.
_SOURCE_FLATTENED_SIZE = 128 * 7 * 7


def conv_stack(
    in_channels: int,
    channels: Sequence[int],
    kernel_size: int = 4,
    stride: int = 2,
    padding: int = 1,
) -> nn.Sequential:
    """The convolutions that ``flattened_size`` describes: one ``Conv2d`` per entry of ``channels``.

    Args:
        in_channels: channels of the input images (3 for RGB).
        channels: output channels of each convolution, in order.
        kernel_size, stride, padding: the same for every convolution.

    Returns:
        ``Conv2d`` layers with a ``LeakyReLU`` after each, then ``Flatten``.

    >>> conv_stack(3, [64, 128])(torch.zeros(1, 3, 32, 32)).shape  # (1, 128, 8, 8) flattened
    torch.Size([1, 8192])
    """
    layers: list[nn.Module] = []
    for out_channels in channels:
        layers += [
            nn.Conv2d(
                in_channels, out_channels, kernel_size, stride, padding
            ),
            nn.LeakyReLU(0.2),
        ]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.Flatten())


def _measured_size(
    image_size: int,
    channels: Sequence[int],
    kernel_size: int,
    stride: int,
    padding: int,
) -> int:
    """The true answer, measured by running the layers on one blank image (no formula to copy from here)."""
    with torch.no_grad():
        return conv_stack(1, channels, kernel_size, stride, padding)(
            torch.zeros(1, 1, image_size, image_size)
        ).shape[1]


# (image_size, channels, kernel_size, stride, padding): the source's stack at several sizes, odd sizes
# where the rounding matters, a size-preserving 3x3 stack, and a 5x5 stack.
_FLATTENED_CASES: list[tuple[int, tuple[int, ...], int, int, int]] = [
    (64, (64, 128), 4, 2, 1),
    (32, (64, 128), 4, 2, 1),
    (28, (64, 128), 4, 2, 1),
    (48, (32, 64, 128), 4, 2, 1),
    (28, (16, 32, 64), 4, 2, 1),  # 28 -> 14 -> 7 -> an odd side
    (30, (8, 16), 3, 1, 1),
    (45, (10, 20, 40), 5, 2, 2),
    (96, (64, 128, 256, 512), 4, 2, 1),
]


def check_flattened_size(
    student_function: Callable[..., int], *, raise_on_failure: bool = False
) -> bool:
    """Test a student's ``flattened_size`` on hidden convolution stacks.

    Args:
        student_function: ``f(image_size, channels, kernel_size=4, stride=2, padding=1) -> int``, the number of
            features after square ``image_size`` x ``image_size`` images pass through one ``Conv2d`` per entry of
            ``channels`` (each with that kernel size, stride and padding) and ``Flatten``.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every case passed.
    """

    def run_cases() -> int:
        for (
            image_size,
            channels,
            kernel_size,
            stride,
            padding,
        ) in _FLATTENED_CASES:
            expected = _measured_size(
                image_size, channels, kernel_size, stride, padding
            )
            answer = student_function(
                image_size,
                list(channels),
                kernel_size=kernel_size,
                stride=stride,
                padding=padding,
            )
            case = (
                f"for {image_size}x{image_size} images through {len(channels)} convolution(s) with output channels "
                f"{list(channels)} (kernel {kernel_size}, stride {stride}, padding {padding})"
            )
            if isinstance(answer, bool) or not isinstance(answer, int):
                if isinstance(answer, float) and answer == expected:
                    raise ExerciseCheckError(
                        f"{case} you returned a float, {answer!r}; return an int (use //, not /)"
                    )
                raise ExerciseCheckError(
                    f"{case} you returned {answer!r} ({type(answer).__name__}); return an int"
                )
            if answer == expected:
                continue
            last_channels = channels[-1]
            side_squared = expected // last_channels
            if answer == _SOURCE_FLATTENED_SIZE:
                hint = "that is the source article's hard-coded 128 * 7 * 7, right only for one image size."
            elif answer == side_squared:
                hint = "that is the area of the last feature map: multiply it by the last layer's number of channels."
            elif answer % last_channels != 0:
                hint = (
                    f"the flattened size is channels x height x width of the last feature map, so it must be a "
                    f"multiple of the last layer's {last_channels} channels."
                )
            else:
                hint = (
                    f"too {'large' if answer > expected else 'small'}: apply "
                    "floor((side + 2 * padding - kernel_size) / stride) + 1 once per convolution, with this "
                    "case's kernel size, stride and padding (a side halves exactly only for kernel 4, stride 2, "
                    "padding 1 and an even side)."
                )
            raise ExerciseCheckError(
                f"{case} you returned {answer}, which is not what Flatten receives; {hint}"
            )
        return len(_FLATTENED_CASES)

    return run_check(run_cases, raise_on_failure=raise_on_failure)


# (image_size, channels) pairs the student's discriminator must handle; 48 and 16 are in no lookup table.
_DISCRIMINATOR_CASES = [(64, 3), (32, 3), (48, 3), (16, 1), (28, 1)]
_BATCH = 6


def check_source_discriminator(
    make_discriminator: Callable[[int, int], nn.Module],
    *,
    raise_on_failure: bool = False,
) -> bool:
    """Test a student's repaired source discriminator on hidden image sizes.

    Args:
        make_discriminator: ``f(image_size, channels) -> nn.Module``; the module must accept images
            ``(N, channels, image_size, image_size)`` for any ``image_size`` divisible by 4 and return one raw
            score (logit) per image, shape ``(N,)``, with no sigmoid.
        raise_on_failure: raise :class:`~gan_teach.course.ExerciseCheckError` instead of printing the message.

    Returns:
        True if every case passed.
    """
    generator = torch.Generator().manual_seed(2015)

    def run_cases() -> int:
        for image_size, channels in _DISCRIMINATOR_CASES:
            shape = (_BATCH, channels, image_size, image_size)
            try:
                discriminator = make_discriminator(image_size, channels)
            except Exception as error:  # noqa: BLE001 - any failure is the student's to read
                raise ExerciseCheckError(
                    f"make_source_discriminator({image_size}, {channels}) raised {type(error).__name__}: {error}"
                ) from None
            if not isinstance(discriminator, nn.Module):
                raise ExerciseCheckError(
                    f"return an nn.Module, not {type(discriminator).__name__}"
                )
            images = (
                torch.rand(shape, generator=generator) * 2 - 1
            )  # in [-1, 1], like real and generated images
            images.requires_grad_(True)
            try:
                scores = discriminator(images)
            except RuntimeError as error:
                raise ExerciseCheckError(
                    f"your discriminator for {image_size}x{image_size} images crashed on a batch of shape {shape}: "
                    f"{error}. Hint: the Linear layer's input size must equal the flattened feature map, which "
                    "depends on image_size."
                ) from None
            if not isinstance(scores, torch.Tensor):
                raise ExerciseCheckError(
                    f"the forward pass must return a tensor, not {type(scores).__name__}"
                )
            if tuple(scores.shape) == (_BATCH, 1):
                raise ExerciseCheckError(
                    f"for a batch of {_BATCH} images your discriminator returns shape ({_BATCH}, 1); return one "
                    f"logit per image as shape ({_BATCH},): drop the last dimension with .squeeze(1)."
                )
            if tuple(scores.shape) != (_BATCH,):
                raise ExerciseCheckError(
                    f"for a batch of shape {shape} your discriminator returns shape {tuple(scores.shape)}; "
                    f"expected one logit per image, shape ({_BATCH},)."
                )
            if any(
                isinstance(layer, nn.Sigmoid)
                for layer in discriminator.modules()
            ):
                raise ExerciseCheckError(
                    "your discriminator contains an nn.Sigmoid: return raw scores (logits). The non-saturating "
                    "loss applies the sigmoid itself (BCE with logits), and a Wasserstein critic must not have one."
                )
            if not bool(torch.isfinite(scores).all()):
                raise ExerciseCheckError(
                    f"your discriminator returns non-finite scores for {image_size}x{image_size} images"
                )
            all_scores = torch.cat(
                [scores.detach(), _scaled_scores(discriminator, images)]
            )
            if bool(((all_scores > 0) & (all_scores < 1)).all()):
                raise ExerciseCheckError(
                    "all your scores lie strictly between 0 and 1, even for very different inputs: is there a "
                    "torch.sigmoid in forward? Return raw scores (logits); the loss applies the sigmoid."
                )
            (gradient,) = torch.autograd.grad(
                scores.sum(), images, allow_unused=True
            )
            if gradient is None or not bool(gradient.abs().sum() > 0):
                raise ExerciseCheckError(
                    "the scores do not depend on the images (no gradient reaches them): the generator could never "
                    "learn from this discriminator."
                )
        return len(_DISCRIMINATOR_CASES)

    return run_check(run_cases, raise_on_failure=raise_on_failure)


def _scaled_scores(
    discriminator: nn.Module, images: torch.Tensor
) -> torch.Tensor:
    """Scores for strongly scaled copies of ``images``: raw logits leave (0, 1), sigmoid outputs cannot."""
    with torch.no_grad():
        return torch.cat(
            [
                discriminator(images.detach() * scale)
                for scale in (-20.0, 20.0)
            ]
        )
