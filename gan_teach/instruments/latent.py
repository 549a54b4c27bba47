"""The latent space of a generator: directions, walks, interpolation, arithmetic, and static animations.

Everything here is a plain function of a generator and latent vectors, so the widgets in
:mod:`gan_teach.instruments.latent_widgets` are thin wiring, and the book's static figures use the same code.

Directions that mean something come from the images themselves (the idea of GANSpace, Härkönen et
al. 2020): draw many samples, find the principal components of the *images*, and regress the latent
vectors on the component scores, which pulls each image-space direction back to a latent direction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from torch import nn

from ..animation import html_player
from ..models import balanced_labels, is_conditional
from ..utils import evaluating
from ..viz import image_grid

__all__ = [
    "render",
    "sample_latents",
    "truncate",
    "random_directions",
    "principal_directions",
    "walk",
    "lerp",
    "slerp",
    "interpolate",
    "attribute_direction",
    "latent_arithmetic",
    "style_grid",
    "frames_html",
    "norms_along",
]


def _labels_or_balanced(
    generator: nn.Module,
    num_samples: int,
    labels: torch.Tensor | int | None,
) -> torch.Tensor | int | None:
    """``labels`` as given; for a conditional generator without them, every class equally often (0, 1, ..., 9, 0, ...)."""
    if is_conditional(generator) and labels is None:
        return balanced_labels(num_samples, generator.num_classes)
    return labels


@torch.no_grad()
def render(
    generator: nn.Module,
    z: torch.Tensor,
    labels: torch.Tensor | int | None = None,
) -> torch.Tensor:
    """Images for latent vectors ``z`` ``(N, latent_dim)``, in eval mode, as a CPU tensor ``(N, 1, 28, 28)``.

    Args:
        generator: any gan_teach generator (conditional ones need ``labels``).
        z: latent vectors; a single vector ``(latent_dim,)`` is treated as a batch of one.
        labels: for a conditional generator, one class for all (an int) or one per vector ``(N,)``.
    """
    z = z.unsqueeze(0) if z.dim() == 1 else z
    device = next(generator.parameters()).device
    with evaluating(generator):
        if is_conditional(generator):
            if labels is None:
                raise ValueError(
                    "a conditional generator needs labels: render(generator, z, labels=3) or a (N,) tensor"
                )
            labels = (
                torch.full((len(z),), labels, dtype=torch.long)
                if isinstance(labels, int)
                else torch.as_tensor(labels)
            )
            images = generator(z.to(device), labels.to(device))
        else:
            if labels is not None:
                raise ValueError(
                    f"labels were given, but {type(generator).__name__} is not conditional"
                )
            images = generator(z.to(device))
    return images.float().cpu()


def sample_latents(
    latent_dim: int, num_samples: int, seed: int
) -> torch.Tensor:
    """``num_samples`` standard normal latent vectors ``(num_samples, latent_dim)`` from their own seeded RNG."""
    return torch.randn(
        num_samples,
        latent_dim,
        generator=torch.Generator().manual_seed(seed),
    )


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick as a pull towards the mean latent (zero): ``psi * z``.

    ``psi < 1`` trades variety for typical samples, and ``psi = 0`` gives the "average" sample. How much
    cleaner they get depends on the model: on the shipped ``mnist-dcgan`` it buys little, and below
    about 0.5 the samples fade (the book's latent chapter measures it).
    This is the StyleGAN form of truncation (there applied to the mapped latent ``w``). BigGAN's
    truncation trick (Brock et al. 2019) is different again: it *resamples* every entry of ``z`` whose
    magnitude exceeds a threshold. :func:`gan_teach.models.generate` offers a cruder third option,
    clamping each entry to ``[-t, t]``, which piles probability on the two bounds.
    """
    if psi < 0:
        raise ValueError(f"psi must be at least 0, got {psi}")
    return psi * z


def random_directions(
    latent_dim: int, num_directions: int, seed: int = 0
) -> torch.Tensor:
    """``num_directions`` random orthonormal latent directions ``(num_directions, latent_dim)``.

    >>> directions = random_directions(8, 3)
    >>> torch.allclose(directions @ directions.T, torch.eye(3), atol=1e-6)
    True
    """
    if not 1 <= num_directions <= latent_dim:
        raise ValueError(
            "num_directions must be between 1 and "
            f"latent_dim={latent_dim}, got {num_directions}"
        )
    gaussian = torch.randn(
        latent_dim,
        num_directions,
        generator=torch.Generator().manual_seed(seed),
    )
    q, _ = torch.linalg.qr(
        gaussian
    )  # (latent_dim, num_directions), orthonormal columns
    return q.T.contiguous()


