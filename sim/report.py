"""The comparison report: an HTML page with the plots and tables behind it (PNG, CSV)."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window; safe on servers and in worker processes
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .compare import GOALS, HEADLINES, MATERIAL, Comparison, describe  # noqa: E402
from .results import LABELS  # noqa: E402


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


def _label_bars(ax, bars, fmt="{:,.0f}"):
    for bar in bars:
        h = bar.get_height()
        if np.isfinite(h):
            ax.annotate(fmt.format(h), (bar.get_x() + bar.get_width() / 2, h), ha="center", va="bottom", fontsize=7,
                        xytext=(0, 2), textcoords="offset points")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * 1.1)  # room for the labels under the title


def plot_ladder(c: Comparison) -> Figure:
    means = c.outcomes().groupby("arm", observed=True, sort=False)[["level1", "level2", "level3"]].mean()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(means))
    for i, (col, color) in enumerate(zip(means.columns, _colors(3))):
        bars = ax.bar(x + (i - 1) * 0.27, means[col], width=0.27, color=color, label=col.replace("level", "L"))
        _label_bars(ax, bars, "{:,.1f}")
    ax.set_xticks(x, [_words(a) for a in means.index], rotation=30, ha="right", fontsize=8)
    ax.set(ylabel=f"people at each level (end of run, mean of {c.replicates})",
           title="Intimacy ladder: L1 recognised, L2 outcome known, L3 meaning understood")
    ax.legend()
    return fig


def plot_witnesses(c: Comparison) -> Figure:
    f = c.focal[c.focal.step > 0].groupby("arm", observed=True, sort=False)[["witnesses", "posts", "replies"]].mean()
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(f))
    interactions = f["posts"] + f["replies"]
    _label_bars(ax, ax.bar(x - 0.2, f["witnesses"], width=0.4, label="witnesses: people who saw a thread about it",
                           color=_colors(2)[0]))
    _label_bars(ax, ax.bar(x + 0.2, interactions, width=0.4, label="public interactions: posts about it + its replies",
                           color=_colors(2)[1]))
    ax.set_xticks(x, [_words(a) for a in f.index], rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="per day (mean over the run)",
           title="The silent audience: people watching vs public interactions, per day")
    ax.legend(fontsize=8)
    return fig


def plot_money(c: Comparison) -> Figure:
    """Extra profit over the baseline against what the engagement cost, with 95% intervals: the
    policies above the diagonal's zero line earn more than doing the baseline."""
    out = c.outcomes().set_index(["arm", "replicate"])
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    base = out.loc[c.baseline, "profit"] if c.baseline in out.index.get_level_values("arm") else None
    for color, arm in zip(_colors(len(c.policies)), c.policies):
        if arm == c.baseline or base is None:
            continue
        extra = (out.loc[arm, "profit"] - base).to_numpy(float)
        cost = out.loc[arm, "engagement_cost"].to_numpy(float)
        (m, lo, hi), (cm, clo, chi) = _ci(extra), _ci(cost)
        ax.errorbar(cm, m, yerr=[[m - lo], [hi - m]], xerr=[[cm - clo], [chi - cm]], fmt="o", color=color,
                    capsize=3, label=_words(arm))
        ax.annotate(f"{m:+,.0f}", (cm, m), xytext=(6, 4), textcoords="offset points", fontsize=7)
    ax.axhline(0, color="0.4", linewidth=0.8)
    ax.set(xlabel="engagement cost over the run (money)", ylabel=f"extra profit over {_words(c.baseline)} (money)",
           title=f"Profit: what each policy adds to {_words(c.baseline)}, against what it costs (95% intervals)")
    ax.legend(fontsize=8)
    return fig


