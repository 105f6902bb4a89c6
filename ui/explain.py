"""Home's explanation of a VAE, below "Try it": the formulas a class needs, in two expanders."""

import streamlit as st


def vae_basics():
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


def ae_or_vae():
    st.markdown(
        "| | autoencoder (AE) | variational autoencoder (VAE) |\n"
        "|---|---|---|\n"
        "| encoder gives | one point z = f(x) | a distribution q(z\\|x) |\n"
        "| trained on | reconstruction only | reconstruction − KL to the prior |\n"
        "| the space between codes | anything: holes decode to nonsense | filled in: nearby z, similar sentences |\n"
        "| new sentences | no principled way to draw z | z ~ p(z) = N(0, I), then decode |\n"
        "| likelihood of a sentence | none | a lower bound (ELBO), or importance-sampled NLL |"
    )
