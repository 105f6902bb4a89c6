"""The trainer: one batch per `train_step()`, metrics to callbacks every `log_every` steps.

It knows nothing about where it runs: the CLI calls `run()` in a loop with a progress bar, the app's
background runner calls `train_step()` between pause/stop checks. Saving and resuming keep the
weights, the Adam moments and the position in the data.
"""

import math
import random
import time
from dataclasses import asdict, dataclass

import torch

from .checkpoint import CheckpointError, load_training_state, save_training_state
from .data import length_bucketed_batches, to_batch
from .metrics import active_units
from .model import ModelConfig, SentenceVAE, TrainedModel, cpu_has_native_bf16, output_layer_for
from .objective import ObjectiveConfig, delete_words, kl_weight, loss_terms
from .tokenizer import WordTokenizer


@dataclass
class TrainConfig:
    steps: int = 10_000  # total optimiser steps
    batch_size: int = 64
    lr: float = 1e-3
    grad_clip: float = 5.0  # max gradient norm; RNNs are prone to exploding gradients
    seed: int = 0
    log_every: int = 50  # steps between metric reports (averaged over those steps)
    precision: str = "auto"  # one of PRECISIONS: "auto" is bf16 where the hardware has it, else fp32
    lr_schedule: str = "constant"  # one of LR_SCHEDULES
    lr_min: float = 0.0  # where the cosine schedule ends


PRECISIONS = ("auto", "fp32", "bf16")
LR_SCHEDULES = ("constant", "cosine")


def learning_rate(step, config: TrainConfig):
    """The learning rate for optimiser step `step` (0-based). Cosine: from lr down to lr_min over
    config.steps, without restarts (Loshchilov & Hutter 2017, SGDR, eq. 5)."""
    if config.lr_schedule == "constant":
        return config.lr
    if config.lr_schedule != "cosine":
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, not {config.lr_schedule!r}")
    progress = min(step / max(config.steps, 1), 1.0)
    return config.lr_min + 0.5 * (config.lr - config.lr_min) * (1 + math.cos(math.pi * progress))


def autocast_dtype(precision, device):
    """The dtype for torch.autocast, or None for plain fp32.

    bf16 keeps fp32's exponent range, so unlike fp16 it needs no loss scaling. Autocast runs the
    linear layers (the output projection is most of the work) in bf16; on the CPU it leaves the GRU
    in fp32 (torch 2.13). Measured: 1.5-1.8x the fp32 training step on an AMD EPYC with AVX512-BF16;
    on an Intel Xeon with AMX about 1.0x over the bench's short windows and 1.4x over a long run, once
    oneDNN has built its kernel for every sentence length (README, Benchmarks)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    device = torch.device(device)
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the step that caused it was not applied."""


def new_model(texts, model_config: dict, vocab_size=10_000, min_freq=2, max_len=30,
              whitespace_only=False, seed=0) -> TrainedModel:
    """A fresh, untrained model with a vocabulary built from `texts`, its initial weights drawn
    from a generator seeded with `seed` (never from torch's global one, which other threads use).
    `model_config`'s output_layer may be "auto" (model.output_layer_for)."""
    tokenizer = WordTokenizer.train(texts, vocab_size, min_freq, whitespace_only)
    if model_config.get("output_layer") == "auto":  # the vocabulary's real size decides (model.output_layer_for)
        model_config = {**model_config, "output_layer": output_layer_for(len(tokenizer))}
    model = SentenceVAE(ModelConfig(vocab_size=len(tokenizer), **model_config))
    model.reset_parameters(torch.Generator().manual_seed(seed))
    return TrainedModel(model, tokenizer, max_len)


def run_card(trainer, corpus_name, command) -> dict:
    """The card of a new run: what it learns from, how, and the model's size (the CLI's and the
    Train page's runs both start with it; training adds the steps done)."""
    trained = trainer.trained
    return dict(training_corpus=str(corpus_name), training_sentences=len(trainer.train_ids), command=command,
                objective=asdict(trainer.objective), train=asdict(trainer.config),
                parameters=trained.model.num_parameters(), vocab_size=len(trained.tokenizer))


