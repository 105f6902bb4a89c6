"""The app as a room sees it on a projector: a 1280x720 window, and the outcome of each page's
action in view without scrolling. Screenshots of exactly that window go to screenshots/projector/."""

import re
from urllib.parse import urlencode

import pytest
from conftest import SCREENSHOTS, SENTENCES

expect = pytest.importorskip("playwright.sync_api").expect
expect.set_options(timeout=30_000)

WIDTH, HEIGHT = 1280, 720
SHOTS = SCREENSHOTS / "projector"


@pytest.fixture
def projector(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def assert_in_view(locator, settle_ms=10_000):
    """The element is laid out inside the window, as it is: no scrolling. A rerun may redraw the
    element, and a new page may keep the last page's scroll for a moment, so this waits up to
    `settle_ms` for the element to come to rest in view before it asserts."""
    expect(locator).to_be_visible()
    box = None
    for _ in range(settle_ms // 250):
        box = locator.bounding_box()  # None while the element is being redrawn
        if box and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= WIDTH \
                and box["y"] + box["height"] <= HEIGHT:
            return
        locator.page.wait_for_timeout(250)
    assert box is not None, "the element never stayed on the page long enough to be measured"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT, box


def shot(page, name):
    (SHOTS / name).parent.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)  # no tooltip
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_new_sentences_appear_in_view(app_server, projector):
    projector.goto(f"{app_server}/Sample")
    projector.get_by_role("button", name="New sentences").click()
    assert_in_view(projector.get_by_role("heading", name="10 sentences, seed 1"))
    assert_in_view(projector.locator("[data-testid=stTable] tbody tr").last)
    shot(projector, "sample")


def test_the_whole_path_and_both_ends_are_in_view(app_server, projector):
    projector.goto(f"{app_server}/Interpolate?" + urlencode({"sentence_a": SENTENCES[0], "sentence_b": SENTENCES[5]}))
    assert_in_view(projector.get_by_text(re.compile("^s₀ typed:")))
    assert_in_view(projector.locator("code", has_text="t = 1.00"))
    assert_in_view(projector.get_by_text(re.compile("^s₁ typed:")))
    expect(projector.get_by_test_id("stMain").get_by_text("From", exact=True)).to_be_visible()  # the controls too
    shot(projector, "interpolate")


def test_the_answer_of_sentence_arithmetic_is_in_view(app_server, projector):
    projector.goto(f"{app_server}/Interpolate?mode=arithmetic")
    assert_in_view(projector.get_by_role("heading", name="a is to b as c is to ?"))
    assert_in_view(projector.locator("h3").last)
    expect(projector.get_by_test_id("stMain").get_by_test_id("stTextInput").first).to_be_visible()  # the controls too
    shot(projector, "arithmetic")


def test_the_map_is_in_view_and_a_dragged_box_lists_its_sentences(app_server, projector):
    projector.goto(f"{app_server}/Latent_map?corpus=by_author")
    plot = projector.locator(".js-plotly-plot .nsewdrag").first  # the plotting area
    expect(projector.locator(".js-plotly-plot .scatterlayer .point").first).to_be_attached()
    assert_in_view(projector.locator(".js-plotly-plot").first)
    box = plot.bounding_box()
    projector.mouse.move(box["x"] + 5, box["y"] + 5)
    projector.mouse.down()
    projector.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=10)
    projector.mouse.up()
    expect(projector.get_by_text(re.compile(r"^[\d,]+ selected sentences$"))).to_be_visible()
    table = projector.get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    assert table.bounding_box()["y"] + 100 < HEIGHT  # its first rows are in view; it scrolls inside
    projector.wait_for_timeout(1000)  # the grid draws on a canvas
    shot(projector, "latent_map_selection")


def nav(page, name):
    """Follow the top bar's link (it keeps the browser session, as a teacher clicking would)."""
    page.get_by_test_id("stTopNav").get_by_role("link", name=name, exact=True).click()
    expect(page.locator("h1", has_text=re.compile(f"^{re.escape(name)}$"))).to_be_visible()


