"""The workshop dashboard (Solara): Explore, Compare, Inside the venue, Workshop.

Serve it with ``trustsim dashboard`` (or ``make dashboard``). Every browser page gets its own
kernel, and with it its own copy of each ``solara.reactive`` below and of each task's state: two
participants never see or step each other's runs. What is shared is only the process pool and
the result cache in :data:`SERVICE`, and those hold no session's state.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

import solara
import solara.lab

from . import charts
from .jobs import Cancelled, RunService, YearResult, bands, run_comparison, run_year
from .levers import (
    LEVERS,
    MAX_SEED,
    Settings,
    build_scenario,
    from_query,
    policy_choices,
    preset,
    scenario_choices,
    set_lever,
    to_query,
)
from .venue import VenueView
from .wall import Wall, facilitator_key, holds_key

SERVICE = RunService()
# The room's wall and the facilitator's key: shared by every session of this server process.
WALL = Wall()
KEY = facilitator_key()
WALL_POLL = 2.0  # seconds between a wall page's looks at whether anything changed

# Per session (Solara keeps one value per browser page for module-level reactives).
settings = solara.reactive(Settings())
url_checked = solara.reactive(False)
url_errors = solara.reactive([])
year = solara.reactive(None)  # YearResult of the last run, or None
previous = solara.reactive(None)  # the run before it, for "what changed"
compare_policies = solara.reactive(["experiential", "broadcast"])
replicates = solara.reactive(5)
comparison = solara.reactive(None)
growing = solara.reactive(None)  # chart columns of the year running now, as they come in
facilitator = solara.reactive(False)  # this page was opened with the facilitator's key

HEADLINE = (("trust_all", "Trust (everyone)", "{:.3f}"), ("intimate", "Customers at L2 or L3", "{:,.0f}"),
            ("customers", "Customers", "{:,.0f}"), ("reach", "People who witnessed it", "{:,.0f}"),
            ("profit", "Profit over the year", "{:,.0f}"))

# The facilitator's presets: a scenario, a policy and any levers that make the point.
WORKSHOP = (
    ("The caring salon", "beauty_salon", "experiential", {}, "Caring answers where intimacy comes easily."),
    ("Broadcasting auto parts", "auto_parts", "broadcast", {}, "Selling into a trade where intimacy is hard."),
    ("Coupon blitz", "default", "coupon", {}, "Coupons buy purchases; do they buy trust?"),
    ("Great words, poor product", "poor_quality", "experiential", {}, "Caring cannot cover for failures."),
    ("Peer playground", "default", "peer_playground", {}, "Customers answering customers."),
    ("Scripted caring", "default", "scripted_caring", {}, "Care that reads like a script."),
    ("Revolving door", "default", "experiential", {"turnover": 1.5}, "High staff turnover, nothing captured."),
    ("The silent business", "default", "silent", {}, "Saying nothing at all."),
)


def workshop_settings(scenario: str, policy: str, levers: dict) -> Settings:
    s = preset(scenario, policy)
    for k, v in levers.items():
        s = set_lever(s, k, v)
    return s


def headline(result: YearResult) -> dict[str, float]:
    s = result.summary().loc[result.focal]
    return {"trust_all": float(s.trust_all), "intimate": float(s.level2 + s.level3), "customers": float(s.customers),
            "reach": float(s.reach), "profit": float(s.profit)}


def _stopper(task):
    """True once the task was cancelled or replaced, or its page closed (tab shut or reloaded):
    a closed page's runs should not keep everyone else's waiting in the shared pool."""
    from solara.server import kernel_context

    try:
        closed = kernel_context.get_current_context().closed_event
    except Exception:  # no kernel (e.g. rendered outside a server)
        closed = None
    return lambda: not task.is_current() or (closed is not None and closed.is_set())


@solara.lab.task
def run_explore() -> None:
    s = settings.value

    def progress(p: float) -> None:
        run_explore.progress = p

    def live(ts) -> None:
        if run_explore.is_current():
            growing.set(ts)

    try:
        result = run_year(SERVICE, s, progress, _stopper(run_explore), live)
    except Cancelled:
        return
    finally:
        growing.set(None)
    if run_explore.is_current():  # not cancelled (or reset) while it finished
        previous.set(year.value)
        year.set(result)
        now = headline(result)
        WALL.add(solara.get_session_id(), result.settings.scenario, result.settings.policy, now["trust_all"],
                 now["profit"])
        # one line a run in the server's log: a facilitator sees the room working, and the load
        # benchmark reads when each result left the server (the browser's drawing of it aside).
        # Written in one piece: print's separate write of the newline lets threads' lines interleave.
        print(f"{datetime.now().isoformat(timespec='milliseconds')} year shown: {s.scenario} under {s.policy}, "
              f"seed {s.seed}, computed in {result.seconds:.2f} s\n", end="", flush=True)


@solara.lab.task
def run_compare() -> None:
    def progress(p: float) -> None:
        run_compare.progress = p

    try:
        result = run_comparison(SERVICE, settings.value, list(compare_policies.value), replicates.value, progress,
                                _stopper(run_compare))
    except Cancelled:
        return
    if run_compare.is_current():
        comparison.set(result)


# ---- pieces ------------------------------------------------------------------------------------

@solara.component
def UrlSync():
    """Show the settings of the address: the link a page was opened with, and later Back/Forward
    or a pasted link; when the settings change, put them in the address, so copying it shares
    exactly what this participant sees.

    The address a page was opened with is not rewritten: the browser reports it back once the
    page is up, and a rewrite racing with that report could undo a participant's first click."""
    router = solara.use_router()
    known = solara.use_ref(None)  # the query the address already stands for

    def read():
        if router.search and router.search != known.current:
            s, errors = from_query(router.search)
            settings.set(s)
            url_errors.set(errors)
            known.current = to_query(s)
        elif known.current is None:
            if WALL.pushed is not None:  # the facilitator's preset, for a page opened without settings
                settings.set(WALL.pushed)
            known.current = to_query(settings.value)
        url_checked.set(True)

    solara.use_effect(read, [router.search])
    query = to_query(settings.value)
    checked = url_checked.value  # as of this render: the first render's query predates the read

    def write():
        if checked and query != known.current:
            known.current = query
            router.push(f"{router.path}?{query}")

    solara.use_effect(write, [query, checked])


