"""python -m vae train | sample | interpolate | encode | evaluate

The shell's way to the same functions the app uses. Bad input ends with a one-line error, exit 2.
"""

import argparse
import csv
import json
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm import tqdm

from .checkpoint import CheckpointError, load_model, save_card
from .data import CorpusError, read_corpus
from .decode import SOURCES, STRATEGIES, InputError, encode_texts, interpolate, sample_near, sample_prior
from .metrics import evaluate, reconstruction_quality, sample_diversity
from .objective import SCHEDULES, ObjectiveConfig
from .train import PRECISIONS, NonFiniteLoss, TrainConfig, Trainer, new_model

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "assets" / "model"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.command_line = "python -m vae " + shlex.join(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        args.func(args)
    except (CorpusError, CheckpointError, InputError, NonFiniteLoss) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m vae", description="Train and explore a sentence VAE.")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a model on a corpus (resumable)")
    p.add_argument("--corpus", required=True, help="training sentences: .txt[.gz] (one per line) or .csv/.tsv")
    p.add_argument("--out", required=True, help="checkpoint folder to write (and resume from)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mode", choices=("vae", "ae", "lm"), default="vae",
                   help="vae; ae = deterministic autoencoder; lm = decoder only (the baseline)")
    p.add_argument("--embed", type=int, default=256)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--latent", type=int, default=32)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--rnn", choices=("gru", "lstm"), default="gru")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--kl-schedule", choices=SCHEDULES, default="linear")
    p.add_argument("--kl-warmup", type=int, default=2000, help="steps of KL annealing (cycle length if cyclical)")
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--word-dropout", type=float, default=0.0)
    p.add_argument("--free-bits", type=float, default=0.0, help="nats per latent dimension")
    p.add_argument("--ae-pretrain", type=int, default=0,
                   help="first steps as a deterministic autoencoder, before the KL anneal (Li et al. 2019)")
    p.add_argument("--bag-of-words", type=float, default=0.0,
                   help="weight of a bag-of-words loss from z (Zhao et al. 2017); 0 = no such head")
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="auto = bf16 autocast where the CPU or GPU supports it, else fp32")
    p.add_argument("--vocab-size", type=int, default=10_000)
    p.add_argument("--min-freq", type=int, default=2)
    p.add_argument("--max-len", type=int, default=30, help="sentences are truncated to this many words")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--save-every", type=int, default=1000)
    p.set_defaults(func=cmd_train)

    decoding = argparse.ArgumentParser(add_help=False)
    decoding.add_argument("--strategy", choices=STRATEGIES, default="sample")
    decoding.add_argument("--temperature", type=float, default=1.0)
    decoding.add_argument("--top-k", type=int, default=20)
    decoding.add_argument("--top-p", type=float, default=0.9)

    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--model", default=str(DEFAULT_MODEL), help="checkpoint folder (default: the shipped model)")
    model.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")

    p = sub.add_parser("sample", parents=[model, decoding], help="decode sentences from the prior")
    p.add_argument("-n", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--near", metavar="SENTENCE", help="sample around this sentence's posterior instead")
    p.add_argument("--spread", type=float, default=1.0, help="with --near: scale of the posterior's sigma")
    p.add_argument("--source", choices=SOURCES, default="prior",
                   help="where z comes from: N(0, I), or the mixture fitted to the training codes")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("interpolate", parents=[model], help="decode the path between two sentences")
    p.add_argument("sentence_a")
    p.add_argument("sentence_b")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--method", choices=("linear", "spherical"), default="linear")
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("encode", parents=[model], help="write posterior means of a corpus to CSV")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True, help="CSV with text, label, z0..zN")
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("evaluate", parents=[model], help="held-out NLL, PPL, KL, MI, AU, BLEU, diversity")
    p.add_argument("--corpus", required=True, help="held-out sentences")
    p.add_argument("--iw-samples", type=int, default=100, help="k for the importance-sampled NLL")
    p.add_argument("--max-sentences", type=int, default=0, help="evaluate on the first N only (0 = all)")
    p.add_argument("--diversity", type=int, default=0, help="also draw N prior samples for distinct-1/2")
    p.add_argument("--train-corpus", help="with --diversity: count samples copied from this corpus")
    p.add_argument("--lm", help="with --diversity: a language-model baseline (--mode lm) that scores the samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--update-card", action="store_true", help="store the results in the model's card.json")
    p.set_defaults(func=cmd_evaluate)
    return parser


def cmd_train(args):
    texts = read_corpus(args.corpus).texts
    out = Path(args.out)
    config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         log_every=args.log_every, precision=args.precision)
    if args.resume and (out / "trainer_state.json").is_file():
        trainer = Trainer.resume(out, texts, config)
        trainer.trained.card["train"] = asdict(config)  # e.g. a new total number of steps
    else:
        model_config = dict(embed_size=args.embed, hidden_size=args.hidden, latent_size=args.latent,
                            num_layers=args.layers, rnn_type=args.rnn, dropout=args.dropout,
                            autoencoder=args.mode == "ae", language_model=args.mode == "lm",
                            bag_of_words=args.bag_of_words > 0)
        torch.manual_seed(args.seed)  # the initial weights too, not only the training noise
        trained = new_model(texts, model_config, args.vocab_size, args.min_freq, args.max_len)
        objective = ObjectiveConfig(kl_schedule=args.kl_schedule, kl_warmup_steps=args.kl_warmup, beta=args.beta,
                                    word_dropout=args.word_dropout, free_bits=args.free_bits,
                                    ae_pretrain_steps=args.ae_pretrain, bag_of_words=args.bag_of_words)
        trainer = Trainer(trained, texts, objective, config)
        trainer.trained.card.update(
            training_corpus=str(args.corpus), training_sentences=len(trainer.train_ids),
            command=args.command_line,
            objective=asdict(objective), train=asdict(config), parameters=trained.model.num_parameters(),
            vocab_size=len(trained.tokenizer))
    bar = tqdm(total=config.steps, initial=trainer.step, unit="step")
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "train_log.jsonl", "a")  # the training curve stays with the checkpoint

    def report(metrics):
        bar.set_postfix(elbo=f"{metrics['elbo']:.1f}", kl=f"{metrics['kl']:.2f}",
                        tok_s=f"{metrics['tokens_per_s']:.0f}")
        log.write(json.dumps(metrics) + "\n")
        log.flush()

    trainer.add_callback(report)
    while trainer.step < config.steps:
        target = min(config.steps, (trainer.step // args.save_every + 1) * args.save_every)
        before = trainer.step
        trainer.run(target)
        bar.update(trainer.step - before)
        trainer.save(out)
    bar.close()
    log.close()
    print(f"saved {out} after {trainer.step} steps")


def cmd_sample(args):
    trained = load_model(args.model, args.device)
    decoding = dict(strategy=args.strategy, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p)
    if args.near:
        samples = sample_near(trained, args.near, args.n, args.spread, args.seed, **decoding)
    else:
        samples = sample_prior(trained, args.n, args.seed, source=args.source, **decoding)
    for s in samples:
        print(f"{s.logprob:8.2f}  {s.text}")


def cmd_interpolate(args):
    trained = load_model(args.model, args.device)
    path = interpolate(trained, args.sentence_a, args.sentence_b, args.steps, args.method)
    for i, s in enumerate(path):
        print(f"{i / (len(path) - 1):4.2f}  {s.text}")


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
            writer.writerow([text, label] + [f"{v:.5f}" for v in z])
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
        results = evaluate(trained, texts, args.iw_samples, seed=args.seed, progress=progress)
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
