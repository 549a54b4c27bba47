import dataclasses
import math

import pytest
import torch

from gan_teach import (
    TrainConfig,
    TrainingDivergedError,
    create_state,
    load_toy,
    train,
    train_step,
)
from gan_teach.config import build_models
from gan_teach.data import toy_distribution
from gan_teach.metrics import toy_metrics
from gan_teach.models import generate

TINY = dict(dataset="ring", width=16, latent_dim=4, batch_size=32)


def _parameters(module):
    return [p.detach().clone() for p in module.parameters()]


def test_train_step_changes_both_networks_and_reports_metrics():
    state = create_state(TrainConfig(**TINY, steps=1))
    generator_before, discriminator_before = (
        _parameters(state.generator),
        _parameters(state.discriminator),
    )
    metrics = train_step(state, [load_toy("ring", 32)])
    assert all(
        not torch.equal(a, b)
        for a, b in zip(generator_before, state.generator.parameters())
    )
    assert all(
        not torch.equal(a, b)
        for a, b in zip(
            discriminator_before, state.discriminator.parameters()
        )
    )
    assert set(metrics) == {
        "d_loss",
        "g_loss",
        "d_real",
        "d_fake",
        "real_score",
        "fake_score",
        "d_grad_norm",
        "g_grad_norm",
    }
    # At initialisation D(x) is about 1/2 for everything, so the BCE discriminator loss is about 2 log 2.
    assert metrics["d_loss"].item() == pytest.approx(
        2 * math.log(2), abs=0.05
    )
    assert (
        0 < metrics["d_real"].item() < 1
        and metrics["g_grad_norm"].item() > 0
    )


def test_k_discriminator_steps_per_generator_step():
    state = create_state(TrainConfig(**TINY, steps=1, d_steps=3))
    train(state=state, data=load_toy("ring", 32 * 3 * 4), progress=False)
    g_steps = state.generator_optimizer.state_dict()["state"][0][
        "step"
    ].item()
    d_steps = state.discriminator_optimizer.state_dict()["state"][0][
        "step"
    ].item()
    assert (g_steps, d_steps) == (1, 3)


def test_wgan_gp_step_reports_penalty():
    state = create_state(TrainConfig(**TINY, loss="wgan-gp", steps=1))
    metrics = train_step(
        state, [load_toy("ring", 32)] * state.config.d_steps
    )
    assert metrics["gradient_penalty"].item() >= 0


def test_same_seed_same_losses_different_seed_different_losses():
    config = TrainConfig(**TINY, steps=20)
    first = train(config, progress=False).history["d_loss"]
    second = train(config, progress=False).history["d_loss"]
    other = train(
        TrainConfig(**{**TINY, "seed": 1}, steps=20), progress=False
    ).history["d_loss"]
    assert first == second and first != other and len(first) == 20


def test_history_samples_and_steps_per_epoch():
    data = load_toy("ring", 32 * 5)  # 5 steps an epoch
    state = train(TrainConfig(**TINY, epochs=3), data=data, progress=False)
    assert (state.step, state.epoch, state.epoch_step) == (15, 3, 0)
    assert [step for step, _ in state.samples] == [
        0,
        5,
        10,
        15,
    ]  # before training and after each epoch
    assert state.samples[-1][1].shape == (64, 2)
    assert all(len(values) == 15 for values in state.history.values())


def test_steps_stop_mid_epoch():
    state = train(
        TrainConfig(**TINY, steps=7),
        data=load_toy("ring", 32 * 5),
        progress=False,
    )
    assert (state.step, state.epoch, state.epoch_step) == (7, 1, 2)


def test_ema_generator_lags_behind():
    state = train(
        TrainConfig(**TINY, steps=10, ema_decay=0.9), progress=False
    )
    ema, live = state.ema_generator, state.generator
    assert state.sampling_generator is ema
    assert not all(
        torch.equal(a, b)
        for a, b in zip(ema.parameters(), live.parameters())
    )


