"""The lab as an ipywidgets panel, and the speed it runs at (``python -m gan_teach.instruments.lab.widget``).

:class:`GANLab` is thin ipywidgets wiring over the session and the pictures: buttons for one D step, one G
step, one full step, run/pause (an ``ipywidgets.Play``), reset, and a checkbox per layer. The picture is
a PNG from one reused matplotlib figure, shown in an ``ipywidgets.Image``.
Every control and keyword is one that ipywidgets 7.5 and 8 both have (a
``tooltip`` on a button, a ``description_width`` style, a ``Layout`` width).

Speed, measured with :func:`measure_speed` on two CPU cores shared with other
jobs: with the defaults (width 64, batch 128, a 40 x 40 heat map) the widget ran 60 to 100 full steps per
second while redrawing every 10 steps, and 7 to 13 while redrawing after every step. Drawing dominates: a
step takes about 4 ms, a picture about 100 ms, most of it matplotlib's text. The Play button ticks every
200 ms, so that ticks do not queue up behind the pictures: 50 steps per second at 10 steps per frame; raise
"steps per frame" to go faster. The networks run on one thread (:func:`~.session.one_thread`): for networks
this small, two threads were 7 to 10 times slower.
"""

from __future__ import annotations

import dataclasses
import math
import time

import ipywidgets as widgets

from ...losses import LOSSES
from .pictures import (
    LAYERS,
    capture_frame,
    draw_frame,
    new_lab_figure,
    render_png,
)
from .session import LAB_DATASETS, OPTIMIZERS, LabSession, LabSettings

__all__ = ["GANLab", "measure_speed"]


