"""The compiled engine: invariants every day, determinism across processes and thread counts,
the state declared once, compile caching."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import rules, state
from sim.fast import FastModel, run_fast
from sim.fast.cache import SOURCES, cache_root, source_hash

ROOT = Path(__file__).resolve().parents[1]


def small(**overrides):
    return sim.load_scenario("default").with_overrides({"population.engaged": 150, **overrides})


def test_invariants_hold_every_day():
    """Trust in [0, 1] and finite, levels 0-3, head counts conserved, ledgers consistent, the
    running level counts equal to a recount."""
    sc = small(**{"businesses.focal.failure_rate": 0.2, "businesses.focal.policy": "coupon"})
    model = FastModel(sc, seed=3, horizon=60)
    n, nb = sc.population.people, 2
    for day in range(1, 61):
        model.advance(1)
        st, row = model.state, model.history[day]
        assert np.isfinite(st.trust).all() and (st.trust >= 0).all() and (st.trust <= 1).all()
        assert st.level.min() >= 0 and st.level.max() <= 3
        assert ((st.supplier >= rules.MARKET) & (st.supplier < nb)).all()
        customers = row[:, state.CUSTOMERS]
        assert customers.sum() == (st.supplier >= 0).sum()
        for j in range(nb):
            counts = np.bincount(st.level[:, j], minlength=4)
            assert list(row[j, state.LEVEL1:state.LEVEL3 + 1]) == list(counts[1:])
            assert counts.sum() == n
        assert (row[:, state.ACCIDENTS_HANDLED] + row[:, state.ACCIDENTS_IGNORED] <= row[:, state.ACCIDENTS]).all()
        assert (row[:, state.REACH] == (st.seen_day > 0).sum(axis=0)).all()
        assert row[:, state.WITNESSES].min() >= 0 and row[:, state.PURCHASES].min() >= 0
    assert model.history[1:, 0, state.REDEMPTIONS].sum() > 0


def test_state_and_columns_are_declared_once():
    sc = small()
    model = FastModel(sc, seed=0, horizon=5)
    for array in state.ARRAYS:
        got = getattr(model.state, array.name)
        assert got.dtype == array.dtype, array.name
        assert got.shape == state.shape_of(array.shape, sc.population.people, 2, 2), array.name
    ts = run_fast(sc, 0, 5).timeseries
    assert list(ts.columns) == ["step", "business", "policy", *state.COLUMN_NAMES]
    for col in state.COLUMNS:
        assert ts[col.name].dtype == (np.int64 if col.dtype is int else np.float64), col.name


def _digest(res: sim.Results) -> str:
    return hashlib.sha256(res.timeseries.to_csv().encode() + res.agents.to_csv().encode()).hexdigest()


def test_same_seed_same_results_across_processes_and_thread_counts():
    sc = small()
    here = _digest(sim.run(sc, engine="fast", seed=11, steps=30, threads=1))
    assert _digest(sim.run(sc, engine="fast", seed=11, steps=30, threads=2)) == here
    code = ("import sim, hashlib;"
            "sc = sim.load_scenario('default').with_overrides({'population.engaged': 150});"
            "r = sim.run(sc, engine='fast', seed=11, steps=30, threads=2);"
            "print(hashlib.sha256(r.timeseries.to_csv().encode() + r.agents.to_csv().encode()).hexdigest())")
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        assert out.stdout.strip() == here
    assert _digest(sim.run(sc, engine="fast", seed=12, steps=30)) != here


@pytest.mark.slow
def test_a_population_over_the_parallel_threshold_gives_the_same_results_on_one_thread_or_two():
    """From PARALLEL_PEOPLE people on the accounts, and for venues of CHUNKS blocks or more the
    witnessing's second half, run in parallel slices; results must not depend on the threads."""
    from sim.fast import kernels
    from sim.schedule import WITNESS_BLOCK

    sc = sim.load_scenario("default").with_overrides({"population.engaged": 96_000})
    assert sc.population.people >= kernels.PARALLEL_PEOPLE
    assert 0.8 * sc.population.people > kernels.CHUNKS * WITNESS_BLOCK  # the popular venue
    one, two = FastModel(sc, 5, 8, threads=1), FastModel(sc, 5, 8, threads=2)
    one.advance(8)
    two.advance(8)
    assert np.array_equal(one.history, two.history, equal_nan=True)
    for a, b in zip(one.state, two.state, strict=True):
        assert np.array_equal(a, b)


def test_advance_refuses_days_past_the_horizon():
    model = FastModel(small(), seed=0, horizon=3)
    model.advance(3)
    with pytest.raises(ValueError, match="between 1 and the 0 left"):
        model.advance(1)


