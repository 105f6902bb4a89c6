"""The shipped model's card in the Hugging Face form (assets/model/README.md), written from its
card.json and config.json, so that the card, the app's home page and the tests never disagree.

    python scripts/model_card.py                      # assets/model/card.json -> assets/model/README.md
    python scripts/model_card.py --model PATH --notes NOTES.md

Every figure comes from card.json or config.json (or, for the folder's size and storage, from the
files beside them); a figure the card lacks is left out, never guessed. scripts/ship_model.py calls
write_model_card() when it ships a model. One part is written by hand: the notes on how this
model was trained, between NOTES_BEGIN and NOTES_END. They are tied to the weights' SHA-256 and
kept when the card is rewritten for the same weights; for new weights they are left out, since
they describe the model that came before (`--notes FILE` sets them).
"""

import argparse
import hashlib
import json
import re
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from vae.decode import code_decoding, describe_decoding, read_back_decoding  # noqa: E402
from vae.model import output_layer_for  # noqa: E402
from vae.paths import ROOT, SHIPPED_MODEL  # noqa: E402
from vae.report import BARS, WALK_KINDS  # noqa: E402

CARD_FILE = "README.md"
NOTES_BEGIN = "<!-- notes, written by hand for the weights with SHA-256 {digest}: kept when this card is rewritten -->"
NOTES_END = "<!-- end notes -->"
NOTES_PATTERN = re.compile(r"<!-- notes, written by hand for the weights with SHA-256 (\w+)[^>]*-->\n(.*?)\n"
                           + re.escape(NOTES_END), re.S)

# The corpora the project builds from the Tatoeba Project (assets/corpora/README.md)
TATOEBA_CORPORA = {f"assets/corpora/{name}" for name in ("train.txt.gz", "valid.txt.gz", "test.txt.gz",
                                                          "tiny_train.txt", "sentence_kinds.csv")}
TATOEBA_LICENCE = ("cc-by-2.0-fr", "https://creativecommons.org/licenses/by/2.0/fr/")
# The attribution that the Tatoeba corpus's licence asks for (../shared/data/tatoeba/README.md)
TATOEBA_ATTRIBUTION = (
    "Contains English sentences from the Tatoeba Project (https://tatoeba.org), written by Tatoeba contributors "
    "and licensed under CC BY 2.0 FR (https://creativecommons.org/licenses/by/2.0/fr/). Sentences were obtained "
    "via ManyThings.org (www.manythings.org/anki), the LASER Tatoeba test set (github.com/facebookresearch/LASER) "
    "and the Tatoeba Translation Challenge (github.com/Helsinki-NLP/Tatoeba-Challenge), then filtered and "
    "deduplicated.")

BAR_NAMES = {
    "everyday_exact_match_4_to_8_words": "everyday sentences of 4-8 words read back exactly",
    "everyday_exact_match_9_to_15_words": "everyday sentences of 9-15 words read back exactly",
    "heldout_exact_match_up_to_12_words": "held-out test sentences of ≤ 12 words read back exactly",
    "heldout_bleu_up_to_12_words": "BLEU of those read-backs",
    "interpolation_endpoints_reproduced": "interpolation pairs with both ends read back",
    "sample_lm_perplexity_ratio": "samples at the Sample page's defaults: LM perplexity ÷ the LM's on real test "
                                  "sentences",
    "sample_distinct_2": "their distinct-2",
    "sample_empty": "their share of empty samples",
    "iw_nll_gap_to_lm": "IW-NLL gap to the language model trained on the same tokens (nats)",
}
CEILINGS = ("sample_lm_perplexity_ratio", "sample_empty", "iw_nll_gap_to_lm")  # as vae.report.meets


# small helpers: every one returns None (the line is left out) when the card lacks the figure


def real(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fig(value, digits=1, suffix=""):
    """A number as a reader reads it (thousands separated), or None."""
    return f"{value:,.{digits}f}{suffix}" if real(value) else None


def pct(value, digits=1):
    return f"{100 * value:.{digits}f}%" if real(value) else None


def count(share, total):
    """'23 of 36' from a share and its total, or None."""
    return f"{round(share * total):,} of {total:,}" if real(share) and real(total) else None


def part(mapping, *keys):
    """mapping[k1][k2]..., or None where any level is missing or not a dict."""
    for key in keys:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def for_readers(text):
    """A card's own sentences say what a plan asked for, never which numbered issue asked it."""
    text = re.sub(r"\bthat issue \d+ asks for\b", "that the project's plan asks for", str(text))
    text = re.sub(r"\bissue \d+'s\b", "the project's", text)
    return re.sub(r"\s*\(?\bissue \d+\)?", "", text)


def prose(text):
    """A card's sentence for Markdown: for readers, and with `<unk>` shown rather than taken for a tag."""
    return re.sub(r"<(?=[A-Za-z/])", "&lt;", for_readers(text))


def fence(lines, language=""):
    """A Markdown code block that its lines cannot close early."""
    ticks = "`" * max(3, 1 + max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0))
    return "\n".join([ticks + language, *lines, ticks])


def table(header, rows):
    rows = [row for row in rows if row is not None]
    if not rows:
        return ""
    cell = lambda value: "n/a" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows])