def test_the_teachers_path_through_every_page(app_server, projector):
    """Home (Try it) -> Interpolate -> Home -> Dimensions -> Sample -> Latent map -> Train -> Use this
    model -> Sample, one
    screenshot of the window per step in screenshots/projector/teachers_path/."""
    steps = "teachers_path"
    projector.goto(app_server)
    expect(projector.locator("h1", has_text="Text VAE Explorer")).to_be_visible()
    links = projector.get_by_test_id("stTopNav").get_by_role("link")
    expect(links).to_have_text(["Home", "Sample", "Interpolate", "Latent map", "Train"])
    expect(projector.locator(".katex-display").first).to_be_visible()  # the formulas are typeset
    assert_in_view(projector.get_by_text(re.compile("^The model reads back:")))  # Try it, first
    shot(projector, f"{steps}/1_home")

    projector.get_by_role("link", name="Walk to another sentence").click()  # the typed sentence goes along
    expect(projector.locator("h1", has_text=re.compile("^Interpolate$"))).to_be_visible()
    assert_in_view(projector.get_by_text(re.compile("^s₀ typed:")))
    assert_in_view(projector.locator("code", has_text="t = 1.00"))
    shot(projector, f"{steps}/1a_try_it_interpolate")
    projector.get_by_test_id("stTopNav").get_by_role("link", name="Home", exact=True).click()
    expect(projector.locator("h1", has_text="Text VAE Explorer")).to_be_visible()
    projector.get_by_role("link", name="Walk its latent dimensions").click()
    assert_in_view(projector.get_by_text(re.compile("^μ reads back:")))
    assert_in_view(projector.get_by_test_id("stMain").locator("table tbody tr").last)
    shot(projector, f"{steps}/1b_try_it_dimensions")

    nav(projector, "Sample")
    projector.get_by_role("button", name="New sentences").click()
    assert_in_view(projector.get_by_role("heading", name="10 sentences, seed 1"))
    shot(projector, f"{steps}/2_sample")

    nav(projector, "Latent map")
    expect(projector.locator(".js-plotly-plot .scatterlayer .point").first).to_be_attached()
    assert_in_view(projector.locator(".js-plotly-plot").first)
    shot(projector, f"{steps}/4_latent_map")

    nav(projector, "Train")
    main = projector.get_by_test_id("stMain")  # Streamlit's own header may have a Stop button too
    main.get_by_role("button", name="Start").click()
    expect(projector.get_by_text(re.compile(r"running · step"))).to_be_visible()
    projector.wait_for_function("() => (document.querySelector('.js-plotly-plot')?.data?.[0]?.x?.length ?? 0) >= 2")
    shot(projector, f"{steps}/5_train_running")
    main.get_by_role("button", name="Stop").click()
    expect(projector.get_by_text(re.compile(r"stopped · step"))).to_be_visible()
    main.get_by_role("button", name="Use this model").click()
    expect(projector.get_by_text(re.compile(r"The other pages now use this model"))).to_be_visible()
    shot(projector, f"{steps}/6_train_use_this_model")

    nav(projector, "Sample")
    sidebar = projector.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(re.compile(r"trained in this browser, step"))).to_be_visible()
    assert_in_view(projector.locator("[data-testid=stTable] tbody tr").first)
    shot(projector, f"{steps}/7_sample_with_the_trained_model")


def test_the_training_charts_are_in_view_with_one_stop_button(app_server, projector):
    projector.goto(f"{app_server}/Train")
    main = projector.get_by_test_id("stMain")
    # a click that lands while a new session's first reruns are in flight can be dropped by Streamlit
    projector.wait_for_timeout(3000)
    main.get_by_role("button", name="Preset: Posterior collapse").click()
    expect(main.locator("[data-testid=stBaseButton-primary]", has_text="Preset: Posterior collapse")).to_be_visible()
    expect(main.get_by_role("button", name="Preset: Fix it")).to_have_count(1)  # the rerun has settled
    # Known issue (see the closing note of 2026-11-25): after other browser tests on the same server,
    # the first Start press is sometimes dropped; pressing again once is what a teacher would do.
    running = projector.get_by_text(re.compile(r"running · step"))
    for _ in range(2):
        main.get_by_role("button", name="Start").click()
        try:
            expect(running).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            continue
    expect(running).to_be_visible()
    # the first tab's three charts, each with its training line
    projector.wait_for_function("() => (document.querySelector('.js-plotly-plot')?.data?.length ?? 0) >= 3")
    assert_in_view(projector.locator(".js-plotly-plot").first)
    assert_in_view(projector.get_by_test_id("stMetric").first)
    assert_in_view(main.get_by_role("button", name="Stop"))
    expect(projector.get_by_role("button", name="Stop")).to_have_count(1)  # not Streamlit's own as well
    expect(projector.get_by_test_id("stStatusWidget")).to_be_hidden()
    projector.wait_for_timeout(1500)  # a rerun of the live view in flight must not fade it
    # one query in the page: an element may leave the document between listing it and reading its style
    assert projector.evaluate("""() => [...document.querySelectorAll(
        '[data-testid=stElementContainer][data-stale=true]')].every(e => getComputedStyle(e).opacity === '1')""")
    shot(projector, "train_running")
    # the reconstructions that show collapse (or its fix) are in view too, once the first held-out
    # measurement lands
    writes = main.get_by_text(re.compile("^What the model writes at step"))
    expect(writes).to_be_visible(timeout=120_000)
    assert_in_view(writes)
    assert_in_view(main.get_by_test_id("stTable").locator("tbody tr").first)
    shot(projector, "train_reconstructions")
    main.get_by_role("button", name="Stop").click()
    expect(projector.get_by_text(re.compile(r"stopped · step"))).to_be_visible()