def test_the_compile_cache_is_keyed_by_every_source_the_kernels_are_built_from(tmp_path, monkeypatch):
    """numba checks a cached kernel against its own file only: an edit of the rulebook must move
    the cache to a new folder, or stale machine code would run."""
    import shutil

    from sim.fast import cache

    copy = tmp_path / "sim"
    shutil.copytree(ROOT / "sim", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "SIM", copy)
    before = cache.source_hash()
    assert before == source_hash()  # the same sources, the same folder
    for name in SOURCES:
        path = copy / name
        text = path.read_text()
        path.write_text(text + "\n# edited\n")
        assert cache.source_hash() != before, name
        path.write_text(text)
    import numba

    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)  # restored after the test
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    folder = cache.use_cache_dir()
    assert folder == tmp_path / "numba" / before and folder.is_dir()
    assert cache_root() == tmp_path / "numba"


def test_one_compile_serves_every_scenario():
    """Nothing in a kernel's signature depends on the numbers of people, businesses or venues
    (the kernels take their streams as an array of rows, sim.fast.draws.bit_generators, not as a
    tuple of Generators, whose type has its length): ``python -m sim.fast`` compiles once for all,
    and a scenario with six businesses starts at once."""
    code = """if True:
        import sim
        from sim.fast import FastModel, kernels
        for name, sets in (("default", {"population.engaged": 20}),
                           ("default", {"businesses.third.initial_share": 0.1, "venues.forum.membership": 0.3,
                                        "population.engaged": 300}),
                           ("crowded_market", {"population.engaged": 50})):
            sc = sim.load_scenario(name).with_overrides(sets)
            FastModel(sc, 1, 2).advance(2)
            print(len(sc.businesses), len(sc.venues), len(kernels.run_days.signatures))
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    rows = [line.split() for line in out.stdout.splitlines()]
    assert [r[0] for r in rows] == ["2", "3", "6"] and len({r[1] for r in rows}) > 1, rows
    assert [r[2] for r in rows] == ["1", "1", "1"], rows


def test_rules_import_without_pandas():
    code = "import sys, sim.rules; print('pandas' in sys.modules, 'mesa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]
    assert rules.NK == len(rules.THREAD_KINDS)


@pytest.mark.parametrize("seed", [0, 12345, 2**63 + 7])
def test_kernel_draws_are_numpys_draws_interleaved(seed):
    """The inlined uniform and geometric draws (sim/fast/draws.py) step PCG64's state themselves
    while Poisson and binomial go through numpy's functions on the same state, reached through
    the row of words bit_generators read from the generator: interleaved, they must give numpy's
    own sequence, and leave the generator where numpy would."""
    from numba import njit

    from sim.fast.draws import binomial, bit_generator, bit_generators, geometric, poisson, uniform

    @njit
    def draw(rows, out):
        bits = bit_generator(rows, 1)  # the kernels reach their generators as rows of words
        for i in range(out.shape[0]):
            kind = i % 5
            if kind == 0:
                out[i] = poisson(bits, 3.5 if i % 2 else 40.0)
            elif kind == 1:
                p = 0.2 if i % 2 else 0.6
                out[i] = geometric(bits, p, np.log1p(-p))
            elif kind == 2:
                out[i] = binomial(bits, 30, 0.3)
            else:
                out[i] = uniform(bits)

    ours, numpys = np.random.Generator(np.random.PCG64(seed)), np.random.Generator(np.random.PCG64(seed))
    out = np.empty(50_000)  # of 5,000 exponentials (p = 0.2) ~115 take the ziggurat's slow paths, ~2 its tail
    draw(bit_generators([np.random.Generator(np.random.PCG64(seed + 1)), ours]), out)
    expected = [numpys.poisson(3.5 if i % 2 else 40.0) if i % 5 == 0 else
                numpys.geometric(0.2 if i % 2 else 0.6) if i % 5 == 1 else
                numpys.binomial(30, 0.3) if i % 5 == 2 else numpys.random() for i in range(out.shape[0])]
    np.testing.assert_array_equal(out, expected)
    assert ours.bit_generator.state == numpys.bit_generator.state


def test_a_full_blocks_pick_by_shift_is_the_rulebooks_pick():
    """Witnessing picks a full block's member with the top bits of the draw (sim/fast/kernels.py,
    WHO_SHIFT) instead of rules.pick_index on the uniform: the same member for every draw."""
    from sim.fast.kernels import WHO_SHIFT
    from sim.schedule import WITNESS_BLOCK

    x = np.random.default_rng(5).integers(0, 2**64, 200_000, dtype=np.uint64, endpoint=False)
    x = np.concatenate([x, np.array([0, 2**64 - 1, 2**63, (2**52) - 1, 2**52], np.uint64)])
    u = (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    expected = [rules.pick_index(float(v), WITNESS_BLOCK) for v in u]
    np.testing.assert_array_equal((x >> WHO_SHIFT).astype(np.int64), expected)