@solara.component
def UrlErrors():
    # Refused values come straight from the link: shown as plain text, never as Markdown or HTML,
    # so a crafted link cannot put markup or script on the page.
    if url_errors.value:
        with solara.Warning(dense=True):
            solara.Text("Some settings in the link were refused (the preset's values are used instead):",
                        style={"font-weight": "bold"})
            for e in url_errors.value:
                with solara.Div():
                    solara.Text(e, style={"font-family": "monospace"})


@solara.component
def Levers():
    s = settings.value
    solara.Select("Scenario", values=list(scenario_choices()), value=s.scenario,
                  on_value=lambda v: settings.set(preset(v, s.policy, s.seed)))
    solara.Select("Policy of the focal business", values=list(policy_choices()), value=s.policy,
                  on_value=lambda v: settings.set(preset(s.scenario, v, s.seed)))
    for lv in LEVERS:
        with solara.Div(classes=[f"lever-{lv.name}"]):
            value = getattr(s, lv.name)
            solara.SliderFloat(f"{lv.label}: {value:g}", value=value, min=lv.lo, max=lv.hi, step=lv.step,
                               on_value=lambda v, name=lv.name: settings.set(set_lever(settings.value, name, v)))
            solara.Text(lv.help, style={"font-size": "0.75em", "color": "#666"})
    solara.InputInt("Seed", value=s.seed,
                    on_value=lambda v: settings.set(replace(settings.value, seed=min(max(0, v), MAX_SEED))))
    solara.Button("Back to the preset's values", text=True,
                  on_click=lambda: settings.set(preset(s.scenario, s.policy, s.seed)))


@solara.component
def RunButtons(task, label: str):
    with solara.Row():
        solara.Button(label, color="primary", on_click=task, disabled=task.pending, classes=["run-button"])
        if task.pending:
            solara.Button("Cancel", on_click=task.cancel, classes=["cancel-button"])
    if task.pending:
        # Text, not an animated bar: a room of animated bars costs the participants' laptops, and
        # in the load benchmark (every browser on the server's two cores) it starved the runs.
        solara.Text(f"Running... {task.progress or 0:.0f}%", classes=["run-progress"])
    if task.error:
        solara.Error(f"The run failed: {task.exception}. Change the settings or press the button to try again.")


