"""What the entry point and each page need before PyTorch is loaded: the pages' list and a note for a
session's first run. No heavy import here, so that a page draws its title at once."""

from contextlib import contextmanager

import streamlit as st

# the pages after Home, as streamlit_app.py lists them in the top bar: (file in pages/ without .py, title)
PAGES = [("1_Sample", "Sample"), ("2_Interpolate", "Interpolate"), ("3_Latent_map", "Latent map"),
         ("4_Train", "Train")]
TYPED = "try"  # the URL parameter of Home's typed sentence (ui.tryit); the other pages drop it


@contextmanager
def starting():
    """A note while a session's first run imports PyTorch and loads the model (seconds on a cold
    server): a page that says so at once, not a blank one. Later runs have both in memory. Not
    st.spinner: it draws its text from a timer thread, which the imports starve of the GIL."""
    if st.session_state.get("started"):
        yield
        return
    note = st.empty()
    note.info("Starting: loading PyTorch and the model...", icon=":material/hourglass_top:")
    yield
    st.session_state["started"] = True
    note.empty()