def plot_accidents(c: Comparison) -> Figure:
    m = c.outcomes().groupby("arm", observed=True, sort=False)[
        ["accidents_handled", "accidents_ignored", "purchases"]].mean()
    acc = c.focal[c.focal.step > 0].groupby("arm", observed=True, sort=False)["accidents"].sum() / c.replicates
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    _bars(ax, [_words(a) for a in m.index], m["accidents_handled"], color=_colors(3)[2], label="handled in public")
    _bars(ax, [_words(a) for a in m.index], m["accidents_ignored"], color=_colors(4)[3],
          bottom=m["accidents_handled"], label="ignored in public")
    for i, arm in enumerate(m.index):
        top = m.loc[arm, "accidents_handled"] + m.loc[arm, "accidents_ignored"]
        per = 1000 * acc.get(arm, np.nan) / m.loc[arm, "purchases"] if m.loc[arm, "purchases"] else np.nan
        ax.annotate(f"{acc.get(arm, np.nan):,.0f} accidents\n{per:.1f} per 1,000 purchases", (i, top),
                    ha="center", va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    tops = m["accidents_handled"] + m["accidents_ignored"]
    ax.set_ylim(0, max(float(tops.max()), 1.0) * 1.3)  # room for the two lines written above each bar
    ax.set(ylabel=f"accident reports in public over the run (mean of {c.replicates})",
           title="Accidents: public reports handled vs ignored; above, all accidents and their rate")
    ax.legend()
    return fig


def _ci(x: np.ndarray) -> tuple[float, float, float]:
    from .compare import _interval

    m, lo, hi = _interval(x, 0.95)
    return m, (lo if np.isfinite(lo) else m), (hi if np.isfinite(hi) else m)


def _words(policy: str) -> str:
    return str(policy).replace("_", " ")


PLOTS = {"trust": (plot_trust, "Trust over time"), "ladder": (plot_ladder, "Intimacy ladder"),
         "witnesses": (plot_witnesses, "Witnesses vs participants"), "money": (plot_money, "Profit and cost"),
         "accidents": (plot_accidents, "Accidents handled vs ignored")}


def _headline_table(c: Comparison) -> pd.DataFrame:
    t = c.table()
    cells = {}
    for col in HEADLINES:
        cells[col] = [f"{_num(m)} [{_num(lo)}, {_num(hi)}]" for m, lo, hi in
                      zip(t[(col, "mean")], t[(col, "lo")], t[(col, "hi")])]
    table = pd.DataFrame(cells, index=[_words(a) for a in t.index])
    table.columns = [LABELS.get(c, c) for c in table.columns]
    return table


DEFINITIONS = """<h2>What the measures mean</h2><dl>
<dt>trust</dt><dd>how much a person trusts the business, from 0 (none) to 1 (complete); people start near the
scenario's baseline. Shown as the mean over everyone at the end of the run.</dd>
<dt>intimacy L1, L2, L3</dt><dd>people the business recognises with what they buy (L1), whose desired outcome it
knows (L2), whose personal meaning it understands (L3).</dd>
<dt>customers</dt><dd>people who buy from the business at the end; <b>share of wallet</b> is the share of their
category purchases it gets (0-1).</dd>
<dt>reach, witnesses</dt><dd>reach: people who ever saw a public thread about the business; witnesses: people who
saw one that day.</dd>
<dt>profit, money</dt><dd>revenue x margin - engagement cost over the run, in the money of the scenario's prices;
engagement cost is staff time, coupon discounts and hosting.</dd>
<dt>extra profit per unit of engagement cost</dt><dd>(profit - the baseline's profit on the same replicate) /
engagement cost: what each unit of money spent on engagement brings beyond itself; below 0, it does not pay.</dd>
<dt>clearly ahead</dt><dd>the paired 95% interval of the difference excludes zero and the difference is at least
{material:.0%} of the runner-up's value.</dd></dl>"""


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
    diffs.index = [_words(a) for a in diffs.index]
    diffs.columns = [LABELS.get(col, col) for col in diffs.columns]
    says = "".join(f"<li><b>{html.escape(goal)}</b>{html.escape(line.removeprefix(goal))}</li>"
                   for goal, line in c.verdicts()[["goal", "says"]].itertuples(index=False))
    goals = ", ".join(g.lower() for g, _, _ in GOALS)
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Policy comparison: {html.escape(meta['scenario'])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;font-size:0.85em;display:block;overflow-x:auto;max-width:100%}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}
img{{max-width:100%}}</style></head><body>
<h1>Which policy for {html.escape(c.business)}? Scenario "{html.escape(meta['scenario'])}"</h1>
<p>{len(c.policies)} policies x {c.replicates} replicates on common random numbers (seed {c.seed}), {html.escape(c.engine)}
engine, {int(c.focal.step.max())} days, compared with {html.escape(_words(c.baseline))}. Intervals are 95% t-intervals
over replicates.</p>
<h2>The answer, goal by goal ({html.escape(goals)})</h2><ul>{says}</ul>
{DEFINITIONS.format(material=MATERIAL)}
<h2>Means per policy</h2>{_headline_table(c).to_html(escape=True)}
<h2>Paired differences against {html.escape(_words(c.baseline))}</h2>{diffs.to_html(escape=True)}
{''.join(images)}
<h2>Data</h2><p><a href="table.csv">table.csv</a> (all outcomes, means and intervals),
<a href="differences.csv">differences.csv</a>, <a href="verdicts.csv">verdicts.csv</a>,
<a href="outcomes.csv">outcomes.csv</a> (one row per run), timeseries.parquet (every day of every run).</p>
</body></html>"""
    page_path = out / "index.html"
    page_path.write_text(page)
    return page_path