def bullets(items):
    return "\n".join(f"- {item}" for item in items if item)


def section(title, *parts, level=2):
    body = "\n\n".join(p for p in parts if p)
    return f"{'#' * level} {title}\n\n{body}" if body else ""


# the files beside the card


def weights_digest(folder):
    weights = Path(folder) / "model.safetensors" if folder else None
    if weights is None or not weights.is_file():
        return None
    return hashlib.sha256(weights.read_bytes()).hexdigest()


def weights_storage(folder):
    """{'int8': n, 'float16': n, ...} of model.safetensors' tensors, read from its JSON header."""
    weights = Path(folder) / "model.safetensors" if folder else None
    if weights is None or not weights.is_file():
        return {}
    try:
        with open(weights, "rb") as f:
            header = json.loads(f.read(min(struct.unpack("<Q", f.read(8))[0], 10**8)))
    except (OSError, ValueError, struct.error):
        return {}
    if not isinstance(header, dict):
        return {}
    kinds = {}
    for name, tensor in header.items():
        if name != "__metadata__" and isinstance(tensor, dict) and not name.endswith(":scale"):
            kinds[tensor.get("dtype")] = kinds.get(tensor.get("dtype"), 0) + 1
    return kinds


def folder_bytes(folder):
    """Bytes of the model's files (the card itself left out), or None without a model there."""
    if not folder or not (Path(folder) / "model.safetensors").is_file():
        return None
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file() and p.name != CARD_FILE)


def other_files(folder):
    """The folder's files that the card does not describe one by one (a newer checkpoint's extras)."""
    described = {"model.safetensors", "config.json", "tokenizer.json", "card.json", "density.safetensors",
                 "train_log.jsonl", CARD_FILE}
    return sorted(p.name for p in Path(folder).iterdir() if p.is_file() and p.name not in described
                  and not p.name.startswith("."))


def kept_notes(path, digest):
    """The hand-written notes of the card at `path`, if they were written for the weights `digest`."""
    path = Path(path)
    if digest is None or not path.is_file():
        return ""
    found = NOTES_PATTERN.search(path.read_text(encoding="utf-8"))
    if found is None:
        return ""
    if found.group(1) != digest:
        print(f"{path}: its notes describe other weights (SHA-256 {found.group(1)[:12]}...), so they are left "
              "out; git keeps them", file=sys.stderr)
        return ""
    return found.group(2).strip()


# the card's parts


def yaml_header(card):
    tatoeba = card.get("training_corpus") in TATOEBA_CORPORA
    lines = ["---", "license: other"]
    if tatoeba:
        lines += [f"license_name: {TATOEBA_LICENCE[0]}", f"license_link: {TATOEBA_LICENCE[1]}"]
    lines += ["language:", "- en", "datasets:"]
    lines.append("- tatoeba" if tatoeba else f"- {json.dumps(str(card.get('training_corpus', 'unknown')))}")
    lines += ["metrics:", "- perplexity", "- bleu", "- exact_match", "library_name: pytorch",
              "pipeline_tag: text-generation", "tags:", "- variational-autoencoder", "- sentence-vae", "---"]
    return "\n".join(lines)


def kind(model):
    if model.get("autoencoder"):
        return "deterministic autoencoder"
    if model.get("language_model"):
        return "language model (the decoder alone, no latent code)"
    return "sentence variational autoencoder (VAE)"