@solara.component
def Numbers(result: YearResult, before: YearResult | None):
    now = headline(result)
    old = headline(before) if before is not None else None
    with solara.Row(style={"flex-wrap": "wrap", "gap": "12px"}):
        for key, label, fmt in HEADLINE:
            with solara.Card(style={"min-width": "150px", "flex": "1 1 150px"}, classes=[f"number-{key}"]):
                solara.Text(label, style={"font-size": "0.8em", "color": "#555"})
                solara.HTML(tag="div", unsafe_innerHTML=fmt.format(now[key]),
                            style={"font-size": "1.6em", "font-weight": "bold"}, classes=["number-value"])
                if old is not None:
                    d = now[key] - old[key]
                    solara.Text(("+" if d >= 0 else "") + fmt.format(d) + " vs your previous run",
                                style={"font-size": "0.75em", "color": "#1b7837" if d >= 0 else "#b2182b"})


@solara.component
def YearCharts(ts, focal: str, horizon: int):
    """The five charts of a year (or of the days run so far), drawn by the browser."""
    options = solara.use_memo(lambda: charts.year_options(ts, focal, horizon), [id(ts)])
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["year-charts"]):
        for name, option in options.items():
            with solara.Div(classes=[f"chart-{name}", "chart"]):
                solara.FigureEcharts(option, responsive=True, attributes={"style": "height: 300px; width: 100%;"})


@solara.component
def ShareLink():
    query = to_query(settings.value)
    solara.HTML(tag="div", unsafe_innerHTML=f'<a class="share-link" href="./?{query}">Link to these settings</a> '
                                            "(the address bar carries them too)")


@solara.component
def Download(result: YearResult | None):
    if result is None:
        return
    solara.FileDownload(lambda: result.timeseries.to_csv(index=False).encode(), filename="trustsim-run.csv",
                        label="Download this run (CSV)")


# ---- pages -------------------------------------------------------------------------------------

@solara.component
def Explore():
    solara.Title("Explore - trust in digital public")
    # Side by side from a laptop's width up; on a phone or a narrow tablet the settings come first,
    # full width, and the run and its charts below them.
    with solara.ColumnsResponsive(12, medium=[4, 8]):
        with solara.Column(classes=["settings-column"]):
            Levers()
            ShareLink()
        with solara.Column(classes=["results-column"]):
            UrlErrors()
            solara.Markdown("Pick a scenario and a policy, move the levers, and run a year of the focal business "
                            "(20,000 people or so, a few seconds). Each run is yours alone.")
            RunButtons(run_explore, "Run a year")
            YearView()


@solara.component
def YearView():
    """The run's result, or its curves so far. Its own component, so that a run's updates (its
    curves, its end) re-render this part of the page only, not the levers: in a room every
    re-render is server CPU."""
    result = year.value
    if run_explore.pending and growing.value is not None:
        sc = build_scenario(settings.value)
        solara.Markdown("The year so far:")
        YearCharts(growing.value, sc.focal, sc.steps)
        return
    if result is None:
        solara.Info("No run yet: press \"Run a year\".")
        return
    if result.settings != settings.value:
        solara.Info("The levers moved since this run: press \"Run a year\" to see their effect.")
    s = result.settings
    solara.Markdown(f"**{s.scenario}**, focal business under **{s.policy}**, seed {s.seed}"
                    + (" (served from the cache: someone ran exactly these settings)" if result.cached else
                       f" ({result.seconds:.1f} s)"))
    Numbers(result, previous.value)
    YearCharts(result.timeseries, result.focal, int(result.timeseries.step.max()))
    Download(result)


@solara.component
def Compare():
    solara.Title("Compare - trust in digital public")
    UrlErrors()
    s = settings.value
    solara.Markdown(f"Two or three policies for the focal business of **{s.scenario}**, each run on the same "
                    "replicate seeds (common random numbers), with the other levers as set on Explore.")
    with solara.Row(style={"flex-wrap": "wrap", "gap": "12px"}):
        with solara.Div(style={"min-width": "240px", "flex": "1 1 240px"}):
            solara.SelectMultiple("Policies (2 or 3)", values=list(compare_policies.value),
                                  all_values=list(policy_choices()), on_value=lambda v: compare_policies.set(list(v)[:3]))
        with solara.Div(style={"min-width": "240px", "flex": "1 1 240px"}, classes=["replicates-slider"]):
            solara.SliderInt("Replicates", value=replicates, min=2, max=10)
    if len(compare_policies.value) < 2:
        solara.Warning("Choose at least two policies.")
        return
    RunButtons(run_compare, "Compare")
    c = comparison.value
    if c is None:
        solara.Info("No comparison yet: press \"Compare\".")
        return
    ComparisonView(c)


