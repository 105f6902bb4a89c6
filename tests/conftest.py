"""Shared fixtures: a tiny corpus and a tiny model trained on it in a few seconds."""

import pytest
import torch

from vae.checkpoint import save_checkpoint
from vae.objective import ObjectiveConfig
from vae.train import TrainConfig, Trainer, new_model

# tiny models gain nothing from threads, and a second thread only fights other jobs for the CPU
torch.set_num_threads(1)

SENTENCES = [
    "the cat sat on the mat .",
    "a dog ran in the park .",
    "she reads a book every night .",
    "we like green tea .",
    "the sun is hot today .",
    "birds sing in the morning .",
    "he plays the piano well .",
    "my car is red .",
    "they went to the sea .",
    "rain falls on the roof .",
    "the old man walked home slowly .",
    "children laugh at the funny clown .",
    "i bought fresh bread this morning .",
    "the river flows to the ocean .",
    "our teacher told us a story .",
    "the train leaves at noon .",
    "a small boat crossed the lake .",
    "snow covered the quiet village .",
    "he wrote a letter to his mother .",
    "the garden is full of flowers .",
]


def train_tiny(sentences=SENTENCES, steps=150, autoencoder=False, seed=0):
    """A small GRU VAE that memorises `sentences` (KL off, so the code carries everything)."""
    torch.manual_seed(seed)
    trained = new_model(sentences, dict(embed_size=32, hidden_size=64, latent_size=8, autoencoder=autoencoder),
                        min_freq=1, max_len=12)
    objective = ObjectiveConfig(kl_schedule="constant", beta=0.0)
    trainer = Trainer(trained, sentences, objective, TrainConfig(steps=steps, batch_size=len(sentences),
                                                                 lr=1e-2, seed=seed, log_every=100))
    trainer.run()
    trained.model.eval()
    trained.card.update(training_corpus="tests/conftest.py SENTENCES", steps=steps)
    return trained, trainer


@pytest.fixture(scope="session")
def tiny_trained():
    """(TrainedModel, Trainer) that reconstructs SENTENCES exactly; shared, treat as read-only."""
    return train_tiny()


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_trained, tmp_path_factory):
    """A checkpoint folder of the tiny model, for the CLI and the app."""
    path = tmp_path_factory.mktemp("tiny_model")
    save_checkpoint(tiny_trained[0], path)
    return path
