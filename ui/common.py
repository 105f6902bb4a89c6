"""What every page shares: the model in use, the sidebar, and widget state kept in the URL.

The model in use is the one the Train page put in this browser session ("Use this model"), else
the shipped model, which is loaded once per server process and shared read-only by all sessions.
"""

import json
import weakref
from pathlib import Path

import streamlit as st
import torch

from vae.checkpoint import CheckpointError, load_model
from vae.decode import code_decoding, describe_decoding, read_back_decoding
from vae.latent_map import weights_fingerprint
from vae.model import TrainedModel
from vae.paths import default_model, model_name, shipped_models
from vae.runner import small_server, user_request

from .navigation import PAGES  # noqa: F401  (the pages' list, kept importable from here)

# the Train page's side of the contract: it sets both keys when the user picks "Use this model"
SESSION_MODEL, SESSION_MODEL_NAME = "session_model", "session_model_name"
SHIPPED_CHOICE = "model"  # the sidebar's choice of shipped model, and its URL parameter



# the model


@st.cache_resource(show_spinner="Loading the model...", max_entries=2)
def _load_model(path: str, modified: float) -> TrainedModel:
    # `modified` is only part of the cache key: a model file replaced on disk is loaded afresh
    return load_model(path)  # onto the GPU when there is one (vae.checkpoint.pick_device)


def shipped_folder() -> Path:
    """The folder of the shipped model this session chose (the sidebar's "Model", kept in the URL so
    that a reload or a copied link keeps it), else the default one."""
    folders = shipped_models()
    by_name = {shipped_name(folder): folder for folder in folders}
    return by_name.get(st.session_state.get(SHIPPED_CHOICE) or st.query_params.get(SHIPPED_CHOICE), folders[0])


def shipped_model() -> TrainedModel:
    """The shipped model in use, loaded once per process; raises CheckpointError if there is none."""
    path = shipped_folder()
    weights = path / "model.safetensors"
    return _load_model(str(path), weights.stat().st_mtime if weights.is_file() else 0.0)


@st.cache_data(max_entries=8, show_spinner=False)
def _card_says(folder: str, modified: float) -> dict:
    """The "name" and "summary" a shipped model's card gives itself (either may be missing)."""
    try:
        card = json.loads((Path(folder) / "card.json").read_text())
    except (OSError, ValueError):
        return {}
    return {k: card[k] for k in ("name", "summary") if isinstance(card, dict) and isinstance(card.get(k), str)}


def card_says(folder: Path) -> dict:
    card = folder / "card.json"
    return _card_says(str(folder), card.stat().st_mtime if card.is_file() else 0.0)


def shipped_name(folder: Path) -> str:
    """What the sidebar calls a shipped model: its card's name, else its folder's (vae.paths.model_name)."""
    return card_says(folder).get("name") or model_name(folder)


def choose_shipped_model():
    """The sidebar's choice between shipped models, when there is more than one."""
    folders = shipped_models()
    if len(folders) < 2:
        return
    st.radio("Model", [shipped_name(folder) for folder in folders], horizontal=True, **in_url(SHIPPED_CHOICE),
             captions=[card_says(folder).get("summary", "") for folder in folders],
             help="The shipped models: each was trained for a different side of the same trade-off (see its card "
                  "on Home).")


def using_session_model() -> bool:
    return st.session_state.get(SESSION_MODEL) is not None


def current_model() -> TrainedModel:
    """The model this session works with; raises CheckpointError when it has none."""
    if using_session_model():
        return st.session_state[SESSION_MODEL]
    return shipped_model()


_fingerprints = weakref.WeakKeyDictionary()  # nn.Module -> hash of its weights


def model_key(trained: TrainedModel) -> str:
    """A short hash of the weights: what caches of encodings and maps are keyed by, so that a
    session model and the shipped model never share an entry (hashed once per model object)."""
    if trained.model not in _fingerprints:
        _fingerprints[trained.model] = weights_fingerprint(trained.model)
    return _fingerprints[trained.model]


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"CUDA GPU ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


def missing_model_message(error: Exception) -> str:
    return (
        f"**No model to load.** {error}\n\n"
        f"The app looks for a checkpoint folder in `{default_model()}` (set the environment "
        "variable `TEXT_VAE_MODEL` to use another one). To get one:\n"
        "- train the full model (hours on a CPU): `python -m vae train --corpus "
        "assets/corpora/train.txt.gz --out assets/model`, or\n"
        "- train a small one in the browser on the **Train** page and press *Use this model*."
    )