@solara.component
def ComparisonView(c):
    solara.Markdown(f"**{', '.join(c.policies)}** on {c.scenario.name}, {c.replicates} replicates each.")
    says = solara.use_memo(c.verdicts, [id(c)])
    solara.Markdown("\n".join(f"- {line}" for line in says["says"]), style={"font-size": "1.05em"})
    options = solara.use_memo(lambda: [
        charts.band_option(bands(c, "trust_all"), "Trust (everyone), mean and 5-95% of replicates", "trust"),
        charts.band_option(bands(c, "profit", cumulative=True), "Cumulative profit", "profit"),
        charts.band_option(bands(c, "customers"), "Customers", "customers"),
    ], [id(c)])
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["compare-charts"]):
        for option in options:
            with solara.Div(classes=["chart"]):
                solara.FigureEcharts(option, responsive=True, attributes={"style": "height: 300px; width: 100%;"})


@solara.component
def Venue():
    solara.Title("Inside the venue - trust in digital public")
    s = settings.value
    tick, set_tick = solara.use_state(0)
    view = solara.use_memo(lambda: VenueView(build_scenario(s), s.seed), [s])
    playing, set_playing = solara.use_state(False)

    at_end = view.day >= view.model.horizon

    def step(n: int = 1) -> None:
        for _ in range(min(n, view.model.horizon - view.day)):
            view.step()
        set_tick(lambda t: t + 1)

    def play():
        # This session's own thread steps this session's model, a day a second: drawing a frame
        # is server CPU, and a room of playing tabs must not crowd out everyone's clicks. The loop
        # stops between days (not inside one: intrusive cancel could leave a day half-stepped).
        while playing_ref.current and view.day < view.model.horizon:
            view.step()
            set_tick(lambda t: t + 1)
            for _ in range(10):
                if not playing_ref.current:
                    return
                time.sleep(0.1)
        if view.day >= view.model.horizon:
            set_playing(False)

    playing_ref = solara.use_ref(False)
    playing_ref.current = playing
    solara.use_thread(play if playing else (lambda: None), dependencies=[playing, view], intrusive_cancel=False)

    solara.Markdown(f"The Mesa engine on a small population ({view.scenario.population.people} people) of "
                    f"**{s.scenario}**, focal business under **{s.policy}**. Dots are people, in the smallest venue "
                    "they belong to; colour is their trust in the focal business, size their intimacy level "
                    "(small dots are silent observers). Rings mark today's accidents, replies and ignored complaints.")
    with solara.Row():
        solara.Button("Step a day", on_click=lambda: step(1), disabled=playing or at_end, classes=["step-button"])
        solara.Button("Step a week", on_click=lambda: step(7), disabled=playing or at_end)
        solara.Button("Pause" if playing else "Play", on_click=lambda: set_playing(not playing), color="primary",
                      disabled=at_end and not playing)
    with solara.ColumnsResponsive(12, medium=[7, 5]):
        option, ratio = solara.use_memo(view.option, [view, tick])
        with solara.Div(classes=["venue-figure"]):
            solara.FigureEcharts(option, responsive=True,
                                 attributes={"style": f"width: 100%; aspect-ratio: {ratio:.3f}; min-height: 220px;"})
        with solara.Column():
            counts = view.counts()
            solara.Markdown(" | ".join(f"**{k}** {v:.3f}" if isinstance(v, float) else f"**{k}** {v}"
                                       for k, v in counts.items()), style={"font-size": "0.9em"})
            solara.Markdown("**What happened** (newest first)\n\n" + ("\n".join(f"- {e}" for e in view.log[:25])
                                                                       or "_nothing yet: step a day_"),
                            style={"font-size": "0.85em", "max-height": "420px", "overflow-y": "auto"})


