"""Mutations of the model: each a deliberate wrong rule or decision, written as an edit of the
source. The validation suite (the patterns and the docking tests) proves it can fail by failing on
every one of them: ``pytest -m mutation`` (tests/test_mutations.py) builds each mutant in a copy of
the source tree, runs the suite there and names the tests that caught it; docs/ODD.md 1.2 lists
the result.

A mutation of the rulebook changes both engines alike, so the patterns must catch it; a mutation
of one engine's driver is docking's to catch. Every edit names text that occurs exactly once in
its file (tests/test_mutations.py checks it on every run, so a refactoring that moves the text
says so here instead of turning the mutant into the original).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The validation suite a mutant is run against: the patterns and docking. The golden run is left
# out on purpose: it fails on any change at all, so it would "catch" every mutant and say nothing.
# The perturbed-rule test is left out too: it perturbs the compiled engine itself.
SUITE = ("tests/test_patterns.py", "tests/test_coupons.py", "tests/test_docking.py")
NOT_VALIDATION = ("test_perturbed_rule_in_the_compiled_engine_alone_is_detected",)


@dataclass(frozen=True)
class Mutation:
    name: str
    wrong: str  # what the mutant gets wrong, in the model's words
    edits: tuple[tuple[str, str, str], ...]  # (file, the right text, the wrong text)


def rule(name, wrong, right_text, wrong_text):
    return Mutation(name, wrong, (("sim/rules.py", right_text, wrong_text),))


MUTATIONS = (
    rule("no trust from purchases", "a satisfying purchase leaves trust where it was",
         "    return gain(trust, m.gain_purchase, 1.0)", "    return trust"),
    rule("no recovery paradox", "a recovered first mild accident only restores trust to where it was",
         "        return gain(pre, m.recovery_bonus, 1.0)", "        return pre"),
    rule("no selective penalty", "an ignored complainer who sees others answered loses nothing more",
         "    return 1.0 - min(1.0, m.loss_ignored * m.selective_penalty)", "    return 1.0"),
    rule("ignored complaints cost nothing", "a public complaint left unanswered costs the complainer no trust",
         "    return loss(trust, m.loss_ignored, 1.0)", "    return trust"),
    rule("witness effects halved", "every sighting of a thread moves the witness half as far",
         "    return 1.0 - witness_amount(kind, relevance, care, m)",
         "    return 1.0 - 0.5 * witness_amount(kind, relevance, care, m)"),
    rule("noise does not dilute attention", "members read threads in a noisy venue as in a quiet one",
         "    return m.attention_quiet * math.exp(-m.attention_decay * noise)", "    return m.attention_quiet"),
    Mutation(
        "mention weights swapped", "a positive mention moves trust by the negative one's weight, and vice versa",
        (("sim/rules.py", "    if kind == MENTION_POSITIVE:\n        return m.mention_positive * relevance",
          "    if kind == MENTION_POSITIVE:\n        return m.mention_negative * relevance"),
         ("sim/rules.py", "    if kind == MENTION_NEGATIVE:\n        return m.mention_negative * relevance",
          "    if kind == MENTION_NEGATIVE:\n        return m.mention_positive * relevance"))),
    rule("promotion is neutral", "a promotional post costs its witnesses no trust",
         "        return m.witness_promo * relevance", "        return 0.0 * relevance"),
    rule("turnover without forgetting", "staff who leave take no customer knowledge with them",
         "    return turnover / 365.0 * (1.0 - capture * m.capture_retention)", "    return 0.0 * turnover"),
    rule("scripted care as authentic", "a scripted reply carries the full caring effect",
         "    eff = authenticity * (1.0 - m.turnover_authenticity", "    eff = 1.0 * (1.0 - m.turnover_authenticity"),
    rule("decay half-life doubled", "trust and distrust fade at half the documented daily rate",
         "_choose(trust >= b, m.decay_above, m.decay_below)",
         "_choose(trust >= b, math.sqrt(m.decay_above), math.sqrt(m.decay_below))"),
    rule("share of wallet ignores intimacy", "a customer's share of wallet depends on trust alone",
         "m.sow_base + m.sow_trust * trust + m.sow_level * level", "m.sow_base + m.sow_trust * trust + 0.0 * level"),
    rule("intimacy does not hold customers", "intimacy does not lower the chance a customer leaves",
         "_power(1.0 - m.level_loyalty, level)", "_power(1.0 - m.level_loyalty, 0)"),
    rule("faceless as personified", "a faceless brand draws as many posts as a personified one",
         "    return min(1.0, base_rate * (1.0 + m.personified_engagement * personified))",
         "    return min(1.0, base_rate * (1.0 + m.personified_engagement))"),
    rule("L3 without repeat contact", "personal meaning is understood after a single reply",
         "kind == MEANING and contacts >= m.level3_contacts", "kind == MEANING"),
    Mutation("coupons build intimacy", "a coupon redemption moves the redeemer one intimacy level up, in both engines",
             (("sim/agents/model.py", '        self.count(j, "redemptions")\n',
               '        self.count(j, "redemptions")\n        st.level[pos, j] = min(st.level[pos, j] + 1, 3)\n'),
              ("sim/fast/kernels.py", "                    row[j, REDEMPTIONS] += 1\n",
               "                    row[j, REDEMPTIONS] += 1\n"
               "                    if level[p, j] < 3:\n"
               "                        tallies.levels[j, level[p, j]] -= 1\n"
               "                        level[p, j] += 1\n"
               "                        tallies.levels[j, level[p, j]] += 1\n"))),
    Mutation("compiled engine drops the capacity carry", "the compiled engine forgets the fraction of a reply "
             "carried to the next day (the Mesa engine keeps it)",
             (("sim/fast/kernels.py", "care_cap, carry[j, 0] = rules.actions_today(biz.mix[j, 0], carry[j, 0])",
               "care_cap, _ = rules.actions_today(biz.mix[j, 0], 0.0)"),)),
    Mutation("Mesa engine never snubs", "in the Mesa engine an ignored complainer is never marked as snubbed, so "
             "seeing others answered costs them nothing (the compiled engine marks them)",
             (("sim/agents/people.py", "        st.snubbed[self.pos, j] = True\n", ""),)),
)


def occurrences(m: Mutation, root: Path = ROOT) -> list[int]:
    """How often each edit's right text occurs in its file (each must be exactly once)."""
    return [(root / f).read_text().count(right) for f, right, _ in m.edits]


