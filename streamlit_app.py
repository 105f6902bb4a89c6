"""The app's entry point: the navigation, then Home ("Try it" with a typed sentence, what a
variational autoencoder is, and the card of the model in use).

    streamlit run streamlit_app.py

The other pages are files in pages/, each runnable on its own (AppTest opens them so). They are
listed here with their titles, in the top bar: the file-based layout of a pages/ folder would call
this page "streamlit app", and a cold server's first run shows that layout's list for a moment, so
.streamlit/config.toml hides the sidebar's list (client.showSidebarNavigation), which the top bar
does not use. The URLs stay /Sample, /Interpolate, /Latent_map and /Train, also as a server's first
request.
"""

import streamlit as st

from ui.navigation import PAGES, TYPED, starting


def home():
    """This file's own content, below the navigation (kept at top level so it reads as the page)."""


st.set_page_config(page_title="Text VAE Explorer", page_icon="🔤", layout="wide")
HOME = st.Page(home, title="Home", default=True)
page = st.navigation([HOME] + [st.Page(f"pages/{name}.py", title=title) for name, title in PAGES],
                     position="top")
if page is not HOME:
    if TYPED in st.query_params:  # Home's typed sentence, left behind by a click during Home's rerun
        st.query_params.pop(TYPED)
    page.run()  # each page draws its title, then loads what it needs (ui.navigation.starting)
    from ui import warmup

    warmup.start_with_server()  # see the end of this file
    st.stop()

st.title("Text VAE Explorer")
with starting():
    from ui import card, common, explain, tryit, warmup
    trained = common.sidebar(require_model=False)
st.markdown(
    "A **variational autoencoder** (VAE) for sentences squeezes a sentence into a point **z** of a "
    "small continuous space and writes a sentence back from any point of it. Try it:"
)
if trained is not None:
    tryit.show(trained)

st.header("What a VAE is")
st.latex(r"\log p_\theta(x) \;\ge\; \mathrm{ELBO} = "
         r"\underbrace{\mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x \mid z)\big]}_{\text{reconstruction}}"
         r" \;-\; \underbrace{\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,p(z)\big)}_{\text{KL}}")
st.markdown("Training maximises this lower bound on log p(x): reconstruct the sentence from a code drawn "
            "from the encoder's q(z|x), while keeping q close to the prior p(z) = N(0, I).")
with st.expander("How a VAE works: encoder, prior, decoder, the KL term, reparameterisation, collapse"):
    explain.vae_basics()
with st.expander("Autoencoder or VAE?"):
    explain.ae_or_vae()

st.header("The model in use")
if trained is not None:
    card.show(trained)
# UMAP's numba code compiles in a background thread, once the first page is drawn: started at the top,
# its imports and compiling took the GIL from the first page's last seconds (the load benchmark, bench/app.py)
warmup.start_with_server()
