"""The dashboard's pages rendered in Python (no browser, no server, no process pool).

Each test renders in a fresh Solara kernel context, as a new browser page would get: the
module-level ``solara.reactive`` values in dashboards/app.py hold one value per kernel, so a test
that leaked them into the next would hide exactly the bug these pages must not have (one
participant's settings or run showing up in another's page).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
import uuid
from dataclasses import replace

import ipyvuetify as v
import ipywidgets
import pytest
import solara
from solara.components.echarts import EchartsWidget
from solara.server import kernel, kernel_context

import sim
from dashboards import app, charts, jobs
from dashboards.levers import LEVERS, Settings, build_scenario, from_query, preset, set_lever, to_query

pytestmark = [pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:websockets.legacy is deprecated:DeprecationWarning")]
RUN_TIMEOUT = 30  # s: the runs here are precomputed, this is only a busy 2-core machine's margin


@pytest.fixture(scope="module", autouse=True)
def as_in_the_server():
    """Make this process look like the Solara server, as the real one does on import: with
    solara.server.starlette loaded, reactive values are kept per kernel (without it they are
    process-wide, and every test here would pass or fail for the wrong reason), and
    solara.server.app patches widgets, comms and threads to be per kernel as well."""
    os.environ.setdefault("MPLBACKEND", "agg")  # keep matplotlib headless (the patch would pick inline)
    import solara.server.starlette  # (imports solara.server.app, which patches)

    assert solara._using_solara_server()


class Session:
    """One browser page: its own kernel context, and the pages rendered in it."""

    def __init__(self):
        self.ctx = kernel_context.VirtualKernelContext(id=f"test-{uuid.uuid4()}", kernel=kernel.Kernel(),
                                                       session_id=str(uuid.uuid4()))
        self.rcs = []

    def __enter__(self):
        self.ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self.ctx.__exit__(*exc)

    def render(self, page, path: str = "/"):
        """Render ``page`` inside the app's layout and router at ``path`` (which may carry a query)."""
        el = solara.RoutingProvider(children=[app.Layout(children=[page])], routes=app.routes, pathname=path)
        with self.ctx:
            _, rc = solara.render(el, handle_error=False)
        self.rcs.append(rc)
        return rc

    def close(self):
        with self.ctx:
            for task in (app.run_explore, app.run_compare):
                if task.pending:
                    task.cancel()
            for rc in self.rcs:
                rc.close()
        self.ctx.close()


@pytest.fixture
def session():
    s = Session()
    with s:
        yield s
    s.close()


@pytest.fixture(scope="module")
def small_year():
    """A short year of few people, computed once: the Explore tests stub the process pool with it."""
    s = Settings()
    sc = build_scenario(s)
    res = sim.run(sc.with_overrides({"population.engaged": 200}), engine="fast", seed=0, steps=60, progress=False)
    return jobs.YearResult(s, res.timeseries, sc.focal, 0.1)


@pytest.fixture
def stub_runs(monkeypatch, small_year):
    """app.run_year without the pool: the precomputed year, labelled with the settings asked for."""
    calls = []

    def run_year(service, settings, progress, stop, live=None):
        calls.append(settings)
        progress(50.0)
        if live is not None:  # the first days, as a running year sends them
            live(small_year.timeseries[small_year.timeseries.step <= 30])
        assert not stop()
        progress(100.0)
        return replace(small_year, settings=settings)

    monkeypatch.setattr(app, "run_year", run_year)
    return calls


# ---- finding things on a page -----------------------------------------------------------------

def widgets(root) -> list:
    """Every widget under ``root`` (a render context or a widget), in tree order. (reacton's
    finder does not look inside a widget that matches, so it misses nested Html and Cards.)"""
    queue = list(root.find(ipywidgets.Widget).widgets) if hasattr(root, "find") else [root]
    seen, out = set(), []
    while queue:
        x = queue.pop(0)
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, ipywidgets.Widget):
            out.append(x)
            queue.extend(getattr(x, name) for name in x.keys)
        elif isinstance(x, (list, tuple)):
            queue.extend(x)
        elif isinstance(x, dict):
            queue.extend(x.values())
    return out


def with_class(root, cls, name: str) -> list:
    return [w for w in widgets(root) if isinstance(w, cls) and name in (getattr(w, "class_", None) or "").split()]