def principal_directions(
    generator: nn.Module,
    num_directions: int = 5,
    num_samples: int = 2000,
    seed: int = 0,
    labels: torch.Tensor | int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Directions along which the images vary most (GANSpace-style PCA).

    1. Draw ``z`` ``(N, d)`` and images ``x = G(z)``, flattened ``(N, P)``.
    2. PCA of the images: ``scores = (x - mean) V`` ``(N, k)``, ``V`` the
       top ``k`` components.
    3. Least squares ``z ~ scores U``: row ``i`` of ``U`` ``(k, d)`` is the
       latent change that moves component ``i``; normalised to unit length.

    Args:
        generator: the generator to explore.
        num_directions: ``k``, how many directions.
        num_samples: ``N``; a few thousand is plenty.
        seed: the seed of the samples.
        labels: for a conditional generator: a fixed class, or ``None`` for
            every class equally often.

    Returns:
        ``directions`` ``(k, d)`` with unit rows, and ``explained``
        ``(k,)``, the share of the images' variance each image component
        carries (decreasing).
    """
    latent_dim = generator.latent_dim
    if not 1 <= num_directions <= latent_dim:
        raise ValueError(
            "num_directions must be between 1 and "
            f"latent_dim={latent_dim}, got {num_directions}"
        )
    z = sample_latents(latent_dim, num_samples, seed)  # (N, d)
    images = (
        render(
            generator,
            z,
            _labels_or_balanced(generator, num_samples, labels),
        )
        .flatten(1)
        .double()
    )  # (N, P)
    centred = images - images.mean(0)
    _, singular_values, vh = torch.linalg.svd(
        centred, full_matrices=False
    )  # vh: (min(N, P), P)
    scores = centred @ vh[:num_directions].T  # (N, k)
    pullback = torch.linalg.lstsq(
        scores, z.double()
    ).solution  # (k, d): z ~ scores @ pullback
    directions = torch.nn.functional.normalize(pullback, dim=1).float()
    variance = singular_values**2
    return directions, (variance[:num_directions] / variance.sum()).float()


def walk(
    z: torch.Tensor,
    direction: torch.Tensor,
    amounts: Sequence[float] | torch.Tensor,
) -> torch.Tensor:
    """Latent points ``z + a * direction`` for each ``a`` in ``amounts``: ``(len(amounts), latent_dim)``."""
    z, direction = z.reshape(-1), direction.reshape(-1)
    if z.shape != direction.shape:
        raise ValueError(
            f"z and direction must have the same size, got {tuple(z.shape)} and {tuple(direction.shape)}"
        )
    amounts = torch.as_tensor(amounts, dtype=z.dtype).reshape(
        -1, 1
    )  # (S, 1)
    return z + amounts * direction  # (S, d)


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    """Linear interpolation ``(1 - t) z0 + t z1``."""
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation: along the great circle from ``z0`` to ``z1``, norms interpolated linearly.

    A Gaussian latent in ``d`` dimensions lives near the sphere of radius ``sqrt(d)``; the straight line
    between two samples dips inside it (at ``t = 0.5`` its norm is about ``sqrt(d / 2)``), where the
    generator saw almost no training latents. ``slerp`` keeps the norm typical (White 2016).

    >>> z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    >>> slerp(z0, z1, 0.5)
    tensor([0.7071, 0.7071])
    """
    norm0, norm1 = z0.norm(), z1.norm()
    if norm0 == 0 or norm1 == 0:
        # A zero vector has no direction, so no great circle starts there.
        raise ValueError(
            "slerp needs two non-zero vectors (a zero vector has no "
            f"direction), got norms {float(norm0):g} and {float(norm1):g}; "
            "use lerp to move from or to the origin"
        )
    cosine = torch.clamp(torch.dot(z0 / norm0, z1 / norm1), -1.0, 1.0)
    if cosine > 1 - 1e-6:  # parallel up to rounding: the arc is a line
        return lerp(z0, z1, t)
    if cosine < -1 + 1e-6:
        raise ValueError(
            "z0 and z1 point in opposite directions: no single great circle joins them; use lerp"
        )
    omega = torch.arccos(cosine)  # the angle between them
    unit = (
        torch.sin((1 - t) * omega) * z0 / norm0
        + torch.sin(t * omega) * z1 / norm1
    ) / torch.sin(omega)
    return unit * ((1 - t) * norm0 + t * norm1)


def interpolate(
    z0: torch.Tensor,
    z1: torch.Tensor,
    num_steps: int = 9,
    method: str = "slerp",
) -> torch.Tensor:
    """``num_steps`` latent points from ``z0`` to ``z1`` (both included): ``(num_steps, latent_dim)``."""
    if method not in ("lerp", "slerp"):
        raise ValueError(
            f"method must be 'lerp' or 'slerp', got {method!r}"
        )
    if num_steps < 2:
        raise ValueError(f"num_steps must be at least 2, got {num_steps}")
    step = lerp if method == "lerp" else slerp
    return torch.stack(
        [
            step(z0.reshape(-1), z1.reshape(-1), float(t))
            for t in torch.linspace(0, 1, num_steps)
        ]
    )


def attribute_direction(
    generator: nn.Module,
    attribute: Callable[[torch.Tensor], torch.Tensor],
    num_samples: int = 4000,
    fraction: float = 0.2,
    seed: int = 0,
    labels: torch.Tensor | int | None = None,
) -> torch.Tensor:
    """Latent arithmetic's vector: mean latent of the samples *with* an attribute minus those *without*.

    Samples are ranked by ``attribute(images)`` (one number per image, e.g. the amount of ink); the
    direction is ``mean(z of the top fraction) - mean(z of the bottom fraction)``, not normalised, so
    that adding it once moves a typical sample from "low" to "high" (Radford et al. 2015, section 6.3).

    Returns:
        The direction ``(latent_dim,)``.
    """
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction}")
    z = sample_latents(generator.latent_dim, num_samples, seed)
    values = attribute(
        render(
            generator,
            z,
            _labels_or_balanced(generator, num_samples, labels),
        )
    ).reshape(-1)  # (N,)
    if values.shape[0] != num_samples:
        raise ValueError(
            f"attribute must return one number per image ({num_samples}), got shape {tuple(values.shape)}"
        )
    order = values.argsort()
    count = max(1, int(fraction * num_samples))
    return z[order[-count:]].mean(0) - z[order[:count]].mean(0)


