"""Reading a sweep folder: replicates aggregated per design row, then sensitivity indices (Sobol,
Morris, through SALib) or outcome-versus-parameter plots with bands (grid, LHS)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .sweep import SweepError, load_sweep


@dataclass
class Analysis:
    design: str
    rows: pd.DataFrame  # one row per design row: parameters, then <output>_mean/_lo/_hi/_n
    indices: pd.DataFrame | None  # Sobol/Morris: output, parameter, indices with confidence half-widths
    files: list[Path]
    failed: int
    missing_rows: list[int]


def aggregate(design: pd.DataFrame, runs: pd.DataFrame, outputs: list[str], level: float = 0.95) -> pd.DataFrame:
    """Mean, t-interval and count of each output over the replicates of each design row."""
    out = design.copy()
    if runs.empty:
        for o in outputs:
            out[[f"{o}_mean", f"{o}_lo", f"{o}_hi"]] = np.nan
            out[f"{o}_n"] = 0
        return out
    grouped = runs.groupby("row")
    for o in outputs:
        g = grouped[o]
        mean, sd, n = g.mean(), g.std(ddof=1), g.count()
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
        half = half.where(n > 1)  # one replicate: no interval, not a zero-width one
        out[f"{o}_mean"] = mean
        out[f"{o}_lo"] = mean - half
        out[f"{o}_hi"] = mean + half
        out[f"{o}_n"] = n.reindex(out.index).fillna(0).astype(int)
    return out


def analyze(out: str | Path, *, level: float = 0.95) -> Analysis:
    """Write ``rows.csv`` and, for Sobol/Morris, ``sensitivity.csv`` and ``sensitivity.png``; for grids
    and LHS, ``outcomes.png`` (each output against each parameter, with bands)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display; also safe on a headless cluster node
    root = Path(out)
    record, design, runs, failures = load_sweep(root)
    spec = record["spec"]
    outputs = list(spec["outputs"])
    params = list(spec["parameters"])
    if runs.empty:
        raise SweepError(f"{root}: no finished runs to analyze")
    rows = aggregate(design, runs, outputs, level)
    files = [root / "rows.csv"]
    rows.reset_index().to_csv(files[0], index=False)
    missing = [int(r) for r in rows.index[rows[f"{outputs[0]}_n"] == 0]]
    indices = None
    if spec["design"] in ("sobol", "morris"):
        if missing:
            raise SweepError(f"{root}: {len(missing)} of {len(rows)} design rows have no finished run "
                             f"(first: row {missing[0]}); {spec['design']} indices need every row: run "
                             "`trustsim sweep SPEC --out DIR --resume` first")
        indices = _sensitivity(spec, params, design, rows, outputs, level)
        files.append(root / "sensitivity.csv")
        indices.to_csv(files[-1], index=False)
        files.append(_plot_indices(indices, spec["design"], root / "sensitivity.png"))
    else:
        files.append(_plot_outcomes(rows, params, outputs, spec["design"], root / "outcomes.png"))
    return Analysis(spec["design"], rows, indices, files, len(failures), missing)


def _sensitivity(spec: dict, params: list[str], design: pd.DataFrame, rows: pd.DataFrame, outputs: list[str],
                 level: float) -> pd.DataFrame:
    problem = {"num_vars": len(params), "names": params,
               "bounds": [list(spec["parameters"][p]["range"]) for p in params]}
    # The bootstrap of the confidence intervals draws from its own stream of the sweep's seed.
    seq = np.random.SeedSequence(spec["seed"], spawn_key=(2**32 - 1, 1))
    out = []
    for o in outputs:
        # SALib wants one Y per design row, in design order: replicates are averaged first.
        y = rows[f"{o}_mean"].to_numpy(float)
        rng = np.random.default_rng(seq.spawn(1)[0])
        if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
            # e.g. coupon_return_share without redemptions (NaN), or an output that never moves: no
            # variance to share out
            for p in params:
                out.append({"output": o, "parameter": p})
            continue
        if spec["design"] == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(problem, y, calc_second_order=spec["second_order"], conf_level=level, seed=rng)
            for i, p in enumerate(params):
                out.append({"output": o, "parameter": p, "S1": si["S1"][i], "S1_conf": si["S1_conf"][i],
                            "ST": si["ST"][i], "ST_conf": si["ST_conf"][i]})
        else:
            from SALib.analyze import morris

            x = design[params].to_numpy(float)
            si = morris.analyze(problem, x, y, conf_level=level, num_levels=spec["morris_levels"], seed=rng)
            for i, p in enumerate(params):
                out.append({"output": o, "parameter": p, "mu": si["mu"][i], "mu_star": si["mu_star"][i],
                            "mu_star_conf": si["mu_star_conf"][i], "sigma": si["sigma"][i]})
    return pd.DataFrame(out)


