"""The home page's model card: what the model is, how well it does, and the trade-off behind it.

Everything shown comes from the checkpoint's card.json, written by scripts/ship_model.py from
vae/report.py, so a figure here is the figure the README and the bar tests use. A card from an
older or hand-edited checkpoint may lack any part; each part is shown only when it is there.
"""

from html import escape

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from vae.model import TrainedModel
from vae.report import BARS, WALK_KINDS

from . import common

BAR_NAMES = {
    "heldout_exact_match_up_to_12_words": "held-out sentences of ≤ 12 words read back exactly",
    "heldout_bleu_up_to_12_words": "BLEU of those read-backs",
    "everyday_exact_match_4_to_8_words": "everyday sentences of 4-8 words read back exactly",
    "everyday_exact_match_9_to_15_words": "everyday sentences of 9-15 words read back exactly",
    "interpolation_endpoints_reproduced": "interpolation pairs with both ends read back (of 5)",
    "sample_lm_perplexity_ratio": ("samples' perplexity under the LM (Sample page's defaults) ÷ "
                                   "the LM's on real sentences"),
    "sample_distinct_2": "distinct-2 of samples at the Sample page's defaults",
    "sample_empty": "share of empty samples at the Sample page's defaults",
    "iw_nll_gap_to_lm": "NLL gap to the language-model baseline (nats)",
    "sample_copied_from_train": "share of samples at the Sample page's defaults that copy a training sentence",
    "blind_reader_samples": "default samples a blind reader marked grammatical (of 30)",
    "blind_reader_midpoints": "interpolation midpoints a blind reader marked grammatical (of 30)",
    "blind_reader_real": "real held-out sentences the same reader marked grammatical (of 30)",
}


def number(value, digits=2):
    return f"{value:,.{digits}f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "n/a"


def show(trained: TrainedModel):
    card = trained.card if isinstance(trained.card, dict) else {}
    describe(trained, card)
    metrics = card.get("test_metrics")
    st.subheader("Measured on held-out sentences")
    if not isinstance(metrics, dict):
        if common.using_session_model():
            st.info("Trained in this browser session: its held-out curves and what it writes are on the "
                    "**Train** page. To measure it like the shipped model, download it there, unzip it and "
                    "run `python -m vae evaluate --model <that folder> --corpus assets/corpora/test.txt.gz "
                    "--update-card`.")
        else:
            st.info("Not measured yet. Measure it with `python -m vae evaluate --model <folder> "
                    "--corpus assets/corpora/test.txt.gz --update-card`.")
    else:
        headline(metrics, card)
        bars(card)
        reconstruction(metrics, card)
        compression(metrics)
        with st.expander("KL of each latent dimension"):
            kl_per_dimension(metrics, card)
    with st.expander("Between the sentences: samples, paths and offsets, measured"):
        walkability(card)
    with st.expander("The rate-distortion trade-off: the runs behind this recipe"):
        rate_distortion(card)
    with st.expander("Samples and interpolations, as they came out", expanded=True):
        examples(card)
    with st.expander("How it was trained"):
        how_to_train(card)


def how_to_train(card):
    if common.using_session_model():
        settings = card.get("train") if isinstance(card.get("train"), dict) else {}
        objective = card.get("objective") if isinstance(card.get("objective"), dict) else {}
        shown = {**{k: v for k, v in objective.items() if v not in (None, 0, 0.0)},
                 **{k: settings.get(k) for k in ("steps", "batch_size", "lr", "seed") if k in settings}}
        st.markdown("Trained on the **Train** page of this app"
                    + (" with " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in shown.items()) if shown else "")
                    + ". *Download* there gives its checkpoint.")
    elif card.get("command"):
        st.code(card["command"], language="bash")
    else:
        st.markdown("This model's card does not record its command. The full model is trained with "
                    "`python -m vae train --corpus assets/corpora/train.txt.gz --out assets/model`.")
    # a rate or a word deletion changed mid-run (train --resume --free-bits / --word-deletion)
    changes = card.get("objective_changes")
    knobs = {"free_bits": ("free bits", " nats per dimension"), "word_deletion": ("the encoder's word deletion", "")}
    for change in changes if isinstance(changes, list) else []:
        for name, (label, unit) in knobs.items():
            if isinstance(change, dict) and isinstance(change.get(name), dict):
                step, values = change.get("after_step"), change[name]
                when = (f"After step {step:,}" if isinstance(step, int) and not isinstance(step, bool)
                        else "During training")
                st.caption(f"{when}, {label} went from {number(values.get('from'), 1)} to "
                           f"{number(values.get('to'), 1)}{unit}.")


