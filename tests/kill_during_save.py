"""Kill a training process with SIGKILL while it saves, again and again, and check what it leaves.

A child process trains a tiny model and saves a checkpoint after every step (so most of its time is
spent saving); the parent kills it at a random moment, checks the folder, and starts the next child,
which resumes from whatever the last one left. After each kill the checkpoint must load, hold the
weights of an uninterrupted run at its step, and resume bit-exactly: one more step gives the
uninterrupted run's next weights.

    python tests/kill_during_save.py --kills 50      # by hand; the suite runs a few (test_checkpoint.py)
"""

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import SENTENCES  # noqa: E402

from vae.checkpoint import STAGING, load_model  # noqa: E402
from vae.objective import ObjectiveConfig  # noqa: E402
from vae.train import TrainConfig, Trainer, new_model  # noqa: E402

MAX_STEPS = 10_000  # a child trains until it is killed; it never gets this far


def fresh_trainer():
    trained = new_model(SENTENCES, dict(embed_size=16, hidden_size=16, latent_size=4), min_freq=1, max_len=12)
    config = TrainConfig(steps=MAX_STEPS, batch_size=4, log_every=1_000, precision="fp32")
    return Trainer(trained, SENTENCES, ObjectiveConfig(kl_warmup_steps=20, word_dropout=0.2), config)


def weights(trainer):
    return [p.detach().clone() for p in trainer.model.parameters()]


def reference_weights(steps):
    """Weights after each step 0..steps of an uninterrupted run."""
    trainer = fresh_trainer()
    history = [weights(trainer)]
    for _ in range(steps):
        trainer.train_step()
        history.append(weights(trainer))
    return history


def train_and_save_forever(folder: Path):
    """The child: resume (or start), then step and save until killed."""
    trainer = (Trainer.resume(folder, SENTENCES, device="cpu")
               if (folder / "trainer_state.json").is_file() else fresh_trainer())
    while trainer.step < MAX_STEPS:
        trainer.train_step()
        trainer.save(folder)


def start_child(folder: Path) -> int:
    pid = os.fork()  # cheap: torch is imported already (a fresh `python -m vae` takes seconds)
    if pid == 0:
        try:
            torch.set_num_threads(1)
            train_and_save_forever(folder)
        finally:
            os._exit(0)
    return pid


def check(folder: Path, reference) -> int:
    """The checkpoint's step; raises AssertionError if it is not the uninterrupted run's."""
    load_model(folder, "cpu")  # the plain loader takes it too (before resume: building a model draws random numbers)
    trainer = Trainer.resume(folder, SENTENCES, device="cpu")
    step = trainer.step
    if step + 1 >= len(reference):
        raise AssertionError(f"the run got past the reference ({step} steps); use a longer reference")
    for p, q in zip(weights(trainer), reference[step]):
        assert torch.equal(p, q), f"weights at step {step} differ from the uninterrupted run"
    trainer.train_step()
    for p, q in zip(weights(trainer), reference[step + 1]):
        assert torch.equal(p, q), f"resuming from step {step} differs from the uninterrupted run"
    return step


def saved_at(folder: Path):
    try:
        return (folder / "trainer_state.json").stat().st_mtime_ns
    except FileNotFoundError:
        return None


def kill_while_saving(kills=10, seed=0, folder=None, max_wait=0.25, reference_steps=400):
    """Run `kills` kill-check rounds; returns the step of each checkpoint seen after a kill and how
    many kills landed inside a save (they left a staging folder behind)."""
    rng = random.Random(seed)
    reference = reference_weights(reference_steps)
    folder = Path(folder or tempfile.mkdtemp(prefix="kill_during_save_"))
    steps, mid_save = [], 0
    for _ in range(kills):
        last_save = saved_at(folder)
        pid = start_child(folder)
        # once this child has saved (it is in its step-save loop), kill it at a random moment
        deadline = time.monotonic() + 30
        while saved_at(folder) == last_save and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, max_wait))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        mid_save += (folder / STAGING).exists()
        steps.append(check(folder, reference))
    return steps, mid_save


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps, mid_save = kill_while_saving(args.kills, args.seed, reference_steps=60 * args.kills + 100)
    print(f"{len(steps)} kills, {mid_save} of them inside a save; every checkpoint loaded and resumed "
          f"bit-exactly; steps seen: {steps}")


if __name__ == "__main__":
    main()
