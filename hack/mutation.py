#!/usr/bin/env python3
"""Mutation testing of the controller's decision code (``make mutation``), with mutmut 3.

For each target file: mutmut makes every mutant of every function (a trampoline picks the active one), runs the
target's fast unit tests once to learn which test calls which function, then runs, for each mutant, only the tests
that call the mutated function (forked from a process that already imported everything, so a mutant costs
milliseconds to a second). This script then prints, per file, killed / total, the score over the mutants that are
not listed as equivalent, and every surviving mutant as a diff, and fails when a file scores under the threshold.

Layout: mutmut names a mutant after the path of its file, and its trampoline only activates a mutant when that name
equals the module's import name. The collection is imported as ``ansible_collections.apexone.certificates``, so the
script stages a copy of the work tree at ``.build/mutation/<target>/ansible_collections/apexone/certificates`` and
runs mutmut there; the work tree itself is never changed. Tests run with a fixed hypothesis seed so a verdict does
not depend on random examples.

Equivalent mutants (a change no input can observe) are listed in hack/mutation_equivalents.yml, each keyed by file,
function and the changed source line before and after (not by mutmut's numbering, which moves when code is added),
with the reason it cannot change behaviour. An entry that no longer matches a mutant is reported as stale.

Sampling: ``--sample F`` (0 < F <= 1) keeps the mutants whose SHA-256 of "<seed>:<mutant name>" falls in the first
F of the hash space: the same code and seed always give the same sample (a mutant's name does not depend on the
targets or functions chosen, so a narrow run scores the same mutants as the full one). ``make mutation`` runs the
sample the Makefile names (MUTATION_ARGS); without --sample every mutant runs.

Usage: hack/mutation.py [--target NAME ...] [--sample F] [--seed S] [--jobs N] [--threshold P] [--keep]
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGE_ROOT = os.path.join(REPO, ".build", "mutation")
COLLECTION = os.path.join("ansible_collections", "apexone", "certificates")
EQUIVALENTS = os.path.join(REPO, "hack", "mutation_equivalents.yml")
THRESHOLD = 90.0

# Each target: the file to mutate, its fast unit tests (no ansible-playbook, no network but 127.0.0.1), and
# optionally the functions to mutate (others in the file are I/O, left to the integration tests).
TARGETS: dict[str, dict] = {
    "planner": {
        "source": "plugins/plugin_utils/_planner.py",
        "tests": ["tests/unit/plugin_utils/test_planner.py", "tests/unit/plugin_utils/test_planner_mutants.py",
                  "tests/unit/plugin_utils/test_planner_parts_mutants.py",
                  "tests/unit/plugin_utils/test_planner_files.py", "tests/unit/plugin_utils/test_planner_procedure.py"],
    },
    "x509": {
        "source": "plugins/module_utils/_x509.py",
        "tests": ["tests/unit/module_utils/test_x509.py", "tests/unit/module_utils/test_x509_mutants.py",
                  "tests/unit/module_utils/test_x509_exact_mutants.py", "tests/unit/module_utils/test_x509_chains.py",
                  "tests/unit/module_utils/test_x509_pfx_fast.py"],
    },
    "report": {
        "source": "plugins/plugin_utils/_report.py",
        "tests": ["tests/unit/plugin_utils/test_report.py", "tests/unit/plugin_utils/test_report_mutants.py"],
    },
    "files": {
        "source": "plugins/module_utils/_apexone_files.py",
        "tests": ["tests/unit/module_utils/test_apexone_files.py",
                  "tests/unit/module_utils/test_apexone_files_mutants.py",
                  "tests/unit/plugin_utils/test_planner_files.py"],
    },
    "enroll": {
        "source": "plugins/plugin_utils/_enroll.py",
        "tests": ["tests/unit/plugin_utils/test_enroll.py", "tests/unit/plugin_utils/test_enroll_mutants.py"],
    },
    "certreq": {
        "source": "plugins/plugin_utils/_certreq.py",
        "tests": ["tests/unit/plugin_utils/test_certreq.py", "tests/unit/plugin_utils/test_certreq_mutants.py"],
    },
    "tls_probe": {
        "source": "plugins/module_utils/_tls_probe.py",
        "tests": ["tests/unit/plugins/test_tls_probe.py", "tests/unit/plugins/test_tls_probe_mutants.py"],
        # The judging and the parsing of endpoints; sockets, the handshake and the thread pool are not mutated.
        "functions": ["_port", "_split_host_port", "_display", "parse_endpoints", "_invalid_target", "_parse_one",
                      "_classify", "_empty_result", "_judge", "load_ca", "summarize"],
    },
}

KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def _log(message: str) -> None:
    print(message, flush=True)


def load_equivalents(path: str = EQUIVALENTS) -> list[dict]:
    """The allow-list, one dict per (file, function, before, after); ``pairs`` share one function and reason."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        entries = yaml.safe_load(handle) or []
    flat = []
    for number, entry in enumerate(entries, 1):
        if entry.get("replace"):
            # One change everywhere in the matched functions: the mutant's line is the original line with the text
            # "from" replaced by one of "to" (for example "default=[]) or []" -> "default=None) or []").
            rule = entry["replace"]
            item = {"file": entry.get("file"), "function": entry.get("function"), "reason": entry.get("reason"),
                    "from": rule.get("from"), "to": list(rule.get("to") or [])}
            missing = [k for k, v in item.items() if not str(v or "").strip()]
            if missing:
                raise SystemExit(f"{path}: entry {number} has no {', '.join(missing)}")
            flat.append(item)
            continue
        pairs = entry.get("pairs") or [{"before": entry.get("before"), "after": entry.get("after")}]
        for pair in pairs:
            item = {"file": entry.get("file"), "function": entry.get("function"), "reason": entry.get("reason"),
                    "before": pair.get("before"), "after": pair.get("after")}
            missing = [k for k, v in item.items() if not str(v or "").strip()]
            if missing:
                raise SystemExit(f"{path}: entry {number} has no {', '.join(missing)}: each mutant needs all five")
            flat.append(item)
    return flat


