"""Tests for gan_teach.viz: what each plot draws, not how it looks."""

import matplotlib

matplotlib.use(
    "Agg"
)  # before pyplot is imported anywhere: no windows, no display needed

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from gan_teach.animation import animation_html, progress_animation
from gan_teach.curves import (
    plot_discriminator_outputs,
    plot_gradient_norms,
    plot_history,
    plot_training,
)
from gan_teach.data import toy_distribution
from gan_teach.models import MLPDiscriminator
from gan_teach.utils import seed_everything
from gan_teach.viz import image_grid, plot_toy, save_figure

# An animation that is built but never rendered warns when it is garbage collected; these tests do that on purpose.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Animation was deleted without rendering"
)

NUM_STEPS = 120
HISTORY_KEYS = (
    "d_loss",
    "g_loss",
    "d_real",
    "d_fake",
    "real_score",
    "fake_score",
    "d_grad_norm",
    "g_grad_norm",
)


@pytest.fixture(autouse=True)
def seeded_and_closed():
    """Seed every RNG before a test; close every pyplot figure it opened after."""
    seed_everything(0)
    yield
    plt.close("all")


@pytest.fixture
def history() -> dict[str, list[float]]:
    rng = np.random.default_rng(0)
    return {
        key: (rng.random(NUM_STEPS) + 0.1).tolist() for key in HISTORY_KEYS
    }


@pytest.fixture
def discriminator() -> MLPDiscriminator:
    return MLPDiscriminator(data_dim=2, hidden_dim=16, num_layers=2)


def new_axes():
    return Figure().subplots()  # not tracked by pyplot: nothing to close


# ------------------------------------------------------------------------------ image_grid


def test_image_grid_shows_one_grey_grid_with_title():
    images = torch.rand(6, 1, 28, 28) * 2 - 1
    ax = image_grid(images, nrow=3, ax=new_axes(), title="epoch 1")
    assert len(ax.images) == 1
    grid = ax.images[0].get_array()
    assert grid.shape == (
        2 * 30 + 2,
        3 * 30 + 2,
    )  # 2 rows x 3 columns of 28 pixels + 2 of padding
    assert ax.images[0].get_cmap().name == "gray"
    assert 0.0 <= grid.min() and grid.max() <= 1.0
    assert ax.get_title() == "epoch 1"


def test_image_grid_maps_minus_one_to_black_and_one_to_white():
    images = torch.cat([-torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 4)])
    grid = image_grid(images, nrow=2, ax=new_axes()).images[0].get_array()
    assert grid[2:6, 2:6].max() == 0.0 and grid[2:6, 8:12].min() == 1.0


def test_image_grid_colour_images_are_rgb():
    grid = (
        image_grid(torch.zeros(4, 3, 8, 8), ax=new_axes())
        .images[0]
        .get_array()
    )
    assert grid.shape == (22, 22, 3)


def test_image_grid_creates_a_figure_when_no_axes_given():
    ax = image_grid(torch.zeros(4, 1, 8, 8))
    assert plt.fignum_exists(
        ax.figure.number
    )  # a pyplot figure, so that a notebook shows it


@pytest.mark.parametrize("shape", [(28, 28), (4, 784), (4, 2, 28, 28)])
def test_image_grid_rejects_wrong_shapes_and_says_what_it_expects(shape):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)") as error:
        image_grid(torch.zeros(shape), ax=new_axes())
    assert str(shape) in str(error.value)


# --------------------------------------------------------------------------------- history


def test_plot_history_without_smoothing_draws_the_raw_values(history):
    ax = plot_history(history, ax=new_axes(), smooth=1)
    assert [line.get_label() for line in ax.lines] == ["d_loss", "g_loss"]
    steps, values = ax.lines[0].get_data()
    np.testing.assert_array_equal(steps, np.arange(1, NUM_STEPS + 1))
    np.testing.assert_allclose(values, history["d_loss"])


def test_plot_history_smoothing_is_a_trailing_moving_average(history):
    ax = plot_history(history, ax=new_axes(), keys=("g_loss",), smooth=10)
    raw, smoothed = ax.lines  # faint raw values under the labelled average
    assert smoothed.get_label() == "g_loss" and raw.get_label().startswith(
        "_"
    )
    steps, values = smoothed.get_data()
    assert len(values) == NUM_STEPS - 9 and steps[0] == 10
    np.testing.assert_allclose(values[0], np.mean(history["g_loss"][:10]))
    np.testing.assert_allclose(values[-1], np.mean(history["g_loss"][-10:]))


def test_plot_history_missing_key_lists_what_there_is(history):
    with pytest.raises(
        ValueError, match="has no 'gradient_penalty'.*d_loss, g_loss"
    ):
        plot_history(history, ax=new_axes(), keys=("gradient_penalty",))


def test_plot_history_rejects_a_bad_window(history):
    with pytest.raises(ValueError, match="at least 1"):
        plot_history(history, ax=new_axes(), smooth=0)


