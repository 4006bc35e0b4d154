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


def take(out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with served(workers=2) as (url, _), sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        def shot(name: str) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=path, full_page=True)
            shots.append(path)
            print(f"wrote {path}")

        page.goto(url + "?scenario=default&policy=experiential")
        page.locator(".run-button").click()
        expect(page.locator(".chart-profit img")).to_be_visible(timeout=WAIT)
        shot("explore")

        page.get_by_role("tab", name="Compare").click()
        expect(page.get_by_text("No comparison yet")).to_be_visible()
        page.locator(".run-button").click()
        expect(page.locator(".compare-charts img").first).to_be_visible(timeout=WAIT)
        shot("compare")

        page.get_by_role("tab", name="Inside the venue").click()
        for _ in range(4):
            page.get_by_text("Step a week").click()
            page.wait_for_timeout(1500)
        shot("venue")

        page.get_by_role("tab", name="Workshop").click()
        expect(page.get_by_text("Facilitator's presets")).to_be_visible()
        shot("workshop")
        browser.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if not have_chromium():
        print("error: screenshots need /usr/bin/chromium (apt-get install -y chromium)", file=sys.stderr)
        return 2
    take(Path(args[0] if args else "docs/screenshots"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
