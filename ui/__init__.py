"""Streamlit glue shared by the pages: model loading, the sidebar, URL state, cached latent maps.

The pages import from here; nothing under `vae/` imports Streamlit.
"""