def test_the_walks_along_the_latent_dimensions_are_in_view(app_server, projector):
    link = urlencode({"mode": "latent dimensions", "dims_sentence": SENTENCES[0]})
    projector.goto(f"{app_server}/Interpolate?{link}")
    assert_in_view(projector.get_by_text(re.compile("^μ reads back:")))
    assert_in_view(projector.get_by_test_id("stMain").locator("table tbody tr").last)  # every row of the grid
    expect(projector.get_by_role("spinbutton", name="Dimensions that change it most")).to_be_visible()  # controls
    shot(projector, "latent_dimensions")


def test_a_long_input_leaves_its_notices_and_the_path_in_view(app_server, projector):
    long = " ".join(["the cat sat on the zyzzyva mat"] * 72)  # 504 words
    projector.goto(f"{app_server}/Interpolate?" + urlencode({"sentence_a": long, "sentence_b": SENTENCES[5]}))
    assert_in_view(projector.get_by_text(re.compile("only the first 12 are used")))
    assert_in_view(projector.get_by_text(re.compile("^s₀ typed:")))
    assert_in_view(projector.locator("code", has_text="t = 0.00"))
    expect(projector.get_by_text("All 504 words")).to_be_visible()
    shot(projector, "interpolate_long_input")


def test_try_it_on_home_shows_its_outcome_in_view(app_server, projector):
    projector.goto(app_server)
    main = projector.get_by_test_id("stMain")
    assert_in_view(main.get_by_text(re.compile("^The model reads back:")))
    assert_in_view(main.get_by_test_id("stMetric").last)  # the bits, gzip's last
    assert_in_view(main.get_by_test_id("stTable").locator("tbody tr").last)  # all 5 neighbours
    assert_in_view(main.get_by_role("link", name="Walk its latent dimensions"))
    shot(projector, "home_try_it")
    # a sentence typed into Try it travels to the next page as that page's own parameter only
    box = main.get_by_role("textbox", name="Type a sentence")
    box.fill(SENTENCES[1])
    box.press("Enter")
    expect(projector).to_have_url(re.compile(r"\?try="))
    main.get_by_role("link", name="Walk to another sentence").click()
    expect(projector.get_by_role("heading", name="Interpolate")).to_be_visible()
    expect(projector).to_have_url(re.compile(r"/Interpolate\?sentence_a=[^&]+$"))


def test_the_neighbours_of_a_typed_sentence_are_in_view_on_the_map(app_server, projector):
    link = urlencode({"corpus": "sentence_kinds", "probe": SENTENCES[0]})
    projector.goto(f"{app_server}/Latent_map?{link}")
    neighbours = projector.get_by_text("Its nearest neighbours", exact=False)
    assert_in_view(neighbours)
    rows = projector.get_by_test_id("stMain").get_by_test_id("stTable").locator("tbody tr")
    expect(rows).not_to_have_count(0)
    assert_in_view(rows.nth(2))  # three rows at least, not a sliver of the first
    # the table comes before the projection's settings, so UMAP's two sliders cannot push it down
    # (UMAP itself is not fitted here: for the tiny model nothing is precomputed, and a fit beside
    # other jobs took minutes)
    projection = projector.get_by_role("radiogroup", name="Projection")
    assert rows.last.bounding_box()["y"] < projection.bounding_box()["y"]
    shot(projector, "latent_map_neighbours")
