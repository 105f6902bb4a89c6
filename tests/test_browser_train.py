"""The Train page in a real browser: the run lives outside the script and the charts poll it."""

import re

import pytest
from conftest import screenshot, title

expect = pytest.importorskip("playwright.sync_api").expect
SLOW = 30_000  # ms; expect() waits 5 s by default, and a CPU busy training can take longer to redraw

# points in the first trace (−ELBO) of the page's plotly chart, as the browser holds them
CHART_POINTS = "() => document.querySelector('.js-plotly-plot')?.data?.[0]?.x?.length ?? 0"


def test_start_shows_the_charts_growing_then_stop_and_use_the_model(app_server, page):
    page.goto(f"{app_server}/Train")
    expect(title(page, "Train")).to_be_visible(timeout=SLOW)
    main = page.get_by_test_id("stMain")  # Streamlit's own header has a "Stop" button while a script runs
    main.get_by_role("button", name="Start").click()
    expect(page.get_by_text(re.compile(r"running · step"))).to_be_visible(timeout=SLOW)

    # no clicks from here on: only the fragment's own polling can bring new points
    page.wait_for_function(f"() => ({CHART_POINTS})() >= 1")
    for _ in range(2):
        seen = page.evaluate(CHART_POINTS)
        page.wait_for_function(f"n => ({CHART_POINTS})() > n", arg=seen)
    screenshot(page, "train_running")

    main.get_by_role("button", name="Stop").click()
    expect(page.get_by_text(re.compile(r"stopped · step"))).to_be_visible(timeout=SLOW)
    main.get_by_role("button", name="Use this model").click()
    expect(page.get_by_text(re.compile(r"The other pages now use this model"))).to_be_visible(timeout=SLOW)

    # the top bar's link keeps the browser session (a new URL would start a new one)
    page.get_by_test_id("stTopNav").get_by_role("link", name="Sample").click()
    expect(page.get_by_test_id("stSidebar").get_by_text(re.compile(r"trained in this browser, step"))).to_be_visible(
        timeout=SLOW)
    expect(page.locator("[data-testid=stTable] tbody tr")).to_have_count(10, timeout=SLOW)


def test_a_reload_of_train_shows_the_same_run_still_going(app_server, page):
    page.goto(f"{app_server}/Train")
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Start").click()
    expect(page.get_by_text(re.compile(r"running · step"))).to_be_visible(timeout=SLOW)
    expect(page).to_have_url(re.compile(r"/Train\?(.*&)?run=[\w-]+"), timeout=SLOW)  # the run's token
    page.wait_for_function(f"() => ({CHART_POINTS})() >= 2", timeout=SLOW)
    before = page.evaluate(CHART_POINTS)

    page.reload()  # F5: a new browser session
    expect(page.get_by_text(re.compile(r"running · step"))).to_be_visible(timeout=SLOW)
    page.wait_for_function(f"n => ({CHART_POINTS})() > n", arg=before, timeout=SLOW)  # the same run, further on
    expect(page.get_by_text(re.compile("This run belongs to this page.s link"))).to_be_visible(timeout=SLOW)
    screenshot(page, "train_after_reload")
    page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()
    expect(page.get_by_text(re.compile(r"stopped · step"))).to_be_visible(timeout=SLOW)


def test_a_plain_link_to_train_in_the_same_browser_finds_the_run(app_server, page):
    page.goto(f"{app_server}/Train")
    page.get_by_test_id("stMain").get_by_role("button", name="Start").click()
    expect(page.get_by_text(re.compile(r"running · step"))).to_be_visible(timeout=SLOW)
    page.wait_for_function("() => document.cookie.includes('text_vae_run=')", timeout=SLOW)

    page.goto(f"{app_server}/Train")  # no token in this link: the browser's cookie has it
    expect(page.get_by_text(re.compile(r"running · step"))).to_be_visible(timeout=SLOW)
    expect(page).to_have_url(re.compile(r"run=[\w-]+"), timeout=SLOW)
    page.get_by_test_id("stMain").get_by_role("button", name="Stop").click()
    expect(page.get_by_text(re.compile(r"stopped · step"))).to_be_visible(timeout=SLOW)
