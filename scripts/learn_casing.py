"""Give a checkpoint saved before casing was learned its casing.json (vae/casing.py), learned from the
corpus it was trained on (by default the one its card names), so its sentences come out with capitals:

    python scripts/learn_casing.py --model assets/model

A model trained since casing was added has the file already: WordTokenizer.train learns it with the vocabulary.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere


from vae.casing import learn_casing  # noqa: E402
from vae.checkpoint import CASING_FILE, write_atomically  # noqa: E402
from vae.data import read_corpus  # noqa: E402
from vae.tokenizer import UNK, WordTokenizer, clean  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="checkpoint folder")
    parser.add_argument("--corpus", help="its training sentences (default: the card's training_corpus)")
    args = parser.parse_args(argv)
    model = Path(args.model)
    corpus = args.corpus or ROOT / json.loads((model / "card.json").read_text())["training_corpus"]
    tokenizer = WordTokenizer.load(model / "tokenizer.json")
    # the same sentences WordTokenizer.train reads
    texts = [clean(text).replace(UNK, " ") for text in read_corpus(corpus).texts]
    tokenizer.casing = learn_casing(tokenizer.tokenizer, texts)
    write_atomically(model, {CASING_FILE: tokenizer.save_casing})
    size = (model / CASING_FILE).stat().st_size
    print(f"{model / CASING_FILE}: {len(tokenizer.casing):,} words from {len(texts):,} sentences, {size:,} bytes")


if __name__ == "__main__":
    main()
