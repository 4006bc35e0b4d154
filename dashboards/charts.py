"""Charts for the dashboard: pure functions from run tables to ECharts options, drawn by each
participant's browser. The server sends numbers, never pictures: drawing on the server is what
slowed a busy room down (a year's five PNGs cost 1.0 s of its 1.4 s).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVEL_COLOURS = ("#c6dbef", "#6baed6", "#08519c")  # L1 recognised, L2 outcomes known, L3 meaning shared
POLICY_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")  # Dark2


# Chart columns a running year sends to its page (dashboards/jobs.py), in this order.
CHART_COLUMNS = ("trust_engaged", "trust_observers", "level1", "level2", "level3", "reach", "replies", "customers",
                 "profit")


def _line(name: str, x, y, colour: str, width: float = 2, dashed: bool = False, area: bool = False) -> dict:
    series = {"name": name, "type": "line", "showSymbol": False,
              "data": [list(p) for p in zip(np.asarray(x, np.int64).tolist(), _nums(y))],
              "lineStyle": {"color": colour, "width": width, "type": "dashed" if dashed else "solid"},
              "itemStyle": {"color": colour}, "animation": False}
    if area:
        series["areaStyle"] = {"color": colour, "opacity": 1.0}
    return series


def _num(v) -> float | None:
    v = float(v)
    return round(v, 6) if np.isfinite(v) else None


def _nums(values) -> list:
    """_num of every value, in one pass (a year's charts send some 7,000 numbers)."""
    a = np.asarray(values, float)
    out = np.round(a, 6).tolist()
    finite = np.isfinite(a)
    return out if finite.all() else [v if ok else None for v, ok in zip(out, finite.tolist())]


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
        series.append({**common, "name": f"{arm} 5%", "data": _nums(low)})
        series.append({**common, "name": f"{arm} 5-95%", "data": _nums(width),
                       "areaStyle": {"color": c, "opacity": 0.2}})
        series.append({"name": str(arm), "type": "line", "showSymbol": False, "animation": False,
                       "data": _nums(g["mean"]), "lineStyle": {"color": c, "width": 2},
                       "itemStyle": {"color": c}})
    days = [int(d) for d in bands.step.unique()]
    option = _option(title, ylabel, series, days[-1] if days else 0)
    option["xAxis"] = {"type": "category", "data": days, "name": "day", "nameLocation": "middle", "nameGap": 22,
                       "boundaryGap": False}
    option["legend"]["data"] = [str(a) for a in bands.arm.unique()]  # the means only, not the band edges
    return option


def wall_option(points: pd.DataFrame) -> dict:
    """The room's runs: trust against profit, one colour per policy, each policy's mean as a diamond.
    ``points``: policy, trust, profit (one row per run)."""
    policies = sorted(points.policy.unique()) if len(points) else []
    series = []
    for i, policy in enumerate(policies):
        g = points[points.policy == policy]
        c = POLICY_COLOURS[i % len(POLICY_COLOURS)]
        series.append({"name": f"{policy} ({len(g)})", "type": "scatter", "symbolSize": 10, "animation": False,
                       "itemStyle": {"color": c, "opacity": 0.75},
                       "data": [list(p) for p in zip(_nums(g.trust), _nums(g.profit))]})
        series.append({"name": f"{policy} ({len(g)})", "type": "scatter", "symbol": "diamond", "symbolSize": 18,
                       "animation": False, "itemStyle": {"color": c, "borderColor": "#000", "borderWidth": 1},
                       "data": [[_num(g.trust.mean()), _num(g.profit.mean())]], "tooltip": {"show": False}})
    option = {"title": {"text": "The room's runs (the large diamond: each policy's mean)", "left": "center",
                        "textStyle": {"fontSize": 13}},
              "tooltip": {"trigger": "item"},
              "legend": {"top": 24, "textStyle": {"fontSize": 11}, "type": "scroll"},
              "grid": {"left": 72, "right": 20, "top": 62, "bottom": 44},
              "xAxis": {"type": "value", "name": "trust, everyone (end of the year)", "nameLocation": "middle",
                        "nameGap": 26, "scale": True},
              "yAxis": {"type": "value", "name": "profit over the year", "nameLocation": "middle", "nameGap": 58,
                        "scale": True},
              "animation": False, "series": series}
    if not policies:
        option["graphic"] = [{"type": "text", "left": "center", "top": "middle", "style": {
            "text": "No runs yet: they appear here as participants run a year", "fill": "#666", "fontSize": 14}}]
    return option


TRUST_COLOURS = ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850")  # low to high trust
RINGS = (("accident reported today", "#d62728"), ("answered today", "#1f77b4"), ("complaint ignored today", "#000000"))


def venue_option(x: np.ndarray, y: np.ndarray, trust: np.ndarray, level: np.ndarray, engaged: np.ndarray,
                 venue_centres: dict[str, tuple[float, float, float]], rings: tuple[np.ndarray, ...],
                 title: str) -> tuple[dict, float]:
    """People placed in their venues, coloured by trust, sized by intimacy; today's accidents,
    replies and ignored complaints (``rings``, masks in the order of RINGS) ringed. Returns the
    option and the width-to-height ratio the chart should keep, so the venues stay round."""
    circle = np.linspace(0.0, 2 * np.pi, 65)
    series = []
    for name, (cx, cy, r) in venue_centres.items():
        series.append({"name": name, "type": "line", "showSymbol": False, "silent": True, "animation": False,
                       "lineStyle": {"color": "#999", "width": 1}, "tooltip": {"show": False},
                       "data": [list(p) for p in zip(_nums(cx + r * np.cos(circle)), _nums(cy + r * np.sin(circle)))],
                       "markPoint": {"symbol": "circle", "symbolSize": 1, "silent": True,
                                     "label": {"show": True, "formatter": name, "color": "#555", "fontSize": 12,
                                               "position": "top"},
                                     "data": [{"coord": [_num(cx), _num(cy + r)]}]}})
    size = np.where(engaged, 6 + 5 * level, 3).tolist()
    people = [{"value": list(v), "symbolSize": s} for v, s in zip(zip(_nums(x), _nums(y), _nums(trust)), size)]
    series.append({"name": "people", "type": "scatter", "animation": False, "data": people,
                   "itemStyle": {"borderColor": "rgba(40,40,40,0.6)", "borderWidth": 0.3}})
    for (label, colour), mask in zip(RINGS, rings):
        series.append({"name": label, "type": "scatter", "animation": False, "symbolSize": 16,
                       "itemStyle": {"color": "rgba(0,0,0,0)", "borderColor": colour, "borderWidth": 2},
                       "data": [list(p) for p in zip(_nums(x[mask]), _nums(y[mask]))]})
    xs = [c[0] - c[2] for c in venue_centres.values()] + [c[0] + c[2] for c in venue_centres.values()]
    ys = [c[1] - c[2] for c in venue_centres.values()] + [c[1] + c[2] for c in venue_centres.values()]
    pad = 0.08
    x0, x1, y0, y1 = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    # the plot area takes 90% of the width and 58% of the height: keep data units square
    ratio = ((x1 - x0) / 0.90) / ((y1 - y0) / 0.58)
    option = {"title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
              "tooltip": {"trigger": "item"},
              "legend": {"bottom": 0, "data": [label for label, _ in RINGS], "textStyle": {"fontSize": 10}},
              "grid": {"left": "5%", "right": "5%", "top": "24%", "bottom": "18%"},
              "xAxis": {"type": "value", "min": _num(x0), "max": _num(x1), "show": False},
              "yAxis": {"type": "value", "min": _num(y0), "max": _num(y1), "show": False},
              "visualMap": {"type": "continuous", "min": 0, "max": 1, "dimension": 2, "seriesIndex": len(venue_centres),
                            "inRange": {"color": list(TRUST_COLOURS)}, "orient": "horizontal", "left": "center",
                            "top": "9%", "itemHeight": 120, "itemWidth": 10, "calculable": False,
                            "text": ["trust 1", "0"], "textStyle": {"fontSize": 10}},
              "animation": False, "series": series}
    return option, ratio