def model_details(card, config, folder):
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    rnn = str(model.get("rnn_type", "rnn")).upper()
    layers = model.get("num_layers")
    arch = None
    if {"embed_size", "hidden_size", "latent_size"} <= set(model):
        both = "bidirectional " if model.get("bidirectional") else ""
        arch = (f"**Architecture:** {kind(model)} after Bowman et al. (2016): word embeddings of size "
                f"{model['embed_size']} (tied with the output layer), a {both}{rnn} encoder of hidden size "
                f"{model['hidden_size']}"
                + (f" and {layers} layer{'s' * (layers != 1)}" if real(layers) else "")
                + f", a linear map to the mean and log-variance of a {model['latent_size']}-dimensional Gaussian "
                f"code z, and a {rnn} decoder of hidden size {model['hidden_size']} that starts from z and reads "
                "it at every step" + (f"; dropout {model['dropout']}" if real(model.get("dropout")) else "")
                + (", with a bag-of-words loss on z in training" if model.get("bag_of_words") else "") + ".")
    params, vocab = card.get("parameters"), card.get("vocab_size", model.get("vocab_size"))
    size = "; ".join(s for s in (f"{params:,} parameters" if real(params) else None,
                                 f"a word-level vocabulary of {vocab:,} words (lower-cased, punctuation split)"
                                 if real(vocab) else None,
                                 f"sentences up to {config['max_len']} words" if real(config.get("max_len")) else None)
                     if s)
    storage = weights_storage(folder)
    stored = folder_bytes(folder)
    files = None
    if stored is not None:
        how = ("the weight matrices as int8 rows with one fp16 scale each and the rest in fp16, multiplied back "
               "into fp32 when loaded, so the model computes in fp32" if storage.get("I8")
               else f"weights as {', '.join(sorted(storage))}" if storage else "")
        files = (f"**Files:** {stored / 2**20:.1f} MiB in all: `model.safetensors` ({how}), `config.json`, "
                 "`tokenizer.json` (Hugging Face `tokenizers`), `card.json` (every figure of this card), "
                 "`train_log.jsonl` (the training curves)"
                 + (", `density.safetensors` (the Gaussian mixture fitted to the training codes)"
                    if (Path(folder) / "density.safetensors").is_file() else "")
                 + (", `maps/` (the shipped corpora's codes and 2-D maps, precomputed)"
                    if (Path(folder) / "maps").is_dir() else "")
                 + "".join(f", `{name}`" for name in other_files(folder)) + ". Nothing in it is pickled.")
    default = Path(folder).resolve() == SHIPPED_MODEL.resolve()
    role = ("It is the model that the Text VAE Explorer app opens with, and `python -m vae` uses it when no "
            "`--model` is given." if default else
            f"It ships beside the default model (`assets/model`): the app's sidebar chooses it as "
            f"\"{card.get('name') or Path(folder).name}\", and `python -m vae sample --model {relative(folder)}` "
            "(or any other command with `--model`) uses it.")
    steps, earlier = card.get("steps"), card.get("initial_steps")
    trained_for = (f"**Trained for:** {earlier:,} steps, then {steps:,} fine-tuning steps"
                   if real(steps) and real(earlier) else f"**Trained for:** {steps:,} steps" if real(steps) else None)
    return section(
        "Model details",
        f"A {kind(model) if model else 'model'} trained with this repository's own code (`vae/`, plain PyTorch). "
        + role,
        bullets([arch, f"**Size:** {size}" if size else None, files, trained_for,
                 "**Developed by:** the Text VAE Explorer project; the model's own code is `vae/model.py`"]))


def relative(folder):
    """The folder as a path from the repository's root, where it is inside it."""
    folder = Path(folder).resolve()
    return str(folder.relative_to(ROOT)) if folder.is_relative_to(ROOT) else str(folder)


def how_to_use(folder):
    code = fence(["from vae.checkpoint import load_model",
                  "from vae.decode import interpolate, reconstruct, sample_prior",
                  "",
                  f'trained = load_model("{relative(folder)}")  # fp32 on the best device: CUDA, MPS or the CPU',
                  'print(reconstruct(trained, ["My friend is coming to dinner tonight."])[0].text)',
                  "for s in sample_prior(trained, 5, seed=0):",
                  "    print(s.text)",
                  'for s in interpolate(trained, "I want to go home.", "Thank you for your help.", 6, "linear"):',
                  "    print(s.text)"], "python")
    return section("How to use it", "In the app (`streamlit run streamlit_app.py`), from the command line "
                   "(`python -m vae sample -n 5`, `python -m vae interpolate \"a\" \"b\"`), or from Python:", code)


def by_length_rows(recon, unk=None):
    rows = []
    for bucket, scores in (recon.get("by_length") or {}).items() if isinstance(recon, dict) else ():
        if isinstance(scores, dict):
            allowed = part(unk, "by_length", bucket, "exact_match")
            rows.append([bucket, fig(scores.get("sentences"), 0), pct(scores.get("exact_match")),
                         pct(scores.get("token_accuracy")), fig(scores.get("bleu")), pct(allowed)])
    for label, scores, allowed in (("≤ 12 words", part(recon, "up_to_12_words"), part(unk, "up_to_12_words")),
                                   ("all", recon, unk)):
        if isinstance(scores, dict) and real(scores.get("exact_match")):
            rows.append([label, fig(scores.get("sentences"), 0), pct(scores.get("exact_match")),
                         pct(scores.get("token_accuracy")), fig(scores.get("bleu")),
                         pct(part(allowed, "exact_match"))])
    return rows


def uses_and_limits(card):
    recon = part(card, "test_metrics", "reconstruction")
    lengths = part(recon, "by_length") or {}
    shares = ", ".join(f"{bucket} {pct(scores.get('exact_match'))}" for bucket, scores in lengths.items()
                       if isinstance(scores, dict) and real(scores.get("exact_match")))
    ratio = part(card, "bars", "sample_lm_perplexity_ratio")
    limits = bullets([
        f"Held-out sentences read back exactly, by length: {shares}. Long sentences mostly come back changed."
        if shares else None,
        f"Samples are short and everyday in their words, but mostly not English: at the Sample page's defaults "
        f"a language model finds them {fig(ratio, 2)}× as perplexing as real sentences." if real(ratio) else None,
        "English only, lower-cased, with a closed vocabulary: a rarer word is read as `<unk>` and never written.",
        "It knows only what short everyday sentences say; it holds no facts worth asking for.",
    ])
    return section(
        "Intended uses and limits",
        "**Intended:** teaching and exploring what a sentence VAE learns: type a sentence and see what the model "
        "reads back, walk between two sentences, sample from the latent space, map corpora in 2-D, compare its "
        "bits with gzip's. It runs on a laptop's CPU, offline.",
        "**Not intended:** writing text for anyone to read as English, any language other than English, long or "
        "technical text, or any decision about a person.",
        "**Limits, measured (Evaluation, below):**\n" + limits if limits else None)


