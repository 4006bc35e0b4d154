"""The calibration report: report.html with three plots (fit, search history, spread of the best)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, never a window; safe on servers and in worker processes
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter  # noqa: E402

from .results import LABELS  # noqa: E402

if TYPE_CHECKING:
    from .calibrate import Calibration


def _label(target: str) -> str:
    who, _, col = target.rpartition(".")
    return (f"{who}: " if who else "") + LABELS.get(col, col.replace("_", " "))


def plot_fit(cal: Calibration) -> Figure:
    """Each target against the simulated value at the best trial, in tolerances: the shaded band is
    'met' (within one tolerance), the bar the simulated mean's 95% interval over replicates."""
    fit = cal.fit()
    fig = Figure(figsize=(8, 0.9 + 0.55 * len(fit)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(fit))[::-1]
    ax.axvspan(-1, 1, color="tab:green", alpha=0.12, label="within tolerance")
    ax.axvline(0, color="0.3", linewidth=0.8)
    z_lo = (fit["lo"] - fit["value"]) / fit["tolerance"]
    z_hi = (fit["hi"] - fit["value"]) / fit["tolerance"]
    have = np.isfinite(z_lo) & np.isfinite(z_hi)
    ax.errorbar(fit["z"][have], y[have], xerr=[(fit["z"] - z_lo)[have], (z_hi - fit["z"])[have]], fmt="o",
                color="tab:blue", capsize=3, label="simulated, 95% interval")
    ax.plot(fit["z"][~have], y[~have], "o", color="tab:blue")
    for yi, (_, r) in zip(y, fit.iterrows()):
        ax.annotate(f"simulated {_num(r.simulated)} vs target {_num(r.value)} ± {_num(r.tolerance)}", (r.z, yi),
                    xytext=(0, 7), textcoords="offset points", ha="center", fontsize=7)
    ax.set_yticks(y, [_label(t) for t in fit["target"]], fontsize=8)
    reach = max(2.0, float(np.nanmax(np.abs(np.r_[z_lo[have], z_hi[have], fit["z"]]))) * 1.15)
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-0.7, len(fit) - 0.3)
    ax.set(xlabel="(simulated - target) / tolerance",
           title=f"Targets met at the best trial ({cal.best_trial}), {cal.spec.replicates} replicates")
    fig.legend(fontsize=7, loc="outside lower center", ncols=2)
    return fig


def plot_history(cal: Calibration) -> Figure:
    """The loss of every trial in the order run, and the best so far."""
    t = cal.trials.sort_values("number")
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    done = t[t.state == "COMPLETE"]
    ax.plot(done["number"], done["loss"], "o", markersize=3, alpha=0.6, color="tab:blue", label="a trial")
    ax.step(done["number"], done["loss"].cummin(), where="post", color="tab:orange", label="best so far")
    failed = t[t.state != "COMPLETE"]
    if len(failed):
        ax.plot(failed["number"], np.full(len(failed), done["loss"].max() if len(done) else 1.0), "x",
                color="tab:red", label="failed (no value)")
    ax.axhline(1, color="tab:green", linewidth=0.8, linestyle="--", label="loss 1: off by one tolerance on average")
    if len(done) and done["loss"].min() > 0:
        ax.set_yscale("log")
    ax.set(xlabel="trial", ylabel="loss (weighted mean squared miss, in tolerances)", title="Search history")
    ax.legend(fontsize=7)
    return fig