def build(m: Mutation, into: Path, root: Path = ROOT) -> Path:
    """A copy of the tracked source tree with the mutation applied."""
    files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        (into / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / f, into / f)
    for f, right, wrong in m.edits:
        text = (into / f).read_text()
        assert text.count(right) == 1, f"{m.name}: the text to mutate occurs {text.count(right)} times in {f}"
        (into / f).write_text(text.replace(right, wrong))
    return into


@dataclass(frozen=True)
class Verdict:
    failed: tuple[str, ...]  # validation tests that failed on the mutant: the ones that caught it
    errors: tuple[str, ...]  # tests that could not run (a mutant that does not compile, say)
    passed: int
    seconds: float


def run(m: Mutation, workdir: Path) -> Verdict:
    """Build the mutant in ``workdir`` and run the validation suite on it. Its compiled kernels
    land in a cache folder of their own (the cache is keyed on the source, sim/fast/cache.py), so
    a second run of the same mutant does not compile again."""
    tree = build(m, workdir / "tree")
    report = workdir / "junit.xml"
    started = time.perf_counter()
    # compile once before the suite, whose process pools would otherwise all compile at once
    subprocess.run([sys.executable, "-m", "sim.fast"], cwd=tree, capture_output=True)
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "", "--junitxml",
                    str(report), *SUITE, *[f"--deselect={s}::{t}" for s in SUITE for t in NOT_VALIDATION]],
                   cwd=tree, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    failed, errors, passed = [], [], 0
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]  # tests.test_patterns -> test_patterns
        name = f"{module}.py::{case.get('name')}"
        failure = case.find("failure")
        if failure is not None and "XPASS(strict)" in (failure.get("message") or ""):
            continue  # an expected failure of the model that the mutant happens to fix: no catch
        error = case.find("error")
        if failure is not None or (error is not None and "AssertionError" in (error.get("message") or "")):
            failed.append(name)  # a failed assertion, in the test or in a fixture it needs
        elif error is not None:
            errors.append(name)
        elif case.find("skipped") is None:
            passed += 1
    return Verdict(tuple(failed), tuple(errors), passed, seconds)


def main(argv: list[str] | None = None) -> None:
    """python -m tests.mutations [NAME ...] [--jobs N]: run the mutants (all by default) and print
    the table of docs/ODD.md 1.2."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("names", nargs="*")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]

    def one(m):
        with tempfile.TemporaryDirectory(prefix="trustsim-mutant-") as d:
            v = run(m, Path(d))
        print(f"{m.name}: {len(v.failed)} failed, {len(v.errors)} errors, {v.passed} passed, {v.seconds:.0f} s; "
              f"caught by {', '.join(v.failed) or 'nothing'}", flush=True)
        return m, v

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one, chosen))
    print("\n| Mutation | What it gets wrong | Caught by |\n|---|---|---|")
    for m, v in results:
        caught = ", ".join(f"`{t.split('::')[1]}`" for t in v.failed) or "**nothing**"
        if v.errors:
            caught += f" (errors: {', '.join(v.errors)})"
        print(f"| {m.name} | {m.wrong} | {caught} |")


if __name__ == "__main__":
    main()