def stage(name: str, keep: bool) -> str:
    """Copy the work tree (tracked and new files, not ignored ones) under <stage>/ansible_collections/apexone/..."""
    where = os.path.join(STAGE_ROOT, name)
    if os.path.isdir(where) and not keep:
        shutil.rmtree(where)
    dest = os.path.join(where, COLLECTION)
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True, capture_output=True
    ).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = os.path.join(REPO, rel)
        if not os.path.isfile(src):
            continue
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if keep and os.path.exists(target) and _same(src, target):
            continue
        shutil.copy2(src, target)
    return where


def _same(a: str, b: str) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def write_config(where: str, target: dict) -> None:
    rel = lambda p: os.path.join(COLLECTION, p)  # noqa: E731
    lines = [
        "[mutmut]",
        f"source_paths = {rel('plugins')}",
        "also_copy =",
        *[f"    {rel(entry)}" for entry in sorted(os.listdir(os.path.join(where, COLLECTION))) if entry != "plugins"],
        f"only_mutate = {rel(target['source'])}",
        "pytest_add_cli_args_test_selection =",
        *[f"    {rel(test)}" for test in target["tests"] if os.path.isfile(os.path.join(REPO, test))],
        "pytest_add_cli_args =",
        "    -p",
        "    no:cacheprovider",
        "    -c",
        f"    {rel('pytest.ini')}",
        "    --hypothesis-seed=0",
        "    -p",
        "    mutation_order",
        "use_git_change_detection = false",
        "use_setproctitle = false",
        "timeout_multiplier = 10.0",
        "timeout_constant = 2.0",
    ]
    with open(os.path.join(where, "setup.cfg"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def module_name(source: str) -> str:
    return os.path.join(COLLECTION, source)[: -len(".py")].replace(os.sep, ".")


def enumerate_mutants(where: str, target: dict) -> list[str]:
    """Every mutant name mutmut will make for the target file (same generator, same names)."""
    from mutmut.mutation.file_mutation import mutate_file_contents

    path = os.path.join(COLLECTION, target["source"])
    with open(os.path.join(where, path), encoding="utf-8") as handle:
        source = handle.read()
    # Generating is slow (libcst); the names depend only on the source and the pinned mutmut, so keep them.
    cache = os.path.join(STAGE_ROOT, "names", hashlib.sha256(source.encode()).hexdigest() + ".json")
    if os.path.isfile(cache):
        with open(cache, encoding="utf-8") as handle:
            return json.load(handle)
    prefix = module_name(target["source"])
    names = [f"{prefix}.{m}" for m in mutate_file_contents(path, source).mutant_names]
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(cache, "w", encoding="utf-8") as handle:
        json.dump(names, handle)
    return names


def function_of(mutant: str) -> str:
    mangled = mutant.rpartition(".")[2].partition("__mutmut_")[0]
    if "ǁ" in mangled:
        return mangled.rsplit("ǁ", 1)[1]
    return mangled[2:]


def sample(names: list[str], fraction: float, seed: str) -> list[str]:
    if fraction >= 1:
        return names
    limit = int(fraction * 2**64)
    return [n for n in names if int(hashlib.sha256(f"{seed}:{n}".encode()).hexdigest()[:16], 16) < limit]


def run_mutmut(where: str, names: list[str], jobs: int) -> int:
    log = os.path.join(where, "mutmut.log")
    argsfile = os.path.join(where, "mutants.txt")
    with open(argsfile, "w", encoding="utf-8") as handle:
        handle.write("\n".join(names) + "\n")
    cmd = [os.path.join(os.path.dirname(sys.executable), "mutmut"), "run", "--max-children", str(jobs), *names]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS_", "MUTANT_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # Each mutant runs in a fresh fork: keep the test PKI's RSA keys on disk instead of generating them per mutant.
    env["APEXONE_TEST_KEY_CACHE"] = os.path.join(STAGE_ROOT, "keys")
    env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__))  # the mutation_order pytest plugin
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.run(cmd, cwd=where, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode


def wanted(name: str, functions: list[str]) -> bool:
    return not functions or any(fnmatch.fnmatchcase(function_of(name), f) for f in functions)


def collect(where: str, target: dict, names: list[str] | None, functions: list[str]) -> list[dict]:
    """Status and diff of each mutant run, read back from mutmut's files (run in the stage directory)."""
    os.chdir(where)
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    path = os.path.join(COLLECTION, target["source"])
    with open(os.path.join("mutants", path + ".meta"), encoding="utf-8") as handle:
        exit_codes = json.load(handle)["exit_code_by_key"]
    if names is None:
        names = [n for n in exit_codes if wanted(n, functions)]
    results = []
    for name in names:
        status = status_by_exit_code[exit_codes.get(name)]
        diff = get_diff_for_mutant(name, path=path)
        before, after = changed_lines(diff)
        results.append({"name": name, "function": function_of(name), "status": status, "diff": diff,
                        "before": before, "after": after})
    return results


def changed_lines(diff: str) -> tuple[str, str]:
    body = [line for line in diff.splitlines()[2:] if not line.startswith("@@")]
    before = "\n".join(line[1:].strip() for line in body if line.startswith("-"))
    after = "\n".join(line[1:].strip() for line in body if line.startswith("+"))
    return before, after


def is_equivalent(result: dict, source: str, equivalents: list[dict]) -> dict | None:
    for entry in equivalents:
        if entry["file"] != source or not fnmatch.fnmatchcase(result["function"], entry["function"]):
            continue
        if "from" in entry:
            before = result["before"]
            if entry["from"] in before and "\n" not in before and any(
                result["after"] == before.replace(entry["from"], to) for to in entry["to"]
            ):
                return entry
        elif entry["before"].strip() == result["before"] and entry["after"].strip() == result["after"]:
            return entry
    return None


def score_target(name: str, target: dict, results: list[dict], equivalents: list[dict]) -> dict:
    used = []
    counted, killed, survivors, equivalent = 0, 0, [], []
    for result in results:
        entry = is_equivalent(result, target["source"], equivalents)
        if entry is not None:
            used.append(id(entry))
            equivalent.append((result, entry))
            continue
        counted += 1
        if result["status"] in KILLED:
            killed += 1
        else:
            survivors.append(result)
    return {
        "target": name,
        "file": target["source"],
        "total": len(results),
        "equivalent": len(equivalent),
        "equivalent_killed": sum(1 for r, _ in equivalent if r["status"] in KILLED),
        "counted": counted,
        "killed": killed,
        "score": round(100.0 * killed / counted, 1) if counted else 100.0,
        "survivors": survivors,
        "used_entries": used,
    }


def report(name: str, target: dict, results: list[dict], equivalents: list[dict], summaries: list[dict],
           args: argparse.Namespace, started: float) -> None:
    summary = score_target(name, target, results, equivalents)
    summary["seconds"] = round(time.monotonic() - started)
    summaries.append(summary)
    _log(f"   killed {summary['killed']}/{summary['counted']} = {summary['score']}% "
         f"({summary['total']} mutants, {summary['equivalent']} listed as equivalent) in {summary['seconds']}s")
    for survivor in summary["survivors"]:
        if args.quiet_survivors:
            _log(f"   survived ({survivor['status']}): {survivor['name']}")
        else:
            _log(f"--- survived ({survivor['status']}): {survivor['name']}")
            _log("\n".join(survivor["diff"].splitlines()[2:]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="default: every target")
    parser.add_argument("--sample", type=float, default=1.0, help="fraction of mutants to run (deterministic)")
    parser.add_argument("--seed", default="apexone", help="sampling seed")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")))
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--function", action="append", help="only mutants of these functions (glob)")
    parser.add_argument("--keep", action="store_true", help="reuse the staged copy and mutmut's cached verdicts")
    parser.add_argument("--quiet-survivors", action="store_true", help="print survivor names, not their diffs")
    parser.add_argument("--rescore", action="store_true",
                        help="score the last run's results.json again (after editing the allow-list); runs nothing")
    args = parser.parse_args(argv)
    if not 0 < args.sample <= 1:
        parser.error("--sample is a fraction in (0, 1]")

    equivalents = load_equivalents()
    summaries = []
    started = time.monotonic()
    for name in args.target or list(TARGETS):
        target = TARGETS[name]
        t0 = time.monotonic()
        if args.rescore:
            try:
                with open(os.path.join(STAGE_ROOT, name, "results.json"), encoding="utf-8") as handle:
                    results = json.load(handle)
            except FileNotFoundError:
                continue
            report(name, target, results, equivalents, summaries, args, t0)
            continue
        where = stage(name, args.keep)
        write_config(where, target)
        cwd = os.getcwd()
        functions = list(args.function or target.get("functions") or [])
        if args.sample < 1:
            # Sampling needs the names first: enumerate with mutmut's own generator, then pass the chosen names.
            os.chdir(where)
            try:
                names = [n for n in enumerate_mutants(where, target) if wanted(n, functions)]
            finally:
                os.chdir(cwd)
            selection = names = sample(names, args.sample, args.seed)
            if not names:
                _log(f"== {target['source']}: no mutant in the sample")
                continue
        else:
            prefix = module_name(target["source"])
            selection = [p for f in functions for p in (f"{prefix}.x_{f}__mutmut_*", f"{prefix}.x*ǁ{f}__mutmut_*")]
            names = None
        _log(f"== {target['source']}: {len(names) if names else 'all'} mutants"
             f"{' of ' + ', '.join(functions) if functions else ''}; tests: {', '.join(target['tests'])}")
        code = run_mutmut(where, selection, args.jobs)
        if code != 0:
            _log(f"mutmut failed (exit {code}); its output: {os.path.join(where, 'mutmut.log')}")
            with open(os.path.join(where, "mutmut.log"), encoding="utf-8", errors="replace") as handle:
                _log(handle.read()[-4000:])
            return 2
        try:
            results = collect(where, target, names, functions)
        finally:
            os.chdir(cwd)
        with open(os.path.join(where, "results.json"), "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
        report(name, target, results, equivalents, summaries, args, t0)

    used = {i for s in summaries for i in s["used_entries"]}
    ran = {TARGETS[s["target"]]["source"] for s in summaries}
    full = args.sample >= 1 and not args.function and not args.rescore
    stale = [e for e in equivalents if e["file"] in ran and id(e) not in used] if full else []
    _log("")
    _log("mutation score per file (killed / mutants not listed as equivalent):")
    failed = False
    for s in summaries:
        ok = s["score"] >= args.threshold
        failed |= not ok
        _log(f"  {'PASS' if ok else 'FAIL'} {s['file']:<44} {s['killed']:>4}/{s['counted']:<4} {s['score']:>5.1f}%"
             f"  (+{s['equivalent']} equivalent, {len(s['survivors'])} survived, {s['seconds']}s)")
    for entry in stale:
        _log(f"  stale allow-list entry (matches no mutant): {entry['file']} {entry['function']}: "
             f"{entry.get('before', entry.get('from'))!r}")
    _log(f"threshold {args.threshold}% per file; sample {args.sample}; {round(time.monotonic() - started)}s in all")
    return 1 if failed or stale else 0


if __name__ == "__main__":
    sys.exit(main())