def training_data(card):
    corpus, sentences = card.get("training_corpus"), card.get("training_sentences")
    parts = [f"`{corpus}`" + (f", {sentences:,} sentences" if real(sentences) else "") + "."
             if corpus else "The card does not record the training corpus."]
    if corpus in TATOEBA_CORPORA:
        parts += [
            "The training split of the project's Tatoeba corpus: modern everyday English from the Tatoeba Project, "
            "one sentence per line, built by `python scripts/build_corpora.py --only training` "
            "([assets/corpora/README.md](../corpora/README.md) gives every step and count):",
            bullets(["sentences of 3-15 words;",
                     "a **classroom filter**: a line with any word of the script's blocklist (strong profanity, "
                     "sexual words, slurs and a few milder swear words) is left out;",
                     "the everyday sentences and interpolation ends that judge the model are in no split;",
                     "one line per normalised sentence, so no sentence is in two splits; shuffled with a fixed "
                     "seed, the first 3,000 for test, the next 3,000 for validation, the rest for training."]),
            "Tatoeba's **stock names are kept**: about a fifth of its lines mention Tom or Mary, and the model "
            "speaks of them in its samples.",
            "> " + TATOEBA_ATTRIBUTION]
    return section("Training data", *parts)


def command_lines(command):
    """(the shell lines of a card's command, the note in brackets after them)."""
    note = ""
    found = re.match(r"^(.*?\S) \((.*)\)$", command, re.S)
    if found and "(" not in found.group(1):
        command, note = found.group(1), found.group(2)
    return [line.strip() for line in command.split(" && ")], note


def training_procedure(card, model=None):
    objective = card.get("objective") if isinstance(card.get("objective"), dict) else {}
    train = card.get("train") if isinstance(card.get("train"), dict) else {}
    steps, batch, sentences = card.get("steps"), train.get("batch_size"), card.get("training_sentences")
    epochs = steps * batch / sentences if real(steps) and real(batch) and real(sentences) and sentences else None
    schedule = train.get("lr_schedule")
    lr = (f"Adam, learning rate {train['lr']:g}" if real(train.get("lr")) else None)
    if lr and schedule == "cosine" and real(train.get("lr_min")):
        lr += f" on a cosine schedule down to {train['lr_min']:g}"
    items = [
        f"{steps:,} steps of {batch} sentences" + (f" ({epochs:.2f} epochs)" if epochs else "")
        if real(steps) and real(batch) else None,
        lr,
        f"gradients clipped at norm {train['grad_clip']:g}" if real(train.get("grad_clip")) else None,
        f"precision `{train['precision']}` (bf16 autocast where the CPU has AVX512-BF16 or on a CUDA GPU, "
        "else fp32)" if train.get("precision") == "auto" else
        (f"precision `{train['precision']}`" if train.get("precision") else None),
        f"seed {train['seed']}" if real(train.get("seed")) else None,
    ]
    knobs = [
        f"a {objective['kl_schedule']} KL schedule over {objective['kl_warmup_steps']:,} steps"
        if objective.get("kl_schedule") and real(objective.get("kl_warmup_steps")) else None,
        f"β = {objective['beta']:g}" if real(objective.get("beta")) else None,
        f"free bits {objective['free_bits']:g} nats per dimension" if real(objective.get("free_bits")) else None,
        f"the first {objective['ae_pretrain_steps']:,} steps as a plain autoencoder (Li et al. 2019)"
        if objective.get("ae_pretrain_steps") else None,
        f"word dropout {objective['word_dropout']:g}" if objective.get("word_dropout") else None,
        f"word deletion in the encoder's input {objective['word_deletion']:g}"
        if objective.get("word_deletion") else None,
        f"a bag-of-words loss of weight {objective['bag_of_words']:g}" if objective.get("bag_of_words") else None,
    ]
    changes = []
    for change in card.get("objective_changes") or []:
        if isinstance(change, dict):
            for name, values in change.items():
                if isinstance(values, dict) and real(change.get("after_step")):
                    changes.append(f"after step {change['after_step']:,}, {name.replace('_', ' ')} went from "
                                   f"{values.get('from')} to {values.get('to')}")
    parts = [bullets(items)]
    shown = [k for k in knobs if k]
    if shown:
        parts.append("The objective is the ELBO (reconstruction − KL) with " + ", ".join(shown) + "."
                     + (" During the run, " + "; ".join(changes) + "." if changes else ""))
    if card.get("command"):
        lines, note = command_lines(str(card["command"]))
        parts += ["The commands that trained it:", fence(lines, "bash")]
        if note:
            parts.append(prose(note[0].upper() + note[1:]) + ".")
        model, first = model or {}, lines[0]
        fresh = " train " in first and not any(flag in first for flag in ("--init-from", "--resume", "--output-layer"))
        tied = model.get("output_layer", "tied") == "tied"  # a config.json of before the option: tied
        if fresh and tied and output_layer_for(model.get("vocab_size") or 0) != "tied":
            parts.append("They ran when `train`'s output layer was the tied full softmax by default; its default is "
                         "now `auto` (the adaptive softmax for a vocabulary this size), so add `--output-layer tied` "
                         "to the first command to retrain this model.")
    baseline = card.get("baseline_lm") if isinstance(card.get("baseline_lm"), dict) else {}
    if baseline.get("command"):
        lines, _ = command_lines(str(baseline["command"]))
        parts += ["The language-model baseline of the evaluation (the same decoder without z, "
                  + (f"{baseline['steps']:,} steps" if real(baseline.get("steps")) else "trained")
                  + " on the same sentences):", fence(lines, "bash")]
    shipped = card.get("shipped_with")
    if shipped:
        shipped = re.split(r" --(?:command|note) ", str(shipped))[0]
        parts.append(f"Then `{shipped}` stored the weights, fitted the mixture, measured everything below on the "
                     "test split, wrote `card.json` and precomputed the maps (its `--command` and `--note`: the "
                     "command above and the note of the rate-distortion table).")
    refreshed = card.get("read_back_refreshed_with")
    if refreshed:
        parts.append(f"Then `{refreshed}` set how a typed sentence is read back and measured the read-back "
                     "figures again (the rest is as `ship_model.py` measured it).")
    return section("Training procedure", *parts)


