"""gan_teach: the library behind the gan-teach course book.

One source of truth for every model, loss, data set, training loop, metric and plot the book uses.
The chapters import from here; they never redefine what is here.
"""

from .checkpoints import CheckpointError, load_checkpoint, load_generator, read_checkpoint, save_checkpoint
from .config import TrainConfig, build_models
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
from .losses import LOSSES, GANLoss, get_loss, gradient_penalty, r1_penalty
from .metrics import (
    FeatureClassifier,
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
from .models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, count_parameters, generate
from .train import TrainingDivergedError, TrainState, create_state, train, train_step
from .utils import fast_mode, get_device, seed_everything

from .animation import animation_html, progress_animation
from .viz import (
    image_grid,
    plot_discriminator_outputs,
    plot_gradient_norms,
    plot_history,
    plot_toy,
    plot_training,
    save_figure,
)

__version__ = "0.1.0"
