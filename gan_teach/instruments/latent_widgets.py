"""Live latent-space widgets (ipywidgets): thin wiring over :mod:`gan_teach.instruments.latent`.

Each widget draws into an ``ipywidgets.Image`` as PNG bytes made with Pillow, so a slider move of the
latent explorer redraws in a few milliseconds on a laptop CPU (measured: about 2 ms; the style grid
about 25 ms; the interpolation widget about 100 ms, most of it its matplotlib norms plot), and tests can drive a
widget without a browser: set a control's ``value``, read the image's ``value``. The book has no
kernel, so every chapter shows each widget beside a static companion (:func:`gan_teach.instruments.latent.frames_html`).

The controls and keywords are those that ipywidgets 7.5 and 8 both have
(Colab shipped 7.x for years); the tests run the widgets under both.
"""

from __future__ import annotations

import io
import time

import ipywidgets as widgets
import torch
from torch import nn

from ..models import is_conditional
from . import latent

__all__ = [
    "to_png",
    "LatentExplorer",
    "latent_explorer",
    "InterpolationWidget",
    "interpolation_widget",
    "StyleGridWidget",
    "style_grid_widget",
]


def to_png(
    images: torch.Tensor, nrow: int | None = None, scale: int = 4
) -> bytes:
    """PNG bytes of a grid of images ``(N, 1, 28, 28)`` in ``[-1, 1]``, each pixel drawn ``scale`` times larger."""
    from PIL import Image
    from torchvision.utils import make_grid

    nrow = nrow or len(images)
    grid = make_grid(
        images, nrow=nrow, padding=2, normalize=True, value_range=(-1, 1)
    )[0]  # (H, W) in [0, 1]
    picture = Image.fromarray(
        (grid * 255).round().to(torch.uint8).numpy(), mode="L"
    )
    picture = picture.resize(
        (picture.width * scale, picture.height * scale), Image.NEAREST
    )  # sharp pixels
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _class_picker(generator: nn.Module) -> widgets.Dropdown | None:
    if not is_conditional(generator):
        return None
    return widgets.Dropdown(
        options=list(range(generator.num_classes)),
        value=0,
        description="class",
    )


class LatentExplorer(widgets.VBox):
    """One sample and sliders that move its latent vector along chosen directions.

    Attributes:
        sliders: one ``FloatSlider`` per direction (the amount ``a_i`` in ``z = psi * z_seed + sum_i a_i d_i``).
        seed: the seed of ``z_seed``. truncation: ``psi``. class_picker: the class, for a conditional generator.
        image: the picture. directions: ``(k, latent_dim)``. last_redraw_seconds: the time of the last redraw.
    """

    def __init__(
        self,
        generator: nn.Module,
        directions: torch.Tensor,
        names: list[str],
        scale: int = 6,
    ) -> None:
        self.generator, self.directions, self.scale = (
            generator,
            directions,
            scale,
        )
        self.sliders = [
            widgets.FloatSlider(
                value=0.0,
                min=-4.0,
                max=4.0,
                step=0.1,
                description=name,
                continuous_update=True,
            )
            for name in names
        ]
        self.seed = widgets.BoundedIntText(
            value=0, min=0, max=2**31 - 1, description="seed"
        )
        self.truncation = widgets.FloatSlider(
            value=1.0,
            min=0.0,
            max=1.5,
            step=0.05,
            description="truncation ψ",
        )
        self.class_picker = _class_picker(generator)
        self.reset_button = widgets.Button(description="centre sliders")
        self.image = widgets.Image(format="png")
        self.last_redraw_seconds = 0.0
        controls = (
            [self.seed, self.truncation]
            + ([self.class_picker] if self.class_picker else [])
            + self.sliders
        )
        for control in controls:
            control.observe(lambda change: self.redraw(), names="value")
        self.reset_button.on_click(lambda button: self.centre())
        super().__init__(
            [
                widgets.HBox(
                    [
                        self.image,
                        widgets.VBox(controls + [self.reset_button]),
                    ]
                )
            ]
        )
        self.redraw()

    def current_latent(self) -> torch.Tensor:
        """The latent vector ``(latent_dim,)`` the controls describe."""
        base = latent.sample_latents(
            self.generator.latent_dim, 1, self.seed.value
        )[0]
        amounts = torch.tensor(
            [slider.value for slider in self.sliders]
        )  # (k,)
        return (
            latent.truncate(base, self.truncation.value)
            + amounts @ self.directions
        )

    def redraw(self) -> None:
        """Draw the current sample (called on every control change)."""
        started = time.perf_counter()
        labels = self.class_picker.value if self.class_picker else None
        self.image.value = to_png(
            latent.render(self.generator, self.current_latent(), labels),
            scale=self.scale,
        )
        self.last_redraw_seconds = time.perf_counter() - started

    def centre(self) -> None:
        """Put every direction slider back to 0."""
        for slider in self.sliders:
            slider.value = 0.0