def test_discriminator_outputs_have_the_equilibrium_line(history):
    ax = plot_discriminator_outputs(history, ax=new_axes(), smooth=1)
    d_real, d_fake, equilibrium = ax.lines
    np.testing.assert_allclose(d_real.get_ydata(), history["d_real"])
    np.testing.assert_allclose(d_fake.get_ydata(), history["d_fake"])
    assert (
        list(equilibrium.get_ydata()) == [0.5, 0.5]
        and equilibrium.get_linestyle() == "--"
    )


def test_discriminator_outputs_raw_scores_for_critics(history):
    ax = plot_discriminator_outputs(
        history, ax=new_axes(), smooth=1, raw_scores=True
    )
    assert (
        len(ax.lines) == 2
    )  # no 0.5 line: a critic's score is not a probability
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), history["real_score"]
    )


def test_gradient_norms_use_a_log_scale(history):
    ax = plot_gradient_norms(history, ax=new_axes(), smooth=1)
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(
        ax.lines[1].get_ydata(), history["g_grad_norm"]
    )


class _FakeState:
    """Just what plot_training reads from a TrainState."""

    def __init__(self, history, uses_sigmoid):
        self.history = history
        self.loss = type("Loss", (), {"uses_sigmoid": uses_sigmoid})()


@pytest.mark.parametrize("uses_sigmoid", [True, False])
def test_plot_training_makes_three_panels(history, uses_sigmoid):
    figure = plot_training(_FakeState(history, uses_sigmoid), smooth=1)
    loss_ax, output_ax, norm_ax = figure.axes
    assert len(loss_ax.lines) == 2 and norm_ax.get_yscale() == "log"
    assert len(output_ax.lines) == (3 if uses_sigmoid else 2)
    plot_training(history, smooth=1)  # a plain dict works too


# -------------------------------------------------------------------------------- plot_toy


def test_plot_toy_heat_map_is_sigmoid_of_the_discriminator(discriminator):
    ring = toy_distribution("ring")
    samples = torch.randn(50, 2)
    bounds = (-3.0, 3.0, -2.0, 4.0)
    ax = plot_toy(
        samples,
        ring,
        discriminator,
        ax=new_axes(),
        bounds=bounds,
        resolution=21,
    )
    heat = np.asarray(ax.images[0].get_array())
    assert heat.shape == (21, 21)
    assert 0.0 <= heat.min() and heat.max() <= 1.0
    # row i is y = ys[i], column j is x = xs[j] (origin="lower")
    row, column = 5, 13
    point = torch.tensor(
        [[np.linspace(-3, 3, 21)[column], np.linspace(-2, 4, 21)[row]]],
        dtype=torch.float32,
    )
    with torch.no_grad():
        expected = torch.sigmoid(discriminator(point)).item()
    assert heat[row, column] == pytest.approx(expected, abs=1e-5)
    assert ax.images[0].get_extent() == list(bounds)
    assert len(ax.figure.axes) == 2  # the plot and its colorbar
    # real points, mode centers, generated points
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 3
    np.testing.assert_allclose(scatters[-1].get_offsets(), samples.numpy())
    np.testing.assert_allclose(
        scatters[1].get_offsets(), ring.centers_tensor().numpy()
    )


def test_plot_toy_raw_scores_are_not_squashed(discriminator):
    with torch.no_grad():
        last_layer = [
            module
            for module in discriminator.modules()
            if isinstance(module, torch.nn.Linear)
        ][-1]
        last_layer.bias.fill_(5.0)  # scores well above 1
    ax = plot_toy(
        torch.randn(10, 2),
        discriminator=discriminator,
        ax=new_axes(),
        resolution=8,
        sigmoid=False,
    )
    assert np.asarray(ax.images[0].get_array()).max() > 1.0


@pytest.mark.parametrize("was_training", [True, False])
def test_plot_toy_restores_the_training_flag(discriminator, was_training):
    discriminator.train(was_training)
    plot_toy(
        torch.randn(10, 2),
        discriminator=discriminator,
        ax=new_axes(),
        resolution=4,
    )
    assert discriminator.training is was_training
    assert all(p.grad is None for p in discriminator.parameters())


def test_plot_toy_without_discriminator_is_a_plain_scatter():
    ax = plot_toy(torch.randn(30, 2), ax=new_axes())
    assert len(ax.images) == 0 and len(ax.collections) == 1


def test_plot_toy_one_dimensional_histogram_density_and_discriminator():
    discriminator = MLPDiscriminator(data_dim=1, hidden_dim=8, num_layers=1)
    mixture = toy_distribution("mixture-1d")
    ax = plot_toy(
        torch.randn(200, 1),
        mixture,
        discriminator,
        ax=new_axes(),
        bounds=(-5, 5),
        resolution=101,
    )
    assert len(ax.patches) == 50  # histogram bars
    (density,) = ax.lines
    xs, values = density.get_data()
    np.testing.assert_allclose(
        values,
        mixture.log_density(torch.as_tensor(xs)[:, None]).exp().numpy(),
        rtol=1e-5,
    )
    twin = [other for other in ax.figure.axes if other is not ax][0]
    d_values = twin.lines[0].get_ydata()
    assert (
        len(d_values) == 101
        and 0.0 <= d_values.min()
        and d_values.max() <= 1.0
    )


