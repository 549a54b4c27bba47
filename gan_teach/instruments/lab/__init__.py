"""The GAN lab: watch Algorithm 1 one update at a time on 2-D toy data, after GAN Lab (Kahng et al. 2019).

Three layers, each usable alone, each a module of this package:

1. :mod:`.session`, **stepping**: :class:`~.session.LabSettings`, :func:`~.session.create_lab_state`,
   :class:`~.session.LabSession`, which moves D, G or both with the library's own
   ``discriminator_step``, ``generator_step`` and ``train_step``.
2. :mod:`.pictures`: D's heat map, G's manifold, the generator loss's arrows, captured into a
   :class:`~.pictures.LabFrame` and drawn; :func:`~.pictures.lab_animation_html` for the static book.
3. :mod:`.widget`: :class:`~.widget.GANLab`, the ipywidgets panel over 1 and 2.
"""

from .pictures import (
    LAYERS,
    LabFrame,
    capture_frame,
    discriminator_heatmap,
    draw_curves,
    draw_frame,
    draw_plane,
    generator_gradients,
    generator_manifold,
    lab_animation_html,
    lab_bounds,
    new_lab_figure,
    render_png,
)
from .session import (
    LAB_DATASETS,
    OPTIMIZERS,
    LabSession,
    LabSettings,
    create_lab_state,
    one_thread,
)
from .widget import GANLab, measure_speed

__all__ = [
    "LAB_DATASETS",
    "OPTIMIZERS",
    "LAYERS",
    "LabSettings",
    "create_lab_state",
    "one_thread",
    "LabSession",
    "lab_bounds",
    "discriminator_heatmap",
    "generator_manifold",
    "generator_gradients",
    "LabFrame",
    "capture_frame",
    "draw_plane",
    "draw_curves",
    "draw_frame",
    "render_png",
    "new_lab_figure",
    "lab_animation_html",
    "GANLab",
    "measure_speed",
]
