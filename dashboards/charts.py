"""Figures for the dashboard: pure functions from run tables to matplotlib Figures.

``matplotlib.figure.Figure`` directly, never pyplot: pyplot keeps global figure state, which a
server with many sessions must not share. Figures are drawn once per result (the pages memoize
them), since server-side redraws are what slows a busy room down.
"""

from __future__ import annotations

import io

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")  # no display on a server; set before any figure is made

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

LEVEL_COLOURS = ("#c6dbef", "#6baed6", "#08519c")  # L1 recognised, L2 outcomes known, L3 meaning shared
POLICY_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def _fig(width: float = 5.2, height: float = 3.0) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), dpi=90, layout="constrained")
    return fig, fig.subplots()


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# Chart columns a running year sends to its page (dashboards/jobs.py), in this order.
CHART_COLUMNS = ("trust_engaged", "trust_observers", "level1", "level2", "level3", "reach", "replies", "customers",
                 "profit")


def _line(name: str, x, y, colour: str, width: float = 2, dashed: bool = False, area: bool = False) -> dict:
    series = {"name": name, "type": "line", "showSymbol": False, "data": [[int(a), _num(b)] for a, b in zip(x, y)],
              "lineStyle": {"color": colour, "width": width, "type": "dashed" if dashed else "solid"},
              "itemStyle": {"color": colour}, "animation": False}
    if area:
        series["areaStyle"] = {"color": colour, "opacity": 1.0}
    return series


def _num(v) -> float | None:
    v = float(v)
    return round(v, 6) if np.isfinite(v) else None


def _option(title: str, ylabel: str, series: list[dict], horizon: int) -> dict:
    """A line chart drawn in the browser (ECharts): the server sends numbers, never pictures."""
    return {"title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 24, "textStyle": {"fontSize": 10}, "type": "scroll"},
            "grid": {"left": 56, "right": 16, "top": 62, "bottom": 36},
            "xAxis": {"type": "value", "min": 0, "max": horizon, "name": "day", "nameLocation": "middle",
                      "nameGap": 22},
            "yAxis": {"type": "value", "name": ylabel, "nameLocation": "middle", "nameGap": 44, "scale": True},
            "animation": False, "series": series}


def year_options(ts: pd.DataFrame, focal: str, horizon: int) -> dict[str, dict]:
    """The year of one run, as ECharts options: trust, intimacy ladder, witnesses vs participants,
    customers, profit. ``ts`` may stop before ``horizon`` (a run still going): the x axis is the
    whole year, so the curves grow as the days come in."""
    day = ts.step.unique()
    names = list(dict.fromkeys(ts.business))
    by = {b: ts[ts.business == b] for b in names}
    f = by[focal]
    out = {}
    trust = []
    for i, b in enumerate(names):
        c, w = POLICY_COLOURS[i % len(POLICY_COLOURS)], 2 if b == focal else 1.2
        trust.append(_line(f"{b}: engaged", day, by[b].trust_engaged, c, w))
        trust.append(_line(f"{b}: silent observers", day, by[b].trust_observers, c, w, dashed=True))
    out["trust"] = _option("Trust over the year", "mean trust (0-1)", trust, horizon)
    # Bands drawn as areas down to zero, the tallest first and each lower one painted over it.
    tops = np.cumsum([f.level1.to_numpy(), f.level2.to_numpy(), f.level3.to_numpy()], axis=0)
    ladder = [_line(label, day, tops[k], LEVEL_COLOURS[k], 1, area=True) for k, label in
              reversed(list(enumerate(("L1 recognised", "L2 knows their outcomes", "L3 knows what it means to them"))))]
    out["intimacy"] = _option(f"Intimacy ladder ({focal})", "people", ladder, horizon)
    out["witnesses"] = _option(f"Witnesses vs participants ({focal})", "people", [
        _line("people who have witnessed it (reach)", day, f.reach, "#2b8cbe"),
        _line("replies given (participants addressed)", day, f.replies.cumsum(), "#e6550d")], horizon)
    out["customers"] = _option("Customers", "customers", [
        _line(b, day, by[b].customers, POLICY_COLOURS[i % len(POLICY_COLOURS)], 2 if b == focal else 1.2)
        for i, b in enumerate(names)], horizon)
    out["profit"] = _option("Cumulative profit", "profit", [
        _line(b, day, by[b].profit.cumsum(), POLICY_COLOURS[i % len(POLICY_COLOURS)], 2 if b == focal else 1.2)
        for i, b in enumerate(names)], horizon)
    return out


