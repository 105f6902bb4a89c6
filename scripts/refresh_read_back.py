"""Change how a shipped model reads a sentence back, and re-measure what that changes on its card.

    python scripts/refresh_read_back.py --model assets/model --read-back-beam 5 --read-back-weight 0.03

ship_model.py measures a whole model (the mixture, samples, the language-model baseline, maps) and
takes its training run; the way a typed sentence's own code is decoded (the card's
read_back_decoding, vae.decode.read_back_decoding) touches only the read-back figures: held-out and
everyday read-back, the card's paths (their ends are read back), the offsets' read-back column and
the read-back bars. This re-measures those through vae/report.py, as ship_model does, and leaves
the weights and every other figure as they are (the rate-distortion table's rows too: they compare
training recipes, each read back as its model was shipped).
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from scripts import model_card  # noqa: E402
from scripts.ship_model import card_interpolations, card_offsets, decoding_card  # noqa: E402
from vae.checkpoint import load_model, save_card  # noqa: E402
from vae.cli import real  # noqa: E402
from vae.data import read_corpus  # noqa: E402
from vae.decode import MAX_BEAM_WIDTH, MAX_POSTERIOR_WEIGHT  # noqa: E402
from vae.paths import CORPORA  # noqa: E402
from vae.report import meets, reconstruction_report  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a shipped model's folder (its card.json is rewritten)")
    parser.add_argument("--read-back-beam", type=int, required=True, choices=range(1, MAX_BEAM_WIDTH + 1),
                        metavar=f"1-{MAX_BEAM_WIDTH}")
    parser.add_argument("--read-back-weight", type=real(0, MAX_POSTERIOR_WEIGHT), default=0.0,
                        help="weight of log q(z|x) in the beam's choice (vae.decode.beam_search)")
    args = parser.parse_args(argv)
    folder = Path(args.model)
    trained = load_model(folder)
    card = trained.card
    card.update(decoding_card(read_back_beam=args.read_back_beam, read_back_weight=args.read_back_weight))
    report = reconstruction_report(trained, read_corpus(CORPORA / "test.txt.gz").texts)
    card["test_metrics"].update(reconstruction=report["heldout"], everyday=report["everyday"],
                                reconstruction_unk_allowed=report["heldout_unk_allowed"])
    card["bars"].update(report["bars"])
    card["bars_met"] = {name: meets(name, value) for name, value in card["bars"].items()}
    card["interpolations"] = card_interpolations(report)
    if "offsets" in card:  # their read-back column
        card["offsets"] = card_offsets(trained, read_corpus(CORPORA / "train.txt.gz").texts)
    # the rate-distortion table's rows (the shipped one too) stay as measured: they compare training
    # recipes, each read back as the model was shipped
    card["read_back_refreshed_with"] = "python scripts/refresh_read_back.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    save_card(folder, card)
    print(json.dumps({"bars": card["bars"], "bars_met": card["bars_met"]}, indent=2))
    model_card.main(["--model", str(folder)])  # README.md, from the card just written


if __name__ == "__main__":
    main()