def text(rc) -> str:
    """Every string on the page: children, labels, rendered Markdown and raw HTML."""
    out = []
    for w in widgets(rc):
        for attr in ("children", "label", "template", "unsafe_innerHTML"):
            value = getattr(w, attr, None)
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, (list, tuple)):
                out.extend(x for x in value if isinstance(x, str))
    return "\n".join(out)


def button(rc, label: str):
    return rc.find(v.Btn, children=[label])


def slider_labels(rc) -> list[str]:
    return [w.label for w in rc.find(v.Slider).widgets]


def address(rc) -> str:
    [nav] = [w for w in widgets(rc) if type(w).__name__ == "Navigator"]
    return nav.location


def wait_until(condition, timeout: float = RUN_TIMEOUT, what: str = "condition"):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.02)


def wait_for_run(task):
    wait_until(lambda: task.finished or task.error, what=f"{task} to finish")
    assert not task.error, task.exception


# ---- Explore ------------------------------------------------------------------------------------

def test_explore_shows_the_levers_the_run_button_and_no_run_yet(session):
    rc = session.render(app.Explore())
    s = Settings()
    assert slider_labels(rc) == [f"{lv.label}: {getattr(s, lv.name):g}" for lv in LEVERS]
    assert "Authenticity: 0.9" in slider_labels(rc)
    for lv in LEVERS:
        [slider] = [w for w in rc.find(v.Slider).widgets if w.label.startswith(lv.label + ":")]
        assert (slider.min, slider.max, slider.step) == (lv.lo, lv.hi, lv.step)
    button(rc, "Run a year").assert_single()
    assert not button(rc, "Run a year").widget.disabled
    assert "No run yet" in text(rc)
    assert with_class(rc, v.Card, "number-trust_all") == []
    assert app.year.value is None


def test_a_bad_value_in_the_link_is_refused_on_the_page(session):
    rc = session.render(app.Explore(), "/?scenario=beauty_salon&caring=2&seed=5")
    salon = preset("beauty_salon")
    assert app.url_checked.value
    assert app.url_errors.value == ["caring=2: out of range; allowed: 0 to 1"]
    page = text(rc)
    assert "Some settings in the link were refused" in page
    assert "caring=2: out of range; allowed: 0 to 1" in page
    # the refused value is the preset's, the good ones apply
    assert app.settings.value == replace(salon, seed=5)
    assert f"Caring replies: {salon.caring:g}" in slider_labels(rc)


def test_a_good_link_sets_the_levers_and_the_address_keeps_them(session):
    rc = session.render(app.Explore(), "/?seed=3&authenticity=0.4")
    assert app.url_errors.value == []
    assert app.settings.value == replace(Settings(), seed=3, authenticity=0.4)
    assert "Authenticity: 0.4" in slider_labels(rc)
    assert "were refused" not in text(rc)
    # The opening address is left as it was (rewriting it raced the browser's first report of it
    # and could undo a first tab click); it already stands for exactly these settings.
    assert address(rc) == "/?seed=3&authenticity=0.4"
    assert from_query(address(rc).split("?", 1)[1]) == (app.settings.value, [])


def test_moving_a_slider_changes_the_settings_and_the_address(session):
    rc = session.render(app.Explore())
    [caring] = [w for w in rc.find(v.Slider).widgets if w.label.startswith("Caring replies:")]
    caring.v_model = 0.3
    assert app.settings.value == set_lever(Settings(), "caring", 0.3)
    assert "Caring replies: 0.3" in slider_labels(rc)
    assert address(rc) == f"/?{to_query(app.settings.value)}"


def test_a_running_year_shows_its_curves_growing(session, monkeypatch, small_year):
    """While the run goes, the page draws the days it has so far; at the end, the whole year."""
    release = threading.Event()

    def run_year(service, settings, progress, stop, live=None):
        live(small_year.timeseries[small_year.timeseries.step <= 30])
        assert release.wait(30)
        return replace(small_year, settings=settings)

    monkeypatch.setattr(app, "run_year", run_year)
    rc = session.render(app.Explore(), "/?seed=5")
    button(rc, "Run a year").widget.click()
    wait_until(lambda: "The year so far" in text(rc), what="the growing charts")
    figures = [w for w in widgets(rc) if isinstance(w, EchartsWidget)]
    assert len(figures) == 5
    [trust] = [sr for sr in figures[0].option["series"] if sr["name"] == "focal: engaged"]
    assert [x for x, _ in trust["data"]] == list(range(31))  # the first 30 days, of a year-long axis
    assert figures[0].option["xAxis"]["max"] == build_scenario(Settings()).steps
    release.set()
    wait_for_run(app.run_explore)
    wait_until(lambda: "The year so far" not in text(rc) and with_class(rc, v.Card, "number-profit"),
               what="the finished year")