def band_option(bands: pd.DataFrame, title: str, ylabel: str) -> dict:
    """Mean line and 5-95% replicate band per policy (from dashboards.jobs.bands), for the browser:
    each band is its low edge (invisible) with the width stacked on it as an area."""
    series = []
    for i, (arm, g) in enumerate(bands.groupby("arm", observed=True, sort=False)):
        c = POLICY_COLOURS[i % len(POLICY_COLOURS)]
        low, width = g.lo.to_numpy(), (g.hi - g.lo).to_numpy()
        common = {"type": "line", "showSymbol": False, "stack": f"band-{arm}", "animation": False,
                  "lineStyle": {"opacity": 0}, "tooltip": {"show": False}}
        series.append({**common, "name": f"{arm} 5%", "data": [_num(v) for v in low]})
        series.append({**common, "name": f"{arm} 5-95%", "data": [_num(v) for v in width],
                       "areaStyle": {"color": c, "opacity": 0.2}})
        series.append({"name": str(arm), "type": "line", "showSymbol": False, "animation": False,
                       "data": [_num(v) for v in g["mean"]], "lineStyle": {"color": c, "width": 2},
                       "itemStyle": {"color": c}})
    days = [int(d) for d in bands.step.unique()]
    option = _option(title, ylabel, series, days[-1] if days else 0)
    option["xAxis"] = {"type": "category", "data": days, "name": "day", "nameLocation": "middle", "nameGap": 22,
                       "boundaryGap": False}
    option["legend"]["data"] = [str(a) for a in bands.arm.unique()]  # the means only, not the band edges
    return option


def wall_figure(points: pd.DataFrame) -> Figure:
    """The room's runs: trust against profit, one colour per policy, each policy's mean as a cross.
    ``points``: policy, trust, profit (one row per run)."""
    fig, ax = _fig(9.0, 5.0)
    policies = sorted(points.policy.unique()) if len(points) else []
    colours = matplotlib.colormaps["tab10"]
    for i, policy in enumerate(policies):
        g = points[points.policy == policy]
        c = colours(i % 10)
        ax.scatter(g.trust, g.profit, s=40, color=c, alpha=0.75, label=f"{policy} ({len(g)})")
        ax.scatter([g.trust.mean()], [g.profit.mean()], s=160, marker="P", color=c, edgecolor="black", lw=0.8)
    if not policies:
        ax.text(0.5, 0.5, "No runs yet: they appear here as participants run a year", ha="center", va="center",
                transform=ax.transAxes, color="#666")
    ax.set(xlabel="trust, everyone (end of the year)", ylabel="profit over the year",
           title="The room's runs (+ marks each policy's mean)")
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    if policies:
        ax.legend(fontsize=8, title="policy (runs)", title_fontsize=8)
    return fig


def venue_figure(x: np.ndarray, y: np.ndarray, trust: np.ndarray, level: np.ndarray, engaged: np.ndarray,
                 venue_centres: dict[str, tuple[float, float, float]], accident: np.ndarray, replied: np.ndarray,
                 ignored: np.ndarray, title: str) -> Figure:
    """People placed in their venues, coloured by trust, sized by intimacy; today's accidents,
    replies and ignored complaints ringed."""
    fig = Figure(figsize=(7.5, 5.2), dpi=90, layout="constrained")
    ax = fig.subplots()
    for name, (cx, cy, r) in venue_centres.items():
        ax.add_patch(matplotlib.patches.Circle((cx, cy), r, fc="#f4f4f4", ec="#999", lw=1))
        ax.text(cx, cy + r + 0.04, name, ha="center", va="bottom", fontsize=10, color="#555")
    size = np.where(engaged, 18 + 28 * level, 6)
    sc = ax.scatter(x, y, c=trust, s=size, cmap="RdYlGn", vmin=0, vmax=1, marker="o",
                    edgecolors=np.where(engaged[:, None], [[0.2, 0.2, 0.2, 0.8]], [[0, 0, 0, 0]]), linewidths=0.5)
    for mask, colour, label in ((accident, "#d62728", "accident reported today"),
                                (replied, "#1f77b4", "answered today"),
                                (ignored, "#000000", "complaint ignored today")):
        if mask.any():
            ax.scatter(x[mask], y[mask], s=160, facecolors="none", edgecolors=colour, linewidths=2, label=label)
    fig.colorbar(sc, ax=ax, shrink=0.7, label="trust in the focal business")
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=11, pad=24)
    if accident.any() or replied.any() or ignored.any():
        ax.legend(loc="lower center", fontsize=8, ncols=3, bbox_to_anchor=(0.5, -0.08))
    return fig
