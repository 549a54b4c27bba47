import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gan_teach import discriminator_step, generator_step, train_step
from gan_teach.instruments.lab import (
    LAB_DATASETS,
    LAYERS,
    GANLab,
    LabSession,
    LabSettings,
    capture_frame,
    create_lab_state,
    discriminator_heatmap,
    draw_frame,
    generator_gradients,
    generator_manifold,
    lab_animation_html,
    lab_bounds,
    measure_speed,
    new_lab_figure,
    one_thread,
    render_png,
)

SMALL = dict(width=16, batch_size=32)


def parameters(module):
    return [p.detach().clone() for p in module.parameters()]


def same(before, module):
    return all(
        torch.equal(a, b) for a, b in zip(before, module.parameters())
    )


# ----------------------------------------------------------------------------------- settings


def test_settings_map_to_the_library_config():
    config = LabSettings(
        dataset="grid",
        loss="hinge",
        lr_generator=3e-4,
        lr_discriminator=2e-3,
        d_steps=3,
        width=24,
        latent_dim=4,
    ).to_config()
    assert (config.dataset, config.loss, config.model) == (
        "grid",
        "hinge",
        "mlp",
    )
    assert (
        config.lr_generator,
        config.lr_discriminator,
        config.d_steps,
        config.width,
        config.latent_dim,
    ) == (3e-4, 2e-3, 3, 24, 4)
    assert config.lr_decay is False and config.device == "cpu"
    assert (config.beta1, config.beta2) == (
        0.5,
        0.999,
    )  # the recipe's Adam betas
    assert LAB_DATASETS == ("ring", "grid")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(dataset="mixture-1d"), "2-D data"),
        (dict(loss="bce"), "unknown loss"),
        (dict(optimizer="rmsprop"), "optimizer"),
    ],
)
def test_bad_settings_say_what_is_allowed(change, message):
    with pytest.raises(ValueError, match=message):
        LabSettings(**change).to_config()


def test_sgd_replaces_both_optimizers():
    state = create_lab_state(
        LabSettings(
            optimizer="sgd",
            lr_generator=0.05,
            lr_discriminator=0.1,
            **SMALL,
        )
    )
    assert isinstance(state.generator_optimizer, torch.optim.SGD)
    assert isinstance(state.discriminator_optimizer, torch.optim.SGD)
    assert state.discriminator_optimizer.param_groups[0]["lr"] == 0.1
    assert isinstance(
        create_lab_state(LabSettings(**SMALL)).generator_optimizer,
        torch.optim.Adam,
    )


# ----------------------------------------------------------------------------------- stepping


def test_discriminator_step_changes_d_and_not_g():
    state = create_lab_state(LabSettings(**SMALL))
    generator_before, discriminator_before = (
        parameters(state.generator),
        parameters(state.discriminator),
    )
    metrics = discriminator_step(state, torch.randn(32, 2))
    assert same(generator_before, state.generator)
    assert not same(discriminator_before, state.discriminator)
    assert {"d_loss", "d_real", "d_fake", "d_grad_norm"} <= set(metrics)


def test_generator_step_changes_g_and_not_d():
    state = create_lab_state(LabSettings(**SMALL))
    generator_before, discriminator_before = (
        parameters(state.generator),
        parameters(state.discriminator),
    )
    metrics = generator_step(state, 32)
    assert not same(generator_before, state.generator)
    assert same(discriminator_before, state.discriminator)
    assert set(metrics) == {"g_loss", "g_grad_norm"}


@pytest.mark.parametrize(
    "loss, optimizer",
    [("non-saturating", "adam"), ("minimax", "sgd"), ("wgan-gp", "adam")],
)
def test_k_discriminator_steps_and_a_generator_step_equal_train_step(
    loss, optimizer
):
    settings = LabSettings(
        loss=loss, optimizer=optimizer, d_steps=2, **SMALL
    )
    by_parts, library = (
        create_lab_state(settings),
        create_lab_state(settings),
    )
    real_batches = [torch.randn(32, 2), torch.randn(32, 2)]
    torch.manual_seed(7)
    parts = [discriminator_step(by_parts, real) for real in real_batches]
    g_metrics = generator_step(by_parts, 32)
    torch.manual_seed(7)
    reference = train_step(library, real_batches)
    for mine, theirs in (
        (by_parts.generator, library.generator),
        (by_parts.discriminator, library.discriminator),
    ):
        for a, b in zip(mine.parameters(), theirs.parameters()):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    torch.testing.assert_close(parts[-1]["d_loss"], reference["d_loss"])
    torch.testing.assert_close(g_metrics["g_loss"], reference["g_loss"])


