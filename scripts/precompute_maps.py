"""Precompute the latent maps of the shipped corpora, so that the Latent map page shows them at once.

    python scripts/precompute_maps.py                      # assets/model, every assets/corpora/*.csv
    python scripts/precompute_maps.py --model runs/shipped assets/corpora/by_author.csv

For each corpus it writes <model>/maps/<corpus>.safetensors: the posterior means and the UMAP
coordinates (default settings, seed 0), stamped with fingerprints of the weights and of the corpus
file. Run it again after retraining: the app ignores a map whose fingerprints do not match.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere


from vae.checkpoint import load_model  # noqa: E402
from vae.data import parse_corpus  # noqa: E402
from vae.decode import encode_texts  # noqa: E402
from vae.latent_map import UMAP_DEFAULTS, bytes_fingerprint, map_path, save_map, stored_codes, weights_fingerprint  # noqa: E402
from vae.paths import CORPORA, default_model  # noqa: E402
from vae.projection import project  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", help="labelled CSV files (default: assets/corpora/*.csv)")
    parser.add_argument("--model", default=str(default_model()), help="checkpoint folder")
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    args = parser.parse_args(argv)
    corpora = [Path(p) for p in args.corpora] or sorted(CORPORA.glob("*.csv"))
    trained = load_model(args.model, args.device)
    weights = weights_fingerprint(trained.model)
    for corpus_path in corpora:
        start = time.time()
        data = corpus_path.read_bytes()
        corpus = parse_corpus(data, corpus_path.name)
        mu = stored_codes(encode_texts(trained, corpus.texts).numpy())
        xy, _ = project(mu, "umap", **UMAP_DEFAULTS)
        out = map_path(args.model, corpus_path)
        save_map(out, mu, xy, weights=weights, corpus=bytes_fingerprint(data), **UMAP_DEFAULTS)
        print(f"{out}: {len(corpus.texts):,} sentences in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
