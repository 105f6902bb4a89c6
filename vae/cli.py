"""python -m vae train | sample | interpolate | traverse | encode | evaluate

The shell's way to the same functions the app uses. Bad input ends with a one-line error, exit 2.
"""

import argparse
import csv
import json
import math
import os
import shlex
import sys
from dataclasses import asdict, replace
from pathlib import Path

import torch
from tqdm import tqdm

from .checkpoint import MAX_LEN, MAX_PARAMETERS, CheckpointError, estimated_parameters, load_model, save_card
from .compression import compression
from .data import CorpusError, read_corpus, safe_cell
from .decode import (
    MAX_BEAM_WIDTH,
    MAX_POSTERIOR_WEIGHT,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_STEPS,
    METHODS,
    SAMPLE_DEFAULTS,
    SOURCES,
    STRATEGIES,
    InputError,
    default_sample_settings,
    dimensions_by_change,
    encode_texts,
    interpolate,
    sample_near,
    sample_prior,
    traversal_offsets,
    traverse,
)
from .metrics import evaluate, rank_dimensions, reconstruction_quality, sample_diversity
from .model import ADAPTIVE_CUTOFFS, OUTPUT_LAYERS, ModelConfig
from .objective import SCHEDULES, ObjectiveConfig
from .paths import VALID_SPLIT, default_model
from .train import LR_SCHEDULES, PRECISIONS, NonFiniteLoss, TrainConfig, Trainer, new_model, run_card


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.command_line = "python -m vae " + shlex.join(argv)
    if hasattr(args, "model") and args.model is None:
        args.model = str(default_model())  # read now, so that the app and the CLI agree on $TEXT_VAE_MODEL
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        check_outputs(args)  # before any work: a bad --out should not cost an hour of encoding
        args.func(args)
    except (CorpusError, CheckpointError, InputError, NonFiniteLoss) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


# argument types: argparse turns their ArgumentTypeError into "error: argument -n: ..." and exit 2


class Parser(argparse.ArgumentParser):
    def error(self, message):
        """One line and exit 2, like every other bad input (argparse adds a usage block)."""
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def whole(low, high=None):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bounds = f"from {low:,} to {high:,}" if high is not None else f"at least {low:,}"
            raise argparse.ArgumentTypeError(f"{value:,} is out of range: it must be {bounds}")
        return value
    return parse