def describe(trained, card):
    config = trained.model.config
    source = (st.session_state.get(common.SESSION_MODEL_NAME) or "trained in this session"
              if common.using_session_model() else f"shipped model, `{common.shipped_folder()}`")
    kind = "autoencoder" if config.autoencoder else "language model (no latent)" if config.language_model else "VAE"
    sentences = card.get("training_sentences")
    steps = card.get("steps")
    earlier = card.get("initial_steps")  # a fine-tuned model: the steps of the model it started from
    if isinstance(steps, int) and isinstance(earlier, int) and not isinstance(earlier, bool):
        steps_text = f"; {earlier:,} training steps, then {steps:,} more fine-tuning it"
    else:
        steps_text = f"; {steps:,} training steps" if isinstance(steps, int) else ""
    st.markdown(
        f"- **Which:** {source}\n"
        f"- **Kind:** {kind}: {'bidirectional ' if config.bidirectional else ''}{config.rnn_type.upper()} encoder "
        f"→ {config.latent_size}-dimensional z → {config.rnn_type.upper()} decoder "
        f"({config.num_layers} layer{'s' if config.num_layers > 1 else ''}, hidden size {config.hidden_size})\n"
        f"- **Size:** {trained.model.num_parameters():,} parameters, a vocabulary of {len(trained.tokenizer):,} "
        f"words, sentences up to {trained.max_len} words\n"
        f"- **Training data:** `{card.get('training_corpus', 'not recorded')}`"
        + (f", {sentences:,} sentences" if isinstance(sentences, int) else "")
        + steps_text
        + f"\n- **Runs on:** {common.device_name(trained.device)}"
    )


def headline(metrics, card):
    columns = st.columns(4)
    columns[0].metric("NLL (nats/sentence)", number(metrics.get("iw_nll"), 1),
                      help=f"-log p(x), {metrics.get('estimator', '')}; lower is better")
    columns[1].metric("Perplexity", number(metrics.get("ppl"), 1),
                      help="exp(NLL per token), tokens include one end-of-sentence each")
    columns[2].metric("KL (nats)", number(metrics.get("kl")), help="the rate: how much z carries; ≈ 0 means collapse")
    columns[3].metric("Active units", f"{metrics.get('active_units')} / {metrics.get('latent_size')}",
                      help="latent dimensions whose mean varies across sentences (Cov > 0.01)")
    recon = metrics.get("reconstruction") if isinstance(metrics.get("reconstruction"), dict) else {}
    diversity = metrics.get("diversity") if isinstance(metrics.get("diversity"), dict) else {}
    baseline = card.get("baseline_lm") if isinstance(card.get("baseline_lm"), dict) else {}
    extra = {"ELBO": metrics.get("elbo"), "reconstruction NLL": metrics.get("recon"),
             "mutual information I(x;z)": metrics.get("mi"),
             "I(x;z), upper bound": metrics.get("mi_upper_bound"),
             "reconstruction BLEU": recon.get("bleu"), "reconstruction token accuracy": recon.get("token_accuracy"),
             "distinct-1 of prior samples": diversity.get("distinct_1"),
             "distinct-2 of prior samples": diversity.get("distinct_2"),
             "NLL with the fitted mixture (the Sample page's default source of codes, at spread 1) as the prior":
                 metrics.get("iw_nll_mixture_prior"),
             "NLL of the language-model baseline (the same decoder without z)":
                 baseline.get("iw_nll", baseline.get("nll"))}
    st.markdown("\n".join(f"- {name}: {value:.3f}" for name, value in extra.items()
                          if isinstance(value, (int, float))))
    if metrics.get("mi_estimator"):
        st.caption(f"Mutual information: {metrics['mi_estimator']}.")
    st.caption(f"On `{metrics.get('corpus', '?')}`, {metrics.get('sentences', '?')} sentences.")