@solara.component
def Workshop():
    solara.Title("Workshop - trust in digital public")
    router = solara.use_router()

    def choose(scenario: str, policy: str, levers: dict) -> None:
        s = workshop_settings(scenario, policy, levers)
        settings.set(s)
        router.push(f"/?{to_query(s)}")
        run_explore()

    def reset() -> None:
        for task in (run_explore, run_compare):
            if task.pending:
                task.cancel()
        settings.set(Settings())
        year.set(None)
        previous.set(None)
        comparison.set(None)
        url_errors.set([])

    solara.Markdown("**Facilitator's presets**: one click sets the scenario, policy and levers, and runs the year.")
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for title, scenario, policy, levers, what in WORKSHOP:
            with solara.Card(title, style={"width": "250px"}):
                solara.Text(what)
                solara.Button("Run this", color="primary", classes=["preset-button"],
                              on_click=lambda scenario=scenario, policy=policy, levers=levers:
                              choose(scenario, policy, levers))
    with solara.Row():
        solara.Button("Reset everything", on_click=reset, classes=["reset-button"])
        ShareLink()
        Download(year.value)


@solara.component
def WallPage():
    """For the projector: every participant's latest runs, the spread per policy, who ran what.
    The facilitator's link (printed when the server starts) carries the key to clear the wall and
    push a preset; without it the page only shows."""
    solara.Title("Wall - trust in digital public")
    router = solara.use_router()
    from urllib.parse import parse_qs

    def take_key() -> None:
        # Once held, the key stays with this page's session (the actions check that, not the
        # address). It stays in the address bar too (rewriting the opening address races with the
        # browser's own report of it): project a keyless /wall, act from your own screen.
        if holds_key(parse_qs(router.search or "").get("key", [None])[0], KEY):
            facilitator.set(True)

    solara.use_effect(take_key, [router.search])
    version, set_version = solara.use_state(WALL.version)
    names = [title for title, *_ in WORKSHOP]
    choice, set_choice = solara.use_state(names[0])  # the facilitator's preset (hooks before any return)

    def watch(cancel) -> None:
        # A look at one integer every WALL_POLL seconds, next to nothing when nobody runs; ends
        # when the page goes (cancel is set), with no tracing of the thread (intrusive_cancel off).
        seen = WALL.version
        while not cancel.wait(WALL_POLL):
            if WALL.version != seen:
                seen = WALL.version
                set_version(seen)

    solara.use_thread(watch, dependencies=[], intrusive_cancel=False)
    points = WALL.points()
    import pandas as pd

    frame = pd.DataFrame([p.__dict__ for p in points], columns=["participant", "scenario", "policy", "trust", "profit",
                                                                "at"])
    option = solara.use_memo(lambda: charts.wall_option(frame), [version])
    people = frame.participant.nunique()
    with solara.Div(classes=["wall-count"]):
        solara.Markdown(f"**{len(frame)} run{'s' if len(frame) != 1 else ''} by {people} "
                        f"participant{'s' if people != 1 else ''}** (each "
                        f"participant's last {WALL.keep} runs; participants are numbered, never named)")
    with solara.Div(classes=["wall-chart"]):
        solara.FigureEcharts(option, responsive=True, attributes={"style": "height: 420px; width: 100%;"})
    if len(frame):
        per = frame.groupby("policy").agg(runs=("trust", "size"), participants=("participant", "nunique"),
                                          trust=("trust", "mean"), trust_low=("trust", "min"),
                                          trust_high=("trust", "max"), profit=("profit", "mean"),
                                          profit_low=("profit", "min"), profit_high=("profit", "max"))
        rows = "\n".join(f"| {p} | {r.runs} | {r.participants} | {r.trust:.3f} ({r.trust_low:.3f}-{r.trust_high:.3f}) "
                         f"| {r.profit:,.0f} ({r.profit_low:,.0f}-{r.profit_high:,.0f}) |" for p, r in zip(per.index, per.itertuples()))
        with solara.Div(classes=["wall-table"], style={"overflow-x": "auto"}):
            solara.Markdown("| policy | runs | participants | trust: mean (lowest-highest) | profit: mean (lowest-highest) "
                            "|\n|---|---|---|---|---|\n" + rows)
    if not facilitator.value:
        solara.Info("View only. The facilitator's link, printed when the server starts, can clear the wall and push "
                    "a preset to everyone.", dense=True, classes=["wall-view-only"])
        return

    def push() -> None:
        if facilitator.value:  # checked again when acting, not only when drawing the buttons
            _, scenario, policy, levers, _ = WORKSHOP[names.index(choice)]
            WALL.push(workshop_settings(scenario, policy, levers))

    def clear() -> None:
        if facilitator.value:
            WALL.clear()

    def unpush() -> None:
        if facilitator.value:
            WALL.push(None)

    pushed = WALL.pushed
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px", "align-items": "center"}, classes=["wall-actions"]):
        solara.Button("Clear the wall", on_click=clear, classes=["wall-clear"])
        with solara.Div(style={"min-width": "220px"}, classes=["wall-preset"]):
            solara.Select("Preset", values=names, value=choice, on_value=set_choice)
        solara.Button("Push to everyone's next page", on_click=push, color="primary", classes=["wall-push"])
        if pushed is not None:
            solara.Button("Stop pushing", on_click=unpush, text=True, classes=["wall-unpush"])
    if pushed is not None:
        solara.Text(f"Pages opened now start from: {pushed.scenario}, {pushed.policy}.", classes=["wall-pushed"])