def test_dcgan_trains_on_images(tmp_path):
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    config = TrainConfig(
        dataset="mnist",
        width=4,
        latent_dim=8,
        batch_size=16,
        epochs=1,
        num_fixed_samples=4,
    )
    state = train(config, data=images, out_dir=tmp_path, progress=False)
    assert state.step == 4
    assert (tmp_path / "checkpoint.pt").exists() and (
        tmp_path / "samples" / "epoch_001.png"
    ).exists()
    assert state.samples[-1][1].shape == (4, 1, 28, 28)


def test_linear_learning_rate_decay():
    seen = []
    config = TrainConfig(
        **TINY,
        steps=8,
        lr_decay=True,
        lr_generator=1e-3,
        lr_discriminator=2e-3,
    )
    state = create_state(config)
    original = state.generator_optimizer.step

    def record_step(*args, **kwargs):
        seen.append(
            (
                state.generator_optimizer.param_groups[0]["lr"],
                state.discriminator_optimizer.param_groups[0]["lr"],
            )
        )
        return original(*args, **kwargs)

    state.generator_optimizer.step = record_step
    train(state=state, data=load_toy("ring", 32 * 4), progress=False)
    assert [g for g, _ in seen] == pytest.approx(
        [1e-3 * (1 - step / 8) for step in range(8)]
    )
    assert [d for _, d in seen] == pytest.approx(
        [2e-3 * (1 - step / 8) for step in range(8)]
    )


def test_learning_rate_decay_can_start_late():
    """--lr-decay-start-epoch E: constant rates for E epochs, then a straight line to 0 at the end."""
    seen = []
    config = TrainConfig(
        **TINY,
        epochs=4,
        lr_decay=True,
        lr_decay_start_epoch=2,
        lr_generator=1e-3,
    )  # 4 steps an epoch: constant for steps 0-7, then 8 steps of decay
    state = create_state(config)
    original = state.generator_optimizer.step

    def record_step(*args, **kwargs):
        seen.append(state.generator_optimizer.param_groups[0]["lr"])
        return original(*args, **kwargs)

    state.generator_optimizer.step = record_step
    train(state=state, data=load_toy("ring", 32 * 4), progress=False)
    assert seen == pytest.approx(
        [1e-3] * 8 + [1e-3 * (1 - step / 8) for step in range(8)]
    )
    with pytest.raises(ValueError, match="lr_decay is off"):
        TrainConfig(
            **TINY, epochs=4, lr_decay=False, lr_decay_start_epoch=2
        ).resolve()
    with pytest.raises(ValueError, match="non-negative integer"):
        TrainConfig(
            **TINY, epochs=4, lr_decay=True, lr_decay_start_epoch=-1
        ).resolve()
    with pytest.raises(ValueError, match="train longer"):
        train(
            TrainConfig(
                **TINY, epochs=2, lr_decay=True, lr_decay_start_epoch=2
            ),
            data=load_toy("ring", 32 * 4),
            progress=False,
        )


def test_ring_recipe_settings():
    recipe = TrainConfig(dataset="ring").resolve()
    assert (
        recipe.model,
        recipe.generator_batch_norm,
        recipe.lr_decay,
        recipe.minibatch_std,
    ) == ("mlp", True, True, False)
    images = TrainConfig(dataset="fashion-mnist").resolve()
    assert (images.model, images.width, images.lr_decay) == (
        "dcgan",
        32,
        False,
    )


def test_amp_is_off_on_the_cpu():
    assert (
        create_state(TrainConfig(**TINY, steps=1, device="cpu")).amp_dtype
        is None
    )


def test_cpu_bfloat16_is_opt_in_and_trains_and_resumes(tmp_path):
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    config = TrainConfig(
        dataset="mnist",
        width=8,
        latent_dim=8,
        batch_size=16,
        epochs=1,
        num_fixed_samples=4,
        device="cpu",
        cpu_bfloat16=True,
    )
    state = create_state(config)
    assert (
        state.amp_dtype == torch.bfloat16 and state.generator_scaler is None
    )  # bfloat16 needs no loss scaling
    before = _parameters(state.generator)
    metrics = train_step(state, [images[:16]])
    assert math.isfinite(metrics["d_loss"]) and math.isfinite(
        metrics["g_loss"]
    )
    assert all(
        p.dtype == torch.float32 for p in state.generator.parameters()
    )  # autocast keeps float32 weights
    assert not all(
        torch.equal(a, b)
        for a, b in zip(before, state.generator.parameters())
    )
    trained = train(config, data=images, out_dir=tmp_path, progress=False)
    resumed = train(
        TrainConfig(**{**config.__dict__, "epochs": 2}),
        data=images,
        out_dir=tmp_path,
        resume=tmp_path / "checkpoint.pt",
        progress=False,
    )
    assert (
        trained.config.cpu_bfloat16
        and resumed.config.cpu_bfloat16
        and resumed.amp_dtype == torch.bfloat16
    )
    assert resumed.step == 8