# the sidebar


def back_to_shipped_model():
    from . import training  # imported here: the Train page's module imports this one

    st.session_state.pop(SESSION_MODEL, None)
    st.session_state.pop(SESSION_MODEL_NAME, None)
    training.forget_used_model()


def sidebar(require_model=True, training_sits_out=True) -> TrainedModel | None:
    """Show the model in use, its device and the global seed; return the model.

    With no model at all, show how to get one and stop the page (or return None if
    `require_model` is False, for pages that still have something to say). On a small server,
    training runs sit out the first second of this page's run (vae.runner.user_request: enough for
    a click's decoding), unless `training_sits_out` is False: the Train page, whose point is to
    watch a run go on."""
    if training_sits_out:
        user_request()
    if small_server():
        # One torch thread for this page's work: on two cores, a second OpenMP thread waits at every
        # operation's barrier for a core that a training process or another session holds (the load
        # benchmark, bench/app.py: a Sample click took 24 s beside two training processes with two
        # threads).
        torch.set_num_threads(1)
    through_the_navigation()
    # a projector shows 720 pixels: Streamlit's 6rem above the title is room a result needs
    st.html("<style>[data-testid='stMainBlockContainer'] {padding-top: 2.5rem;}</style>")
    from . import training  # imported here: the Train page's module imports this one

    training.restore_used_model()  # a reload or a copied link keeps "Use this model"
    if not using_session_model():
        with st.sidebar:
            choose_shipped_model()
    try:
        trained, error = current_model(), None
    except CheckpointError as e:
        trained, error = None, e
    with st.sidebar:
        if trained is None:
            st.markdown("**Model:** none loaded")
        elif using_session_model():
            name = st.session_state.get(SESSION_MODEL_NAME) or "trained in this session"
            st.markdown(f"**Model:** {name}  \n*(trained in this browser session)*")
            st.button("Back to the shipped model", on_click=back_to_shipped_model)
        else:
            st.markdown(f"**Model:** shipped model  \n`{shipped_folder()}`")
        if trained is not None:
            st.markdown(f"**Device:** {device_name(trained.device)}")
        st.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1,
                        help="Every random choice (sampling, noise) starts from this seed: the same "
                             "seed and settings give the same sentences.", **in_url("seed"))
    if trained is None:
        st.error(missing_model_message(error))
        if require_model:
            st.stop()
    return trained


def through_the_navigation():
    """Rerun a page that Streamlit started without streamlit_app.py, so that its navigation (with
    the titles) shows. A new server's first request for a deep link such as /Sample runs
    pages/1_Sample.py on its own, in Streamlit's legacy layout for a pages/ folder, until the
    entry point has called st.navigation once; the flag below is what that call switches off.
    Once per session at most: AppTest sets the flag afresh before every run, and a rerun there
    would lose a button's click."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state.get("rerun_through_navigation"):
        st.session_state["rerun_through_navigation"] = True
        PagesManager.uses_pages_directory = False
        st.rerun()


def note_if_no_latent(trained: TrainedModel) -> bool:
    """Warn that the language-model baseline has no code z (its encoder returns zeros), so this
    page can only show that; True if so."""
    if trained.model.config.language_model:
        st.warning("This model is the language-model baseline: it has no latent code z (every sentence "
                   "gets the same code), so everything on this page looks the same for every sentence.")
    return trained.model.config.language_model


def seed() -> int:
    return int(st.session_state.get("seed") or 0)


def next_seed():
    """Button callback: new random draws, and a link that still reproduces them."""
    st.session_state["seed"] = seed() + 1


# how a code becomes a sentence


def decoded_how(card, explain=False, read_back=False) -> str:
    """How the app writes the sentence of a given code for this model (vae.decode.code_decoding), or
    of a typed sentence's own code when `read_back` (read_back_decoding), for a caption: "greedily",
    "with a beam of 5", ...; what that means when `explain`."""
    return describe_decoding(read_back_decoding(card) if read_back else code_decoding(card), explain)


# state in the URL


def in_url(key: str) -> dict:
    """Widget arguments that keep its value in the page's URL under `key`, so a copied link opens
    the same view (Streamlit drops the parameter while the value is the default)."""
    return {"key": key, "bind": "query-params"}