class GANLab:
    """The lab as an ipywidgets panel: ``GANLab().widget`` in a notebook cell (with a running kernel).

    Every control is an attribute, so that tests (and curious students) can drive it from code:
    ``lab.step_button.click()``, ``lab.play.value += 1``, ``lab.layer_boxes["heatmap"].value = False``.

    Args:
        settings: the starting settings.
        steps_per_frame: full steps per tick of the Play button (the picture is redrawn once per tick).
        resolution: heat-map grid points per axis.
        dpi: resolution of the picture.
    """

    def __init__(
        self,
        settings: LabSettings | None = None,
        *,
        steps_per_frame: int = 10,
        resolution: int = 40,
        dpi: int = 72,
    ) -> None:
        self.session = LabSession(settings)
        self.resolution, self.dpi = resolution, dpi
        self.figure = new_lab_figure()
        s = self.session.settings
        style = {"description_width": "initial"}
        self.dataset = widgets.Dropdown(
            options=LAB_DATASETS, value=s.dataset, description="data"
        )
        self.loss = widgets.Dropdown(
            options=tuple(LOSSES), value=s.loss, description="loss"
        )
        self.optimizer = widgets.Dropdown(
            options=OPTIMIZERS, value=s.optimizer, description="optimizer"
        )
        self.width = widgets.Dropdown(
            options=sorted({8, 16, 32, 64, 128, s.width}),
            value=s.width,
            description="width",
        )
        # learning rates from 1e-5 to 1, on a log scale
        self.lr_generator, self.lr_discriminator = (
            widgets.FloatLogSlider(
                value=value,
                base=10,
                min=-5,
                max=0,
                description=description,
                readout_format=".0e",
                style=style,
            )
            for value, description in (
                (s.lr_generator, "G rate"),
                (s.lr_discriminator, "D rate"),
            )
        )
        self.d_steps = widgets.IntSlider(
            value=s.d_steps,
            min=1,
            max=10,
            description="k (D steps)",
            style=style,
        )
        self.steps_per_frame = widgets.IntSlider(
            value=steps_per_frame,
            min=1,
            max=100,
            description="steps per frame",
            style=style,
        )
        self.d_button = widgets.Button(
            description="D step",
            tooltip="one discriminator update; G frozen",
        )
        self.g_button = widgets.Button(
            description="G step", tooltip="one generator update; D frozen"
        )
        self.step_button = widgets.Button(
            description="Step",
            tooltip="k D updates, then one G update (train_step)",
        )
        self.reset_button = widgets.Button(
            description="Reset",
            tooltip="fresh networks with these settings",
        )
        # A tick every 200 ms: a picture takes about 100 ms, and slower ticks than that do not queue up in the kernel.
        self.play = widgets.Play(
            value=0,
            min=0,
            max=10**9,
            step=1,
            interval=200,
            description="run / pause",
        )
        self.layer_boxes = {
            name: widgets.Checkbox(
                value=True,
                description=name,
                indent=False,
                layout=widgets.Layout(width="auto"),
            )
            for name in LAYERS
        }
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()

        self.d_button.on_click(lambda _: self._act(self.session.d_step))
        self.g_button.on_click(lambda _: self._act(self.session.g_step))
        self.step_button.on_click(
            lambda _: self._act(self.session.full_step)
        )
        self.reset_button.on_click(lambda _: self.reset())
        self.play.observe(self._on_tick, names="value")
        for control in (
            self.dataset,
            self.loss,
            self.optimizer,
            self.width,
        ):
            control.observe(
                lambda _: self.reset(), names="value"
            )  # new networks: these change what is trained
        for control in (self.lr_generator, self.lr_discriminator):
            control.observe(
                lambda _: self.session.set_learning_rates(
                    self.lr_generator.value, self.lr_discriminator.value
                ),
                names="value",
            )
        self.d_steps.observe(
            lambda change: self.session.set_d_steps(change["new"]),
            names="value",
        )
        for box in self.layer_boxes.values():
            box.observe(lambda _: self.redraw(), names="value")

        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [self.dataset, self.loss, self.optimizer, self.width]
                ),
                widgets.HBox(
                    [self.lr_generator, self.lr_discriminator, self.d_steps]
                ),
                widgets.HBox(
                    [
                        self.d_button,
                        self.g_button,
                        self.step_button,
                        self.play,
                        self.steps_per_frame,
                        self.reset_button,
                    ]
                ),
                widgets.HBox(list(self.layer_boxes.values())),
                self.image,
                self.status,
            ]
        )
        self.redraw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers whose checkbox is ticked."""
        return tuple(
            name for name, box in self.layer_boxes.items() if box.value
        )

    def current_settings(self) -> LabSettings:
        """The settings the controls show now."""
        return dataclasses.replace(
            self.session.settings,
            dataset=self.dataset.value,
            loss=self.loss.value,
            optimizer=self.optimizer.value,
            width=self.width.value,
            lr_generator=self.lr_generator.value,
            lr_discriminator=self.lr_discriminator.value,
            d_steps=self.d_steps.value,
        )

    def reset(self) -> None:
        """Fresh networks with the settings the controls show; redraw."""
        self.session.reset(self.current_settings())
        self.redraw()

    def redraw(self) -> None:
        """Capture the session, draw it on the reused figure, and show the PNG."""
        frame = capture_frame(self.session, resolution=self.resolution)
        draw_frame(self.figure, frame, self.layers)
        self.image.value = render_png(self.figure, dpi=self.dpi)
        last = {
            key: values[-1]
            for key, values in self.session.log.items()
            if values and key != "update"
        }
        shown = ", ".join(
            f"{key} {value:.3f}"
            for key, value in last.items()
            if not math.isnan(value)
        )
        self.status.value = (
            f"<code>{self.session.updates} updates; {shown}</code>"
        )
        if self.session.diverged:
            self.status.value += (
                "<br><b>The losses became NaN or infinite: the training diverged. "
                "Lower the learning rates and press Reset.</b>"
            )

    def close(self) -> None:
        """Close the widgets (the figure is not pyplot's, so nothing else is left open)."""
        self.play.unobserve_all()
        self.widget.close()

    def _act(self, action) -> None:
        action()
        self.redraw()

    def _on_tick(self, change: dict) -> None:
        if change["new"] != change["old"]:
            self.session.full_step(self.steps_per_frame.value)
            self.redraw()


def measure_speed(
    num_frames: int = 20,
    steps_per_frame: int = 10,
    settings: LabSettings | None = None,
) -> float:
    """Full steps per second of the widget, drawing after every ``steps_per_frame`` steps (as Play does).

    Returns:
        Steps per second, counting the drawing time.
    """
    lab = GANLab(settings, steps_per_frame=steps_per_frame)
    start = time.perf_counter()
    for _ in range(num_frames):
        lab.play.value += 1
    elapsed = time.perf_counter() - start
    lab.close()
    return num_frames * steps_per_frame / elapsed


if (
    __name__ == "__main__"
):  # python -m gan_teach.instruments.lab.widget: the speed quoted in this module's docstring
    for steps_per_frame in (1, 10):
        print(
            f"{measure_speed(steps_per_frame=steps_per_frame):.0f} steps/s drawing every {steps_per_frame} steps"
        )
