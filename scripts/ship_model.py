"""Turn a finished training run into the shipped model: copy it, measure it, write its card.

    python scripts/ship_model.py --run runs/main --baseline runs/lm --sweep runs/sweep/sweep.json \
        --out assets/model

1. copies the checkpoint files (not the optimizer state) and the training log into --out, the weights
   stored as int8 rows (a quarter of fp32's size, for the repository's size budget; everything below
   measures them so);
2. fits a Gaussian mixture to the posterior means of the training split, a second source of codes
   for the Sample page (vae/density.py);
3. measures everything vae/report.py measures on the held-out test split, against the
   language-model baseline (--baseline, trained with --mode lm): likelihood, rate, reconstruction
   by length, the everyday sentences by length, the 5 interpolation pairs, samples at the Sample
   page's defaults and from each source and decoding, the VAE as a compressor, the walkable space
   (samples, path middles, neighbour midpoints) and the offsets between kinds of sentence, and the bars;
4. records a few samples exactly as they come out, and the rate-distortion rows (--sweep: a
   sweep.json of scripts/sweep.py, or the probe runs in assets/training/probe_runs.json);
5. writes all of it into card.json (what the home page shows), then precomputes the maps.
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere


from scripts import learn_casing, model_card, precompute_maps  # noqa: E402
from vae.checkpoint import (  # noqa: E402
    CASING_FILE,
    DENSITY_FILE,
    FILES,
    load_model,
    save_checkpoint,
    store_weights_in_int8,
)
from vae.cli import real  # noqa: E402
from vae.compression import compression  # noqa: E402
from vae.data import read_corpus  # noqa: E402
from vae.decode import (  # noqa: E402
    MAX_BEAM_WIDTH,
    MAX_POSTERIOR_WEIGHT,
    default_sample_settings,
    encode_texts,
    sample_prior,
)
from vae.density import FIT_SENTENCES, fit_latent_density  # noqa: E402
from vae.metrics import TrainingText  # noqa: E402
from vae.offsets import fit_offsets  # noqa: E402
from vae.paths import CORPORA, SHIPPED_MODEL  # noqa: E402
from vae.report import offset_report, quality_report, rate_distortion_row, walkability_report  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="checkpoint folder of the trained VAE")
    parser.add_argument("--baseline", help="checkpoint folder of the LM baseline (--mode lm) trained for the same "
                                           "steps; without it, no figure that needs a language model is measured")
    parser.add_argument("--sweep", help="sweep.json of scripts/sweep.py: the card's rate-distortion table")
    parser.add_argument("--out", default=str(SHIPPED_MODEL))
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--samples", type=int, default=1000, help="samples per source for the sample metrics")
    parser.add_argument("--mixture-components", type=int, default=64)
    parser.add_argument("--command", help="the commands that retrain the run, where its card's own command does "
                                          "not (resumed before the card kept every command; a state compacted)")
    parser.add_argument("--note", help="a sentence for the card's rate-distortion table: why this recipe")
    parser.add_argument("--spread", type=float,
                        help="this model's default spread on the Sample page (its card's sample_defaults), where "
                             "vae.decode.SAMPLE_DEFAULTS's does not suit it")
    parser.add_argument("--source", choices=("prior", "mixture"),
                        help="where this model's Sample page draws codes by default (its card's sample_defaults), "
                             "where vae.decode.SAMPLE_DEFAULTS's does not suit it")
    parser.add_argument("--beam-width", type=int, choices=range(1, MAX_BEAM_WIDTH + 1), metavar=f"1-{MAX_BEAM_WIDTH}",
                        help="decode this model's samples and the sentences of given codes (read-back, paths, "
                             "walks) with a beam of this width (its card's sample_defaults and code_decoding)")
    parser.add_argument("--read-back-beam", type=int, choices=range(1, MAX_BEAM_WIDTH + 1),
                        metavar=f"1-{MAX_BEAM_WIDTH}",
                        help="read a typed sentence back with a beam of this width (its card's read_back_decoding; "
                             "without it, as --beam-width says)")
    parser.add_argument("--read-back-weight", type=real(0, MAX_POSTERIOR_WEIGHT), default=0.0,
                        help="with --read-back-beam: the beam chooses among its sentences by log p(x|z) per word "
                             "plus this weight times log q(z|x) (vae.decode.beam_search)")
    parser.add_argument("--name", help="what the sidebar calls this model when a second one ships beside it")
    parser.add_argument("--summary", help="what this model is for, in a line: the sidebar shows it when a second "
                                          "model ships beside it")
    parser.add_argument("--skip-maps", action="store_true")
    args = parser.parse_args(argv)
    if args.read_back_weight and args.read_back_beam is None:  # before anything is written
        parser.error("--read-back-weight weighs a beam's choice: give --read-back-beam too")
    run, out = Path(args.run), Path(args.out)

    out.mkdir(parents=True, exist_ok=True)
    for name in (DENSITY_FILE, CASING_FILE):
        (out / name).unlink(missing_ok=True)
    for name in (*FILES, "train_log.jsonl", *[CASING_FILE] * (run / CASING_FILE).is_file()):
        shutil.copy2(run / name, out / name)
    if not (out / CASING_FILE).is_file():  # a run started from a model saved before casing was learned
        learn_casing.main(["--model", str(out)])
    store_weights_in_int8(out)
    trained = load_model(out)  # fp32 parameters holding the dequantized int8 values: what users load
    for key in ("sample_defaults", "code_decoding", "read_back_decoding"):
        trained.card.pop(key, None)
    trained.card.update(decoding_card(args.spread, args.source, args.beam_width, args.read_back_beam,
                                      args.read_back_weight))
    test = read_corpus(CORPORA / "test.txt.gz").texts
    train = read_corpus(CORPORA / "train.txt.gz").texts

    start = time.perf_counter()
    codes = encode_texts(trained, train[:FIT_SENTENCES])
    trained.density = fit_latent_density(codes, components=args.mixture_components)
    baseline = load_model(args.baseline) if args.baseline else None
    report = quality_report(trained, test, lm=baseline, train_texts=train, iw_samples=args.iw_samples,
                            samples=args.samples)
    walk = walkability_report(trained, test, train, training_text=TrainingText(trained.tokenizer, train))
    card = trained.card
    card["test_metrics"] = {**report["likelihood"], "reconstruction": report["heldout"],
                            "reconstruction_unk_allowed": report["heldout_unk_allowed"],
                            "everyday": report["everyday"], "diversity": report["sample_defaults"],
                            "samples_by_source": report["samples"],
                            "compression": compression(trained, test, evaluation=report["likelihood"]),
                            "corpus": "assets/corpora/test.txt.gz",
                            "eval_seconds": round(time.perf_counter() - start)}
    card.pop("baseline_lm", None)
    if baseline is not None:
        card["baseline_lm"] = {**report["lm_baseline"], "command": baseline.card.get("command"),
                               "steps": baseline.card.get("steps")}
        card["sample_settings"] = report["sample_settings"]  # fluency by source and decoding: why the defaults
    card["bars"], card["bars_met"] = report["bars"], report["bars_met"]
    card["mixture"] = {"components": args.mixture_components, "fitted_on": "posterior means of train.txt.gz",
                       "sample_lm_perplexity_ratio": report.get("mixture_sample_lm_perplexity_ratio")}
    card["walkability"] = walk
    card["offsets"] = card_offsets(trained, train)
    defaults = default_sample_settings(trained)
    default_label = "the Sample page's defaults (" + ", ".join(f"{k} {v}" for k, v in defaults.items()) + ")"
    card["samples"] = {default_label: [s.text for s in sample_prior(trained, 10, seed=0, **defaults)],
                       **{f"{source}, spread 1, sampling at temperature 1":
                          [s.text for s in sample_prior(trained, 8, seed=0, source=source)]
                          for source in ("prior", "mixture")}}
    card["samples_settings"] = ("python -m vae sample -n 10 --seed 0 " + " ".join(
        f"--{key.replace('_', '-')} {value}" for key, value in defaults.items()))
    card["interpolations"] = card_interpolations(report)
    if args.sweep:
        card["rate_distortion"] = {**json.loads(Path(args.sweep).read_text()), "note": args.note or ""}
        # the shipped model itself, for comparison: far longer training, k=100 for its NLL
        card["rate_distortion"]["shipped"] = rate_distortion_row(shipped_name(card), report, walk)
    if args.command:
        card["command"] = args.command
    for key in ("name", "summary"):
        if getattr(args, key):
            card[key] = getattr(args, key)
    card["shipped_with"] = "python scripts/ship_model.py " + " ".join(argv if argv is not None else sys.argv[1:])
    save_checkpoint(trained, out)  # the same weights, now with the mixture and the card
    store_weights_in_int8(out)  # save_checkpoint wrote them dequantized: stored again, the same bytes
    print(json.dumps({k: card.get(k) for k in ("bars", "bars_met", "baseline_lm", "samples", "interpolations")},
                     indent=2))
    if not args.skip_maps:
        precompute_maps.main(["--model", str(out)])
    model_card.main(["--model", str(out)])  # README.md, from the card just written


def card_interpolations(report):
    """The card's paths, from a reconstruction_report: each pair's sentences and whether both ends read back."""
    return [{"from": p["a"], "to": p["b"], "path": p["path"], "ends_reproduced": p["ends_reproduced"]}
            for p in report["interpolations"]]


def card_offsets(trained, train):
    """The card's offsets at strengths 1 and 2 (offset_report), fitted once: the strengths scale the same ones."""
    offsets = fit_offsets(trained, train)
    return {f"strength {scale:g}": offset_report(trained, train, scale=scale, offsets=offsets) for scale in (1.0, 2.0)}


