"""gan_teach: the library behind the gan-teach course book.

One source of truth for every model, loss, data set, training loop, metric and plot the book uses.
The chapters import from here; they never redefine what is here. Three layers, imports going one
way (a test keeps it so):

- the core, at the top of this package: what ``gan-teach train`` needs (config, data, models,
  losses, state, train, engine, checkpoints, metrics, pretrained, utils), a tiny
  diffusion model (diffusion, denoisers, diffusion_train) and the plots
  (viz, curves, animation), all re-exported here;
- :mod:`gan_teach.instruments`: the tools the chapters teach with (the lab, latent space,
  failures, mistakes, theory, inpainting, forensics), built on the core;
- :mod:`gan_teach.course`: exercise checks, the student edition and the grader.
"""

from .animation import animation_html, progress_animation
from .checkpoints import (
    CheckpointError,
    load_checkpoint,
    load_checkpoint_generator,
    read_checkpoint,
    save_checkpoint,
)
from .config import TrainConfig, build_models
from .curves import (
    plot_discriminator_outputs,
    plot_gradient_norms,
    plot_history,
    plot_training,
)
from .data import (
    DATASETS,
    IMAGE_DATASETS,
    TOY_DISTRIBUTIONS,
    DataNotFoundError,
    ToyDistribution,
    load_dataset,
    load_images,
    load_toy,
    resolve_data_root,
    toy_distribution,
)
from .denoisers import MLPDenoiser, UNetDenoiser
from .diffusion import (
    ddim_sample,
    ddpm_sample,
    diffusion_loss,
    noise_schedule,
)
from .diffusion_train import DiffusionConfig, DiffusionRun, train_diffusion
from .diversity import diversity_floor, diversity_metrics
from .engine import TrainingDivergedError
from .losses import LOSSES, GANLoss, get_loss, gradient_penalty, r1_penalty
from .metrics import (
    FeatureClassifier,
    class_shares,
    classifier_fid,
    classifier_fid_floor,
    evaluate_images,
    feature_statistics,
    fid_between_test_halves,
    frechet_distance,
    held_out_indices,
    inception_fid,
    load_feature_classifier,
    toy_metrics,
)
from .models import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    count_parameters,
    generate,
)
from .state import TrainState, create_state
from .train import discriminator_step, generator_step, train, train_step
from .utils import evaluating, fast_mode, get_device, seed_everything
from .viz import image_grid, plot_toy, save_figure

__all__ = [
    "CheckpointError",
    "load_checkpoint",
    "load_checkpoint_generator",
    "read_checkpoint",
    "save_checkpoint",
    "TrainConfig",
    "build_models",
    "DATASETS",
    "IMAGE_DATASETS",
    "TOY_DISTRIBUTIONS",
    "DataNotFoundError",
    "ToyDistribution",
    "load_dataset",
    "load_images",
    "load_toy",
    "resolve_data_root",
    "toy_distribution",
    "TrainingDivergedError",
    "LOSSES",
    "GANLoss",
    "get_loss",
    "gradient_penalty",
    "r1_penalty",
    "FeatureClassifier",
    "class_shares",
    "classifier_fid",
    "classifier_fid_floor",
    "evaluate_images",
    "feature_statistics",
    "frechet_distance",
    "inception_fid",
    "load_feature_classifier",
    "toy_metrics",
    "fid_between_test_halves",
    "held_out_indices",
    "MLPDenoiser",
    "UNetDenoiser",
    "ddim_sample",
    "ddpm_sample",
    "diffusion_loss",
    "noise_schedule",
    "DiffusionConfig",
    "DiffusionRun",
    "train_diffusion",
    "diversity_floor",
    "diversity_metrics",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "count_parameters",
    "generate",
    "TrainState",
    "create_state",
    "discriminator_step",
    "generator_step",
    "train",
    "train_step",
    "evaluating",
    "fast_mode",
    "get_device",
    "seed_everything",
    "animation_html",
    "progress_animation",
    "image_grid",
    "plot_discriminator_outputs",
    "plot_gradient_norms",
    "plot_history",
    "plot_toy",
    "plot_training",
    "save_figure",
]

__version__ = "0.1.0"