def bar_figure(name, value):
    if not real(value):
        return None
    if "exact_match" in name or name == "sample_empty":
        return f"{value:.0%}" if round(100 * value, 6) == round(100 * value) else pct(value)
    if name == "interpolation_endpoints_reproduced":
        return f"{value:.0f} of 5"
    return fig(value, 1 if "bleu" in name or "gap" in name else 2)


def read_back_how(card):
    return describe_decoding(read_back_decoding(card))


def bars(card):
    values, met = card.get("bars"), card.get("bars_met")
    if not isinstance(values, dict):
        return ""
    rows = []
    for name, value in values.items():
        limit = BARS.get(name)
        target = None if limit is None else f"{'≤' if name in CEILINGS else '≥'} {bar_figure(name, limit)}"
        ok = met.get(name) if isinstance(met, dict) else None
        rows.append([BAR_NAMES.get(name, name), target, bar_figure(name, value),
                     None if ok is None else ("yes" if ok else "**no**")])
    return (f"**The bars it was shipped against** (the posterior mean decoded {read_back_how(card)}, `<unk>` never "
            "written, as the app reads a sentence back):\n\n" + table(["bar", "target", "measured", "met?"], rows))


def likelihood(card):
    m = part(card, "test_metrics") or {}
    base = card.get("baseline_lm") if isinstance(card.get("baseline_lm"), dict) else {}
    gap = part(card, "bars", "iw_nll_gap_to_lm")
    estimator = f" ({m['estimator']})" if m.get("estimator") else ""
    rows = [[f"IW-NLL, nats per sentence{estimator}", fig(m.get("iw_nll"))],
            ["IW-NLL with the fitted mixture as the prior (at spread 1; the same importance samples)",
             fig(m.get("iw_nll_mixture_prior"))],
            ["−ELBO = reconstruction + KL", f"{fig(-m['elbo'])} = {fig(m.get('recon'))} + {fig(m.get('kl'))}"
             if real(m.get("elbo")) else None],
            ["active units", f"{m['active_units']} of {m.get('latent_size', '?')}" if real(m.get("active_units"))
             else None],
            ["mutual information I(x;z), nats", fig(m.get("mi"), 2)],
            ["I(x;z), upper bound", fig(m.get("mi_upper_bound"))],
            ["language-model baseline: NLL, nats per sentence", fig(base.get("nll", base.get("iw_nll")))],
            ["language-model baseline: perplexity", fig(base.get("perplexity_on_test"))],
            ["gap to the baseline, nats", fig(gap)]]
    rows = [r for r in rows if r[1] is not None]
    where = (f"On `{m['corpus']}`" if m.get("corpus") else "On the held-out test split") + (
        f", {m['sentences']:,} sentences ({m['tokens']:,} tokens, words + one end of sentence each), never "
        "trained on" if real(m.get("sentences")) and real(m.get("tokens")) else "") + ":"
    return where + "\n\n" + table(["measure", "value"], rows) if rows else ""


def compression(card):
    c = part(card, "test_metrics", "compression")
    vae = part(c, "vae")
    if not isinstance(vae, dict):
        return ""
    alone, together = c.get("alone") or {}, c.get("together") or {}
    rows = [["this VAE: −ELBO (rate + distortion)", fig(vae.get("neg_elbo"), 0), ""],
            ["  of which rate (KL)", fig(vae.get("rate"), 0), ""],
            ["  of which distortion", fig(vae.get("distortion"), 0), ""],
            ["this VAE: IW-NLL", fig(vae.get("iw_nll"), 0), ""]]
    rows += [[name, fig(alone.get(name), 0), fig(together.get(name), 0)] for name in ("gzip", "bz2", "lzma")
             if name in alone or name in together]
    return (f"**As a compressor**: bits per test sentence, {prose(c.get('text', 'as the model reads it'))}. Bits-back "
            "coding turns a VAE into a lossless code of about its −ELBO:\n\n"
            + table(["code", "each sentence alone", "the whole split as one file"], rows))