def bars(card):
    values, met = card.get("bars"), card.get("bars_met")
    if not isinstance(values, dict) or not isinstance(met, dict):
        return
    st.markdown("**Does it do its job?** The bars this model was shipped against, measured:")
    rows = [{"bar": BAR_NAMES.get(name, name), "target": bar_figure(name, BARS.get(name)),
             "measured": bar_figure(name, value), "met": "yes" if met.get(name) else "no"}
            for name, value in values.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def bar_figure(name, value):
    """A bar's value as a person reads it: shares in per cent, counts whole, the rest to 2 places."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "n/a"
    if name.startswith("blind_reader"):
        return f"{value:.0f} of 30"
    if "exact_match" in name or name in ("sample_empty", "sample_copied_from_train"):
        return f"{value:.0%}" if value in (0, 1) else f"{value:.1%}"
    if name == "interpolation_endpoints_reproduced":
        return f"{value:.0f} of 5"
    return f"{value:.1f}" if "bleu" in name or "gap" in name else f"{value:.2f}"


def reconstruction(metrics, card):
    recon = metrics.get("reconstruction")
    if not isinstance(recon, dict) or not isinstance(recon.get("by_length"), dict):
        return
    unk = metrics.get("reconstruction_unk_allowed") or {}
    rows = []
    for bucket, scores in recon["by_length"].items():
        rows.append({"length": bucket, "sentences": scores.get("sentences"),
                     "exact match": scores.get("exact_match"), "token accuracy": scores.get("token_accuracy"),
                     "BLEU": scores.get("bleu"),
                     "exact match, <unk> allowed": ((unk.get("by_length") or {}).get(bucket) or {}).get("exact_match")})
    st.markdown(f"**Reading sentences back** (decoded {common.decoded_how(card, read_back=True)} from the posterior "
                "mean, as the app does; `<unk>` is never written, the last column allows it):")
    st.dataframe(pd.DataFrame(rows).style.format(
        {"exact match": "{:.1%}", "token accuracy": "{:.1%}", "BLEU": "{:.1f}", "exact match, <unk> allowed": "{:.1%}"},
        na_rep="n/a"), hide_index=True)


def compression(metrics):
    """The model as a compressor: its bits per sentence beside gzip's, bz2's and lzma's (vae/compression.py)."""
    figures = metrics.get("compression")
    if not isinstance(figures, dict) or not isinstance(figures.get("vae"), dict):
        return
    vae, alone, together = figures["vae"], figures.get("alone") or {}, figures.get("together") or {}
    rows = [("this VAE: −ELBO (rate + distortion)", vae.get("neg_elbo"), vae.get("neg_elbo")),
            ("  of which rate, KL(q(z|x) ‖ p(z))", vae.get("rate"), vae.get("rate")),
            ("  of which distortion, −log p(x|z)", vae.get("distortion"), vae.get("distortion")),
            ("this VAE: importance-weighted NLL", vae.get("iw_nll"), vae.get("iw_nll"))]
    rows += [(name, alone.get(name), together.get(name)) for name in ("gzip", "bz2", "lzma", "utf8")]
    frame = pd.DataFrame(rows, columns=["code", "each sentence alone", "the whole split as one file"])
    st.markdown(f"**The model as a compressor:** bits per sentence of the {figures.get('sentences', 0):,} test "
                "sentences. Bits-back coding (Hinton & van Camp 1993; Townsend et al. 2019) turns a VAE into a "
                "lossless code of about its −ELBO; a general-purpose compressor pays its header for every "
                "sentence stored alone, and learns the language only from the text it is given.")
    st.dataframe(frame.style.format({"each sentence alone": "{:,.0f}", "the whole split as one file": "{:,.0f}"},
                                    na_rep="n/a"), hide_index=True)


def kl_per_dimension(metrics, card):
    kl = metrics.get("kl_per_dim")
    if not isinstance(kl, list) or not kl:
        return
    free_bits = (card.get("objective") or {}).get("free_bits") if isinstance(card.get("objective"), dict) else None
    fig = go.Figure(go.Bar(x=[f"z{i}" for i in range(len(kl))], y=kl, name="KL per dimension"))
    if isinstance(free_bits, (int, float)) and free_bits > 0:
        fig.add_hline(y=free_bits, line_dash="dash", annotation_text=f"free-bits floor {free_bits} nats")
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), yaxis_title="nats",
                      title="KL of each latent dimension on held-out sentences")
    st.plotly_chart(fig)
    st.caption("A dimension sitting on the dashed line holds only the information that costs nothing "
               "under free bits; one well above it is a dimension the model chose to use.")


def rate_distortion(card):
    sweep = card.get("rate_distortion")
    if not isinstance(sweep, dict) or not isinstance(sweep.get("rows"), list) or not sweep["rows"]:
        return
    st.subheader("The rate-distortion trade-off")
    st.markdown(
        "Short runs with one budget each, changing only how many nats z may carry for free "
        "(free bits per dimension) or one other knob. More **rate** (KL, nats in z) buys less "
        "**distortion** (reconstruction NLL) and more sentences read back; past a point the NLL "
        "and the prior samples pay for it. " + str(sweep.get("note", "")))
    frame = pd.DataFrame(sweep["rows"])
    fig = go.Figure(go.Scatter(x=frame["kl"], y=frame["recon"], mode="markers+text", text=frame["run"],
                               textposition="top center", name="sweep: same short budget"))
    # the other lever, training length: earlier shipped models, and long runs that were not shipped
    longer = [row for row in sweep.get("longer_runs") or []
              if isinstance(row, dict) and {"kl", "recon", "run"} <= set(row)]
    if longer:
        fig.add_trace(go.Scatter(x=[row["kl"] for row in longer], y=[row["recon"] for row in longer],
                                 mode="markers+text", text=[row["run"] for row in longer], textposition="bottom center",
                                 name="long runs (hours of training)", marker=dict(size=11, symbol="diamond")))
        frame = pd.concat([frame, pd.DataFrame(longer)], ignore_index=True)
    shipped = sweep.get("shipped")
    if isinstance(shipped, dict) and {"kl", "recon", "run"} <= set(shipped):
        fig.add_trace(go.Scatter(x=[shipped["kl"]], y=[shipped["recon"]], mode="markers+text",
                                 text=[shipped["run"]], textposition="bottom center", name="the shipped model",
                                 marker=dict(size=14, symbol="star")))
        frame = pd.concat([frame, pd.DataFrame([shipped])], ignore_index=True)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="rate: KL (nats)",
                      yaxis_title="distortion: reconstruction NLL (nats)", title="Each dot is one run")
    st.plotly_chart(fig)
    st.dataframe(frame.round(2), hide_index=True)
    st.caption(f"Budget of every run: `{sweep.get('budget', '?')}`; measured on {sweep.get('test_sentences', '?')} "
               "held-out sentences.")


