"""Screenshots of every dashboard page, in the same browser the tests use (``make screenshots``).

``python -m dashboards.screenshots docs/screenshots`` serves the app, opens each page in headless
Chromium, does what a participant would (run a year, compare two policies, step the venue), and
writes one PNG per page.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .browser import have_chromium, launch, served

WAIT = 180_000  # ms


KEY = "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def take(out: Path) -> list[Path]:
    """Every page at a laptop's size (NAME.png) and a phone's (phone-NAME.png), the wall included."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with served(workers=2, key=KEY) as (url, _), sync_playwright() as p:
        browser = launch(p)
        _room(browser, url)
        for prefix, options in (("", {"viewport": {"width": 1400, "height": 1000}}), ("phone-", PHONE)):
            context = browser.new_context(**options)
            _tour(context.new_page(), url, out, prefix, shots)
            context.close()
        browser.close()
    return shots


def _room(browser, url: str) -> None:
    """A few participants' runs, so the wall has something to show."""
    from playwright.sync_api import expect

    for seed, policy in ((1, "broadcast"), (2, "coupon"), (3, "silent"), (4, "experiential"), (5, "coupon"),
                         (6, "broadcast")):
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + f"?scenario=default&policy={policy}&seed={seed}")
        page.locator(".run-button").click()
        expect(page.locator(".number-profit")).to_be_visible(timeout=WAIT)
        context.close()


def _tour(page, url: str, out: Path, prefix: str, shots: list[Path]) -> None:
    from playwright.sync_api import expect

    def shot(name: str) -> None:
        path = out / f"{prefix}{name}.png"
        page.screenshot(path=path, full_page=not prefix)  # a phone's shot: the first screen, as it is seen
        shots.append(path)
        print(f"wrote {path}")

    page.goto(url + "?scenario=default&policy=experiential")
    page.locator(".run-button").click()
    expect(page.locator(".number-profit")).to_be_visible(timeout=WAIT)
    if prefix:
        shot("explore-settings")
        page.locator(".number-trust_all").scroll_into_view_if_needed()
    shot("explore")

    page.get_by_role("tab", name="Compare").click()
    expect(page.get_by_text("No comparison yet")).to_be_visible()
    page.locator(".run-button").click()
    expect(page.locator(".compare-charts canvas").first).to_be_visible(timeout=WAIT)
    page.wait_for_timeout(500)
    shot("compare")

    page.get_by_role("tab", name="Inside the venue").click()
    for _ in range(4):
        page.get_by_text("Step a week").click()
        page.wait_for_timeout(1500)
    shot("venue")

    page.get_by_role("tab", name="Workshop").click()
    expect(page.get_by_text("Facilitator's presets")).to_be_visible()
    shot("workshop")

    page.goto(url + f"wall?key={KEY}")
    expect(page.locator(".wall-chart canvas")).to_be_visible(timeout=WAIT)
    page.wait_for_timeout(500)
    shot("wall")


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if not have_chromium():
        print("error: screenshots need /usr/bin/chromium (apt-get install -y chromium)", file=sys.stderr)
        return 2
    take(Path(args[0] if args else "docs/screenshots"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
