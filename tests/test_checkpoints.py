import pytest
import torch

from gan_teach import (
    CheckpointError,
    TrainConfig,
    load_checkpoint,
    load_checkpoint_generator,
    load_toy,
    read_checkpoint,
    save_checkpoint,
    train,
)
from gan_teach.state import create_state

TINY = dict(dataset="ring", width=16, latent_dim=4, batch_size=32)


def _assert_same_weights(first, second):
    for (name, a), (_, b) in zip(
        first.state_dict().items(), second.state_dict().items()
    ):
        assert torch.equal(a, b), name


def test_round_trip_restores_everything(tmp_path):
    state = train(
        TrainConfig(**TINY, steps=6, ema_decay=0.9),
        data=load_toy("ring", 32 * 4),
        progress=False,
    )
    path = save_checkpoint(state, tmp_path / "run" / "checkpoint.pt")
    restored = load_checkpoint(path)
    _assert_same_weights(state.generator, restored.generator)
    _assert_same_weights(state.discriminator, restored.discriminator)
    _assert_same_weights(state.ema_generator, restored.ema_generator)
    assert restored.config == state.config
    assert (restored.step, restored.epoch, restored.epoch_step) == (6, 1, 2)
    assert restored.history == state.history
    assert [s for s, _ in restored.samples] == [s for s, _ in state.samples]
    assert (
        restored.discriminator_optimizer.state_dict()["state"][0]["step"]
        == 6
    )
    assert not list(
        tmp_path.joinpath("run").glob("*.tmp")
    )  # the temporary file was renamed away


@pytest.mark.parametrize(
    "config,data",
    [
        (
            TrainConfig(**TINY, epochs=4, ema_decay=0.95),
            load_toy("ring", 32 * 3),
        ),
        (
            TrainConfig(**TINY, epochs=4, loss="wgan-gp", d_steps=2),
            load_toy("ring", 32 * 4),
        ),
        (
            TrainConfig(
                dataset="mnist",
                width=4,
                latent_dim=8,
                batch_size=8,
                epochs=4,
                num_fixed_samples=4,
            ),
            torch.rand(24, 1, 28, 28) * 2
            - 1,  # DCGAN: batch-norm buffers must survive too
        ),
    ],
    ids=["mlp-ema", "wgan-gp", "dcgan"],
)
def test_resume_after_epoch_k_is_bit_for_bit(tmp_path, config, data):
    """Kill a 4-epoch run after epoch 2, resume it: the weights are those of the run never interrupted."""

    class Interrupted(Exception):
        pass

    def interrupt_after_epoch_two(state):
        if state.epoch == 2:
            raise Interrupted  # the checkpoint of epoch 2 is already on disk, as after a crash

    uninterrupted = train(config, data=data, progress=False)
    with pytest.raises(Interrupted):
        train(
            config,
            data=data,
            out_dir=tmp_path,
            callback=interrupt_after_epoch_two,
            progress=False,
        )
    assert (
        torch.load(tmp_path / "checkpoint.pt", weights_only=True)["epoch"]
        == 2
    )
    resumed = train(
        config, data=data, resume=tmp_path / "checkpoint.pt", progress=False
    )
    assert resumed.step == uninterrupted.step
    _assert_same_weights(uninterrupted.generator, resumed.generator)
    _assert_same_weights(uninterrupted.discriminator, resumed.discriminator)
    assert resumed.history == uninterrupted.history


def test_extending_a_finished_run_mid_epoch_is_bit_for_bit(tmp_path):
    """A 7-step run extended to 12 steps equals a 12-step run (with constant learning rates)."""
    data = load_toy("ring", 32 * 5)
    constant = dict(TINY, lr_decay=False)
    uninterrupted = train(
        TrainConfig(**constant, steps=12), data=data, progress=False
    )
    train(
        TrainConfig(**constant, steps=7),
        data=data,
        out_dir=tmp_path,
        progress=False,
    )
    resumed = train(
        TrainConfig(**constant, steps=12),
        data=data,
        resume=tmp_path / "checkpoint.pt",
        progress=False,
    )
    _assert_same_weights(uninterrupted.generator, resumed.generator)


def test_pickled_code_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "executed"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    torch.save(
        {"format": "gan-teach-checkpoint", "payload": Exploit()}, path
    )
    with pytest.raises(
        CheckpointError, match="refused to load .*pickled Python objects"
    ):
        read_checkpoint(path)
    assert not marker.exists()


def test_truncated_file_is_explained(tmp_path):
    state = create_state(TrainConfig(**TINY, steps=1))
    path = save_checkpoint(state, tmp_path / "checkpoint.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_checkpoint(truncated)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError):
        read_checkpoint(empty)


def test_foreign_files_are_explained(tmp_path):
    plain = tmp_path / "weights.pt"
    torch.save({"fc.weight": torch.zeros(2)}, plain)
    with pytest.raises(CheckpointError, match="not a gan-teach checkpoint"):
        read_checkpoint(plain)
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(CheckpointError):
        read_checkpoint(text)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        read_checkpoint(tmp_path / "missing.pt")


def test_load_checkpoint_generator_prefers_ema_and_is_in_eval_mode(
    tmp_path,
):
    state = train(
        TrainConfig(**TINY, steps=5, ema_decay=0.9), progress=False
    )
    path = save_checkpoint(state, tmp_path / "checkpoint.pt")
    generator, config = load_checkpoint_generator(path)
    assert not generator.training and config == state.config
    _assert_same_weights(generator, state.ema_generator)


def test_weights_that_do_not_fit_their_config_are_named_in_one_line(
    tmp_path,
):
    path = save_checkpoint(
        create_state(TrainConfig(**TINY, steps=1)), tmp_path / "a.pt"
    )
    saved = torch.load(path, weights_only=True)
    saved["config"]["width"] = 32  # the weights are width 16
    torch.save(saved, path)
    message = (
        r"the generator weights do not fit the MLPGenerator its "
        r"configuration builds: layer net.0.weight has shape \(16, 4\) in "
        r"the file, but the network's is \(32, 4\) \(\d+ more layers"
    )
    for load in (load_checkpoint, load_checkpoint_generator):
        with pytest.raises(CheckpointError, match=message) as refused:
            load(path)
        assert "\n" not in str(refused.value)
    saved["config"]["width"] = 16
    del saved["discriminator"]["hidden.0.weight"]
    saved["discriminator"]["extra.bias"] = torch.zeros(1)
    torch.save(saved, path)
    with pytest.raises(
        CheckpointError,
        match=r"discriminator weights .* layer hidden.0.weight is missing "
        r"from the file \(1 more layers",
    ):
        load_checkpoint(path)
