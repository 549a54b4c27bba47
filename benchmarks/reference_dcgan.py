"""A re-implementation of pytorch/examples ``dcgan/main.py``, for benchmarking only: NOT library code.

The course never imports this file; it exists so that ``benchmarks/throughput.py`` can compare
gan_teach's MNIST DCGAN with the best-known reference DCGAN on the same machine. Everything that
decides speed and quality follows ``dcgan/main.py`` with its defaults and ``--dataset mnist``:

- 64x64 images (``--imageSize 64``), one channel (``nc = 1`` for MNIST), ``nz = 100``, ``ngf = ndf = 64``;
- the exact layer stacks: G is five ``ConvTranspose2d(4x4)`` layers from a 1x1 map, batch norm and ReLU
  between them, ``Tanh`` at the end; D is five ``Conv2d(4x4)``, batch norm on the middle three,
  ``LeakyReLU(0.2)``, and a ``Sigmoid`` at the end; no biases anywhere;
- ``weights_init``: every conv weight N(0, 0.02), batch-norm scales N(1, 0.02) and shifts 0;
- ``nn.BCELoss`` on D's probabilities, Adam with lr 2e-4 and betas (0.5, 0.999), ``--batchSize 64``;
- its update order: D on a real batch, D on ``fake.detach()``, one D step; then G through D on the
  *same* ``fake`` (no fresh noise), one G step;
- MNIST through ``Resize(64)``, ``ToTensor()``, ``Normalize((0.5,), (0.5,))``: 64x64 in [-1, 1].

Names are spelled out (``latent_dim`` for ``nz``, ``generator`` for ``netG``); the layers are not changed.
What is left out does not touch the models: argument parsing, printing, image and checkpoint saving.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LATENT_DIM = 100  # nz
GENERATOR_WIDTH = 64  # ngf
DISCRIMINATOR_WIDTH = 64  # ndf
CHANNELS = 1  # nc, for --dataset mnist
IMAGE_SIZE = 64  # --imageSize
BATCH_SIZE = 64  # --batchSize
LEARNING_RATE = 2e-4  # --lr
BETAS = (0.5, 0.999)  # (--beta1, 0.999)
REAL_LABEL, FAKE_LABEL = 1.0, 0.0


def weights_init(module: nn.Module) -> None:
    """``dcgan/main.py``'s initialisation, applied with ``model.apply(weights_init)``."""
    class_name = module.__class__.__name__
    if class_name.find("Conv") != -1:  # Conv2d and ConvTranspose2d
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif class_name.find("BatchNorm") != -1:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class ReferenceGenerator(nn.Module):
    """``dcgan/main.py``'s Generator: z ``(B, 100, 1, 1)`` -> images ``(B, 1, 64, 64)`` in [-1, 1]."""

    def __init__(self) -> None:
        super().__init__()
        width = GENERATOR_WIDTH
        self.main = nn.Sequential(
            nn.ConvTranspose2d(
                LATENT_DIM, width * 8, 4, 1, 0, bias=False
            ),  # (B, 100, 1, 1) -> (B, 512, 4, 4)
            nn.BatchNorm2d(width * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(
                width * 8, width * 4, 4, 2, 1, bias=False
            ),  # -> (B, 256, 8, 8)
            nn.BatchNorm2d(width * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(
                width * 4, width * 2, 4, 2, 1, bias=False
            ),  # -> (B, 128, 16, 16)
            nn.BatchNorm2d(width * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(
                width * 2, width, 4, 2, 1, bias=False
            ),  # -> (B, 64, 32, 32)
            nn.BatchNorm2d(width),
            nn.ReLU(True),
            nn.ConvTranspose2d(
                width, CHANNELS, 4, 2, 1, bias=False
            ),  # -> (B, 1, 64, 64)
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class ReferenceDiscriminator(nn.Module):
    """``dcgan/main.py``'s Discriminator: images ``(B, 1, 64, 64)`` -> probabilities ``(B,)`` (a Sigmoid, not logits)."""

    def __init__(self) -> None:
        super().__init__()
        width = DISCRIMINATOR_WIDTH
        self.main = nn.Sequential(
            nn.Conv2d(
                CHANNELS, width, 4, 2, 1, bias=False
            ),  # (B, 1, 64, 64) -> (B, 64, 32, 32)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(
                width, width * 2, 4, 2, 1, bias=False
            ),  # -> (B, 128, 16, 16)
            nn.BatchNorm2d(width * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(
                width * 2, width * 4, 4, 2, 1, bias=False
            ),  # -> (B, 256, 8, 8)
            nn.BatchNorm2d(width * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(
                width * 4, width * 8, 4, 2, 1, bias=False
            ),  # -> (B, 512, 4, 4)
            nn.BatchNorm2d(width * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width * 8, 1, 4, 1, 0, bias=False),  # -> (B, 1, 1, 1)
            nn.Sigmoid(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (
            self.main(images).view(-1, 1).squeeze(1)
        )  # (B, 1, 1, 1) -> (B,)


class ReferenceDCGAN:
    """The two networks, their Adam optimizers and the BCE criterion, built as ``dcgan/main.py`` builds them."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.batch_size = BATCH_SIZE
        self.generator = ReferenceGenerator().to(self.device)
        self.generator.apply(weights_init)
        self.discriminator = ReferenceDiscriminator().to(self.device)
        self.discriminator.apply(weights_init)
        self.criterion = nn.BCELoss()
        self.generator_optimizer = torch.optim.Adam(
            self.generator.parameters(), lr=LEARNING_RATE, betas=BETAS
        )
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=LEARNING_RATE, betas=BETAS
        )

    def train_step(
        self, real_images: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """One iteration of ``dcgan/main.py``'s inner loop on ``real_images`` ``(B, 1, 64, 64)``; returns detached losses."""
        generator, discriminator, criterion = (
            self.generator,
            self.discriminator,
            self.criterion,
        )
        batch_size = real_images.shape[0]

        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        discriminator.zero_grad()
        label = torch.full(
            (batch_size,),
            REAL_LABEL,
            dtype=real_images.dtype,
            device=real_images.device,
        )  # (B,)
        d_loss_real = criterion(discriminator(real_images), label)
        d_loss_real.backward()
        noise = torch.randn(
            batch_size, LATENT_DIM, 1, 1, device=real_images.device
        )  # (B, 100, 1, 1)
        fake_images = generator(noise)  # (B, 1, 64, 64)
        label.fill_(FAKE_LABEL)
        d_loss_fake = criterion(discriminator(fake_images.detach()), label)
        d_loss_fake.backward()
        self.discriminator_optimizer.step()

        # (2) Update G network: maximize log(D(G(z))), on the same fake batch
        generator.zero_grad()
        label.fill_(REAL_LABEL)  # fake labels are real for generator cost
        g_loss = criterion(discriminator(fake_images), label)
        g_loss.backward()
        self.generator_optimizer.step()
        return {
            "d_loss": (d_loss_real + d_loss_fake).detach(),
            "g_loss": g_loss.detach(),
        }


def resize_to_64(
    images: torch.Tensor, chunk_size: int = 4096
) -> torch.Tensor:
    """MNIST ``(N, 1, 28, 28)`` -> ``(N, 1, 64, 64)``, bilinear like ``transforms.Resize(64)``; the range is kept.

    Done once, up front, so that the reference pays nothing for data loading during training.
    """
    resized = [
        F.interpolate(
            chunk,
            size=(IMAGE_SIZE, IMAGE_SIZE),
            mode="bilinear",
            align_corners=False,
        )  # (n, 1, 64, 64)
        for chunk in images.split(chunk_size)
    ]
    return torch.cat(
        resized
    )  # bilinear weights are convex: values stay in [-1, 1]


class DownsampledGenerator(nn.Module):
    """Wraps the reference generator for ``gan_teach.metrics``: z ``(N, 100)`` -> ``(N, 1, 28, 28)``.

    The metrics' feature classifier reads 28x28 images, so the 64x64 samples are area-averaged down.
    """

    def __init__(self, generator: ReferenceGenerator) -> None:
        super().__init__()
        self.generator = generator
        self.latent_dim = LATENT_DIM  # what gan_teach.models.generate reads

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        images = self.generator(
            z[:, :, None, None]
        )  # (N, 100) -> (N, 100, 1, 1) -> (N, 1, 64, 64)
        return F.interpolate(
            images, size=(28, 28), mode="area"
        )  # -> (N, 1, 28, 28)