class Trainer:
    def __init__(self, trained: TrainedModel, train_texts, objective: ObjectiveConfig, config: TrainConfig,
                 train_ids=None):
        """`train_ids`: the corpus already encoded by this tokenizer (a training process gets it so),
        instead of `train_texts`."""
        self.trained, self.objective, self.config = trained, objective, config
        self.model = trained.model
        # the run's own random stream (dropout, word dropout, the noise of z): with two runs in two
        # threads, each still gets the same draws for the same seed
        self.generator = torch.Generator(device=self.model.device).manual_seed(config.seed)
        ids = train_ids if train_ids is not None else trained.tokenizer.encode_batch(train_texts, trained.max_len)
        self.train_ids = [x for x in ids if x]  # an empty line teaches nothing
        if not self.train_ids:
            raise ValueError("the training corpus has no sentences with known words")
        # fused: one kernel for all of Adam's per-parameter arithmetic, 10% of a step at the shipped
        # model's size on a CPU (100 -> 94 ms, adaptive softmax, bf16, one thread)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, fused=self.fused_adam())
        self.step = 0  # optimiser steps done
        self.epoch = 0
        self.batch_in_epoch = 0
        self.callbacks = []
        self._batches = self._epoch_batches()
        self._window = []  # per-step stats since the last report
        self._window_mu = []
        self._window_seconds = 0.0  # time spent inside train_step: pauses between steps don't count

    def fused_adam(self):
        return self.model.device.type in ("cpu", "cuda")

    def add_callback(self, fn):
        """fn(metrics: dict) is called every `log_every` steps."""
        self.callbacks.append(fn)

    def _epoch_batches(self):
        # derived from (seed, epoch) alone, so a resumed run sees the same batches in the same order
        rng = random.Random(self.config.seed * 1_000_003 + self.epoch)
        lengths = [len(x) for x in self.train_ids]
        return length_bucketed_batches(lengths, self.config.batch_size, rng)

    def _next_batch(self):
        if self.batch_in_epoch >= len(self._batches):
            self.epoch += 1
            self.batch_in_epoch = 0
            self._batches = self._epoch_batches()
        batch = self._batches[self.batch_in_epoch]
        self.batch_in_epoch += 1
        return to_batch([self.train_ids[i] for i in batch], self.model.device)

    def train_step(self):
        """One optimiser step on one batch. Returns the metrics dict when one is due, else None."""
        start = time.perf_counter()
        self.model.train()
        tokens, lengths = self._next_batch()
        weight = kl_weight(self.step, self.objective)
        pretraining = self.step < self.objective.ae_pretrain_steps
        dtype = autocast_dtype(self.config.precision, self.model.device)
        noisy = None
        if self.objective.word_deletion > 0:
            noisy = delete_words(tokens, lengths, self.objective.word_deletion, self.generator)
        with torch.autocast(self.model.device.type, dtype=dtype, enabled=dtype is not None):
            out = self.model(tokens, lengths, self.objective.word_dropout, deterministic=pretraining,
                             generator=self.generator, encoder_input=noisy)
        loss, stats = loss_terms(out, weight, self.objective.free_bits, self.objective.bag_of_words)
        if not math.isfinite(loss.item()):
            raise NonFiniteLoss(f"the loss became {loss.item()} at step {self.step + 1}; the run was stopped "
                                "(try a lower learning rate)")
        self.optimizer.zero_grad(set_to_none=True)
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.step, self.config)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.step += 1
        self._window.append({**stats, "kl_weight": weight, "tokens": int(lengths.sum())})
        self._window_mu.append(out["mu"].detach().float())
        self._window_seconds += time.perf_counter() - start
        if self.step % self.config.log_every == 0 or self.step == self.config.steps:
            return self._report()
        return None

    def _report(self):
        n = len(self._window)
        mu = torch.cat(self._window_mu)
        metrics = {
            "step": self.step,
            "epoch": self.epoch,
            **{k: sum(w[k] for w in self._window) / n for k in ("elbo", "recon", "kl")},
            "kl_weight": self._window[-1]["kl_weight"],
            "active_units": active_units(mu),  # over the window's batches
            "tokens_per_s": sum(w["tokens"] for w in self._window) / max(self._window_seconds, 1e-9),
            "lr": self.optimizer.param_groups[0]["lr"],
        }
        self._window, self._window_mu, self._window_seconds = [], [], 0.0
        for fn in self.callbacks:
            fn(metrics)
        return metrics

    def run(self, steps=None, should_stop=lambda: False):
        """Train until `steps` (default: config.steps) or should_stop(); returns the last metrics."""
        last = None
        while self.step < (steps or self.config.steps) and not should_stop():
            last = self.train_step() or last
        return last

    # save / resume

    def save(self, path, card=None):
        """A loadable checkpoint plus the optimizer and data position, to resume from. Atomic: a
        kill while saving leaves the previous checkpoint or this one, never a mix (checkpoint.py)."""
        self.trained.card.update(card or {}, steps=self.step)
        state = {"step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
                 "objective": asdict(self.objective), "train": asdict(self.config)}
        save_training_state(self.trained, path, self.optimizer.state_dict(), self.generator.get_state(), state)

    def weights_are_finite(self):
        """False once a NaN or inf reached the weights (then they are not worth saving)."""
        return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())

    @classmethod
    def resume(cls, path, train_texts, config: TrainConfig = None, device=None, train_ids=None):
        """Continue a run saved with `save()`; `config` may change the total steps. Raises
        CheckpointError for a folder that is not a whole, resumable set."""
        trained, state, optimizer_state, rng_state = load_training_state(path, device)
        try:
            objective, train = ObjectiveConfig(**state["objective"]), config or TrainConfig(**state["train"])
            if not all(isinstance(state.get(key), int) for key in ("step", "epoch", "batch_in_epoch")):
                raise KeyError("step, epoch and batch_in_epoch must be whole numbers")
        except (KeyError, TypeError) as e:
            raise CheckpointError(f"{path}: not a resumable run ({type(e).__name__}: {e})") from None
        trainer = cls(trained, train_texts, objective, train, train_ids)
        try:
            trainer.optimizer.load_state_dict(optimizer_state)
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"{path}: the optimizer state does not fit the model ({e})") from None
        for group in trainer.optimizer.param_groups:  # a state saved before Adam was fused says it was not
            group["fused"] = trainer.fused_adam()
        trainer.step, trainer.epoch = state["step"], state["epoch"]
        trainer.batch_in_epoch = state["batch_in_epoch"]
        trainer._batches = trainer._epoch_batches()
        try:
            trainer.generator.set_state(rng_state.cpu())
        except (AttributeError, RuntimeError):
            # no random state (an old checkpoint), or one of another device's generator (saved on a
            # GPU, resumed on the CPU): the run goes on, with new noise, so not bit-exactly
            trainer.generator.manual_seed(trainer.config.seed + trainer.step)
        return trainer