@pytest.mark.parametrize("shape", [(10,), (10, 3), (4, 1, 28, 28)])
def test_plot_toy_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"\(N, 2\) or \(N, 1\)") as error:
        plot_toy(torch.zeros(shape), ax=new_axes())
    assert str(shape) in str(error.value)


def test_plot_toy_rejects_points_that_do_not_match_the_distribution():
    with pytest.raises(ValueError, match="1 coordinate.*has 2"):
        plot_toy(torch.zeros(5, 1), toy_distribution("ring"), ax=new_axes())


def test_plot_toy_rejects_bounds_of_the_wrong_length():
    with pytest.raises(ValueError, match="x_min, x_max, y_min, y_max"):
        plot_toy(torch.zeros(5, 2), ax=new_axes(), bounds=(0, 1))


# ------------------------------------------------------------------------------ animations


def point_samples(count: int) -> list[tuple[int, torch.Tensor]]:
    return [
        (10 * index, torch.randn(20, 2) * (1 + index))
        for index in range(count)
    ]


def line_samples(count: int) -> list[tuple[int, torch.Tensor]]:
    return [
        (10 * index, torch.randn(50, 1) + index) for index in range(count)
    ]


def image_samples(count: int) -> list[tuple[int, torch.Tensor]]:
    return [
        (10 * index, torch.rand(4, 1, 8, 8) * 2 - 1)
        for index in range(count)
    ]


def frames_of(animation) -> list:
    return list(animation.new_frame_seq())


@pytest.mark.parametrize("count, max_frames", [(3, 5), (12, 5)])
def test_progress_animation_subsamples_frames(count, max_frames):
    animation = progress_animation(
        image_samples(count), max_frames=max_frames
    )
    frames = frames_of(animation)
    assert len(frames) == min(count, max_frames)
    assert frames[0][0] == 0 and frames[-1][0] == 10 * (
        count - 1
    )  # first and last kept


def test_progress_animation_draws_points_and_titles_the_step():
    samples = point_samples(4)
    figure = Figure(figsize=(2, 2), dpi=40)
    ax = figure.subplots()
    animation = progress_animation(samples, toy_distribution("ring"), ax=ax)
    animation.to_jshtml()  # renders every frame; the axes keep the last one
    assert ax.get_title() == "step 30"
    np.testing.assert_allclose(
        ax.collections[-1].get_offsets(), samples[-1][1].numpy()
    )
    # one fixed view for every frame: it holds the points of all of them
    everything = torch.cat([points for _, points in samples])
    assert (
        ax.get_xlim()[0] < everything[:, 0].min()
        and everything[:, 0].max() < ax.get_xlim()[1]
    )
    assert (
        ax.get_ylim()[0] < everything[:, 1].min()
        and everything[:, 1].max() < ax.get_ylim()[1]
    )


def test_progress_animation_rejects_empty_and_wrong_samples():
    with pytest.raises(ValueError, match="no samples"):
        progress_animation([])
    with pytest.raises(
        ValueError, match=r"images \(N, C, H, W\) or points"
    ):
        progress_animation([(0, torch.zeros(5, 3))])
    with pytest.raises(ValueError, match=r"\(step, tensor\) pairs"):
        progress_animation([torch.zeros(5, 2)])


@pytest.mark.parametrize(
    "make_samples, frame_format",
    [
        (image_samples, "jpeg"),
        (point_samples, "png"),
        (line_samples, "png"),
    ],
)
def test_animation_html_embeds_every_frame(make_samples, frame_format):
    html = animation_html(
        make_samples(7), max_frames=3, figsize=(2, 2), dpi=40
    )
    assert "<script" in html
    assert (
        len(
            re.findall(
                rf'frames\[\d+\] = "data:image/{frame_format};base64', html
            )
        )
        == 3
    )
    assert plt.get_fignums() == []  # nothing left open in pyplot


def test_animation_html_loads_nothing_from_the_network():
    html = animation_html(point_samples(3), figsize=(2, 2), dpi=40)
    assert not re.search(r'(href|src)="https?://', html), (
        "the player must work in an offline book"
    )
    assert (
        "fa fa-" not in html
    )  # icon classes would need the Font Awesome file
    for label in ("Play", "Pause", "Next frame", "First frame"):
        button = re.search(
            rf'<button title="{label}"[^>]*>(.*?)</button>', html, re.S
        )
        assert button and button.group(1).strip(), (
            f"the {label} button must show a symbol"
        )


def test_animation_html_rejects_an_unknown_frame_format():
    with pytest.raises(ValueError, match="'png' or 'jpeg'"):
        animation_html(point_samples(2), frame_format="gif")


def test_save_figure_creates_folders(tmp_path):
    ax = image_grid(torch.zeros(4, 1, 8, 8), ax=new_axes())
    path = save_figure(ax.figure, tmp_path / "figures" / "grid.png")
    assert path.exists() and path.read_bytes()[:4] == b"\x89PNG"
