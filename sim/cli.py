"""The ``trustsim`` command: run a scenario, compare policies, or validate scenario files.

Exit codes: 0 success; 2 the input was refused (bad scenario file, option or --set) with one
line on stderr naming the file, the field, the value and what is allowed; 1 an unexpected
internal error (a bug: the traceback is printed); 3 a sweep ended with some runs failed (they are
recorded in its manifest). Everything that can be checked is checked
before a run starts, so a long run never dies at the end over a typo.
"""

from __future__ import annotations

import argparse
import math
import sys
import tomllib
import traceback
from pathlib import Path
from typing import Any, NoReturn

# Heavy imports (pandas, mesa, rich) happen inside the commands, so `trustsim --help` and
# argument errors answer at once.



class UsageError(Exception):
    """Input refused: ``str()`` is the whole one-line message; exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse prints its usage block plus the error (several lines); the contract here is
    exactly one line on stderr, so print only the error and point to --help."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed (a whole number >= 0)") from None
    if value < 0:  # numpy's SeedSequence refuses negative entropy
        raise argparse.ArgumentTypeError(f"{value} is not allowed (a whole number >= 0)")
    return value


def _steps(text: str) -> int:
    try:
        return int(text)  # the range is the scenario's own (steps), checked with the scenario
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed (a whole number of days >= 1)") from None


def _engine(text: str) -> str:
    """The engine's canonical name, so everything after parsing sees one name per engine
    ("vector", the fast engine's former name, becomes "fast")."""
    from .runner import ENGINES, engine_name

    try:
        return engine_name(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed (one of {', '.join(ENGINES)})") from None


def _port(text: str) -> int:
    if not (text.isdigit() and 1 <= int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed (a port number from 1 to 65535)")
    return int(text)


def _host(text: str) -> str:
    """An address this machine can listen on: resolved, and bound once to a free port to be sure
    (an unresolvable name otherwise surfaces as a server error after start-up)."""
    import socket

    allowed = "a name or address of this machine, e.g. 127.0.0.1, or 0.0.0.0 for every interface"
    try:
        family, kind, _, _, address = socket.getaddrinfo(text, 0, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            probe.bind(address[:2])
    except (OSError, UnicodeError):
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed ({allowed})") from None
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed (a whole number >= 1)")
    return value


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed (comma-separated policy names)")
    return names


def _override(text: str) -> tuple[str, Any, str]:
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed (expected KEY=VALUE with a dotted key, e.g. population.engaged=5000)")
    return key, _parse_value(raw.strip()), text


def _parse_value(raw: str) -> Any:
    """A TOML value when it is one (5000, 0.3, true, nan, "x", [1, 2]); otherwise the text itself,
    so that ``policy=coupon`` needs no quotes."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _scenario_arguments(parser: argparse.ArgumentParser, engine: str) -> None:
    """What names a run: the scenario, the engine, the seed, the horizon and overrides."""
    kind = {"agents": "agents (Mesa)", "fast": "fast (compiled)"}
    other = kind["fast" if engine == "agents" else "agents"]
    parser.add_argument("scenario", metavar="SCENARIO", help="a name (scenarios/NAME.toml) or a path to a .toml file")
    parser.add_argument("--engine", type=_engine, default=engine, help=f"{kind[engine]}, the default, or {other}")
    parser.add_argument("--seed", type=_seed, default=0, help="root seed, a whole number >= 0 (default 0)")
    parser.add_argument("--steps", type=_steps, default=None, help="days to simulate (default: the scenario's steps)")
    parser.add_argument("--set", dest="overrides", type=_override, action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario field, e.g. --set businesses.focal.policy=coupon "
                             "--set population.engaged=5000 (repeatable; values are TOML)")


def _trial_arguments(parser: argparse.ArgumentParser, what: str, folder: str) -> None:
    """calibrate and optimize: a spec, where the study and results go, how many trials, on what."""
    parser.add_argument("spec", metavar="SPEC", help=f"a {what} spec: a .toml path or a name in experiments/")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help=f"where to write (default: {folder}/<spec name>)")
    parser.add_argument("--trials", type=_positive, default=None, help="trials in all (default: the spec's)")
    parser.add_argument("--workers", type=_positive, default=None,
                        help="local worker processes (default: one per core); ignored with --scheduler")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a running Dask scheduler: tcp://host:8786, or a scheduler file")
    parser.add_argument("--resume", action="store_true",
                        help=f"continue the {what} in --out (or add trials to it with a larger --trials)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trustsim", description="An agent-based simulator of trust in digital public.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and save its results",
                         description="Run a scenario, print the per-business summary and save the results.")
    _scenario_arguments(run, engine="agents")
    run.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="where to write results (default: results/<scenario>-<engine>-seed<N>)")

    cmp = sub.add_parser("compare", help="compare engagement policies over replicates",
                         description="Run the focal business under each policy, on common random numbers, "
                                     "and print means with 95% intervals, paired differences and who wins on what.")
    _scenario_arguments(cmp, engine="fast")
    cmp.add_argument("--policies", type=_names, default=None, metavar="A,B,...",
                     help="policies to compare (default: the business's own and every library policy)")
    cmp.add_argument("--replicates", type=_positive, default=20, help="replicates per policy (default 20)")
    cmp.add_argument("--business", default=None, help="the business whose policy varies (default: the focal one)")
    cmp.add_argument("--baseline", default=None,
                     help="policy the others are compared with (default: silent when compared, else the first)")
    cmp.add_argument("--workers", type=_positive, default=None, help="processes (default: one per core)")
    cmp.add_argument("--report", type=Path, default=None, metavar="DIR",
                     help="write an HTML report with plots and CSVs to DIR")

    val = sub.add_parser("validate", help="check scenario files without running them",
                         description="Check scenario files: schema, ranges, policies, and that the "
                                     "population fits in memory on the chosen engine.")
    val.add_argument("files", nargs="+", metavar="FILE", help="scenario names or .toml paths")
    val.add_argument("--engine", type=_engine, default="agents",
                     help="engine whose memory needs are checked (default agents)")

    swp = sub.add_parser("sweep", help="run a parameter sweep (grid, LHS, Sobol, Morris) from a spec",
                         description="Run every design row x replicate of an experiment spec (experiments/*.toml), "
                                     "storing one Parquet file per finished run under --out.")
    swp.add_argument("spec", metavar="SPEC", help="an experiment spec: a .toml path or a name in experiments/")
    swp.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="sweep folder (default: results/sweeps/<spec name>)")
    swp.add_argument("--workers", type=_positive, default=None,
                     help="local worker processes (default: one per core); ignored with --scheduler")
    swp.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="a running Dask scheduler: tcp://host:8786, or the file from `dask scheduler "
                          "--scheduler-file FILE`")
    swp.add_argument("--resume", action="store_true",
                     help="continue the sweep in --out: keep finished runs, rerun the rest")

    cal = sub.add_parser("calibrate", help="fit scenario parameters to target outputs (optuna) from a spec",
                         description="Search the spec's parameter ranges for the values whose simulated outputs best "
                                     "meet its targets; write the fitted scenario, the trials and a report with plots. "
                                     "The study is stored in --out, so an interrupted calibration resumes.")
    _trial_arguments(cal, "calibration", "results/calibrations")

    opt = sub.add_parser("optimize", help="search a business's policies for the Pareto front of two or three outcomes",
                         description="Search the policy space (shares of staff capacity, discount, authenticity, "
                                     "priority, venues, personified, capture, playground; a spec's [space] narrows it) "
                                     "for the policies no other beats on every objective; write the front as a plot, "
                                     "a table and one policy TOML each, ready for `trustsim compare`.")
    _trial_arguments(opt, "search", "results/searches")

    ana = sub.add_parser("analyze", help="aggregate a sweep folder: sensitivity indices or outcome plots",
                         description="Average replicates per design row; for Sobol/Morris designs write sensitivity "
                                     "indices with confidence intervals (CSV and plot), for grids and LHS plots of "
                                     "each outcome against each parameter with bands.")
    ana.add_argument("dir", type=Path, metavar="DIR", help="a folder written by `trustsim sweep`")

    dash = sub.add_parser("dashboard", help="serve the live workshop dashboard (Solara) in production mode",
                          description="Serve the dashboard: Explore, Compare, Inside the venue, Workshop. Each "
                                      "browser gets its own session; runs go to a pool of worker processes.")
    dash.add_argument("--host", type=_host, default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1; 0.0.0.0 lets a room's laptops in)")
    dash.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    dash.add_argument("--max-sessions", type=_positive, default=120,
                      help="most browser sessions at once; more wait on 'Loading app' (default 120)")
    dash.add_argument("--cull-minutes", type=_positive, default=10,
                      help="minutes a closed tab's session is kept before it is freed (default 10)")
    dash.add_argument("--workers", type=_positive, default=None, help="run processes (default: one per core)")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "validate":
            return _validate(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "analyze":
            return _analyze(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "optimize":
            return _optimize(args)
        if args.command == "dashboard":
            return _dashboard(args)
        return _run(args)
    except UsageError as exc:
        _fail(str(exc))
        return 2
    except KeyboardInterrupt:
        _fail("trustsim: interrupted")
        return 130
    except Exception as exc:  # a bug, not bad input: keep the traceback for the report
        from .scenario import ScenarioError

        if isinstance(exc, ScenarioError):  # refused input that slipped past a specific handler
            _fail(f"trustsim: error: {exc}")
            return 2
        traceback.print_exc()
        _fail(f"trustsim: internal error ({exc.__class__.__name__}); this is a bug, please report it "
              "with the traceback above")
        return 1


def _fail(line: str) -> None:
    # One physical line even if a message ever carries a newline (e.g. from a TOML parser).
    print(" ".join(line.split("\n")), file=sys.stderr)


def _load(name_or_path: str, engine: str, overrides: list[tuple[str, Any, str]] = (), steps: int | None = None):
    """Load, apply overrides, check the engine exists and the population fits: everything that
    can refuse the input, before anything runs. Raises UsageError with the one-line message."""
    from .scenario import ScenarioError, _locate, load_scenario

    path = str(_locate(name_or_path))
    try:
        sc = load_scenario(name_or_path)
        changes = {key: value for key, value, _ in overrides}
        if steps is not None:
            changes["steps"] = steps  # into the scenario, so the saved scenario.toml re-runs the same
        if changes:
            sc = _apply(sc, changes, overrides, path)
    except ScenarioError as exc:
        raise UsageError(f"trustsim: error: {exc}") from None
    _check_engine(engine)
    _check_fits(sc, engine, path)
    return sc, path


def _check_fits(sc, engine: str, path: str) -> None:
    from .runner import available_memory, check_fits
    from .scenario import ScenarioError
    from .world import BYTES_PER_PERSON

    try:
        check_fits(sc, engine)
    except ScenarioError as exc:
        # check_fits names the scenario by its name; the contract is to name the file, and to
        # say what is allowed: the largest head count that would fit (same formula as check_fits).
        message = str(exc).removeprefix(f"{exc.source}: ") if exc.source else str(exc)
        pop = sc.population
        per_engaged = (1 + pop.observer_ratio) * BYTES_PER_PERSON[engine] * max(1, len(sc.businesses))
        most = int(0.8 * available_memory() / per_engaged)
        raise UsageError(f"trustsim: error: {path}: {message}; allowed: population.engaged up to about "
                         f"{most:,} here") from None


def _apply(sc, changes: dict[str, Any], overrides, path: str):
    from .scenario import ScenarioError

    source = f"{path} (with --set)"
    try:
        return sc.with_overrides(changes, source=source)
    except ScenarioError as exc:
        raw = {key: text for key, _, text in overrides}
        if exc.field in raw and str(exc).endswith("unknown key"):
            # name the offending --set and what keys exist at that level
            raise ScenarioError(f"--set {raw[exc.field]}: {exc.field}: unknown key; "
                                f"{_keys_here(sc, exc.field)}", source=path, field=exc.field) from None
        raise


def _keys_here(sc, key: str) -> str:
    """The keys that do exist where ``key`` points, for the unknown-key message."""
    node: Any = sc.model_dump(mode="python")
    parts = key.split(".")
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return f"{part!r} is not a table here (allowed: {', '.join(node) if isinstance(node, dict) else '-'})"
    return f"allowed: {', '.join(node)}" if isinstance(node, dict) else f"{'.'.join(parts[:-1])} is a value, not a table"


def _check_engine(engine: str) -> None:
    if engine == "fast":
        try:
            from .fast import run_fast  # noqa: F401  (availability check only)
        except ImportError as exc:
            raise UsageError(f"trustsim: error: --engine {engine}: the fast engine is not available here "
                             f"({exc}); use --engine agents") from None


def _validate(args: argparse.Namespace) -> int:
    failed = False
    for name in args.files:
        try:
            sc, _ = _load(name, args.engine)
        except UsageError as exc:
            _fail(str(exc))
            failed = True
            continue
        pop = sc.population
        print(f"{name}: ok ({len(sc.businesses)} businesses, {len(sc.venues)} venues, "
              f"{pop.people:,} people, {sc.steps} steps)")
    return 2 if failed else 0


def _run(args: argparse.Namespace) -> int:
    sc, _ = _load(args.scenario, args.engine, args.overrides, args.steps)
    out = args.out or Path("results") / f"{sc.name}-{args.engine}-seed{args.seed}"
    try:  # refuse an unwritable output folder now, not after the run
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"trustsim: error: --out {out}: cannot create the folder ({exc.strerror or exc})") from None

    from .runner import run

    results = run(sc, engine=args.engine, seed=args.seed, progress=True)
    _print_summary(results)
    from .results import AGENTS_CSV_ROWS

    saved = results.save(out)
    if len(results.agents) <= AGENTS_CSV_ROWS:
        print(f"results written to {saved}/ (timeseries, agents, summary as Parquet and CSV; scenario.toml; run.json)")
    else:
        print(f"results written to {saved}/ (timeseries and summary as Parquet and CSV, agents as Parquet only: "
              f"{len(results.agents):,} rows; scenario.toml; run.json)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .scenario import ScenarioError, policy_names

    sc, path = _load(args.scenario, args.engine, args.overrides, args.steps)
    business = args.business or sc.focal
    if business not in sc.businesses:
        raise UsageError(f"trustsim: error: {path}: --business {business}: not a business here "
                         f"(allowed: {', '.join(sc.businesses)})")
    policies = args.policies or list(dict.fromkeys([sc.policy(business).name, *policy_names()]))
    for name in policies:  # refuse an unknown policy before the first run
        try:
            sc.with_overrides({f"businesses.{business}.policy": name}, source=path)
        except ScenarioError as exc:
            raise UsageError(f"trustsim: error: --policies {name}: {exc}") from None
    if args.baseline is not None and args.baseline not in policies:
        raise UsageError(f"trustsim: error: --baseline {args.baseline}: not among the compared policies "
                         f"(allowed: {', '.join(policies)})")
    if args.report is not None:
        try:
            args.report.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"trustsim: error: --report {args.report}: cannot create the folder "
                             f"({exc.strerror or exc})") from None

    from .compare import compare

    comparison = compare(sc, policies, replicates=args.replicates, seed=args.seed, engine=args.engine,
                         business=business, baseline=args.baseline, workers=args.workers, progress=True)
    _print_comparison(comparison)
    if args.report is not None:
        from .report import write_report

        page = write_report(comparison, args.report)
        print(f"report written to {page}")
    return 0


def _spec_path(name: str) -> Path:
    p = Path(name)
    if p.suffix == ".toml" or p.exists() or len(p.parts) > 1:
        return p
    return Path(__file__).resolve().parent.parent / "experiments" / f"{name}.toml"


def _sweep(args: argparse.Namespace) -> int:
    from .sweep import SweepError, execute, load_spec, prepare

    try:  # the whole spec (keys, values, design) is checked here, before any worker starts
        sw = load_spec(_spec_path(args.spec))
        out = args.out or Path("results") / "sweeps" / sw.spec.name
        store = prepare(sw, out, args.resume)  # refuses a folder holding another sweep, or unwritable
    except SweepError as exc:
        raise UsageError(f"trustsim: error: {exc}") from None
    where = f"scheduler {args.scheduler}" if args.scheduler else f"{args.workers or 'one per core'} local workers"
    print(f"sweep {sw.spec.name}: {sw.spec.design}, {len(sw.design)} rows x {sw.spec.replicates} replicates = "
          f"{sw.runs} runs on {where} -> {out}/")
    try:
        report = execute(sw, store, executor=args.scheduler or "local", workers=args.workers, resume=args.resume,
                         progress=True)
    except OSError as exc:  # e.g. no scheduler at that address
        raise UsageError(f"trustsim: error: --scheduler {args.scheduler}: {exc}") from None
    print(f"{report.done} of {report.total} runs finished ({report.skipped} before this call), "
          f"{len(report.failed)} failed, in {report.seconds:.1f} s")
    for key, message in list(report.failed.items())[:10]:
        print(f"  failed {key}: {message}")
    if report.failed:
        print(f"failed runs are in {out}/.manifest.jsonl; `trustsim sweep {args.spec} --out {out} --resume` retries them")
    return 3 if report.failed else 0  # finished, but not every run: distinct from refused input (2) and bugs (1)


def _trial_setup(args: argparse.Namespace, load_spec, error: type[Exception], folder: str, what: str):
    """calibrate and optimize, before any worker starts: the checked spec (with --trials), the
    output folder (refused if it holds a study and --resume is missing), and where trials run."""
    from .trials import STORAGE

    try:
        setup = load_spec(_spec_path(args.spec))
        if args.trials is not None:
            setup = setup.with_trials(args.trials)
        out = args.out or Path("results") / folder / setup.spec.name
        if (out / STORAGE).exists() and not args.resume:
            raise error(f"--out {out}: already holds a {what}; add --resume to finish or extend it, or choose "
                        "another folder")
    except error as exc:
        raise UsageError(f"trustsim: error: {exc}") from None
    where = f"scheduler {args.scheduler}" if args.scheduler else f"{args.workers or 'one per core'} local workers"
    return setup, out, where


def _trial_run(args: argparse.Namespace, run, setup, out: Path, error: type[Exception]):
    """Run (or resume) the trials with the study in ``out`` and save the result there."""
    from .trials import STORAGE

    try:
        result = run(setup, storage=out / STORAGE, executor=args.scheduler or "local", workers=args.workers,
                     progress=True)
        result.save(out)
    except error as exc:
        raise UsageError(f"trustsim: error: {exc}") from None
    except OSError as exc:  # no scheduler at that address, or an unwritable --out
        where = f"--scheduler {args.scheduler}" if args.scheduler else f"--out {out}"
        raise UsageError(f"trustsim: error: {where}: {exc}") from None
    return result


def _calibrate(args: argparse.Namespace) -> int:
    from .calibrate import CalibrationError, load_spec, run_calibration

    setup, out, where = _trial_setup(args, load_spec, CalibrationError, "calibrations", "calibration")
    spec = setup.spec
    print(f"calibrate {spec.name}: {len(spec.parameters)} parameters to {len(spec.targets)} targets, {spec.trials} "
          f"trials x {spec.replicates} replicates on {where} -> {out}/")
    cal = _trial_run(args, run_calibration, setup, out, CalibrationError)
    fit = cal.fit()
    print(f"{int(fit.met.sum())} of {len(fit)} targets met at trial {cal.best_trial} of {len(cal.trials)} "
          f"(loss {cal.trials.loss.min():.3g}), in {cal.seconds:.1f} s")
    for r in fit.itertuples():
        print(f"  {r.target}: simulated {r.simulated:.4g} [{r.lo:.4g}, {r.hi:.4g}] vs {r.value:.4g} ± {r.tolerance:.3g}"
              f" {'met' if r.met else 'missed'}")
    for key, value in cal.best.items():
        print(f"  fitted {key} = {value:.4g}")
    print(f"wrote {out}/fitted.toml, trials.csv, fit.csv, report.html")
    return 0


def _optimize(args: argparse.Namespace) -> int:
    from .optimize import SearchError, load_spec, run_search

    setup, out, where = _trial_setup(args, load_spec, SearchError, "searches", "policy search")
    spec = setup.spec
    searched = sum(not d.fixed for d in setup.space.values())
    print(f"optimize {spec.name}: {setup.business}'s policy over {searched} dimensions for {' vs '.join(spec.objectives)}, "
          f"{spec.trials} trials x {spec.replicates} replicates on {where} -> {out}/")
    search = _trial_run(args, run_search, setup, out, SearchError)
    from .compare import _fmt

    front = search.front()
    print(f"{len(front)} policies on the front of {len(search.trials)} tried, in {search.seconds:.1f} s:")
    for row in front.to_dict("records"):
        outcomes = ", ".join(f"{o} {_fmt(row[o])} [{_fmt(row[o + '_lo'])}, {_fmt(row[o + '_hi'])}]"
                             for o in spec.objectives)
        mix = ", ".join(f"{f} {row[setup.key(f)]:.2f}" for f in ("caring", "promotional", "coupons"))
        print(f"  {row['policy']}: {outcomes}; {mix}")
    print(f"wrote {out}/front.png, front.csv, trials.csv, policies/front_*.toml, front_scenario.toml")
    print(f"next: {search.compare_command(out)}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from .analyze import analyze
    from .sweep import SweepError

    try:
        result = analyze(args.dir)
    except SweepError as exc:
        raise UsageError(f"trustsim: error: {exc}") from None
    if result.indices is not None:
        pd_opts = {"float_format": lambda v: f"{v:.3f}"}
        cols = (["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"] if result.design == "sobol"
                else ["output", "parameter", "mu_star", "mu_star_conf", "sigma"])
        print(f"{result.design} sensitivity indices (conf: half-width of the 95% interval):")
        print(result.indices[cols].to_string(index=False, **pd_opts))
    else:
        print(f"{len(result.rows)} design rows aggregated over replicates")
    if result.failed or result.missing_rows:
        print(f"note: {result.failed} runs failed; {len(result.missing_rows)} rows have no finished run")
    for f in result.files:
        print(f"wrote {f}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    try:
        from dashboards.serve import missing_assets, serve
    except ImportError as exc:
        raise UsageError(f"trustsim: error: the dashboard is not installed here ({exc}); run `make dashboard` "
                         "from a checkout") from None
    missing = missing_assets()
    if missing:
        raise UsageError(f"trustsim: error: Solara's front-end packages are missing ({', '.join(missing)}), so pages "
                         "would stay blank offline; run `make assets` (or `python -m dashboards.assets`) first")
    serve(args.host, args.port, args.max_sessions, args.cull_minutes, args.workers)
    return 0  # not reached: serve() replaces this process


def _print_comparison(c) -> None:
    from rich.console import Console
    from rich.table import Table

    from .compare import HEADLINES
    from .results import LABELS

    t = c.table()
    days = int(c.focal.step.max())
    table = Table(title=f"{c.scenario.name}: {c.business} under each policy; {c.replicates} replicates x {days} days, "
                        f"{c.engine} engine; mean ± half-width of the 95% interval")
    table.add_column("", style="bold", overflow="fold")
    for arm in t.index:  # full names: a narrow terminal folds them rather than cutting them
        table.add_column(str(arm).replace("_", " "), justify="right", overflow="fold")
    for col in HEADLINES:
        cells = []
        for arm in t.index:
            mean, lo, hi = (t.at[arm, (col, k)] for k in ("mean", "lo", "hi"))
            half = (hi - lo) / 2 if math.isfinite(hi - lo) else float("nan")
            cells.append(format_cell(col, mean) + ("" if not math.isfinite(half) or half == 0
                                                   else f" ±{format_cell(col, half)}"))
        table.add_row(LABELS.get(col, col), *cells)
    console = Console()
    console.print(table)
    baseline = "doing nothing (silent)" if c.baseline == "silent" else c.baseline
    console.print(f"\nThe answer, goal by goal, against {baseline}:")
    for line in c.verdicts()["says"]:
        console.print(f"- {line}", highlight=False)


# ---- the summary table ----------------------------------------------------------------------

_TRUST = {"trust_engaged", "trust_observers", "trust_all"}
_PERCENT = {"share_of_wallet", "coupon_new_share", "coupon_return_share", "repeat_after_coupon",
            "repeat_after_full_price"}
_MONEY = {"revenue", "engagement_cost", "profit"}


def format_cell(row: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"  # e.g. a return on engagement when nothing was spent on it
    if row in _TRUST:
        return f"{value:.3f}"
    if row in _PERCENT:
        return f"{value:.1%}"
    if row in _MONEY:
        return f"{value:,.0f}"
    if row == "extra_profit_per_cost":
        return f"{value:,.2f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"  # never 1.8e+04 for 18,000


def _print_summary(results) -> None:
    from rich.console import Console
    from rich.table import Table

    from .results import LABELS

    summary = results.summary()
    steps = results.meta.get("steps", results.scenario.steps)
    table = Table(title=f"{results.scenario.name}: {results.engine} engine, seed {results.seed}, {steps} days")
    table.add_column("", style="bold")
    for business in summary.index:
        focal = business == results.scenario.focal and business != "focal"
        label = f"{business} (focal)" if focal else str(business)
        table.add_column(label, justify="right")
    for row in summary.columns:
        table.add_row(LABELS.get(row, row), *(format_cell(row, summary.at[b, row]) for b in summary.index))
    Console().print(table)


if __name__ == "__main__":
    sys.exit(main())