def test_run_a_year_shows_the_headline_numbers_and_five_charts(session, stub_runs, small_year):
    rc = session.render(app.Explore(), "/?seed=3")
    button(rc, "Run a year").widget.click()
    wait_for_run(app.run_explore)
    wait_until(lambda: with_class(rc, v.Card, "number-profit"), what="the headline numbers")

    assert stub_runs == [replace(Settings(), seed=3)]  # the run got this page's settings
    assert app.year.value.settings == replace(Settings(), seed=3)
    numbers = app.headline(small_year)
    for key, label, fmt in app.HEADLINE:
        [card] = with_class(rc, v.Card, f"number-{key}")
        [value] = [w for w in widgets(card) if (getattr(w, "attributes", None) or {}).get("class") == "number-value"]
        assert value.unsafe_innerHTML == fmt.format(numbers[key])
    assert 0 <= numbers["trust_all"] <= 1

    figures = [w for w in widgets(rc) if isinstance(w, EchartsWidget)]
    assert len(figures) == 5  # drawn by the browser from these numbers
    expected = charts.year_options(small_year.timeseries, small_year.focal, 60)
    assert [f.option for f in figures] == list(expected.values())
    [trust] = [sr for sr in expected["trust"]["series"] if sr["name"] == "focal: engaged"]
    focal = small_year.timeseries[small_year.timeseries.business == "focal"]
    assert [y for _, y in trust["data"]] == pytest.approx(focal.trust_engaged.tolist(), abs=1e-6)  # sent rounded
    chart_divs = [c for w in widgets(rc) if isinstance(w, v.Html) for c in (w.class_ or "").split()
                  if c.startswith("chart-")]
    assert chart_divs == ["chart-trust", "chart-intimacy", "chart-witnesses", "chart-customers", "chart-profit"]
    page = text(rc)
    assert "No run yet" not in page
    assert "seed 3" in page
    assert "Download this run (CSV)" in page
    assert not button(rc, "Run a year").widget.disabled

    # moving a lever afterwards says the shown run is stale
    [noise] = [w for w in rc.find(v.Slider).widgets if w.label.startswith("Venue noise:")]
    noise.v_model = 0.2
    assert "The levers moved since this run" in text(rc)


# ---- sessions are isolated ------------------------------------------------------------------------

def test_two_pages_do_not_share_settings_or_runs(small_year):
    a, b = Session(), Session()
    try:
        with a.ctx:
            app.settings.set(replace(Settings(), seed=7, caring=0.4))
            app.year.set(small_year)
        with b.ctx:
            assert app.settings.value == Settings()
            assert app.year.value is None
        with a.ctx:
            assert app.settings.value == replace(Settings(), seed=7, caring=0.4)
            assert app.year.value is small_year

        # and on the pages: a slider moved in one page leaves the other page's slider alone
        rc_a, rc_b = a.render(app.Explore()), b.render(app.Explore())
        assert "Caring replies: 0.4" in slider_labels(rc_a)
        assert "Caring replies: 0.9" in slider_labels(rc_b)
        with b.ctx:
            [slider] = [w for w in rc_b.find(v.Slider).widgets if w.label.startswith("Authenticity:")]
            slider.v_model = 0.1
            assert app.settings.value.authenticity == 0.1
        with a.ctx:
            assert app.settings.value.authenticity == Settings().authenticity
        assert "Authenticity: 0.9" in slider_labels(rc_a)
        assert "No run yet" in text(rc_b) and "No run yet" not in text(rc_a)
    finally:
        a.close()
        b.close()


def test_a_fresh_page_starts_from_the_defaults(session):
    # whatever the tests before this one set, this kernel has never seen it
    assert app.settings.value == Settings()
    assert app.year.value is None and app.previous.value is None and app.comparison.value is None
    assert app.url_errors.value == [] and not app.url_checked.value
    assert app.compare_policies.value == ["experiential", "broadcast"]


# ---- Compare, Inside the venue, Workshop ------------------------------------------------------------

