"""Turn a finished training run into the shipped model: copy it, measure it, write its card.

    python scripts/ship_model.py --run runs/shipped --baseline runs/lm --out assets/model

1. copies the checkpoint files (not the optimizer state) and the training log into --out;
2. measures on the held-out test split: importance-weighted NLL, PPL, ELBO, KL, MI, active units,
   reconstruction from the posterior mean (token accuracy, BLEU), and the diversity of 1,000 prior
   samples at temperature 1 with the share copied from the training split;
3. measures the language-model baseline (--baseline, trained with --mode lm the same way) on the
   same sentences: the honest reference for the NLL;
4. records a few prior samples and two interpolations exactly as they come out;
5. writes all of it into card.json (what the app's home page shows), then precomputes the maps.
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere

from scripts import precompute_maps  # noqa: E402
from vae.checkpoint import FILES, load_model, save_card  # noqa: E402
from vae.data import read_corpus  # noqa: E402
from vae.decode import interpolate, sample_prior  # noqa: E402
from vae.metrics import evaluate, reconstruction_quality, sample_diversity  # noqa: E402

CORPORA = ROOT / "assets" / "corpora"
INTERPOLATIONS = [
    ("she smiled and took his hand .", "the soldiers marched into the city at dawn ."),
    ("i love you .", "the king of israel died in jerusalem ."),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="checkpoint folder of the trained VAE")
    parser.add_argument("--baseline", help="checkpoint folder of the LM baseline (python -m vae train --mode lm)")
    parser.add_argument("--out", default=str(ROOT / "assets" / "model"))
    parser.add_argument("--iw-samples", type=int, default=100)
    parser.add_argument("--test-sentences", type=int, default=0, help="0 = the whole test split")
    parser.add_argument("--skip-maps", action="store_true")
    args = parser.parse_args(argv)
    run, out = Path(args.run), Path(args.out)

    out.mkdir(parents=True, exist_ok=True)
    for name in (*FILES, "train_log.jsonl"):
        shutil.copy2(run / name, out / name)
    trained = load_model(out)
    test = read_corpus(CORPORA / "test.txt.gz").texts[: args.test_sentences or None]
    train = read_corpus(CORPORA / "train.txt.gz").texts

    start = time.perf_counter()
    metrics = evaluate(trained, test, args.iw_samples)
    metrics["reconstruction"] = reconstruction_quality(trained, test)
    metrics["diversity"] = sample_diversity(trained, 1000, temperature=1.0, train_texts=train)
    metrics["corpus"] = "assets/corpora/test.txt.gz"
    metrics["eval_seconds"] = round(time.perf_counter() - start)
    card = trained.card
    card["test_metrics"] = metrics
    if args.baseline:
        baseline = load_model(args.baseline)
        lm = evaluate(baseline, test)
        lm.update(command=baseline.card.get("command"), steps=baseline.card.get("steps"))
        card["baseline_lm"] = lm
    card["samples"] = [s.text for s in sample_prior(trained, 8, seed=0, strategy="sample", temperature=1.0)]
    card["samples_settings"] = "python -m vae sample -n 8 --seed 0 --temperature 1.0"
    card["interpolations"] = [
        {"from": a, "to": b, "path": [s.text for s in interpolate(trained, a, b, steps=7, method="linear")]}
        for a, b in INTERPOLATIONS
    ]
    card["shipped_with"] = "python scripts/ship_model.py " + " ".join(argv if argv is not None else sys.argv[1:])
    save_card(out, card)
    print(json.dumps({k: card[k] for k in ("test_metrics", "baseline_lm", "samples", "interpolations") if k in card},
                     indent=2))
    if not args.skip_maps:
        precompute_maps.main(["--model", str(out)])


if __name__ == "__main__":
    main()