def test_r1_penalty_switches_on_at_its_start_epoch():
    images = (
        torch.rand(64, 1, 28, 28) * 2 - 1
    )  # 4 steps an epoch with batch size 16
    config = TrainConfig(
        dataset="mnist",
        width=4,
        latent_dim=8,
        batch_size=16,
        epochs=3,
        num_fixed_samples=4,
        r1_gamma=1.0,
        r1_start_epoch=1,
    )
    state = train(config, data=images, progress=False)
    assert (
        len(state.history["d_loss"]) == 12
        and len(state.history["r1_penalty"]) == 8
    )  # epochs 2 and 3 only
    assert all(value > 0 for value in state.history["r1_penalty"])
    always = train(
        TrainConfig(**{**config.__dict__, "r1_start_epoch": 0}),
        data=images,
        progress=False,
    )
    assert len(always.history["r1_penalty"]) == 12
    with pytest.raises(ValueError, match="r1_start_epoch"):
        TrainConfig(
            dataset="mnist", epochs=1, r1_gamma=1.0, r1_start_epoch=-1
        ).resolve()


def test_nan_stops_training_naming_the_step_and_keeps_last_good_checkpoint(
    tmp_path,
):
    data = load_toy("ring", 32 * 4)  # 4 steps an epoch

    def poison_after_first_epoch(state):
        if state.epoch == 1:
            with torch.no_grad():
                next(state.discriminator.parameters()).fill_(float("nan"))

    with pytest.raises(
        TrainingDivergedError,
        match=r"d_loss became nan at step 5 \(epoch 2\); the last good checkpoint is",
    ):
        train(
            TrainConfig(**TINY, epochs=3),
            data=data,
            out_dir=tmp_path,
            callback=poison_after_first_epoch,
            progress=False,
        )
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert saved["epoch"] == 1 and all(
        torch.isfinite(t).all() for t in saved["discriminator"].values()
    )


def test_too_little_data_is_explained():
    with pytest.raises(ValueError, match="too few for one step"):
        train(
            TrainConfig(**TINY, steps=1),
            data=load_toy("ring", 10),
            progress=False,
        )


def test_config_validation_messages():
    with pytest.raises(
        ValueError, match="model 'dcgan' needs an image dataset"
    ):
        TrainConfig(dataset="ring", model="dcgan").resolve()
    with pytest.raises(ValueError, match="unknown loss"):
        TrainConfig(loss="wasserstein").resolve()
    with pytest.raises(
        ValueError, match="batch_size must be a positive integer"
    ):
        TrainConfig(batch_size=0).resolve()
    resolved = TrainConfig(dataset="mnist", loss="wgan-gp").resolve()
    assert (
        resolved.model,
        resolved.d_steps,
        resolved.beta1,
        resolved.epochs,
    ) == ("dcgan", 5, 0.0, 5)
    assert TrainConfig(dataset="mnist", steps=10).resolve().epochs is None


@pytest.mark.slow
def test_default_ring_recipe_covers_every_mode():
    """The recipe the CLI uses by default: all 8 modes, at least 70 % high-quality samples."""
    state = train(TrainConfig(dataset="ring"), progress=False)
    metrics = toy_metrics(
        generate(state.sampling_generator, 10_000, seed=0),
        toy_distribution("ring"),
    )
    assert metrics["modes_covered"] == 8, metrics
    assert metrics["high_quality_share"] >= 0.7, metrics