def latent_explorer(
    generator: nn.Module,
    num_directions: int = 4,
    directions: str | torch.Tensor = "principal",
    seed: int = 0,
) -> LatentExplorer:
    """The latent explorer: sliders along ``num_directions`` directions, a seed, a truncation, a class picker.

    Args:
        generator: e.g. ``gan_teach.pretrained.load_generator("mnist-dcgan")``.
        num_directions: how many sliders.
        directions: ``"principal"`` (the images' main modes of variation, pulled back to latent space; see
            :func:`gan_teach.instruments.latent.principal_directions`), ``"random"`` (random orthonormal directions), or
            your own directions, a ``(k, latent_dim)`` tensor (then ``num_directions`` is ``k``).
        seed: the seed that picks the directions' samples (or the random directions).
    """
    if isinstance(directions, torch.Tensor):
        if (
            directions.dim() != 2
            or directions.shape[1] != generator.latent_dim
        ):
            raise ValueError(
                f"directions must have shape (k, {generator.latent_dim}), got {tuple(directions.shape)}"
            )
        found, names = (
            directions.float(),
            [f"direction {i + 1}" for i in range(len(directions))],
        )
    elif directions == "principal":
        found, explained = latent.principal_directions(
            generator, num_directions, seed=seed
        )
        names = [
            f"PC{i + 1} ({share:.0%})"
            for i, share in enumerate(explained.tolist())
        ]
    elif directions == "random":
        found = latent.random_directions(
            generator.latent_dim, num_directions, seed=seed
        )
        names = [f"random {i + 1}" for i in range(num_directions)]
    else:
        raise ValueError(
            f"directions must be 'principal' or 'random', got {directions!r}"
        )
    return LatentExplorer(generator, found, names)


class InterpolationWidget(widgets.VBox):
    """Two seeds, and the path between them by straight line (lerp) and by great circle (slerp).

    Attributes:
        seed_start, seed_end, num_steps, class_picker: the controls. lerp_image, slerp_image: the two rows.
        norms_image: the latent norm along both paths (matplotlib, PNG).
    """

    def __init__(self, generator: nn.Module, scale: int = 3) -> None:
        self.generator, self.scale = generator, scale
        self.seed_start = widgets.BoundedIntText(
            value=0, min=0, max=2**31 - 1, description="start seed"
        )
        self.seed_end = widgets.BoundedIntText(
            value=1, min=0, max=2**31 - 1, description="end seed"
        )
        self.num_steps = widgets.IntSlider(
            value=9, min=3, max=15, description="steps"
        )
        self.class_picker = _class_picker(generator)
        self.lerp_image, self.slerp_image, self.norms_image = (
            widgets.Image(format="png") for _ in range(3)
        )
        controls = [self.seed_start, self.seed_end, self.num_steps] + (
            [self.class_picker] if self.class_picker else []
        )
        for control in controls:
            control.observe(lambda change: self.redraw(), names="value")
        rows = widgets.VBox(
            [
                widgets.Label("lerp (straight line)"),
                self.lerp_image,
                widgets.Label("slerp (great circle)"),
                self.slerp_image,
            ]
        )
        super().__init__(
            [
                widgets.HBox(controls[:2]),
                widgets.HBox(controls[2:]),
                rows,
                self.norms_image,
            ]
        )
        self.redraw()

    def paths(self) -> dict[str, torch.Tensor]:
        """The two latent paths, ``{"lerp": (S, d), "slerp": (S, d)}``."""
        z0, z1 = (
            latent.sample_latents(self.generator.latent_dim, 1, seed.value)[
                0
            ]
            for seed in (self.seed_start, self.seed_end)
        )
        return {
            method: latent.interpolate(z0, z1, self.num_steps.value, method)
            for method in ("lerp", "slerp")
        }

    def redraw(self) -> None:
        """Draw both rows and the norms plot."""
        paths = self.paths()
        labels = self.class_picker.value if self.class_picker else None
        for method, image in (
            ("lerp", self.lerp_image),
            ("slerp", self.slerp_image),
        ):
            image.value = to_png(
                latent.render(self.generator, paths[method], labels),
                scale=self.scale,
            )
        self.norms_image.value = _norms_png(
            paths, self.generator.latent_dim
        )


def _norms_png(paths: dict[str, torch.Tensor], latent_dim: int) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.5, 2.2), dpi=80, layout="constrained")
    ax = figure.subplots()
    for method, path in paths.items():
        ax.plot(
            torch.linspace(0, 1, len(path)).numpy(),
            latent.norms_along(path),
            marker="o",
            label=method,
        )
    ax.axhline(
        latent_dim**0.5, color="grey", linestyle="--", label=r"$\sqrt{d}$"
    )
    ax.set(xlabel="t", ylabel="‖z‖")
    ax.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def interpolation_widget(generator: nn.Module) -> InterpolationWidget:
    """Linear vs spherical interpolation between two seeds, side by side, with the latent norm along each."""
    return InterpolationWidget(generator)


class StyleGridWidget(widgets.VBox):
    """A conditional generator's "same style, every class" grid: pick the seeds, see each drawn as every class."""

    def __init__(self, generator: nn.Module, scale: int = 2) -> None:
        if not is_conditional(generator):
            raise ValueError(
                "the style grid needs a conditional generator, e.g. load_generator('mnist-conditional')"
            )
        self.generator, self.scale = generator, scale
        self.seed = widgets.BoundedIntText(
            value=0, min=0, max=2**31 - 1, description="seed"
        )
        self.rows = widgets.IntSlider(
            value=4, min=1, max=8, description="styles"
        )
        self.image = widgets.Image(format="png")
        for control in (self.seed, self.rows):
            control.observe(lambda change: self.redraw(), names="value")
        super().__init__([widgets.HBox([self.seed, self.rows]), self.image])
        self.redraw()

    def redraw(self) -> None:
        """Draw the grid: one row per style (latent vector), one column per class."""
        z = latent.sample_latents(
            self.generator.latent_dim, self.rows.value, self.seed.value
        )
        grid = latent.style_grid(self.generator, z)
        self.image.value = to_png(
            grid, nrow=self.generator.num_classes, scale=self.scale
        )


def style_grid_widget(generator: nn.Module) -> StyleGridWidget:
    """The "same style, every digit" grid of a conditional generator, with a seed and a number of styles."""
    return StyleGridWidget(generator)
