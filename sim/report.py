"""The comparison report: an HTML page with the plots and tables behind it (PNG, CSV)."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window; safe on servers and in worker processes
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .compare import HEADLINES, Comparison, describe  # noqa: E402


def _colors(n: int) -> list:
    cmap = matplotlib.colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def plot_trust(c: Comparison, column: str = "trust_all") -> Figure:
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    for color, (arm, grp) in zip(_colors(len(c.policies)), c.focal.groupby("arm", observed=True, sort=False)):
        wide = grp.pivot_table(index="step", columns="replicate", values=column, observed=True)
        q = wide.quantile([0.1, 0.5, 0.9], axis=1).T
        ax.fill_between(q.index, q[0.1], q[0.9], color=color, alpha=0.2, linewidth=0)
        ax.plot(q.index, q[0.5], color=color, label=arm)
    ax.set(xlabel="day", ylabel=f"{column.replace('_', ' ')} in {c.business}",
           title=f"Trust over time: median and 10-90% of {c.replicates} replicates")
    ax.legend(fontsize=8, ncols=2)
    return fig


def _bars(ax, labels, values, errors=None, color=None, bottom=None, label=None):
    x = np.arange(len(labels))
    ax.bar(x, values, yerr=errors, color=color, bottom=bottom, label=label, capsize=3)
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)


def plot_ladder(c: Comparison) -> Figure:
    means = c.outcomes().groupby("arm", observed=True, sort=False)[["level1", "level2", "level3"]].mean()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(means))
    for i, (col, color) in enumerate(zip(means.columns, _colors(3))):
        ax.bar(x + (i - 1) * 0.27, means[col], width=0.27, color=color, label=col.replace("level", "L"))
    ax.set_xticks(x, means.index, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("symlog", linthresh=10)
    ax.set(ylabel="people at each level (end of run)", title="The intimacy ladder: L1 recognised, L2 outcome, "
                                                               "L3 personal meaning")
    ax.legend()
    return fig


def plot_witnesses(c: Comparison) -> Figure:
    f = c.focal[c.focal.step > 0].groupby("arm", observed=True, sort=False)[["witnesses", "posts", "replies"]].mean()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(f))
    ax.bar(x - 0.2, f["witnesses"], width=0.4, label="witnesses per day", color=_colors(2)[0])
    ax.bar(x + 0.2, f["posts"] + f["replies"], width=0.4, label="participants per day (posts + replies)",
           color=_colors(2)[1])
    ax.set_xticks(x, f.index, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="people per day", title="The silent audience: witnesses vs participants")
    ax.legend()
    return fig


def plot_money(c: Comparison) -> Figure:
    t = c.table()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for ax, col, color in ((ax1, "profit", _colors(3)[2]), (ax2, "engagement_cost", _colors(4)[3])):
        mean = t[(col, "mean")]
        err = np.vstack([mean - t[(col, "lo")], t[(col, "hi")] - mean])
        _bars(ax, t.index, mean, np.nan_to_num(err), color=color)
        ax.set(title=f"{col.replace('_', ' ')} over the run (95% CI)")
    return fig


def plot_accidents(c: Comparison) -> Figure:
    m = c.outcomes().groupby("arm", observed=True, sort=False)[["accidents_handled", "accidents_ignored"]].mean()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    _bars(ax, m.index, m["accidents_handled"], color=_colors(3)[2], label="handled in public")
    _bars(ax, m.index, m["accidents_ignored"], color=_colors(4)[3], bottom=m["accidents_handled"],
          label="ignored in public")
    ax.set(ylabel="public accident reports over the run", title="Accidents: handled vs ignored")
    ax.legend()
    return fig


PLOTS = {"trust": (plot_trust, "Trust over time"), "ladder": (plot_ladder, "Intimacy ladder"),
         "witnesses": (plot_witnesses, "Witnesses vs participants"), "money": (plot_money, "Profit and cost"),
         "accidents": (plot_accidents, "Accidents handled vs ignored")}


def _headline_table(c: Comparison) -> pd.DataFrame:
    t = c.table()
    cells = {}
    for col in HEADLINES:
        cells[col] = [f"{_num(m)} [{_num(lo)}, {_num(hi)}]" for m, lo, hi in
                      zip(t[(col, "mean")], t[(col, "lo")], t[(col, "hi")])]
    return pd.DataFrame(cells, index=t.index)


def _num(v: float) -> str:
    if not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3f}"


def write_report(c: Comparison, directory: str | Path) -> Path:
    """Write index.html with every plot (PNG) and the CSVs behind them; return the page's path."""
    out = Path(directory)
    c.save(out)
    images = []
    for name, (make, title) in PLOTS.items():
        make(c).savefig(out / f"{name}.png", dpi=110)
        images.append(f'<h2>{html.escape(title)}</h2><img src="{name}.png" alt="{html.escape(title)}">')
    meta = describe(c)
    diffs = c.differences()
    diffs = diffs[diffs.outcome.isin(HEADLINES)].copy()
    diffs["difference"] = [f"{_num(m)} [{_num(lo)}, {_num(hi)}]" for m, lo, hi in
                           zip(diffs["difference"], diffs["lo"], diffs["hi"])]
    diffs = diffs.pivot(index="policy", columns="outcome", values="difference")[list(HEADLINES)]
    says = "".join(f"<li>{html.escape(s)}</li>" for s in c.verdicts()["says"])
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Policy comparison: {html.escape(meta['scenario'])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;font-size:0.85em}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}
img{{max-width:100%}}</style></head><body>
<h1>Policy comparison for {html.escape(c.business)} in scenario "{html.escape(meta['scenario'])}"</h1>
<p>{len(c.policies)} policies x {c.replicates} replicates on common random numbers (seed {c.seed}), {html.escape(c.engine)}
engine, {int(c.focal.step.max())} days. Intervals are 95% t-intervals over replicates.</p>
<h2>Who wins on what</h2><ul>{says}</ul>
<h2>Means per policy</h2>{_headline_table(c).to_html(escape=True)}
<h2>Paired differences against {html.escape(c.baseline)}</h2>{diffs.to_html(escape=True)}
{''.join(images)}
<h2>Data</h2><p><a href="table.csv">table.csv</a> (all outcomes, means and intervals),
<a href="differences.csv">differences.csv</a>, <a href="verdicts.csv">verdicts.csv</a>,
<a href="outcomes.csv">outcomes.csv</a> (one row per run), timeseries.parquet (every day of every run).</p>
</body></html>"""
    page_path = out / "index.html"
    page_path.write_text(page)
    return page_path
