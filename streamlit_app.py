"""Home: what a variational autoencoder is, and the card of the model in use.

    streamlit run streamlit_app.py

The other pages are files in pages/ (Streamlit's file-based multipage layout, so that a link to
/Sample or /Latent_map opens that page even as a server's first request).
"""

import streamlit as st

from ui import common

st.set_page_config(page_title="Text VAE Explorer", page_icon="🔤")

st.title("Text VAE Explorer")
trained = common.sidebar(require_model=False)
st.markdown(
    "A **variational autoencoder** (VAE) for sentences: it squeezes a sentence into a point "
    "**z** of a small continuous space and writes a sentence back from any point of it. "
    "The pages on the left let you **sample** new sentences, **interpolate** between two, "
    "draw a **latent map** of a corpus, and **train** a small model yourself."
)

st.header("How a VAE works")
st.markdown(
    "One sentence's trip: text → word ids → **encoder** → (μ, σ) → **z** → **decoder** → "
    "one word at a time → text. The model is a sentence VAE in the style of Bowman et al. (2016), "
    "with a recurrent (GRU) encoder and decoder."
)
st.markdown("**The encoder** reads the sentence x and returns a Gaussian over codes, not one code:")
st.latex(r"q_\phi(z \mid x) = \mathcal{N}\big(z;\ \mu_\phi(x),\ \operatorname{diag}\sigma^2_\phi(x)\big)")
st.markdown("**The prior** is where codes should live, and where new sentences are drawn from:")
st.latex(r"p(z) = \mathcal{N}(0, I)")
st.markdown("**The decoder** is a language model conditioned on z, one word at a time:")
st.latex(r"p_\theta(x \mid z) = \prod_{t=1}^{T} p_\theta(x_t \mid x_{<t},\, z)")
st.markdown(
    "**Training** maximises the evidence lower bound (ELBO) on log p(x): reconstruct the "
    "sentence from a code drawn from q, while keeping q close to the prior (Kingma & Welling 2014):"
)
st.latex(r"\log p_\theta(x) \;\ge\; \mathrm{ELBO} = "
         r"\underbrace{\mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x \mid z)\big]}_{\text{reconstruction}}"
         r" \;-\; \underbrace{\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,p(z)\big)}_{\text{KL}}")
st.markdown("For two Gaussians the KL term has a closed form, summed over the latent dimensions:")
st.latex(r"\mathrm{KL} = \tfrac12 \sum_i \big(\mu_i^2 + \sigma_i^2 - \log \sigma_i^2 - 1\big)")
st.markdown(
    "**The reparameterisation trick** makes the sampling step differentiable: draw the noise "
    "outside the network and shift and scale it, so gradients flow into μ and σ:"
)
st.latex(r"z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I)")
st.markdown(
    "**A known failure for text, posterior collapse:** a strong decoder can model sentences "
    "without looking at z, and the KL term then pushes q(z|x) to the prior for every sentence "
    "(KL ≈ 0, z carries nothing). Common remedies, all on the Train page: annealing the KL "
    "weight from 0 to 1 (Bowman et al. 2016), word dropout (ibid.) and free bits (Kingma et al. 2016)."
)

st.subheader("Autoencoder or VAE?")
st.markdown(
    "| | autoencoder (AE) | variational autoencoder (VAE) |\n"
    "|---|---|---|\n"
    "| encoder gives | one point z = f(x) | a distribution q(z\\|x) |\n"
    "| trained on | reconstruction only | reconstruction − KL to the prior |\n"
    "| the space between codes | anything: holes decode to nonsense | filled in: nearby z, similar sentences |\n"
    "| new sentences | no principled way to draw z | z ~ p(z) = N(0, I), then decode |\n"
    "| likelihood of a sentence | none | a lower bound (ELBO), or importance-sampled NLL |"
)

st.header("The model in use")
if trained is not None:
    card = trained.card
    config = trained.model.config
    source = (st.session_state.get(common.SESSION_MODEL_NAME) or "trained in this session"
              if common.using_session_model() else f"shipped model, `{common.shipped_model_path()}`")
    kind = "autoencoder" if config.autoencoder else "language model (no latent)" if config.language_model else "VAE"
    st.markdown(
        f"- **Which:** {source}\n"
        f"- **Kind:** {kind}: {'bidirectional ' if config.bidirectional else ''}{config.rnn_type.upper()} encoder "
        f"→ {config.latent_size}-dimensional z → {config.rnn_type.upper()} decoder "
        f"({config.num_layers} layer{'s' if config.num_layers > 1 else ''}, hidden size {config.hidden_size})\n"
        f"- **Size:** {trained.model.num_parameters():,} parameters, a vocabulary of {len(trained.tokenizer):,} "
        f"words, sentences up to {trained.max_len} words\n"
        f"- **Training data:** `{card.get('training_corpus', 'not recorded')}`"
        + (f", {card['training_sentences']:,} sentences" if "training_sentences" in card else "")
        + (f"; {card['steps']:,} training steps" if "steps" in card else "")
        + f"\n- **Runs on:** {common.device_name(trained.device)}"
    )
    metrics = card.get("test_metrics")
    st.subheader("Measured on held-out sentences")
    if metrics:
        columns = st.columns(4)
        columns[0].metric("NLL (nats/sentence)", f"{metrics['iw_nll']:.1f}" if metrics.get("iw_nll") else "n/a",
                          help=f"-log p(x), {metrics.get('estimator', '')}; lower is better")
        columns[1].metric("Perplexity", f"{metrics['ppl']:.1f}" if metrics.get("ppl") else "n/a",
                          help="exp(NLL per token), tokens include one end-of-sentence each")
        columns[2].metric("KL (nats)", f"{metrics['kl']:.2f}", help="how much z carries; ≈ 0 means collapse")
        columns[3].metric("Active units", f"{metrics.get('active_units')} / {metrics.get('latent_size')}",
                          help="latent dimensions whose mean varies across sentences (Cov > 0.01)")
        recon = metrics.get("reconstruction") or {}
        diversity = metrics.get("diversity") or {}
        extra = {"ELBO": metrics.get("elbo"), "reconstruction NLL": metrics.get("recon"),
                 "mutual information I(x;z)": metrics.get("mi"),
                 "reconstruction BLEU": recon.get("bleu"), "reconstruction token accuracy": recon.get("token_accuracy"),
                 "distinct-1 of prior samples": diversity.get("distinct_1"),
                 "distinct-2 of prior samples": diversity.get("distinct_2"),
                 "NLL of the language-model baseline (the same decoder without z)":
                     (card.get("baseline_lm") or {}).get("iw_nll")}
        st.markdown("\n".join(f"- {name}: {value:.3f}" for name, value in extra.items() if value is not None))
        st.caption(f"On `{metrics.get('corpus', '?')}`, {metrics.get('sentences', '?')} sentences.")
        if card.get("samples"):
            st.markdown("**Prior samples, as they came out** (`" + card.get("samples_settings", "") + "`):\n"
                        + "\n".join(f"- {text}" for text in card["samples"]))
    else:
        st.info("Not measured yet. Measure it with `python -m vae evaluate --model <folder> "
                "--corpus assets/corpora/test.txt.gz --update-card`.")
    st.subheader("How to train it again")
    if card.get("command"):
        st.code(card["command"], language="bash")
    else:
        st.markdown("This model's card does not record its command. The full model is trained with "
                    "`python -m vae train --corpus assets/corpora/train.txt.gz --out assets/model`.")