def real(low, high=math.inf, low_open=False, high_open=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        if value < low or value > high or (low_open and value == low) or (high_open and value == high):
            left, right = "(" if low_open else "[", ")" if high_open else "]"
            raise argparse.ArgumentTypeError(f"{text} is out of range: it must be in {left}{low:g}, {high:g}{right}")
        return value
    return parse


def device(text):
    """cpu, cuda[:N] or mps, and only one this machine has."""
    try:
        parsed = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device: use cpu, cuda or mps") from None
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if parsed.type not in available:
        raise argparse.ArgumentTypeError(f"{text!r} is not supported: use cpu, cuda or mps")
    if not available[parsed.type]:
        raise argparse.ArgumentTypeError(f"this machine has no {parsed.type} device")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise argparse.ArgumentTypeError(f"this machine has {count} CUDA devices; {text} is not one")
    return text


def check_outputs(args):
    """Files and folders the command will write: refused before any work starts."""
    for option, is_folder in (("out", args.func is cmd_train), ("json", False)):
        target = getattr(args, option, None)
        if target is None:
            continue
        target = Path(target)
        if is_folder and target.exists() and not target.is_dir():
            raise InputError(f"--{option} {target}: a file is in the way of the checkpoint folder")
        if not is_folder and target.is_dir():
            raise InputError(f"--{option} {target}: is a folder; name a file")
        # the nearest folder that exists must take new files (a train --out may be created with its parents)
        parent = target if is_folder and target.is_dir() else target.parent
        while is_folder and not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise InputError(f"--{option} {target}: the folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"--{option} {target}: cannot write in {parent}")
        if not is_folder and target.exists() and not os.access(target, os.W_OK):
            raise InputError(f"--{option} {target}: the file exists and cannot be written")
    if getattr(args, "update_card", False) and not os.access(args.model, os.W_OK | os.X_OK):
        raise InputError(f"--update-card: cannot write in the model folder {args.model}")


def build_parser():
    parser = Parser(prog="python -m vae", description="Train and explore a sentence VAE.")
    parser.add_argument("--threads", type=whole(0, 1024), default=0, help="torch CPU threads (default: torch's choice)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a model on a corpus (resumable)")
    p.add_argument("--corpus", required=True, help="training sentences: .txt[.gz] (one per line) or .csv/.tsv")
    p.add_argument("--out", required=True, help="checkpoint folder to write (and resume from)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--steps", type=whole(1), default=TrainConfig.steps)
    p.add_argument("--batch-size", type=whole(1, 65_536), default=TrainConfig.batch_size)
    p.add_argument("--lr", type=real(0, 10, low_open=True), default=TrainConfig.lr)
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=TrainConfig.lr_schedule,
                   help="cosine: from --lr down to --lr-min over --steps")
    p.add_argument("--lr-min", type=real(0, 10), default=TrainConfig.lr_min)
    p.add_argument("--init-from", metavar="MODEL",
                   help="start from this checkpoint's weights and vocabulary (model-size flags are ignored)")
    p.add_argument("--seed", type=whole(0, MAX_SEED), default=TrainConfig.seed)
    p.add_argument("--mode", choices=("vae", "ae", "lm"), default="vae",
                   help="vae; ae = deterministic autoencoder; lm = decoder only (the baseline)")
    p.add_argument("--embed", type=whole(1, 65_536), default=ModelConfig.embed_size)
    p.add_argument("--hidden", type=whole(1, 65_536), default=ModelConfig.hidden_size)
    p.add_argument("--latent", type=whole(1, 4_096), default=ModelConfig.latent_size)
    p.add_argument("--layers", type=whole(1, 16), default=ModelConfig.num_layers)
    p.add_argument("--rnn", choices=("gru", "lstm"), default=ModelConfig.rnn_type)
    p.add_argument("--encoder", choices=("bidirectional", "forward"),
                   default="bidirectional" if ModelConfig.bidirectional else "forward",
                   help="forward: the encoder reads each sentence one way only, as the reference "
                        "implementation's default and the Train page's models do (faster)")
    p.add_argument("--output-layer", choices=(*OUTPUT_LAYERS, "auto"), default="auto",
                   help="tied: a full softmax over the word vectors; adaptive: Grave et al. 2017's adaptive "
                        "softmax, cheaper to train (a vocabulary of more than "
                        f"{ADAPTIVE_CUTOFFS[0]:,} words); auto (the default since 2026-12-06): adaptive where "
                        "the vocabulary has more words than that, else tied")
    p.add_argument("--dropout", type=real(0, 1, high_open=True), default=ModelConfig.dropout)
    p.add_argument("--kl-schedule", choices=SCHEDULES, default=ObjectiveConfig.kl_schedule)
    p.add_argument("--kl-warmup", type=whole(0), default=ObjectiveConfig.kl_warmup_steps,
                   help="steps of KL annealing (cycle length if cyclical)")
    p.add_argument("--beta", type=real(0), default=ObjectiveConfig.beta)
    p.add_argument("--word-dropout", type=real(0, 1), default=ObjectiveConfig.word_dropout)
    p.add_argument("--free-bits", type=real(0), default=None,
                   help=f"nats per latent dimension (default {ObjectiveConfig.free_bits:g}); with --resume, "
                        "changes the rate from the next step on, recorded in the card")
    p.add_argument("--word-deletion", type=real(0, 1, high_open=True), default=None,
                   help="probability of deleting each word the encoder reads (Shen et al. 2020; default "
                        f"{ObjectiveConfig.word_deletion:g}); with --resume, changes it from the next step on")
    p.add_argument("--ae-pretrain", type=whole(0), default=ObjectiveConfig.ae_pretrain_steps,
                   help="first steps as a deterministic autoencoder, before the KL anneal (Li et al. 2019)")
    p.add_argument("--bag-of-words", type=real(0), default=ObjectiveConfig.bag_of_words,
                   help="weight of a bag-of-words loss from z (Zhao et al. 2017); 0 = no such head")
    p.add_argument("--precision", choices=PRECISIONS, default=TrainConfig.precision,
                   help="auto = bf16 autocast where the CPU or GPU supports it, else fp32")
    p.add_argument("--vocab-size", type=whole(5, 2_000_000), default=10_000)
    p.add_argument("--min-freq", type=whole(1), default=2)
    p.add_argument("--max-len", type=whole(1, MAX_LEN), default=30, help="sentences are truncated to this many words")
    p.add_argument("--log-every", type=whole(1), default=TrainConfig.log_every)
    p.add_argument("--save-every", type=whole(1), default=1000)
    p.set_defaults(func=cmd_train)

    decoding = argparse.ArgumentParser(add_help=False)
    # unset: the Sample page's defaults for the model (vae.decode.default_sample_settings), so the CLI
    # writes what the page shows
    decoding.add_argument("--strategy", choices=STRATEGIES, help="default: the model's own, as on the Sample page")
    decoding.add_argument("--temperature", type=real(0), help="0 = greedy (default: the model's own)")
    decoding.add_argument("--top-k", type=whole(1), default=20)
    decoding.add_argument("--top-p", type=real(0, 1, low_open=True), default=0.9)
    decoding.add_argument("--beam-width", type=whole(1, MAX_BEAM_WIDTH),
                          help="beginnings kept at every step (--strategy beam; default: the model's own)")
    decoding.add_argument("--posterior-weight", type=real(0, MAX_POSTERIOR_WEIGHT),
                          help="weight of log q(z|x) when a beam chooses among its sentences: prefer one whose own "
                               "code lies near z (--strategy beam; default: the model's own)")

    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--model", default=None,
                       help="checkpoint folder (default: $TEXT_VAE_MODEL, else the shipped model)")
    model.add_argument("--device", type=device, default=None, help="cpu, cuda or mps (default: the best available)")

    p = sub.add_parser("sample", parents=[model, decoding], help="decode sentences from the prior")
    p.add_argument("-n", type=whole(1, MAX_SAMPLES), default=10)
    p.add_argument("--seed", type=whole(0, MAX_SEED), default=0)
    p.add_argument("--near", metavar="SENTENCE", help="sample around this sentence's posterior instead")
    p.add_argument("--spread", type=real(0), default=None,
                   help="scale of the codes' noise: with --near, of the posterior's sigma (default 1); else of "
                        "the prior's or the mixture's (default: the Sample page's, " f"{SAMPLE_DEFAULTS['spread']})")
    p.add_argument("--source", choices=SOURCES, default=None,
                   help="where z comes from: N(0, I), or the mixture fitted to the training codes "
                        "(default: as the Sample page, the mixture where the model has one)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("interpolate", parents=[model], help="decode the path between two sentences")
    p.add_argument("sentence_a")
    p.add_argument("sentence_b")
    p.add_argument("--steps", type=whole(2, MAX_STEPS), default=8)
    p.add_argument("--method", choices=METHODS, default="linear")
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("traverse", parents=[model], help="walk latent dimensions one at a time from a sentence")
    p.add_argument("sentence")
    p.add_argument("--dims", type=whole(0), nargs="+", metavar="I",
                   help="dimensions to walk, from 0 (default: the --top that change the sentence most)")
    p.add_argument("--top", type=whole(1), default=3,
                   help="without --dims: walk this many, those whose walks change the most words of the sentence "
                        "first (as the Interpolate page ranks them)")
    p.add_argument("--by-kl", metavar="CORPUS", nargs="?", const=str(VALID_SPLIT),
                   help="without --dims: rank by each dimension's KL over these sentences instead (default: the "
                        "validation split)")
    p.add_argument("--steps", type=whole(2, MAX_STEPS), default=7, help="values of t from -3 to +3, both included")
    p.set_defaults(func=cmd_traverse)

    p = sub.add_parser("encode", parents=[model], help="write posterior means of a corpus to CSV")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help="CSV with text, label, z0..zN")
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("evaluate", parents=[model],
                       help="held-out NLL, PPL, KL, MI, AU, BLEU, bits per sentence against gzip, diversity")
    p.add_argument("--corpus", required=True, help="held-out sentences")
    p.add_argument("--iw-samples", type=whole(1, 10_000), default=100, help="k for the importance-sampled NLL")
    p.add_argument("--max-sentences", type=whole(0), default=0, help="evaluate on the first N only (0 = all)")
    p.add_argument("--diversity", type=whole(0, 1_000_000), default=0,
                   help="also draw N prior samples for distinct-1/2")
    p.add_argument("--train-corpus", help="with --diversity: count samples copied from this corpus")
    p.add_argument("--lm", help="with --diversity: a language-model baseline (--mode lm) that scores the samples")
    p.add_argument("--seed", type=whole(0, MAX_SEED), default=0)
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--update-card", action="store_true", help="store the results in the model's card.json")
    p.set_defaults(func=cmd_evaluate)
    return parser