def test_session_step_is_train_step_on_its_batches():
    session = LabSession(LabSettings(d_steps=2, **SMALL))
    library = create_lab_state(session.settings)
    data_rng = torch.Generator().manual_seed(
        session.settings.seed + 1
    )  # the session's stream of real batches
    torch.manual_seed(3)
    session.full_step()
    torch.manual_seed(3)
    train_step(
        library,
        [
            session.distribution.sample(32, generator=data_rng)
            for _ in range(2)
        ],
    )
    for a, b in zip(
        session.state.generator.parameters(), library.generator.parameters()
    ):
        assert torch.equal(a, b)
    assert session.updates == 1 and session.state.step == 1


def test_session_logs_every_update_and_scores_quality():
    session = LabSession(LabSettings(**SMALL), quality_every=2)
    session.d_step()
    session.g_step()
    session.full_step(2)
    assert session.log["update"] == [1, 2, 3, 4]
    assert np.isnan(session.log["g_loss"][0]) and np.isnan(
        session.log["d_loss"][1]
    )  # a D step has no G loss ...
    assert not np.isnan(session.log["d_real"][2])
    assert [row[0] for row in session.quality] == [0, 2, 4]
    modes, share = session.quality[-1][1:]
    assert 0 <= modes <= 8 and 0.0 <= share <= 1.0


def test_learning_rates_and_k_change_without_restarting():
    session = LabSession(LabSettings(**SMALL))
    session.full_step()
    weights = parameters(session.state.generator)
    session.set_learning_rates(0.01, 0.02)
    session.set_d_steps(3)
    assert session.state.generator_optimizer.param_groups[0]["lr"] == 0.01
    assert (
        session.state.discriminator_optimizer.param_groups[0]["lr"] == 0.02
    )
    assert same(weights, session.state.generator) and session.updates == 1
    with pytest.raises(ValueError, match="positive integer"):
        session.set_d_steps(0)


# ----------------------------------------------------------------------------------- pictures


@pytest.mark.parametrize("loss", ["minimax", "non-saturating"])
def test_heatmap_of_a_bce_discriminator_is_a_probability(loss):
    state = create_lab_state(LabSettings(loss=loss, **SMALL))
    with torch.no_grad():
        state.discriminator.classify.bias.fill_(
            5.0
        )  # a confident D, so that values spread
    heatmap = discriminator_heatmap(state, lab_bounds("ring"), resolution=7)
    assert heatmap.shape == (7, 7)
    assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0


def test_heatmap_of_a_critic_is_the_raw_score_row_by_row_from_the_bottom():
    state = create_lab_state(LabSettings(loss="wgan-gp", **SMALL))
    with torch.no_grad():
        state.discriminator.classify.bias.fill_(5.0)
    heatmap = discriminator_heatmap(
        state, (-1.0, 1.0, -2.0, 2.0), resolution=5
    )
    assert heatmap.max() > 1.0  # not squashed by a sigmoid
    corner = state.discriminator(
        torch.tensor([[1.0, -2.0]])
    ).item()  # x max, y min: bottom row, last column
    assert heatmap[0, -1] == pytest.approx(corner, abs=1e-5)


@pytest.mark.parametrize(
    "loss", ["minimax", "non-saturating", "lsgan", "hinge", "wgan-gp"]
)
def test_arrows_point_where_each_fake_loss_decreases(loss):
    state = create_lab_state(LabSettings(loss=loss, **SMALL))
    points = torch.randn(20, 2)
    gradients = generator_gradients(state, points)
    assert gradients.shape == (20, 2)
    assert all(
        p.grad is None for p in state.discriminator.parameters()
    )  # D is not touched
    step = (
        1e-3
        * gradients
        / gradients.norm(dim=1, keepdim=True).clamp_min(1e-12)
    )
    with torch.no_grad():

        def each_loss(x):
            return torch.stack(
                [
                    state.loss.generator_loss(
                        state.discriminator(row[None])
                    )
                    for row in x
                ]
            )

        before, after = (
            each_loss(points),
            each_loss(points - step),
        )  # a small move along the arrow, -gradient
    moved = gradients.norm(dim=1) > 1e-4
    assert (after[moved] < before[moved]).all()


def test_arrows_are_each_points_own_gradient():
    state = create_lab_state(LabSettings(**SMALL))
    points = torch.randn(5, 2)
    gradients = generator_gradients(state, points)
    single = points[2:3].clone().requires_grad_(True)
    state.loss.generator_loss(state.discriminator(single)).backward()
    torch.testing.assert_close(gradients[2], single.grad[0])


def test_manifold_is_g_on_a_latent_grid():
    state = create_lab_state(LabSettings(**SMALL))
    rows, columns = generator_manifold(
        state, num_lines=5, points_per_line=9, latent_range=2.0
    )
    assert rows.shape == columns.shape == (5, 9, 2)
    with torch.no_grad():
        state.generator.eval()
        centre = state.generator(torch.zeros(1, 2))[0].numpy()
    np.testing.assert_allclose(
        rows[2, 4], centre, atol=1e-6
    )  # z = (0, 0) is the middle of both families
    np.testing.assert_allclose(columns[2, 4], centre, atol=1e-6)