def examples(card):
    samples = card.get("samples")
    if isinstance(samples, dict):
        for source, texts in samples.items():
            if isinstance(texts, list):
                st.markdown(f"**Samples, {source}, as they came out:**\n" + "\n".join(f"- {t}" for t in texts))
        st.caption(f"Command: `{card.get('samples_settings', '')}`")
    elif isinstance(samples, list):
        st.markdown("**Prior samples, as they came out** (`" + str(card.get("samples_settings", "")) + "`):\n"
                    + "\n".join(f"- {text}" for text in samples))
    paths = card.get("interpolations")
    if isinstance(paths, list) and paths:
        st.markdown(f"**Interpolations, as they came out** (linear path between posterior means; the steps "
                    f"between decoded {common.decoded_how(card)}, the ends read back "
                    f"{common.decoded_how(card, read_back=True)}):")
        for path in paths:
            if isinstance(path, dict) and isinstance(path.get("path"), list):
                steps = path["path"]
                ends = ("both ends read back" if path.get("ends_reproduced") else "an end not read back")
                lines = [f"- t = {i / max(len(steps) - 1, 1):.1f}: {escape(str(t))}" for i, t in enumerate(steps)]
                st.markdown(f"*{escape(str(path.get('from')))}* → *{escape(str(path.get('to')))}* ({ends})\n\n"
                            + "\n".join(lines))


def walkability(card):
    """What the model writes from codes that are not a typed sentence's own (vae.report.walkability_report),
    the blind reader's marks, and the offsets between kinds of sentence."""
    walk = card.get("walkability")
    if isinstance(walk, dict):
        rows = [{"decoded from": label, "sentences": walk[kind].get("sentences"),
                 "word pairs never seen in training": walk[kind].get("unseen_bigrams"),
                 "copies of a training sentence": walk[kind].get("copied_from_train"),
                 "distinct-2": walk[kind].get("distinct_2")}
                for kind, label in WALK_KINDS.items() if isinstance(walk.get(kind), dict)]
        st.markdown("**Away from a typed sentence's own code**: the share of word pairs (sentence ends "
                    "included) that never occur in the training corpus is a cheap stand-in for fluency; real "
                    "text has a few per cent, word salad far more. A copy scores 0, so the copies stand beside it.")
        st.dataframe(pd.DataFrame(rows).style.format(
            {"word pairs never seen in training": "{:.1%}", "copies of a training sentence": "{:.1%}",
             "distinct-2": "{:.2f}"}, na_rep="n/a"), hide_index=True)
    reader = card.get("blind_reader")
    if isinstance(reader, dict):
        counts = [f"{label} {reader[key].get('grammatical')} of {reader[key].get('of')}"
                  for key, label in (("sample", "default samples"), ("midpoint", "path midpoints"),
                                     ("real", "real sentences")) if isinstance(reader.get(key), dict)]
        st.markdown("**A blind reader** (shown the sentences shuffled, never told where any came from) marked "
                    "as grammatical English: " + ", ".join(counts) + ".")
    offsets = card.get("offsets")
    if isinstance(offsets, dict):
        for strength, report in offsets.items():
            if not isinstance(report, dict):
                continue
            rows = [{"offset": name, "typed": r.get("typed"), "moved": r.get("moved")}
                    for name, results in report.items() if isinstance(results, list)
                    for r in results[:4] if isinstance(r, dict)]
            counts = ", ".join(f"{name} {sum(bool(r.get('target_kind')) for r in results if isinstance(r, dict))} of "
                               f"{len(results)}" for name, results in report.items() if isinstance(results, list))
            st.markdown(f"**Offsets at {escape(strength)}**, as they came out (Interpolate → offsets). In the target "
                        f"kind by the labelling rules: {counts}.")
            st.dataframe(pd.DataFrame(rows), hide_index=True)
