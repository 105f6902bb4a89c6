"""The README's pictures, taken from the running app: Home's Try it, Sample, Interpolate, the
Latent map and a Train run, each as a projector shows it (1280x720), written to docs/img/*.png.

    python scripts/screenshots.py                 # the shipped model (or $TEXT_VAE_MODEL)
    python scripts/screenshots.py --model PATH --out docs/img --only home sample

Run it again when a page or the model changes, so that the pictures never go stale. It starts its
own Streamlit server on a free port (bench.app.streamlit_server, as the benchmarks and the browser
tests do), drives it in headless Chromium (Playwright; Debian's /usr/bin/chromium, `apt-get install
chromium`), and stops the server at the end. A Train run takes a minute or two on a busy CPU.
Each file must stay under MAX_BYTES (the repository keeps every version of it): a PNG that is
larger is stored with a palette of 256 colours (Pillow), which text and charts survive.
"""

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench.app import CHROMIUM, CHROMIUM_ARGS, RECORDER, rerun_done, run_step, streamlit_server  # noqa: E402
from vae.paths import ROOT, default_model  # noqa: E402

OUT = ROOT / "docs" / "img"
VIEWPORT = {"width": 1280, "height": 720}  # a classroom projector
MAX_BYTES = 250_000
TIMEOUT_MS = 180_000  # a cold model load and a busy CPU
TRAIN_STEPS = 300  # a Train run is shot once its charts have this many steps (the presets run 600)
TRY_SENTENCE = "My friend is coming to dinner tonight."
MAP_SENTENCE = "Can you help me with my homework?"
SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute("data-test-script-state") === "notRunning"
    && !document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]');
}"""


# what each picture shows: (file name, function(page, base URL))


def home(page, url):
    """Home opens on Try it: a typed sentence, what the model reads back, its bits, its neighbours."""
    page.goto(url)
    rerun_done(page, "h1", since=0)
    page.get_by_text("The model reads back").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_test_id("stTable").first.wait_for(timeout=TIMEOUT_MS)  # the neighbours
    page.get_by_text("Walk to another sentence").wait_for(timeout=TIMEOUT_MS)


def sample(page, url):
    page.goto(f"{url}/Sample")
    rerun_done(page, "h3", "sentences, seed", since=0)


def interpolate(page, url):
    page.goto(f"{url}/Interpolate")
    rerun_done(page, "h3", "The path", since=0)


def latent_map(page, url):
    """The default shipped corpus by PCA (precomputed), with a typed sentence placed on it."""
    page.goto(f"{url}/Latent_map")
    chart = '[data-testid="stPlotlyChart"] .xtitle'
    rerun_done(page, chart, "PCA 1", since=0)
    box = page.get_by_label("Where does this sentence land?")
    box.fill(MAP_SENTENCE)
    box.press("Enter")
    rerun_done(page, chart, "PCA 1")
    page.get_by_text("Its nearest neighbours").wait_for(timeout=TIMEOUT_MS)
    box.blur()  # no focus ring on the box


def train(page, url):
    """The "Fix it" preset started on the shipped tiny corpus, shot once the charts have some steps."""
    page.goto(f"{url}/Train")
    rerun_done(page, "h1", since=0)
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Preset: Fix it").click()
    rerun_done(page)
    main.get_by_role("button", name="Start").click()
    main.get_by_role("button", name="Stop").wait_for(timeout=TIMEOUT_MS)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while (run_step(page) or 0) < TRAIN_STEPS and "finished" not in main.inner_text():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Train run did not reach step {TRAIN_STEPS} in {TIMEOUT_MS / 1000:.0f} s")
        time.sleep(1)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # the live view redraws every second: let the last redraw paint


SHOTS = {"home": home, "sample": sample, "interpolate": interpolate, "latent_map": latent_map, "train": train}


# helpers


def small_png(png: bytes, limit=MAX_BYTES) -> bytes:
    """The PNG as it is when it fits in `limit` bytes, else with a palette of 256 colours."""
    if len(png) <= limit:
        return png
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
    smaller = buffer.getvalue()
    if len(smaller) > limit:
        raise ValueError(f"{len(smaller):,} bytes even with 256 colours (the limit is {limit:,})")
    return smaller


def settled(page):
    """Wait until no script runs and no element is still a loading placeholder."""
    page.wait_for_function(SETTLED, polling=200, timeout=TIMEOUT_MS)


def take(browser, url, name, out):
    """One picture: a fresh browser context (its own Streamlit session), the page driven, then shot."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.add_init_script(RECORDER)
        SHOTS[name](page, url)
        settled(page)
        page.mouse.move(0, 0)  # no tooltip from the last click
        page.wait_for_timeout(500)
        png = small_png(page.screenshot())
    finally:
        context.close()
    path = out / f"{name}.png"
    path.write_bytes(png)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {len(png) / 1000:,.0f} kB")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(default_model()), help="checkpoint folder (default: the shipped model)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", nargs="+", choices=list(SHOTS), help="these pictures only")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    # one torch thread, and no UMAP warm-up: the pictures need neither, and the CPU goes to the pages
    env = {"OMP_NUM_THREADS": "1", "TEXT_VAE_WARM_UMAP": "0"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            with streamlit_server(args.model, timeout=120, env=env) as (url, _):
                for name in args.only or SHOTS:
                    take(browser, url, name, args.out)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