def test_progress_bar_only_when_asked_or_interactive(capsys):
    train(
        TrainConfig(**TINY, steps=3), progress=None
    )  # pytest's captured stderr is not a terminal
    assert "step" not in capsys.readouterr().err
    train(TrainConfig(**TINY, steps=3), progress=True)
    assert "ring non-saturating" in capsys.readouterr().err


def test_callback_every_n_steps_sees_the_history_so_far():
    seen = []

    def record(state):
        seen.append((state.step, len(state.history["g_loss"])))

    train(
        TrainConfig(**TINY, steps=10),
        data=load_toy("ring", 96),
        callback=record,
        every=4,
        progress=False,
    )
    assert seen == [(4, 4), (8, 8)]


def test_callback_without_every_runs_after_each_epoch():
    steps = []
    train(
        TrainConfig(**TINY, epochs=3),
        data=load_toy("ring", 64),
        callback=lambda s: steps.append(s.step),
        progress=False,
    )
    assert steps == [
        2,
        4,
        6,
    ]  # 64 examples / batches of 32: 2 steps per epoch


def test_a_callback_changes_nothing_in_the_run():
    config, data = TrainConfig(**TINY, steps=9), load_toy("ring", 96)
    plain = train(config, data=data, progress=False)
    watched = train(
        config,
        data=data,
        callback=lambda state: state.sampling_generator,
        every=2,
        progress=False,
    )
    assert plain.history == watched.history


@pytest.mark.parametrize("every", [0, -3, 2.5])
def test_every_must_be_a_positive_number_of_steps(every):
    with pytest.raises(
        ValueError, match="every must be a positive number of steps"
    ):
        train(
            TrainConfig(**TINY, steps=2),
            data=load_toy("ring", 64),
            callback=print,
            every=every,
        )


def test_samples_kept_by_a_callback_equal_training_in_chunks():
    """What the practice chapter did by continuing `train` in chunks, one run with a callback does."""
    config, data = (
        TrainConfig(**TINY, steps=12, lr_decay=False),
        load_toy("ring", 96),
    )  # 3 steps an epoch
    chunked = create_state(config)
    for chunk in range(1, 7):
        chunked.config = dataclasses.replace(
            chunked.config, steps=2 * chunk
        )
        chunked = train(state=chunked, data=data, progress=False)

    def keep_samples(state):
        state.samples.append((state.step, state.fixed_samples()))

    watched = train(
        config, data=data, callback=keep_samples, every=2, progress=False
    )
    assert (
        [step for step, _ in watched.samples]
        == [step for step, _ in chunked.samples]
        == [0, 2, 3, 4, 6, 8, 9, 10, 12]
    )
    assert all(
        torch.equal(a, b)
        for (_, a), (_, b) in zip(watched.samples, chunked.samples)
    )
    assert watched.history == chunked.history


def test_snapshots_by_callback_equal_checkpoint_and_resume(tmp_path):
    """What the future chapter did by resuming a checkpoint at longer lengths, one run with a callback does."""
    import copy

    data, snapshot_steps = load_toy("ring", 96), [2, 6]
    resumed = {}
    for steps in snapshot_steps:
        checkpoint = tmp_path / "checkpoint.pt"
        state = train(
            TrainConfig(**TINY, steps=steps, lr_decay=False),
            data=data,
            out_dir=tmp_path,
            resume=checkpoint if checkpoint.exists() else None,
            progress=False,
        )
        resumed[steps] = copy.deepcopy(state.sampling_generator)
    watched = {}

    def keep_generator(state):
        if state.step in snapshot_steps:
            watched[state.step] = copy.deepcopy(state.sampling_generator)

    train(
        TrainConfig(**TINY, steps=6, lr_decay=False),
        data=data,
        callback=keep_generator,
        every=2,
        progress=False,
    )
    for steps in snapshot_steps:
        for a, b in zip(
            resumed[steps].parameters(), watched[steps].parameters()
        ):
            assert torch.equal(a, b)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("lr_generator", "0.001", "lr_generator must be a finite number"),
        ("lr_discriminator", float("inf"), "lr_discriminator must be a finite"),
        ("r1_gamma", float("nan"), "r1_gamma must be a finite number"),
        ("r1_gamma", float("inf"), "r1_gamma must be a finite number"),
        ("ema_decay", "0.999", "ema_decay must be a finite number"),
        ("width", True, "width must be a positive integer"),
        ("seed", 2**64, r"seed must be an integer in \[0, 2\*\*64\)"),
        ("seed", -1, r"seed must be an integer in \[0, 2\*\*64\)"),
    ],
)  # fmt: skip
def test_config_names_the_field_of_a_bad_number(field, value, message):
    config = TrainConfig(dataset="ring", steps=1)
    setattr(config, field, value)
    with pytest.raises(ValueError, match=message):
        config.resolve()


