"""The blind reader: 30 default samples, 30 interpolation midpoints and 30 real held-out sentences,
shuffled, for a reader who is told nothing about where any of them came from.

    python scripts/blind_reader.py write --model assets/model --out runs/blind
    python scripts/blind_reader.py write --model assets/model --model runs/other --out runs/blind
        (one reader for several models: readers differ by a factor of two, so compare models within one;
        each model's samples and midpoints, the same pairs, one set of real sentences)
        -> runs/blind/sentences.txt (for the reader: "N<TAB>sentence") and runs/blind/key.json (not for the reader)
    python scripts/blind_reader.py score --out runs/blind --marks marks.txt [--card assets/model/card.json]
        marks.txt: "N<TAB>y" or "N<TAB>n" per line, y = grammatical English; --card records the counts,
        every sentence with its mark, and the three blind-reader bars in the model's card
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from vae.checkpoint import load_model  # noqa: E402
from vae.data import read_corpus  # noqa: E402
from vae.paths import CORPORA  # noqa: E402
from vae.report import blind_reader_comparison, blind_reader_set, meets, score_marks  # noqa: E402


def read_marks(path):
    marks = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            number, mark = line.split(maxsplit=1)
            if mark.strip().lower() not in ("y", "n"):
                raise SystemExit(f"{path}: marks are y or n, not {mark!r}")
            marks[int(number)] = mark.strip().lower() == "y"
    return marks


def record(card_path, result):
    """The reader's counts as the card's blind-reader bars, and every sentence with its mark."""
    card = json.loads(Path(card_path).read_text())
    card["blind_reader"] = result
    for source, bar in (("sample", "blind_reader_samples"), ("midpoint", "blind_reader_midpoints"),
                        ("real", "blind_reader_real")):
        card.setdefault("bars", {})[bar] = result[source]["grammatical"]
        card.setdefault("bars_met", {})[bar] = meets(bar, result[source]["grammatical"])
    Path(card_path).write_text(json.dumps(card, indent=2))


def own_result(result, card_path):
    """The card's model's part of a result: the whole result for one model's set; for a comparison,
    the sources of the model whose folder holds the card ("<folder>/sample", ...) and the real ones,
    with `compared_with` naming the other models the same reader judged."""
    if "sample" in result:
        return result
    folder = str(Path(card_path).parent)
    models = {source.rsplit("/", 1)[0] for source in result if "/" in source}
    mine = next((m for m in models if Path(m).resolve() == Path(folder).resolve()), None)
    if mine is None:
        raise SystemExit(f"{card_path}: its model is not among the compared ones ({', '.join(sorted(models))})")
    own = {source.rsplit("/", 1)[1]: value for source, value in result.items() if source.startswith(mine + "/")}
    others = {m: {s.rsplit("/", 1)[1]: result[s]["grammatical"] for s in result if s.startswith(m + "/")}
              for m in sorted(models - {mine})}
    return {**own, "real": result["real"], "compared_with": others}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("write", "score"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", action="append", help="a model folder (default: the shipped model); "
                                                            "give it more than once to compare models")
    parser.add_argument("--marks")
    parser.add_argument("--corpus", type=Path, default=CORPORA / "test.txt.gz", help="held-out sentences")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--card", type=Path, help="with score: the card.json to record the result in")
    args = parser.parse_args(argv)
    if args.action == "write":
        test = read_corpus(args.corpus).texts
        if args.model and len(args.model) > 1:
            rows, key = blind_reader_comparison({m: load_model(m) for m in args.model}, test, seed=args.seed)
        else:
            rows, key = blind_reader_set(load_model(args.model[0] if args.model else None), test, seed=args.seed)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "sentences.txt").write_text("".join(f"{i}\t{text}\n" for i, text in rows))
        (args.out / "key.json").write_text(json.dumps({"model": args.model, "key": key}, indent=1))
        print(f"wrote {len(rows)} sentences to {args.out / 'sentences.txt'}; the key is in {args.out / 'key.json'}")
    else:
        key = {int(i): source for i, source in json.loads((args.out / "key.json").read_text())["key"].items()}
        marks = read_marks(args.marks)
        scores = score_marks(key, marks)
        sentences = dict(line.split("\t", 1) for line in (args.out / "sentences.txt").read_text().splitlines())
        result = {source: {"grammatical": yes, "of": total,
                           "sentences": [{"text": sentences[str(i)], "grammatical": marks[i]}
                                         for i, s in sorted(key.items()) if s == source]}
                  for source, (yes, total) in scores.items()}
        (args.out / "score.json").write_text(json.dumps(result, indent=1))
        if args.card:
            record(args.card, own_result(result, args.card))
        print(", ".join(f"{source}: {yes} of {total}" for source, (yes, total) in scores.items()))


if __name__ == "__main__":
    main()
