import pytest
import torch
import torch.nn.functional as F

from gan_teach.course import ExerciseCheckError
from gan_teach.course.checks.algorithm import (
    check_discriminator_loss,
    check_discriminator_step,
)
from gan_teach.losses import bce_discriminator_loss

# ------------------------------------------------------------------------- discriminator loss


def with_logits(real_logits, fake_logits):
    real_loss = F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    )
    fake_loss = F.binary_cross_entropy_with_logits(
        fake_logits, torch.zeros_like(fake_logits)
    )
    return real_loss + fake_loss


@pytest.mark.parametrize("answer", [with_logits, bce_discriminator_loss])
def test_correct_losses_pass(answer, capsys):
    assert check_discriminator_loss(answer)
    assert "All 5 hidden cases passed." in capsys.readouterr().out


WRONG_LOSSES = {
    "fake term": lambda real, fake: F.binary_cross_entropy_with_logits(
        real, torch.ones_like(real)
    ),
    "labels swapped": lambda real, fake: with_logits(-real, -fake),
    "sigmoid is applied twice": lambda real, fake: with_logits(
        torch.sigmoid(real), torch.sigmoid(fake)
    ),
    "summed over the batch": lambda real, fake: (
        F.softplus(-real).sum() + F.softplus(fake).sum()
    ),
    "sign is flipped": lambda real, fake: -with_logits(real, fake),
    "together": lambda real, fake: F.binary_cross_entropy_with_logits(
        torch.cat([real, fake]),
        torch.cat([torch.ones_like(real), torch.zeros_like(fake)]),
    ),
    "numerical problem": lambda real, fake: (
        -torch.log(torch.sigmoid(real)).mean()
        - torch.log(1 - torch.sigmoid(fake)).mean()
    ),
    "expects probabilities": lambda real, fake: (
        F.binary_cross_entropy(real, torch.ones_like(real))
        + F.binary_cross_entropy(fake, torch.zeros_like(fake))
    ),
    "did you call .item": lambda real, fake: with_logits(real, fake).item(),
    "scalar tensor": lambda real, fake: (
        F.softplus(-real) + F.softplus(fake).mean()
    ),
    "does not depend on the logits": lambda real, fake: torch.tensor(
        with_logits(real, fake).item()
    ),
}


@pytest.mark.parametrize("message", list(WRONG_LOSSES))
def test_typical_wrong_losses_fail_with_their_diagnosis(message):
    with pytest.raises(ExerciseCheckError, match=message):
        check_discriminator_loss(
            WRONG_LOSSES[message], raise_on_failure=True
        )


def test_wrong_loss_message_reports_values_but_a_placeholder_only_prints(
    capsys,
):
    assert not check_discriminator_loss(
        lambda real, fake: (real * 0).sum() + (fake * 0).sum()
    )
    out = capsys.readouterr().out
    assert out.startswith(
        "Not yet: on a batch of 8 real and 8 fake logits, all 0"
    )
    assert (
        "1.3863" in out
    )  # 2 log 2 for that described batch; the hidden batches' values are not the point


def test_unknown_mistake_gets_the_generic_hint():
    with pytest.raises(
        ExerciseCheckError, match="compare your loss with the formula"
    ):
        check_discriminator_loss(
            lambda real, fake: ((real - 1) ** 2).mean() + (fake**2).mean(),
            raise_on_failure=True,
        )


# ------------------------------------------------------------------------ discriminator step


def correct_step(generator, discriminator, optimizer, real, noise):
    with torch.no_grad():
        fake = generator(noise)  # (B, 2)
    d_loss = bce_discriminator_loss(
        discriminator(real), discriminator(fake)
    )
    optimizer.zero_grad()
    d_loss.backward()
    optimizer.step()
    return d_loss.detach()


def test_correct_step_passes(capsys):
    assert check_discriminator_step(correct_step)
    assert "All 2 hidden cases passed." in capsys.readouterr().out


def test_detach_is_as_good_as_no_grad():
    def detached_step(generator, discriminator, optimizer, real, noise):
        fake = generator(noise).detach()
        d_loss = bce_discriminator_loss(
            discriminator(real), discriminator(fake)
        )
        optimizer.zero_grad()
        d_loss.backward()
        optimizer.step()
        return d_loss

    assert check_discriminator_step(detached_step, raise_on_failure=True)


def test_fakes_not_detached_fails():
    def step(generator, discriminator, optimizer, real, noise):
        d_loss = bce_discriminator_loss(
            discriminator(real), discriminator(generator(noise))
        )
        optimizer.zero_grad()
        d_loss.backward()
        optimizer.step()
        return d_loss

    with pytest.raises(
        ExerciseCheckError, match="gradients reached the generator"
    ):
        check_discriminator_step(step, raise_on_failure=True)


def test_forgotten_zero_grad_fails():
    def step(generator, discriminator, optimizer, real, noise):
        with torch.no_grad():
            fake = generator(noise)
        d_loss = bce_discriminator_loss(
            discriminator(real), discriminator(fake)
        )
        d_loss.backward()
        optimizer.step()
        return d_loss

    with pytest.raises(ExerciseCheckError, match="zero_grad"):
        check_discriminator_step(step, raise_on_failure=True)


def test_no_optimizer_step_fails():
    def step(generator, discriminator, optimizer, real, noise):
        with torch.no_grad():
            fake = generator(noise)
        d_loss = bce_discriminator_loss(
            discriminator(real), discriminator(fake)
        )
        optimizer.zero_grad()
        d_loss.backward()
        return d_loss

    with pytest.raises(ExerciseCheckError, match="did not change"):
        check_discriminator_step(step, raise_on_failure=True)


def test_gradient_ascent_and_wrong_loss_fail():
    def ascent(generator, discriminator, optimizer, real, noise):
        with torch.no_grad():
            fake = generator(noise)
        d_loss = -bce_discriminator_loss(
            discriminator(real), discriminator(fake)
        )
        optimizer.zero_grad()
        d_loss.backward()
        optimizer.step()
        return d_loss

    def swapped(generator, discriminator, optimizer, real, noise):
        with torch.no_grad():
            fake = generator(noise)
        d_loss = bce_discriminator_loss(
            discriminator(fake), discriminator(real)
        )
        optimizer.zero_grad()
        d_loss.backward()
        optimizer.step()
        return d_loss

    with pytest.raises(ExerciseCheckError, match="uphill"):
        check_discriminator_step(ascent, raise_on_failure=True)
    with pytest.raises(ExerciseCheckError, match="not as one SGD step"):
        check_discriminator_step(swapped, raise_on_failure=True)


def test_loss_after_the_step_fails():
    def step(generator, discriminator, optimizer, real, noise):
        correct_step(generator, discriminator, optimizer, real, noise)
        with torch.no_grad():
            return bce_discriminator_loss(
                discriminator(real), discriminator(generator(noise))
            )

    with pytest.raises(
        ExerciseCheckError, match="computed before the step"
    ):
        check_discriminator_step(step, raise_on_failure=True)


def test_checks_leave_the_global_random_stream_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    check_discriminator_step(correct_step)
    check_discriminator_loss(with_logits)
    assert torch.equal(torch.rand(3), expected)


def test_zero_grad_between_backward_and_step_fails():
    def step(generator, discriminator, optimizer, real, noise):
        with torch.no_grad():
            fake = generator(noise)
        d_loss = bce_discriminator_loss(
            discriminator(real), discriminator(fake)
        )
        d_loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        return d_loss

    with pytest.raises(ExerciseCheckError, match="in this order"):
        check_discriminator_step(step, raise_on_failure=True)