def test_the_mnist_recipe_is_the_measured_fast_one():
    """benchmarks/README.md, "Time to quality": what TrainConfig(dataset="mnist") trains, and the DCGAN
    paper's settings that the other losses and the conditional DCGAN keep."""
    recipe = TrainConfig(dataset="fashion-mnist").resolve()
    assert (
        recipe.batch_size,
        recipe.lr_generator,
        recipe.lr_discriminator,
        recipe.beta1,
        recipe.beta2,
        recipe.discriminator_norm,
        recipe.minibatch_std,
        recipe.ema_decay,
        recipe.epochs,
    ) == (64, 2e-3, 2e-3, 0.0, 0.999, "none", True, 0.999, 10)
    for other in (
        TrainConfig(dataset="mnist", loss="hinge"),
        TrainConfig(dataset="mnist", model="conditional"),
    ):
        kept = other.resolve()
        assert (
            kept.batch_size,
            kept.lr_generator,
            kept.beta1,
            kept.discriminator_norm,
            kept.minibatch_std,
            kept.ema_decay,
            kept.epochs,
        ) == (128, 2e-4, 0.5, "batch", False, 0.0, 5), other


def test_the_discriminator_normalisation_and_its_minibatch_spread():
    config = TrainConfig(dataset="mnist", loss="hinge").resolve()
    assert (config.discriminator_norm, config.ema_decay) == ("batch", 0.0)
    assert any(  # DCGAN's batch norm where DCGAN's settings are kept
        isinstance(module, torch.nn.BatchNorm2d)
        for module in build_models(config)[1].modules()
    )
    plain = TrainConfig(
        dataset="mnist", discriminator_norm="none", minibatch_std=True
    ).resolve()
    discriminator = build_models(plain)[1]
    assert not any(
        isinstance(module, (torch.nn.BatchNorm2d, torch.nn.GroupNorm))
        for module in discriminator.modules()
    )
    # the spread is one more input of the last layer: a batch of copies of
    # one image scores differently from the same image in a varied batch
    images = torch.randn(8, 1, 28, 28)
    copies = images[:1].expand(8, -1, -1, -1)
    assert discriminator.classify.in_features == 64 * 7 * 7 + 1
    with torch.no_grad():
        assert discriminator(copies)[0] != discriminator(images)[0]
    critic = TrainConfig(dataset="mnist", loss="wgan-gp").resolve()
    assert critic.discriminator_norm == "layer"
    with pytest.raises(ValueError, match="cannot use batch norm"):
        TrainConfig(
            dataset="mnist", loss="wgan-gp", discriminator_norm="batch"
        ).resolve()
    with pytest.raises(
        ValueError, match="choose one of: batch, layer, none"
    ):
        TrainConfig(dataset="mnist", discriminator_norm="group").resolve()
    with pytest.raises(ValueError, match="no such input"):
        TrainConfig(
            dataset="mnist", model="conditional", minibatch_std=True
        ).resolve()
    with pytest.raises(ValueError, match=r"ema_decay must be in \[0, 1\)"):
        TrainConfig(dataset="mnist", ema_decay=1.0).resolve()


def test_a_configuration_saved_by_an_older_version_means_what_it_meant():
    saved = TrainConfig(
        dataset="mnist", discriminator_norm="none"
    ).resolve()
    saved = saved.to_dict()
    del saved["discriminator_norm"]
    saved["ema_decay"] = None
    old = TrainConfig.from_dict(saved).resolve()
    assert (old.discriminator_norm, old.ema_decay) == ("batch", 0.0)
    saved["loss"] = "wgan-gp"
    assert TrainConfig.from_dict(saved).discriminator_norm == "layer"