def decoding_card(spread=None, source=None, beam_width=None, read_back_beam=None, read_back_weight=0.0):
    """The card's fields for how this model decodes, from ship_model's flags: "sample_defaults" (the Sample
    page's and the CLI's defaults, vae.decode.default_sample_settings), "code_decoding" (the sentence
    of a given code, vae.decode.code_decoding) and "read_back_decoding" (a typed sentence's own code,
    vae.decode.read_back_decoding); a flag not given leaves the library's default."""
    sample_defaults = {key: value for key, value in (("spread", spread), ("source", source)) if value is not None}
    fields = {}
    if beam_width is not None:
        sample_defaults.update(strategy="beam", beam_width=beam_width)
        fields["code_decoding"] = {"strategy": "beam", "beam_width": beam_width}
    if read_back_beam is not None:
        fields["read_back_decoding"] = {"strategy": "beam", "beam_width": read_back_beam,
                                        "posterior_weight": read_back_weight}
    if sample_defaults:
        fields["sample_defaults"] = sample_defaults
    return fields


def shipped_name(card):
    """The shipped model's row in the rate-distortion table: its steps, a fine-tune's in two parts."""
    steps, earlier = card.get("steps"), card.get("initial_steps")
    if isinstance(steps, int) and isinstance(earlier, int):
        return f"shipped: {earlier:,} + {steps:,} fine-tuning steps"
    return f"shipped ({steps:,} steps)" if isinstance(steps, int) else "shipped"


if __name__ == "__main__":
    main()