def test_compare_page_offers_policies_and_replicates(session):
    rc = session.render(app.Compare(), "/compare")
    [policies] = [w for w in rc.find(v.Select).widgets if w.label == "Policies (2 or 3)"]
    assert policies.v_model == ["experiential", "broadcast"]
    button(rc, "Compare").assert_single()
    assert "No comparison yet" in text(rc)

    policies.v_model = ["experiential", "broadcast", "coupon", "silent"]  # at most three are kept
    assert app.compare_policies.value == ["experiential", "broadcast", "coupon"]
    policies.v_model = ["silent"]
    assert "Choose at least two policies." in text(rc)
    button(rc, "Compare").assert_empty()


def test_inside_the_venue_steps_the_model_a_day(session):
    rc = session.render(app.Venue(), "/venue")
    assert "<strong>day</strong> 0 |" in text(rc)
    assert "nothing yet: step a day" in text(rc)
    [figure] = [w for w in widgets(rc) if isinstance(w, EchartsWidget)]  # drawn by the browser
    people = [sr for sr in figure.option["series"] if sr["name"] == "people"][0]["data"]
    assert len(people) == app.VenueView(build_scenario(Settings()), Settings().seed).x.size
    assert figure.option["title"]["text"].startswith("day 0:")

    button(rc, "Step a day").widget.click()
    assert "<strong>day</strong> 1 |" in text(rc)
    [figure] = [w for w in widgets(rc) if isinstance(w, EchartsWidget)]
    assert figure.option["title"]["text"].startswith("day 1:")

    button(rc, "Step a week").widget.click()
    assert "<strong>day</strong> 8 |" in text(rc)


def test_inside_the_venue_plays_and_pauses(session):
    rc = session.render(app.Venue(), "/venue")
    button(rc, "Play").widget.click()
    wait_until(lambda: "<strong>day</strong> 2 |" in text(rc), timeout=30, what="two days played")
    assert button(rc, "Step a day").widget.disabled  # no stepping by hand while it plays
    button(rc, "Pause").widget.click()
    time.sleep(1.0)  # a step already under way may still land
    paused_at = text(rc)
    time.sleep(1.5)  # more than three play ticks
    assert text(rc) == paused_at
    assert not button(rc, "Step a day").widget.disabled


def test_workshop_offers_one_run_button_per_preset(session):
    rc = session.render(app.Workshop(), "/workshop")
    page = text(rc)
    assert "Facilitator's presets" in page
    assert len(button(rc, "Run this")) == len(app.WORKSHOP)
    for title, *_ in app.WORKSHOP:
        assert title in page
    button(rc, "Reset everything").assert_single()


def test_workshop_preset_sets_the_levers_and_runs(session, stub_runs):
    rc = session.render(app.Workshop(), "/workshop")
    i = [w[0] for w in app.WORKSHOP].index("Revolving door")
    button(rc, "Run this")[i].widget.click()
    expected = set_lever(preset("default", "experiential"), "turnover", 1.5)
    assert app.settings.value == expected
    wait_for_run(app.run_explore)
    assert stub_runs == [expected]
    assert app.year.value.settings == expected
    assert address(rc) == f"/?{to_query(expected)}"  # and the page went to Explore with them


def test_workshop_reset_restores_the_defaults_and_clears_the_run(session, small_year):
    app.settings.set(preset("auto_parts", "coupon", seed=11))
    app.year.set(small_year)
    app.previous.set(small_year)
    app.url_errors.set(["caring=2: out of range; allowed: 0 to 1"])
    rc = session.render(app.Workshop(), "/workshop")
    assert "Download this run (CSV)" in text(rc)

    button(rc, "Reset everything").widget.click()
    assert app.settings.value == Settings()
    assert app.year.value is None
    assert app.previous.value is None
    assert app.comparison.value is None
    assert app.url_errors.value == []
    assert "Download this run (CSV)" not in text(rc)


# ---- faults found in review, fixed; these keep them fixed ----------------------------------------

def seed_field(rc):
    [field] = [w for w in rc.find(v.TextField).widgets if w.label == "Seed"]
    return field


def type_seed(rc, text: str) -> None:
    field = seed_field(rc)
    field.v_model = text
    field.fire_event("focusout", None)  # the field reports on leaving it (or on Enter)


def test_typing_a_seed_sets_it_and_a_negative_one_becomes_zero(session):
    rc = session.render(app.Explore())
    type_seed(rc, "42")
    assert app.settings.value == replace(Settings(), seed=42)
    type_seed(rc, "-5")
    assert app.settings.value.seed == 0