def plot_spread(cal: Calibration) -> Figure:
    """Each fitted parameter over its searched range: the best trials' values (how well the targets pin
    it down) and the best one."""
    top = cal.top()
    pars = list(cal.spec.parameters)
    fig = Figure(figsize=(8, 0.9 + 0.6 * len(pars)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(pars), 1, squeeze=False)[:, 0])
    best = cal.best
    for ax, key in zip(axes, pars):
        low, high = cal.spec.parameters[key].range
        ax.plot(top[key], np.zeros(len(top)), "|", markersize=14, color="tab:blue", alpha=0.7)
        ax.plot([best[key]], [0], "D", color="tab:orange")
        ax.set_xlim(low, high)
        if cal.spec.parameters[key].log:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks([])
        ax.set_ylabel(key.rsplit(".", 1)[-1], rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    axes[0].set_title(f"Fitted parameters over their ranges: the best {len(top)} trials (|) and the best (◆)")
    return fig


PLOTS = {"fit": (plot_fit, "Targets against the model"), "history": (plot_history, "Search history"),
         "spread": (plot_spread, "How tightly the targets pin each parameter")}


def _num(v: float) -> str:
    if not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _edge_words(edge: str | None) -> str:
    if edge is None:
        return ""
    return (f"at the {edge} end of its range: the targets push it further; widen the range if the key allows, "
            "or read it as a sign the model cannot meet these targets with this parameter alone")


def write_report(cal: Calibration, out: Path) -> Path:
    images = []
    for name, (make, title) in PLOTS.items():
        make(cal).savefig(out / f"{name}.png", dpi=110)
        images.append(f'<h2>{html.escape(title)}</h2><img src="{name}.png" alt="{html.escape(title)}">')
    fit = cal.fit()
    met = int(fit.met.sum())
    fit_rows = "".join(
        f"<tr><td>{html.escape(_label(r.target))}</td><td>{_num(r.value)} ± {_num(r.tolerance)}</td>"
        f"<td>{_num(r.simulated)} [{_num(r.lo)}, {_num(r.hi)}]</td><td>{'yes' if r.met else 'no'}</td>"
        f"<td style='text-align:left'>{html.escape(r.source)}</td></tr>" for r in fit.itertuples())
    top = cal.top()
    best = cal.best
    edges = cal.at_edges()
    par_rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{_num(best[k])}</td><td>{_num(p.range[0])} - {_num(p.range[1])}</td>"
        f"<td>{_num(top[k].min())} - {_num(top[k].max())}</td><td style='text-align:left'>"
        f"{html.escape(_edge_words(edges.get(k)))}</td></tr>" for k, p in cal.spec.parameters.items())
    failed = int((cal.trials.state != "COMPLETE").sum())
    spec = cal.spec
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Calibration: {html.escape(spec.name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;font-size:0.85em;display:block;overflow-x:auto;max-width:100%}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}
img{{max-width:100%}}</style></head><body>
<h1>Calibration "{html.escape(spec.name)}" of scenario "{html.escape(cal.setup.base.name)}"</h1>
<p>{html.escape(spec.description)}</p>
<p><b>{met} of {len(fit)} targets met</b> (simulated mean within the target's tolerance) at the best of
{len(cal.trials)} trials ({failed} failed); each trial ran {spec.replicates} replicates of {cal.setup.base.steps
if spec.steps is None else spec.steps} days on common random numbers (seed {spec.seed}), {spec.engine} engine,
searched by optuna's {spec.sampler} sampler. Loss at the best: {_num(float(cal.trials.loss.min()))}.
The fitted scenario is <a href="fitted.toml">fitted.toml</a>.</p>
<h2>Targets</h2><table><tr><th>target</th><th>value ± tolerance</th><th>simulated [95% interval]</th><th>met</th>
<th>source</th></tr>{fit_rows}</table>
<h2>Fitted parameters</h2><table><tr><th>parameter</th><th>fitted</th><th>searched</th>
<th>range among the best {len(top)} trials</th><th></th></tr>{par_rows}</table>
<p>A parameter whose best trials spread over most of its range is not pinned down by these targets: other
values fit about as well.</p>
{''.join(images)}
<h2>Data</h2><p><a href="trials.csv">trials.csv</a> (every trial: parameters, simulated means, loss),
<a href="values.csv">values.csv</a> (every replicate), <a href="fit.csv">fit.csv</a>.</p>
</body></html>"""
    path = out / "report.html"
    path.write_text(page)
    return path