# Phones first: charts never wider than the screen, sliders wide enough for a thumb, the tab
# bar scrollable rather than squeezed.
PAGE_CSS = """
.year-charts, .compare-charts { width: 100%; }
.year-charts .chart, .compare-charts .chart { flex: 1 1 420px; min-width: 280px; max-width: 640px; }
.venue-figure, .wall-chart { width: 100%; max-width: 1100px; }
.year-charts > div, .compare-charts > div { max-width: 100%; }
/* a slider's label above its track, so the track has the column's whole width for a thumb */
.v-slider.v-input--horizontal { display: flex; flex-direction: column; align-items: stretch; }
.v-slider .v-input__prepend { margin-inline-end: 0; margin-bottom: -6px; }
.v-slider .v-input__control { width: 100%; min-width: 200px; }
.v-slider .v-slider__container { touch-action: none; }
@media (max-width: 600px) {
  .v-toolbar__title { display: none; }
  .v-tab { min-width: 0 !important; padding: 0 10px !important; font-size: 0.8rem; }
  .v-main .v-container, .v-main .container { padding: 8px !important; }
}
"""


@solara.component
def Layout(children=[]):
    router = solara.use_router()
    route, siblings = solara.use_route()
    index = siblings.index(route) if route in siblings else 0
    query = to_query(settings.value)
    here = router.path + (f"?{router.search}" if router.search else "")
    opening = solara.use_ref(here)  # the address this page was opened at
    click = solara.use_ref(None)  # (where a tab click went, when), until the guard below has run once

    def go(i: int) -> None:
        path = siblings[i].path
        target = f"/{'' if path == '/' else path}?{query}"
        if click.current != "spent":
            click.current = (target, time.monotonic())
        router.push(target)

    def guard() -> None:
        # Solara's Navigator view may be created in the browser only after a first click was
        # handled; it then reports the address the page was opened at, which undoes the click
        # (seen about once in six fast first clicks). Once per page, a return to the opening
        # address within 3 s of a tab click is taken for that report, and the click is redone.
        if isinstance(click.current, tuple) and here == opening.current:
            target, at = click.current
            if target != here and time.monotonic() - at < 3:
                click.current = "spent"
                router.push(target)

    solara.use_effect(guard, [here])

    with solara.AppLayout(title="Trust in digital public") as main:
        with solara.AppBar():
            with solara.lab.Tabs(value=index, on_value=go, align="center"):
                for r in siblings:
                    solara.lab.Tab(r.label, classes=[f"tab-{r.path.strip('/') or 'explore'}"])
        # One child only: AppLayout would put a first child of several into a sidebar.
        with solara.Column():
            solara.Style(PAGE_CSS)
            UrlSync()  # inside the returned tree: an element made outside it would never mount
            solara.Column(children=children)
    return main


routes = [
    solara.Route(path="/", component=Explore, label="Explore", layout=Layout),
    solara.Route(path="compare", component=Compare, label="Compare"),
    solara.Route(path="venue", component=Venue, label="Inside the venue"),
    solara.Route(path="workshop", component=Workshop, label="Workshop"),
    solara.Route(path="wall", component=WallPage, label="Wall"),
]
