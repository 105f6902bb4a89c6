"""The app in a real browser: `streamlit run` on a free port, headless Chromium through Playwright.

Each test opens a page, changes one control and waits for the result; screenshots go to
screenshots/ (git-ignored) for a person to look at.
"""

import re
from urllib.parse import urlencode

import pytest
from conftest import SENTENCES, screenshot, streamlit_server, title

expect = pytest.importorskip("playwright.sync_api").expect
# a loaded CI machine can take many seconds for a first encoding or chart: wait up to 30 s, not 5
expect.set_options(timeout=30_000)


def press_right(page, slider_label):
    """Sliders are native range inputs: focus one and press the arrow key, as a keyboard user would."""
    slider = page.get_by_role("slider", name=slider_label)
    slider.focus()
    slider.press("ArrowRight")


def test_a_deep_link_opens_its_page_as_a_cold_servers_first_request(tiny_model_dir, page):
    with streamlit_server(tiny_model_dir) as url:  # a server of its own: nothing requested yet
        page.goto(f"{url}/Interpolate")
        expect(title(page, "Interpolate")).to_be_visible()
        expect(page.locator("code", has_text="t = 1.00")).to_be_visible()
        nav = page.get_by_test_id("stTopNav")
        for name in ("Home", "Sample", "Interpolate", "Latent map", "Train"):
            expect(nav.get_by_role("link", name=name)).to_be_visible()
        assert page.url.endswith("/Interpolate")
        screenshot(page, "cold_deep_link_interpolate")


def test_home_explains_the_vae_and_keeps_the_seed_in_the_url(app_server, page):
    page.goto(app_server)
    expect(title(page, "Text VAE Explorer")).to_be_visible()
    expect(page.locator(".katex-display").first).to_be_visible()  # the formulas are typeset (more in the expanders)
    expect(page.get_by_text(re.compile(r"[\d,]+ parameters"))).to_be_visible()
    seed = page.get_by_label("Seed", exact=True)
    seed.fill("7")
    seed.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]seed=7"))
    screenshot(page, "home")


def test_sample_draws_one_more_sentence_when_the_slider_moves(app_server, page):
    page.goto(f"{app_server}/Sample")
    rows = page.locator("[data-testid=stTable] tbody tr")
    expect(rows).to_have_count(10)
    press_right(page, "Number of sentences")
    expect(rows).to_have_count(11)
    expect(page).to_have_url(re.compile(r"[?&]samples=11"))
    page.get_by_role("button", name="New sentences").click()
    expect(page.get_by_role("heading", name="11 sentences, seed 1")).to_be_visible()
    screenshot(page, "sample")


def test_a_shared_sample_link_opens_the_same_view(app_server, page):
    page.goto(f"{app_server}/Sample?" + urlencode({"seed": 4, "samples": 3, "strategy": "greedy"}))
    expect(page.get_by_role("heading", name="3 sentences, seed 4")).to_be_visible()
    expect(page.locator("[data-testid=stTable] tbody tr")).to_have_count(3)
    expect(page.get_by_label("Seed", exact=True)).to_have_value("4")


def test_interpolate_adds_a_step_when_the_slider_moves(app_server, page):
    page.goto(f"{app_server}/Interpolate?" + urlencode({"sentence_a": SENTENCES[0], "sentence_b": SENTENCES[5]}))
    steps = page.locator("code", has_text=re.compile(r"^t = "))
    expect(steps).to_have_count(8)
    expect(page.get_by_text("read back exactly")).to_have_count(2)  # the tiny model reads both ends back
    press_right(page, "Steps (both ends included)")
    expect(steps).to_have_count(9)
    screenshot(page, "interpolate")


def test_latent_map_places_a_typed_sentence(app_server, page):
    page.goto(f"{app_server}/Latent_map")
    expect(page.locator(".js-plotly-plot .scatterlayer .point").first).to_be_attached()
    probe = page.get_by_label("Where does this sentence land?")
    probe.fill(SENTENCES[0])
    probe.press("Enter")
    expect(page.locator(".js-plotly-plot .legendtext", has_text="your sentence")).to_be_visible()
    expect(page.get_by_text("Its nearest neighbours", exact=False)).to_be_visible()
    screenshot(page, "latent_map")