def test_frames_draw_every_layer_and_reject_unknown_ones():
    session = LabSession(LabSettings(**SMALL))
    session.full_step(3)
    frame = capture_frame(session, resolution=8, num_arrows=10)
    assert (
        frame.heatmap.shape == (8, 8)
        and frame.arrows.shape == (10, 2)
        and frame.fake.shape == (512, 2)
    )
    figure = new_lab_figure()
    draw_frame(figure, frame, LAYERS)
    everything = render_png(figure)
    draw_frame(figure, frame, [])
    nothing = render_png(figure)
    assert everything[:4] == b"\x89PNG" and everything != nothing
    with pytest.raises(ValueError, match="unknown layers"):
        draw_frame(figure, frame, ["heat map"])


def test_animation_plays_offline():
    session = LabSession(LabSettings(**SMALL))
    frames = [capture_frame(session, resolution=6)]
    session.full_step(2)
    frames.append(capture_frame(session, resolution=6))
    html = lab_animation_html(frames, dpi=30)
    assert "<script" in html and "data:image/jpeg;base64" in html
    assert "https://" not in html
    with pytest.raises(ValueError, match="no frames"):
        lab_animation_html([])


# ----------------------------------------------------------------------------------- the widget


@pytest.fixture
def lab():
    figures_before = plt.get_fignums()
    lab = GANLab(LabSettings(**SMALL), resolution=8, steps_per_frame=3)
    yield lab
    lab.close()
    assert (
        plt.get_fignums() == figures_before
    )  # the lab's figure is not pyplot's: nothing leaks


@pytest.mark.widgets
def test_step_button_trains_both_networks_and_redraws(lab):
    generator_before, discriminator_before = (
        parameters(lab.session.state.generator),
        parameters(lab.session.state.discriminator),
    )
    image_before = lab.image.value
    lab.step_button.click()
    assert not same(generator_before, lab.session.state.generator)
    assert not same(discriminator_before, lab.session.state.discriminator)
    assert (
        lab.image.value != image_before
        and lab.image.value[:4] == b"\x89PNG"
    )
    assert "1 updates" in lab.status.value


@pytest.mark.widgets
def test_d_and_g_buttons_move_one_player_each(lab):
    generator_before, discriminator_before = (
        parameters(lab.session.state.generator),
        parameters(lab.session.state.discriminator),
    )
    lab.d_button.click()
    assert same(generator_before, lab.session.state.generator)
    assert not same(discriminator_before, lab.session.state.discriminator)
    discriminator_before = parameters(lab.session.state.discriminator)
    lab.g_button.click()
    assert not same(generator_before, lab.session.state.generator)
    assert same(discriminator_before, lab.session.state.discriminator)


@pytest.mark.widgets
def test_layer_toggle_redraws_without_training(lab):
    image_before, updates = lab.image.value, lab.session.updates
    lab.layer_boxes["heatmap"].value = False
    assert "heatmap" not in lab.layers
    assert (
        lab.image.value != image_before and lab.session.updates == updates
    )


@pytest.mark.widgets
def test_changing_the_loss_resets_with_the_new_loss(lab):
    lab.step_button.click()
    lab.loss.value = "wgan-gp"
    assert (
        lab.session.updates == 0
        and lab.session.state.loss.name == "wgan-gp"
    )
    assert lab.session.state.config.beta1 == 0.0
    lab.d_steps.value = 2
    lab.lr_generator.value = 1e-2
    assert lab.session.settings.d_steps == 2
    assert lab.session.state.generator_optimizer.param_groups[0][
        "lr"
    ] == pytest.approx(1e-2)
    lab.reset_button.click()
    assert lab.session.updates == 0 and lab.session.settings.d_steps == 2


@pytest.mark.widgets
def test_play_runs_steps_per_frame_on_each_tick(lab):
    image_before = lab.image.value
    lab.play.value += 1
    lab.play.value += 1
    assert lab.session.updates == 6
    assert lab.image.value != image_before


@pytest.mark.widgets
def test_a_diverged_run_is_reported_and_still_drawn(lab):
    lab.optimizer.value = "sgd"
    lab.lr_discriminator.value = 1.0
    lab.lr_generator.value = 1.0
    with torch.no_grad():
        for parameter in lab.session.state.discriminator.parameters():
            parameter.fill_(float("nan"))
    lab.step_button.click()
    assert lab.session.diverged
    assert (
        "diverged" in lab.status.value and lab.image.value[:4] == b"\x89PNG"
    )
    lab.reset_button.click()
    assert not lab.session.diverged


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.widgets
def test_measure_speed_runs_the_widget_headless():
    assert (
        measure_speed(
            num_frames=2, steps_per_frame=2, settings=LabSettings(**SMALL)
        )
        > 0
    )


def test_the_lab_steps_are_the_library_steps():
    """The session moves the players with the library's own functions: no copy."""
    from gan_teach.instruments.lab import session

    assert session.discriminator_step is discriminator_step
    assert session.generator_step is generator_step
    assert session.train_step is train_step