def sample_settings(card):
    rows = []
    for row in card.get("sample_settings") or []:
        if isinstance(row, dict):
            decoding = row.get("strategy", "?")
            if decoding != "greedy" and real(row.get("temperature")):
                decoding += f", T {row['temperature']:g}"
            rows.append([row.get("source"), fig(row.get("spread")), decoding, fig(row.get("lm_perplexity_ratio"), 2),
                         fig(row.get("distinct_2"), 2)])
    if not rows:
        return ""
    counted = {row.get("samples") for row in card["sample_settings"] if isinstance(row, dict)}
    each = f"{counted.pop():,} samples each, " if len(counted) == 1 and real(next(iter(counted), None)) else ""
    return ("**Samples by source of z, spread and decoding** (" + each + "scored by the language-model baseline; "
            "the Sample page's default is the most fluent):\n\n"
            + table(["source", "spread", "decoding", "LM perplexity ÷ LM's on test", "distinct-2"], rows))


def samples(card):
    found = card.get("samples")
    if isinstance(found, list):
        found = {"from the prior": found}
    if not isinstance(found, dict):
        return ""
    parts = ["**Samples, as they came out**" + (f" (`{card['samples_settings']}` for the first set):"
                                                if card.get("samples_settings") else ":")]
    for source, texts in found.items():
        if isinstance(texts, list):
            parts += [f"{source}:", fence([str(t) for t in texts])]
    return "\n\n".join(parts)


def blind_reader(card):
    """A blind reader's marks, if the card has them: {source: {"grammatical": n, "of": m}} (or [n, m])."""
    found = card.get("blind_reader")
    if not isinstance(found, dict):
        return ""
    said = []
    for source, result in found.items():
        yes, total = (result.get("grammatical"), result.get("of")) if isinstance(result, dict) else (
            result if isinstance(result, (list, tuple)) and len(result) == 2 else (None, None))
        if real(yes) and real(total):
            said.append(f"{source}: {yes} of {total}")
    if not said:
        return ""
    text = ("**A blind reader** (sentences of each kind shuffled together, the reader told nothing of where any "
            "came from) marked as grammatical English: " + "; ".join(said) + ".")
    others = found.get("compared_with")
    if isinstance(others, dict) and others:
        text += (" The same reader judged other models' sentences shuffled in with these (readers differ by a "
                 "factor of two, so models are compared within one): " + "; ".join(
                     f"`{name}`: " + ", ".join(f"{source} {n} of {found.get(source, {}).get('of', 30)}"
                                              for source, n in counts.items())
                     for name, counts in others.items() if isinstance(counts, dict)) + ".")
    later = [r for r in card.get("blind_readers_later") or [] if isinstance(r, dict)]
    if later:  # one reader's counts are a noisy figure: every later reader of the same sentences' sources
        text += (" Later readers, each given other samples and midpoints of this model as it decodes now: " + "; ".join(
            ", ".join(f"{source} {r[source]} of 30" for source in ("sample", "midpoint", "real") if real(r.get(source)))
            + (f" ({r['when']})" if isinstance(r.get("when"), str) else "") for r in later) + ".")
    return text


def walkability(card):
    """What the model writes away from a typed sentence's own code (vae.report.walkability_report)."""
    walk = card.get("walkability") if isinstance(card.get("walkability"), dict) else {}
    kinds = {kind: walk[kind] for kind in WALK_KINDS if isinstance(walk.get(kind), dict)}
    rows = [[WALK_KINDS[kind], pct(w.get("unseen_bigrams")), pct(w.get("copied_from_train")),
             fig(w.get("distinct_2"), 2)] for kind, w in kinds.items()]
    if not rows:
        return ""
    parts = ["**Between the sentences** (a fixed seed; the share of word pairs, sentence ends included, never seen "
             "in the training corpus is a cheap stand-in for fluency, and a copy scores 0, so the copies stand "
             "beside it):", table(["decoded from", "unseen word pairs", "copies of a training sentence",
                                   "distinct-2"], rows)]
    for kind in ("samples", "interpolations"):
        examples = kinds.get(kind, {}).get("examples")
        if isinstance(examples, list) and examples:
            parts += [f"{WALK_KINDS[kind].capitalize()}, as they came out:", fence([str(e) for e in examples])]
    return "\n\n".join(parts)


def offsets(card):
    """Each offset between kinds of sentence on the 20 test sentences, as they came out."""
    found = card.get("offsets") if isinstance(card.get("offsets"), dict) else {}
    parts = []
    for strength, report in found.items():
        if not isinstance(report, dict):
            continue
        counts = ", ".join(f"{name} {sum(bool(r.get('target_kind')) for r in rows if isinstance(r, dict))} of "
                           f"{len(rows)}" for name, rows in report.items() if isinstance(rows, list))
        lines = [f"{name}: {r.get('typed')} → {r.get('moved')}" for name, rows in report.items()
                 if isinstance(rows, list) for r in rows if isinstance(r, dict)]
        parts += [f"**Offsets at {strength}** (the mean code of one kind of training sentence minus another's, "
                  f"added to a typed sentence's code): of the kind they aim at, by the labelling rules, {counts}. "
                  "As they came out:", fence(lines)]
    return "\n\n".join(parts)