def cmd_train(args):
    texts = read_corpus(args.corpus).texts
    out = Path(args.out)
    config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         log_every=args.log_every, precision=args.precision, lr_schedule=args.lr_schedule,
                         lr_min=args.lr_min)
    if args.resume and (out / "trainer_state.json").is_file():
        trainer = Trainer.resume(out, texts, config)
        trainer.trained.card["train"] = asdict(config)  # e.g. a new total number of steps
        # the card's command retrains the run: every resume adds its own (a new --steps, --lr-schedule...)
        card = trainer.trained.card
        commands = card["command"].split(" && ") if card.get("command") else []
        if not commands or commands[-1] != args.command_line:  # the same command again: a run continued
            card["command"] = " && ".join([*commands, args.command_line])
        for name in ("free_bits", "word_deletion"):
            value = getattr(args, name)
            if value is not None and value != getattr(trainer.objective, name):
                change_objective(trainer, name, value)
    else:
        model_config = dict(embed_size=args.embed, hidden_size=args.hidden, latent_size=args.latent,
                            num_layers=args.layers, rnn_type=args.rnn, dropout=args.dropout,
                            bidirectional=args.encoder == "bidirectional",
                            autoencoder=args.mode == "ae", language_model=args.mode == "lm",
                            bag_of_words=args.bag_of_words > 0, output_layer=args.output_layer)
        size = estimated_parameters({**model_config, "vocab_size": args.vocab_size})
        if size > MAX_PARAMETERS:
            raise InputError(f"this model would have about {size:,} parameters; the limit is {MAX_PARAMETERS:,}")
        if args.init_from:  # fine-tune: its weights and vocabulary, a new optimiser, this run's dropout
            trained = load_model(args.init_from, "cpu")
            trained.model.config.dropout = args.dropout
            # every step behind the starting weights: a fine-tune of a fine-tune counts both
            earlier = [trained.card.get(key) for key in ("initial_steps", "steps")]
            trained.card = {"initialised_from": str(args.init_from),
                            "initial_steps": sum(n for n in earlier if isinstance(n, int)) or None}
            trained.density = None  # a mixture fitted to the old codes would not fit the new ones
        else:
            try:
                trained = new_model(texts, model_config, args.vocab_size, args.min_freq, args.max_len, seed=args.seed)
            except ValueError as e:  # e.g. a vocabulary too small for the adaptive softmax
                raise InputError(str(e)) from None
        objective = ObjectiveConfig(kl_schedule=args.kl_schedule, kl_warmup_steps=args.kl_warmup, beta=args.beta,
                                    word_dropout=args.word_dropout,
                                    free_bits=ObjectiveConfig.free_bits if args.free_bits is None else args.free_bits,
                                    ae_pretrain_steps=args.ae_pretrain, bag_of_words=args.bag_of_words,
                                    word_deletion=args.word_deletion or 0.0)
        try:
            trainer = Trainer(trained, texts, objective, config)
        except ValueError as e:  # a corpus with nothing to learn from
            raise CorpusError(f"{args.corpus}: {e}") from None
        trainer.trained.card.update(run_card(trainer, args.corpus, args.command_line))
    bar = tqdm(total=config.steps, initial=trainer.step, unit="step")
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "train_log.jsonl", "a")  # the training curve stays with the checkpoint

    def report(metrics):
        bar.set_postfix(elbo=f"{metrics['elbo']:.1f}", kl=f"{metrics['kl']:.2f}",
                        tok_s=f"{metrics['tokens_per_s']:.0f}")
        log.write(json.dumps(metrics) + "\n")
        log.flush()

    trainer.add_callback(report)
    try:
        while trainer.step < config.steps:
            target = min(config.steps, (trainer.step // args.save_every + 1) * args.save_every)
            before = trainer.step
            try:
                trainer.run(target)
            finally:
                bar.update(trainer.step - before)
            trainer.save(out)
    except NonFiniteLoss as e:
        # the bad step was not applied: the weights are the last good step's, unless a NaN got in
        # earlier (then the last save stays as it is)
        if trainer.weights_are_finite():
            trainer.save(out)
            raise NonFiniteLoss(f"{e}; step {trainer.step}, the last good one, is saved in {out}") from None
        raise NonFiniteLoss(f"{e}; the weights hold NaN, so {out} keeps its last save") from None
    finally:
        bar.close()
        log.close()
    print(f"saved {out} after {trainer.step} steps")


def change_objective(trainer, name, value):
    """Change one knob of a resumed run's objective (its rate, its word deletion) from now on, and
    add a line to its card that says at which step (the card's objective is the one the run ends with)."""
    card = trainer.trained.card
    card.setdefault("objective_changes", []).append(
        {"after_step": trainer.step, name: {"from": getattr(trainer.objective, name), "to": value}})
    trainer.objective = replace(trainer.objective, **{name: value})
    card["objective"] = asdict(trainer.objective)


def cmd_sample(args):
    trained = load_model(args.model, args.device)
    defaults = default_sample_settings(trained)
    decoding = {key: defaults[key] if getattr(args, key) is None else getattr(args, key)
                for key in ("strategy", "temperature", "beam_width", "posterior_weight")}
    decoding.update(top_k=args.top_k, top_p=args.top_p)
    if args.near is not None:  # --near "" is an error, not a silent draw from the prior
        spread = 1.0 if args.spread is None else args.spread
        samples = sample_near(trained, args.near, args.n, spread, args.seed, **decoding)
    else:
        spread = defaults["spread"] if args.spread is None else args.spread
        samples = sample_prior(trained, args.n, args.seed, source=args.source or defaults["source"], spread=spread,
                               **decoding)
    for s in samples:
        print(f"{s.logprob:8.2f}  {s.text}")


def cmd_interpolate(args):
    trained = load_model(args.model, args.device)
    path = interpolate(trained, args.sentence_a, args.sentence_b, args.steps, args.method)
    for i, s in enumerate(path):
        print(f"{i / (len(path) - 1):4.2f}  {s.text}")


def cmd_traverse(args):
    trained = load_model(args.model, args.device)
    measure = "variance of mu" if trained.model.config.autoencoder else "KL (nats)"
    if args.dims:
        dims, use, ranking = args.dims, {}, None
    elif args.by_kl:
        ranked = rank_dimensions(trained, read_corpus(args.by_kl).texts)[: args.top]
        dims, use, ranking = [dim for dim, _ in ranked], {d: f"{measure} {u:.3f}" for d, u in ranked}, \
            f"the {args.top} most used dimensions by {measure} over {args.by_kl}"
    else:
        ranked = dimensions_by_change(trained, args.sentence, args.steps)[: args.top]
        dims, use, ranking = [dim for dim, _ in ranked], {d: f"{n} words changed" for d, n in ranked}, \
            f"the {args.top} dimensions whose walks change this sentence most"
    rows = traverse(trained, args.sentence, dims, args.steps)
    if ranking:
        print(ranking)
    for dim, row in zip(dims, rows):
        print(f"dimension {dim}" + (f", {use[dim]}" if use else ""))
        for t, sample in zip(traversal_offsets(args.steps), row):
            print(f"{t:+6.2f}  {sample.text}")


def cmd_encode(args):
    trained = load_model(args.model, args.device)
    corpus = read_corpus(args.corpus)
    with tqdm(total=len(corpus.texts), unit="sent") as bar:
        mu = encode_texts(trained, corpus.texts, progress=lambda done, total: bar.update(done - bar.n))
    labels = corpus.labels or [""] * len(corpus.texts)
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"] + [f"z{i}" for i in range(mu.size(1))])
        for text, label, z in zip(corpus.texts, labels, mu.tolist()):
            writer.writerow([safe_cell(text), safe_cell(label)] + [f"{v:.5f}" for v in z])
    print(f"wrote {len(corpus.texts)} rows to {args.out}")


def cmd_evaluate(args):
    trained = load_model(args.model, args.device)
    texts = read_corpus(args.corpus).texts
    if args.max_sentences:
        texts = texts[: args.max_sentences]
    with tqdm(unit="batch", desc="likelihood") as bar:
        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)
        results = evaluate(trained, texts, args.iw_samples, seed=args.seed, progress=progress, mixture_prior=True)
    results["compression"] = compression(trained, texts, evaluation=results)
    if not trained.model.config.language_model:
        results["reconstruction"] = reconstruction_quality(trained, texts)  # <unk> banned, as the app decodes
        results["reconstruction_unk_allowed"] = reconstruction_quality(trained, texts, allow_unk=True)
    if args.diversity:
        train_texts = read_corpus(args.train_corpus).texts if args.train_corpus else None
        lm = load_model(args.lm, args.device) if args.lm else None
        sources = ["prior"] + (["mixture"] if trained.density is not None else [])
        results["diversity"] = {source: sample_diversity(trained, args.diversity, seed=args.seed, source=source,
                                                         train_texts=train_texts, lm=lm) for source in sources}
    results["corpus"] = str(args.corpus)
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if args.update_card:
        trained.card["test_metrics"] = results
        save_card(args.model, trained.card)