def latent_arithmetic(
    with_attribute: torch.Tensor,
    without_attribute: torch.Tensor,
    base: torch.Tensor,
) -> torch.Tensor:
    """``base + mean(with_attribute) - mean(without_attribute)``: the DCGAN paper's vector arithmetic on groups.

    Args:
        with_attribute, without_attribute: latent vectors ``(N_a, d)`` and ``(N_b, d)`` of two groups.
        base: the latents ``(d,)`` or ``(M, d)`` to add the difference to.
    """
    if with_attribute.dim() != 2 or without_attribute.dim() != 2:
        raise ValueError(
            "the two groups must be (N, latent_dim) batches of latent vectors"
        )
    return base + with_attribute.mean(0) - without_attribute.mean(0)


def style_grid(
    generator: nn.Module,
    z: torch.Tensor,
    classes: Sequence[int] | None = None,
) -> torch.Tensor:
    """A conditional generator's "same style, every class" grid: row ``r`` is ``z[r]`` drawn as each class.

    Returns:
        Images ``(rows * num_classes, 1, 28, 28)``, row by row (show with ``nrow=num_classes``).
    """
    if not is_conditional(generator):
        raise ValueError(
            f"style_grid needs a conditional generator (with num_classes), got {type(generator).__name__}"
        )
    classes = (
        list(range(generator.num_classes))
        if classes is None
        else list(classes)
    )
    z = z.unsqueeze(0) if z.dim() == 1 else z
    latents = z.repeat_interleave(
        len(classes), dim=0
    )  # (rows * C, d): each row's z repeated once per class
    labels = torch.tensor(classes * len(z))  # (rows * C,): 0..9, 0..9, ...
    return render(generator, latents, labels)


def frames_html(
    frames: Sequence[torch.Tensor],
    titles: Sequence[str],
    nrow: int | None = None,
    interval: int = 150,
    figsize: tuple[float, float] = (3.0, 3.0),
    dpi: int = 72,
) -> str:
    """A self-contained HTML player of image grids (matplotlib's ``to_jshtml``; JPEG frames, nothing remote).

    Args:
        frames: one ``(N, 1, 28, 28)`` batch in ``[-1, 1]`` per frame.
        titles: one title per frame.
        nrow: images per row of each grid.
        interval: milliseconds between frames.
    """
    if len(frames) != len(titles) or not frames:
        raise ValueError(
            f"give one title per frame and at least one frame, got {len(frames)} frames, {len(titles)} titles"
        )
    figure = Figure(
        figsize=figsize, dpi=dpi, layout="constrained"
    )  # not tracked by pyplot: no stray still
    ax = figure.subplots()

    def draw(index: int) -> list:
        ax.clear()
        image_grid(
            frames[index],
            nrow=nrow or math.ceil(math.sqrt(len(frames[index]))),
            ax=ax,
            title=titles[index],
        )
        return []

    animation = FuncAnimation(
        figure,
        draw,
        frames=len(frames),
        init_func=lambda: [],
        interval=interval,
        blit=False,
    )
    return html_player(animation, "jpeg", mode="loop")


def norms_along(path: torch.Tensor) -> np.ndarray:
    """The norm of each latent point of a path ``(S, d)``, as a NumPy array (for the lerp-vs-slerp plot)."""
    return path.norm(dim=1).numpy()