def interpolations(card):
    paths = [p for p in card.get("interpolations") or [] if isinstance(p, dict) and isinstance(p.get("path"), list)]
    if not paths:
        return ""
    both = sum(bool(p.get("ends_reproduced")) for p in paths)
    lines = []
    for p in paths:
        steps = p["path"]
        lines += [f"{i / max(len(steps) - 1, 1):.2f}  {text}" for i, text in enumerate(steps)] + [""]
    pairs = bullets(f"`{p.get('from')}` → `{p.get('to')}`" + ("" if p.get("ends_reproduced") else
                                                             " (an end not read back)") for p in paths)
    how = describe_decoding(code_decoding(card))
    return (f"**Interpolations, as they came out** (pairs chosen before training; linear; the steps between decoded "
            f"{how}, the ends read back {read_back_how(card)}); both ends read back for {both} of {len(paths)}:"
            f"\n\n{pairs}\n\n" + fence(lines[:-1]))


def rate_distortion(card):
    sweep = card.get("rate_distortion")
    if not isinstance(sweep, dict):
        return ""
    rows = [r for r in (sweep.get("rows") or []) + (sweep.get("longer_runs") or []) if isinstance(r, dict)]
    if isinstance(sweep.get("shipped"), dict):
        rows.append(sweep["shipped"])
    nats = lambda v: fig(v, 0 if isinstance(v, int) else 1)
    # the everyday list's halves as columns of their own, where a row has them (copies: the card stays as it is)
    rows = [{**r, **{f"everyday {k}": v for k, v in (r.get("everyday_by_length") or {}).items()}} for r in rows]
    columns = [("run", "run", str), ("kl", "KL (nats)", nats), ("recon", "reconstruction (nats)", nats),
               ("exact_match", "held-out ≤ 12 words read back", pct),
               ("everyday_short", "fresh everyday 4-8 words read back (the probes' own list)", pct),
               ("everyday 4-8 words", "everyday 4-8 words read back", pct),
               ("everyday 9-15 words", "everyday 9-15 words read back", pct),
               ("samples_unseen_bigrams", "unseen word pairs: samples", pct),
               ("interpolations_unseen_bigrams", "unseen word pairs: path middles", pct)]
    columns = [c for c in columns if any(c[0] in r for r in rows)]
    if not rows or not columns:
        return ""
    parts = ["**The runs behind this recipe** (rate against distortion, and walkability where measured):",
             table([c[1] for c in columns], [[fn(r[k]) if k in r else None for k, _, fn in columns] for r in rows])]
    said = []
    if sweep.get("budget"):
        budget = sweep["budget"]
        said.append(f"The sweep's common budget: `{budget}`." if budget.startswith("python ") else
                    f"The sweep's common budget: {prose(budget)}.")
    if real(sweep.get("test_sentences")):
        said.append(f"Measured on {sweep['test_sentences']:,} held-out sentences.")
    said += [prose(sweep[k]) for k in ("source", "note") if sweep.get(k)]
    if said:
        parts.append(" ".join(s if s.endswith(".") else s + "." for s in (s[0].upper() + s[1:] for s in said)))
    return "\n\n".join(parts)


def evaluation(card):
    m = part(card, "test_metrics")
    recon = part(m, "reconstruction")
    everyday = part(m, "everyday")
    parts = [likelihood(card), bars(card)]
    rows = by_length_rows(recon, part(m, "reconstruction_unk_allowed"))
    if rows:
        parts.append(f"**Read-back by length** on the test split (the posterior mean decoded {read_back_how(card)}; "
                     "the last column allows `<unk>`):\n\n"
                     + table(["length", "sentences", "exact", "token accuracy", "BLEU", "exact, `<unk>` allowed"],
                             rows))
    rows = by_length_rows(everyday)
    if rows:
        parts.append("**The everyday sentences** (`tests/data/everyday_sentences.txt`: written by hand for this "
                     "purpose, in no split of the corpus):\n\n"
                     + table(["length", "sentences", "exact", "token accuracy", "BLEU"], [r[:5] for r in rows]))
    parts += [compression(card), sample_settings(card), samples(card), blind_reader(card), walkability(card),
              offsets(card), interpolations(card), rate_distortion(card)]
    if not any(parts):
        return section("Evaluation", "Not measured yet: `python -m vae evaluate --model <folder> --corpus "
                       "assets/corpora/test.txt.gz --update-card`, or `scripts/ship_model.py`.")
    return section("Evaluation", *parts)


