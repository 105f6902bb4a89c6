"""The app's entry point: the navigation, then Home (what a variational autoencoder is, and the
card of the model in use).

    streamlit run streamlit_app.py

The other pages are files in pages/, each runnable on its own (AppTest opens them so). They are
listed here with their titles: the file-based layout would call this page "streamlit app". Their
URLs stay /Sample, /Interpolate, /Latent_map and /Train, also as a server's first request.
"""

import streamlit as st

from ui import card, common, warmup


def home():
    """This file's own content, below the navigation (kept at top level so it reads as the page)."""


st.set_page_config(page_title="Text VAE Explorer", page_icon="🔤")
warmup.start_with_server()  # UMAP's numba code compiles in a background thread, after the first page (issue 10)
HOME = st.Page(home, title="Home", default=True)
page = st.navigation([HOME] + [st.Page(f"pages/{name}.py", title=title) for name, title in common.PAGES])
page.run()
if page is not HOME:
    st.stop()

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
    card.show(trained)