def _plot_indices(indices: pd.DataFrame, design: str, path: Path) -> Path:
    from matplotlib.figure import Figure

    outputs = list(dict.fromkeys(indices["output"]))
    fig = Figure(figsize=(4.5 * len(outputs), 3.8), layout="constrained")
    axes = fig.subplots(1, len(outputs), squeeze=False)[0]
    for ax, o in zip(axes, outputs):
        d = indices[indices.output == o]
        y = np.arange(len(d))
        if design == "sobol":
            ax.barh(y - 0.2, d["S1"], 0.4, xerr=d["S1_conf"], label="first order S1", capsize=2)
            ax.barh(y + 0.2, d["ST"], 0.4, xerr=d["ST_conf"], label="total ST", capsize=2)
            ax.set_xlabel("Sobol index (95% interval)")
        else:
            ax.barh(y, d["mu_star"], 0.6, xerr=d["mu_star_conf"], capsize=2, label="mu*")
            ax.set_xlabel("Morris mu* (95% interval)")
        ax.set_yticks(y, [p.split(".")[-1] for p in d["parameter"]])
        ax.set_title(o)
        ax.invert_yaxis()
    axes[0].legend(loc="lower right", fontsize="small")
    fig.savefig(path, dpi=110)
    return path


def _plot_outcomes(rows: pd.DataFrame, params: list[str], outputs: list[str], design: str, path: Path) -> Path:
    """Each output against each parameter. On a grid, one line per combination of the other parameters
    (if there are few) with the replicate band; on LHS, the row means as points with their intervals."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(params), 3.2 * len(outputs)), layout="constrained")
    axes = fig.subplots(len(outputs), len(params), squeeze=False)
    for i, o in enumerate(outputs):
        for j, p in enumerate(params):
            ax = axes[i][j]
            others = [q for q in params if q != p]
            numeric = pd.api.types.is_numeric_dtype(rows[p])
            if design == "grid" and others and rows.groupby(others).ngroups <= 8:
                groups = rows.groupby(others, sort=False)
            else:
                groups = [("", rows)]
            order = {v: k for k, v in enumerate(dict.fromkeys(rows[p]))}  # listed values keep the spec's order
            for label, g in groups:
                g = g.sort_values(p) if numeric else g.iloc[np.argsort([order[v] for v in g[p]], kind="stable")]
                x = g[p].to_numpy() if numeric else np.array([order[v] for v in g[p]])
                name = ", ".join(_short(v) for v in (label if isinstance(label, tuple) else (label,)))
                if design == "grid":
                    line = ax.plot(x, g[f"{o}_mean"], marker="o", ms=3, label=name or None)[0]
                    ax.fill_between(x, g[f"{o}_lo"], g[f"{o}_hi"], color=line.get_color(), alpha=0.2, lw=0)
                else:
                    ax.errorbar(x, g[f"{o}_mean"], yerr=[g[f"{o}_mean"] - g[f"{o}_lo"], g[f"{o}_hi"] - g[f"{o}_mean"]],
                                fmt="o", ms=3, alpha=0.7, elinewidth=0.6)
                if not numeric:
                    ax.set_xticks(x, g[p].astype(str), rotation=30, fontsize="small")
            ax.set_xlabel(p)
            ax.set_ylabel(f"{o} (mean, 95% band)" if design == "grid" else f"{o} (row mean, 95% interval)")
            if i == 0 and design == "grid" and others and rows.groupby(others).ngroups <= 8:
                ax.legend(title=", ".join(q.split(".")[-1] for q in others), fontsize="x-small")
    fig.savefig(path, dpi=100)
    return path


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