def limitations(card):
    tatoeba = card.get("training_corpus") in TATOEBA_CORPORA
    gap = part(card, "bars", "iw_nll_gap_to_lm")
    long_ = part(card, "test_metrics", "reconstruction", "by_length", "13-15 words", "exact_match")
    return section("Limitations and biases", bullets([
        "The samples are the weak side: codes between the training sentences' codes decode to word salad more "
        "often than to English. Read them as a picture of the latent space, not as text.",
        f"Sentences of 13-15 words are read back exactly {pct(long_)} of the time." if real(long_) else None,
        f"As a density model it is {fig(gap)} nats per sentence behind a plain language model trained on the same "
        "sentences: its high-rate code costs likelihood." if real(gap) else None,
        "Tatoeba is written by volunteers for language learners: short, everyday, often first-person sentences, "
        "with American and British spellings mixed and Tom and Mary in about a fifth of them; the model's "
        "sentences share that world and its assumptions." if tatoeba else None,
        "The classroom filter is a word list: it removes lines with listed words, not every unkind or "
        "unsuitable sentence, and the model can still put harmless words together badly. Look at what it "
        "writes before showing it to a class." if tatoeba else None,
        f"The decoder computes in fp32 (reading back {read_back_how(card)}); on CPUs with native bf16 the "
        "encoder's recurrent matmul runs in bf16, which changed about 1 read-back in 400.",
    ]))


def size_note(folder):
    stored = folder_bytes(folder)
    storage = weights_storage(folder)
    if stored is None:
        return ""
    return section("Repository size", (
        f"The model folder holds {stored / 2**20:.1f} MiB"
        + (", with the weights stored as int8 rows (a quarter of fp32's bytes)" if storage.get("I8") else "")
        + ". Git keeps every version of every shipped model, so the repository's size budget allows its models "
        "150 MB of history in all; what is used, and how to continue the training run without adding to it, is "
        "in [assets/training/README.md](../training/README.md)."))


def citation(card):
    bib = fence(["@misc{tatoeba,",
                 "  author       = {{Tatoeba contributors}},",
                 "  title        = {Tatoeba: a collection of sentences and translations},",
                 "  howpublished = {\\url{https://tatoeba.org}},",
                 "  note         = {English sentences, licensed under CC BY 2.0 FR}",
                 "}",
                 "@inproceedings{bowman2016generating,",
                 "  author    = {Bowman, Samuel R. and Vilnis, Luke and Vinyals, Oriol and Dai, Andrew M. and",
                 "               J{\\'o}zefowicz, Rafal and Bengio, Samy},",
                 "  title     = {Generating Sentences from a Continuous Space},",
                 "  booktitle = {Proceedings of the 20th SIGNLL Conference on Computational Natural Language",
                 "               Learning},",
                 "  year      = {2016}",
                 "}"], "bibtex")
    data = ("Credit the data with the Tatoeba attribution above (text and licence link); its licence asks for it "
            "wherever the model or its corpus goes." if card.get("training_corpus") in TATOEBA_CORPORA else None)
    return section("How to cite", data, "The data and the model it follows (Bowman et al. 2016):", bib)


def render_model_card(card: dict, config: dict | None = None, notes: str = "", folder=None, digest=None) -> str:
    """The card as Markdown. `folder` holds the model's files (for their size and storage), `notes` the
    hand-written part, tied to the weights' SHA-256 `digest`."""
    card = card if isinstance(card, dict) else {}
    config = config if isinstance(config, dict) else {}
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    latent, rnn = model.get("latent_size"), str(model.get("rnn_type", "")).upper()
    data = " trained on Tatoeba" if card.get("training_corpus") in TATOEBA_CORPORA else ""
    title = f"# Sentence VAE{f' ({rnn}, z of {latent} dimensions)' if latent and rnn else ''}{data}"
    intro = ("A variational autoencoder for short English sentences: it squeezes a sentence into a point z of a "
             "small continuous space and writes a sentence back from any point of it. This card is written by "
             "`scripts/model_card.py` from the model's `card.json` and `config.json`; rerun it (or "
             "`scripts/ship_model.py`) rather than editing it, except for the notes between the markers.")
    notes_part = ""
    if notes.strip():
        notes_part = "\n".join(["## Notes on this model's training", "",
                                NOTES_BEGIN.format(digest=digest or "unknown"), notes.strip(), NOTES_END])
    parts = [yaml_header(card), title, intro, model_details(card, config, folder), how_to_use(folder),
             uses_and_limits(card), training_data(card), training_procedure(card, model), evaluation(card),
             limitations(card), notes_part, size_note(folder), citation(card)]
    text = "\n\n".join(p for p in parts if p) + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def write_model_card(card: dict, path, config: dict | None = None, notes: str | None = None) -> Path:
    """Write the card for the model whose files are beside `path` (e.g. assets/model/README.md).
    `config` defaults to the config.json there; `notes` (the hand-written part) defaults to the notes
    already in `path`, if they were written for the same weights."""
    path = Path(path)
    folder = path.parent
    if config is None and (folder / "config.json").is_file():
        config = json.loads((folder / "config.json").read_text())
    digest = weights_digest(folder)
    if notes is None:
        notes = kept_notes(path, digest)
    text = render_model_card(card, config, notes, folder, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="model folder (default: the shipped one)")
    parser.add_argument("--notes", type=Path, help="Markdown file: the hand-written notes on this model's training")
    args = parser.parse_args(argv)
    card = json.loads((args.model / "card.json").read_text())
    notes = args.notes.read_text(encoding="utf-8") if args.notes else None
    path = write_model_card(card, args.model / CARD_FILE, notes=notes)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
