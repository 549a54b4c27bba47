"""The latent widgets, driven headlessly: change a control, the picture changes."""

import pytest
import torch

from gan_teach.conditional import ConditionalDCGANGenerator
from gan_teach.instruments import latent_widgets as widgets
from gan_teach.models import DCGANGenerator

pytestmark = pytest.mark.widgets  # make test-widgets7 runs them on 7.x too


@pytest.fixture
def generator():
    torch.manual_seed(0)
    return DCGANGenerator(latent_dim=8, base_channels=8).eval()


@pytest.fixture
def conditional_generator():
    torch.manual_seed(0)
    return ConditionalDCGANGenerator(latent_dim=8, base_channels=8).eval()


def test_to_png_makes_a_scaled_picture():
    from io import BytesIO

    from PIL import Image

    picture = Image.open(
        BytesIO(widgets.to_png(torch.zeros(2, 1, 28, 28), nrow=2, scale=3))
    )
    assert picture.size == (3 * (2 * 30 + 2), 3 * 32)


@pytest.mark.parametrize("directions", ["principal", "random"])
def test_moving_a_slider_redraws_the_sample(generator, directions):
    explorer = widgets.latent_explorer(
        generator, num_directions=3, directions=directions
    )
    before, latent_before = explorer.image.value, explorer.current_latent()
    explorer.sliders[0].value = 2.0
    assert explorer.image.value != before
    assert torch.allclose(
        explorer.current_latent() - latent_before,
        2.0 * explorer.directions[0],
        atol=1e-5,
    )
    explorer.centre()
    assert explorer.image.value == before
    assert explorer.last_redraw_seconds > 0


def test_seed_and_truncation_change_the_latent(generator):
    explorer = widgets.latent_explorer(
        generator, num_directions=2, directions="random"
    )
    first = explorer.current_latent()
    explorer.truncation.value = 0.0
    assert (
        torch.count_nonzero(explorer.current_latent()) == 0
    )  # psi = 0: the mean latent
    explorer.truncation.value = 1.0
    explorer.seed.value = 5
    assert not torch.equal(first, explorer.current_latent())
    with pytest.raises(ValueError, match="principal"):
        widgets.latent_explorer(generator, directions="pca")
    mine = torch.eye(8)[:2]
    assert torch.equal(
        widgets.latent_explorer(generator, directions=mine).directions, mine
    )


def test_class_picker_for_a_conditional_generator(conditional_generator):
    explorer = widgets.latent_explorer(
        conditional_generator, num_directions=2
    )
    assert explorer.class_picker is not None
    before = explorer.image.value
    explorer.class_picker.value = 7
    assert explorer.image.value != before


def test_interpolation_widget_redraws_both_rows(generator):
    widget = widgets.interpolation_widget(generator)
    lerp, slerp, norms = (
        widget.lerp_image.value,
        widget.slerp_image.value,
        widget.norms_image.value,
    )
    assert lerp != slerp
    widget.seed_end.value = 7
    assert (
        widget.lerp_image.value != lerp
        and widget.slerp_image.value != slerp
        and widget.norms_image.value != norms
    )
    assert {name: path.shape for name, path in widget.paths().items()} == {
        "lerp": (9, 8),
        "slerp": (9, 8),
    }


def test_style_grid_widget(conditional_generator, generator):
    widget = widgets.style_grid_widget(conditional_generator)
    before = widget.image.value
    widget.rows.value = 2
    assert widget.image.value != before
    with pytest.raises(ValueError, match="conditional"):
        widgets.style_grid_widget(generator)