def test_a_typed_seed_survives_the_link(session):
    rc = session.render(app.Explore())
    type_seed(rc, "3000000000")
    s = app.settings.value
    assert from_query(to_query(s)) == (s, [])


def test_a_failed_run_says_so(session, monkeypatch):
    def run_year(service, settings, progress, stop, live=None):
        raise RuntimeError("the run processes are gone")

    monkeypatch.setattr(app, "run_year", run_year)
    rc = session.render(app.Explore())
    button(rc, "Run a year").widget.click()
    wait_until(lambda: app.run_explore.error, what="the run to fail")
    wait_until(lambda: "the run processes are gone" in text(rc), timeout=2, what="the failure on the page")


def test_reset_during_a_comparison_leaves_no_comparison(session, monkeypatch):
    release = threading.Event()

    def run_comparison(service, settings, policies, replicates, progress, stop):
        end = time.monotonic() + RUN_TIMEOUT
        while not release.is_set() and time.monotonic() < end:
            if stop():
                raise jobs.Cancelled()
            time.sleep(0.01)
        return "a comparison of the settings before the reset"

    monkeypatch.setattr(app, "run_comparison", run_comparison)
    rc = session.render(app.Workshop(), "/workshop")
    app.run_compare()
    wait_until(lambda: app.run_compare.pending, what="the comparison to start")
    button(rc, "Reset everything").widget.click()
    release.set()
    wait_until(lambda: not app.run_compare.pending, what="the comparison to end")
    assert app.comparison.value is None


def test_a_closed_page_stops_its_runs(session, monkeypatch):
    stopped = threading.Event()

    def run_comparison(service, settings, policies, replicates, progress, stop):
        end = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < end:
            if stop():
                stopped.set()
                raise jobs.Cancelled()
            time.sleep(0.01)
        return "never"

    monkeypatch.setattr(app, "run_comparison", run_comparison)
    session.render(app.Compare(), "/compare")
    app.run_compare()
    wait_until(lambda: app.run_compare.pending, what="the comparison to start")
    session.ctx.closed_event.set()  # what the server does when the tab is closed or reloaded
    wait_until(stopped.is_set, timeout=5, what="the run to see its page closed")


def test_refused_link_values_are_shown_as_text_never_as_markup(session):
    crafted = "`<img src=x onerror=alert(1)>`{{ 7*7 }}"
    rc = session.render(app.Explore(), "/?caring=" + urllib.parse.quote(crafted))
    assert any(crafted in e for e in app.url_errors.value)
    shown = [w for w in widgets(rc) if crafted in str(getattr(w, "children", "")) or crafted in str(
        getattr(w, "v_model", ""))]
    assert shown, "the refused value is not on the page"
    for w in widgets(rc):  # nothing that renders markup carries it
        for attr in ("md", "unsafe_innerHTML", "template", "value"):
            assert "<img src=x" not in str(getattr(w, attr, "")), (type(w).__name__, attr)


def test_the_address_changing_under_a_live_page_brings_its_settings(session):
    rc = session.render(app.Explore(), "/?authenticity=0.4")
    assert app.settings.value.authenticity == 0.4
    [nav] = [w for w in widgets(rc) if type(w).__name__ == "Navigator"]
    nav.location = "/?authenticity=0.7&seed=9"  # what Back/Forward does in the browser
    wait_until(lambda: app.settings.value.authenticity == 0.7, timeout=5, what="the settings to follow")
    assert app.settings.value.seed == 9


def test_a_comparison_shows_its_answer_and_three_band_charts(session):
    sc = build_scenario(Settings()).with_overrides({"population.engaged": 200})
    c = sim.compare(sc, ["experiential", "silent"], replicates=2, seed=1, engine="fast", steps=30, workers=1,
                    progress=False)
    rc = session.render(app.ComparisonView(c), "/compare")
    assert "Trust:" in text(rc)
    figures = [w for w in widgets(rc) if isinstance(w, EchartsWidget)]
    assert len(figures) == 3  # trust, cumulative profit, customers: drawn by the browser
    expected = jobs.bands(c, "trust_all")
    [mean] = [sr for sr in figures[0].option["series"] if sr["name"] == "experiential"]
    mine = expected[expected.arm == "experiential"]["mean"].tolist()
    assert mean["data"] == pytest.approx(mine, abs=1e-6)
    assert figures[0].option["legend"]["data"] == ["experiential", "silent"]
