"""Benchmarks of apexone.certificates against the do-it-yourself alternatives (``make bench``), as ratios.

Everything runs in one go, on this machine, and prints one table:

1. Controller preflight of N generated PFX files: the collection's ``pfx_info`` + ``webhost_cert_check``
   (the shipped preflight playbook over an inventory of N hosts, and one set_fact loop as a playbook of one's own
   writes it) versus one ``community.crypto.x509_certificate_info`` run per certificate (same two shapes). The DIY
   side needs PEM: the certificates are extracted from the PFX files with cryptography first, not counted.
2. ``tls_probe`` of 100 and 500 local TLS endpoints versus sequential probing (``openssl s_client`` per endpoint,
   and ``community.crypto.get_certificate`` per endpoint in a playbook); peak RSS of the probing process.
3. Remote round trips per host, counted by the Windows test double (tests/double): the role on a compliant host
   and on a host needing the full replacement, versus tests/bench/diy_replace.yml (generic modules).
4. How cost grows: preflight time for N = 10, 100, 1000, and the fleet report for 5000 hosts.

Ratios are the headline (this kind of machine is noisy; absolute times do not compare across runs). Numbers that
are extrapolated (never without a linearity check over at least two measured points) are marked as such.

  python tests/bench/run.py [--write-doc docs/performance.md] [--json FILE] [--keep]
      --smoke             tiny sizes (about 2 minutes), to check the benchmark itself
      --only SECTIONS     some of: preflight, round_trips, tls, report
                          (make bench BENCH_ARGS="--only preflight": the preflight benchmarks alone)
      --preflight-sizes, --diy-sizes, --fleet-sizes N,N,...   sizes of the preflight runs (small N first)
      --from-json FILE    measure nothing: re-print (and --write-doc) a run saved with --json

Uses the collection installed by ``make install`` (copied into a private folder first, so that a concurrent
``make install`` cannot change it mid-run), ``.venv`` and ``.build/deps``. Local servers listen on 127.0.0.1 only
and stop by themselves; every subprocess has a timeout.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, "tests", "bench")
INSTALLED = os.path.join(REPO, ".build", "collections", "ansible_collections", "apexone", "certificates")
DEPS = os.path.join(REPO, ".build", "deps")
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")
CALLBACKS = os.path.join(BENCH, "callback_plugins")
for extra in (os.path.join(REPO, "tests", "lab"), os.path.join(REPO, "tests", "double")):
    if extra not in sys.path:
        sys.path.insert(0, extra)

PFX_PASSWORD = "bench-only-Pfx-Passw0rd"  # generated benchmark material, never a real secret
DOMAIN = "bench.example"
FRIENDLY_NAME = "Apex One web host bench"
BUDGET_SECONDS = 14 * 60  # make bench must end within 15 minutes on a 2-core machine
SIZES = {
    "preflight": (10, 100, 1000),  # playbooks: ours (preflight.yml, set_fact loop) and DIY, all measured
    "diy": (10, 100, 1000),  # measured at every size; a size left out is extrapolated when the cost is constant
    "fleet": (1000, 2000, 5000),  # the fleet check in-process and the floor: cost per host and how it grows
    "tls": (100, 500),
    "get_certificate": (10, 100),  # measured; N = 500 is extrapolated when the cost per endpoint is constant
    "report": 5000,
}
SMOKE_SIZES = {"preflight": (5, 20, 40), "diy": (5, 20, 40), "fleet": (40, 80, 200), "tls": (20, 40),
               "get_certificate": (5, 20), "report": 200}
LATENCY_MS = 20
LINEAR_TOLERANCE = 0.25  # marginal costs of successive segments within 25% of each other: linear enough
RESERVE_AFTER_PREFLIGHT = 200  # seconds the sections after the preflight need (round trips, tls_probe, report)
# full: the seven changes of the KB procedure plus one read-only re-gather for the KA-0010488 health verdict.
TARGETS = {"playbook": 30.0, "fleet": 100.0, "floor": 2.0, "tls": 20.0, "compliant": 1, "full": 8, "diy": 10}


# ---------------------------------------------------------------------------------------------------------
# Small helpers


class Bench:
    """Work folder, environment, progress output and the results of one run."""

    def __init__(self, work: str):
        self.work = work
        self.started = time.monotonic()
        self.results: dict = {"sections": {}}
        self.collections = os.path.join(work, "collections")
        self.env = self._environment()

    def _environment(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
        home = os.path.join(self.work, "home")
        os.makedirs(os.path.join(home, "tmp"), exist_ok=True)
        env.update({
            "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
            "HOME": home,
            "ANSIBLE_COLLECTIONS_PATH": self.collections + os.pathsep + DEPS,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_LOCAL_TEMP": os.path.join(home, "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
            "ANSIBLE_CALLBACKS_ENABLED": "bench_timer",
        })
        return env

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def log(self, message: str) -> None:
        minutes, seconds = divmod(int(self.elapsed()), 60)
        print(f"[{minutes:02d}:{seconds:02d}] {message}", flush=True)

    def left(self) -> float:
        return BUDGET_SECONDS - self.elapsed()

    def affordable(self, estimate: float, reserve: float) -> bool:
        """Whether a step estimated at ``estimate`` seconds still fits, keeping ``reserve`` for what follows."""
        return self.left() - reserve > estimate


def median(values):
    return statistics.median(values) if values else None


def run_timed(cmd: list[str], *, env: dict, cwd: str, timeout: float) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - started
    return seconds, proc


def require(proc: subprocess.CompletedProcess, label: str, codes=(0,)) -> None:
    if proc.returncode not in codes:
        tail = (proc.stdout or "")[-3000:] + (proc.stderr or "")[-2000:]
        raise RuntimeError(f"{label} exited with {proc.returncode}:\n{tail}")


def write_json(path: str, data) -> str:
    with open(path, "w") as handle:
        json.dump(data, handle)
    return path


def fleet_names(count: int) -> list[str]:
    return [f"apex{i:05d}.{DOMAIN}" for i in range(count)]


# ---------------------------------------------------------------------------------------------------------
# Machine


def machine() -> dict:
    model = None
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), None)
    except OSError:
        pass
    ram = None
    try:
        with open("/proc/meminfo") as handle:
            kib = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal"))
            ram = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    import ansible
    import cryptography

    openssl_cli = shutil.which("openssl")
    openssl_version = None
    if openssl_cli:
        openssl_version = subprocess.run([openssl_cli, "version"], capture_output=True, text=True, check=False,
                                         timeout=10).stdout.strip()
    load = None
    try:
        load = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model or platform.processor() or "unknown",
        "ram": ram or "unknown",
        "os": f"{platform.system()} {platform.release().split('-')[0]}",
        "python": platform.python_version(),
        "ansible_core": ansible.__version__,
        "cryptography": cryptography.__version__,
        "python_ssl": ssl.OPENSSL_VERSION,
        "openssl_cli": openssl_version,
        "load_at_start": load,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
    }


# ---------------------------------------------------------------------------------------------------------
# 1 + 4a. Preflight


def make_pfx_fleet(bench: Bench, count: int) -> dict:
    """``count`` PFX files (leaf + intermediate, 3DES as Windows exports them), the lab root, per-N inventories."""
    import pki

    folder = os.path.join(bench.work, "pfx")
    os.makedirs(folder, exist_ok=True)
    lab = pki.LabPki()
    root = os.path.join(folder, "root.pem")
    with open(root, "w") as handle:
        handle.write(lab.root.pem)
    # One RSA key for every certificate: generating 1000 keys takes minutes, and reading a PFX costs the same
    # whichever key it holds.
    key = pki.rsa_key(2048, slot=900)
    names = fleet_names(count)
    paths = {}
    for name in names:
        _key, cert = lab.server(name, key=key)
        path = os.path.join(folder, f"{name}.pfx")
        with open(path, "wb") as handle:
            handle.write(pki.make_pfx(key, cert, [lab.intermediate.cert], password=PFX_PASSWORD,
                                      friendly_name=FRIENDLY_NAME))
        paths[name] = path
    return {"folder": folder, "root": root, "names": names, "pfx": paths, "key": key}


def preflight_inventory(bench: Bench, fleet: dict, count: int) -> str:
    hosts = {name: {"apexone_cert_hostname": name, "apexone_cert_pfx_path": fleet["pfx"][name]}
             for name in fleet["names"][:count]}
    inventory = {"all": {"hosts": hosts, "vars": {
        "apexone_cert_pfx_password": PFX_PASSWORD,
        "apexone_cert_ca_bundle_path": fleet["root"],
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
    }}}
    return write_json(os.path.join(bench.work, f"preflight-{count}.json"), inventory)


def extract_pem(fleet: dict, count: int) -> tuple[dict, float]:
    """The DIY side needs PEM: each PFX's certificate, extracted with cryptography (timed, not counted)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    started = time.perf_counter()
    pems = {}
    for name in fleet["names"][:count]:
        with open(fleet["pfx"][name], "rb") as handle:
            bundle = pkcs12.load_pkcs12(handle.read(), PFX_PASSWORD.encode())
        path = fleet["pfx"][name][:-4] + ".crt.pem"
        with open(path, "wb") as handle:
            handle.write(bundle.cert.certificate.public_bytes(serialization.Encoding.PEM))
        pems[name] = path
    return pems, time.perf_counter() - started


def run_playbook(bench: Bench, playbook: str, inventory: str, *extra: str, timeout: float = 600,
                 label: str = "", codes=(0,), env: dict | None = None) -> tuple[float, subprocess.CompletedProcess, list]:
    timer_out = os.path.join(bench.work, "timer.json")
    if os.path.exists(timer_out):
        os.remove(timer_out)
    run_env = dict(env or bench.env, APEXONE_BENCH_TIMER_OUT=timer_out)
    cmd = ["ansible-playbook", "-i", inventory, playbook, *extra]
    seconds, proc = run_timed(cmd, env=run_env, cwd=bench.work, timeout=timeout)
    require(proc, label or playbook, codes)
    tasks = []
    if os.path.exists(timer_out):
        with open(timer_out) as handle:
            tasks = json.load(handle)
    return seconds, proc, tasks


def within_run(tasks: list[dict], name: str, kind: str) -> dict | None:
    """Cost per host/item in the first and the second half of one task's results (constant cost: linear in N).

    Each half's cost is the median, over windows of ``width`` consecutive results, of the time per result in the
    window: forks deliver results in bursts, and a short load spike on a shared machine moves a few windows, not
    the median.
    """
    task = next((t for t in tasks if name in t["task"]), None)
    stamps = sorted((task or {}).get(kind) or [])
    if len(stamps) < 20:
        return None
    width = max(5, len(stamps) // 20)
    # The first tenth is left out: workers start and the first results arrive together.
    start, middle = len(stamps) // 10, len(stamps) // 2
    rates = [(stamps[i + width] - stamps[i]) / width for i in range(start, len(stamps) - width)]
    first = statistics.median(rates[: middle - start])
    second = statistics.median(rates[middle - start:])
    spread = abs(second - first) / max(first, second) if max(first, second) > 0 else 0.0
    others = sum(t["seconds"] for t in tasks if t is not task) / len(stamps)
    return {"first_half": first, "second_half": second, "spread": spread, "linear": spread <= LINEAR_TOLERANCE,
            "count": len(stamps), "window": width, "per_item": statistics.median(rates) + others}


def extrapolate(points: dict[int, float], check: dict | None, target: int) -> dict:
    """Seconds at ``target`` on a line from the largest measured run, only when the cost per item is constant.

    The evidence of linearity: at least two measured sizes, and within the largest run the same cost per
    host/item in the first and the second half of its results. The slope is the smaller of the marginal cost
    between the measured sizes and the cost per item within the largest run (both measured; the smaller one
    keeps the extrapolated baseline, and so our ratio, on the low side).
    """
    sizes = sorted(points)
    out: dict = {"from": sizes, "within_run": check, "value": None, "target": target}
    if len(sizes) < 2 or not check:
        out["why_not"] = "fewer than two measured sizes" if len(sizes) < 2 else "no per-result timings"
        return out
    marginal = (points[sizes[-1]] - points[sizes[0]]) / (sizes[-1] - sizes[0])
    out["marginal"] = marginal
    out["slope"] = min(marginal, check["per_item"])
    if marginal <= 0 or not check["linear"]:
        out["why_not"] = (f"the cost per item is not constant within the N={sizes[-1]} run "
                          f"({check['first_half'] * 1000:.0f} then {check['second_half'] * 1000:.0f} ms)")
        return out
    out["value"] = points[sizes[-1]] + out["slope"] * (target - sizes[-1])
    return out


def bench_preflight(bench: Bench) -> dict:
    out: dict = {}
    top = max(SIZES["preflight"])
    files = max(top, *SIZES["diy"], *SIZES["fleet"])
    bench.log(f"preflight: generating {files} certificates and PFX files")
    started = time.perf_counter()
    fleet = make_pfx_fleet(bench, files)
    out["generate_seconds"] = time.perf_counter() - started
    localhost = write_json(os.path.join(bench.work, "localhost.json"), {"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}})

    # In-process costs: what one certificate costs the collection's code itself, and why.
    out["unit"] = unit_costs(fleet)
    bench.log("preflight: per-certificate cost in-process: pfx_info {pfx_info_ms:.1f} ms (of which RSA key "
              "validation {rsa_validation_ms:.1f} ms), webhost_cert_check {check_ms:.1f} ms".format(**out["unit"]))
    # The fleet check in-process against the floor (decrypting the PFX files and nothing else), at every size.
    out["fleet"] = bench_fleet(bench, fleet)
    # DIY needs PEM: extracted with cryptography beforehand, timed, not counted.
    pems, extract_seconds = extract_pem(fleet, max(SIZES["diy"]))
    out["pem_extract_seconds_per_cert"] = extract_seconds / max(SIZES["diy"])
    out["sizes"] = {"preflight": list(SIZES["preflight"]), "diy": list(SIZES["diy"]), "fleet": list(SIZES["fleet"])}

    runs: dict[str, dict[int, list[float]]] = {"ours_playbook": {}, "ours_loop": {}, "diy_playbook": {}, "diy_loop": {}}
    tasks: dict[str, dict[int, list]] = {key: {} for key in runs}

    def measure(key: str, count: int, playbook: str, inventory: str, *extra: str, check=None) -> None:
        # A DIY run costs about 0.25 s per host on a quiet machine and ten times that on a loaded one.
        seconds, _proc, timings = run_playbook(bench, playbook, inventory, *extra, timeout=max(900, 4 * count),
                                               label=f"{key} N={count}")
        if check:
            check()
        runs[key].setdefault(count, []).append(seconds)
        tasks[key][count] = timings
        bench.log(f"preflight {key.replace('_', ' ')} N={count}: {seconds:.1f} s")

    # Ours and DIY alternate at each size, so that both see the same load on a shared machine.
    for count in sorted(set(SIZES["preflight"]) | set(SIZES["diy"])):
        ours_reps = 3 if count <= 10 else 2 if count <= 100 else 1
        diy_reps = 3 if count <= 10 else 1
        if count == max(SIZES["preflight"]) and runs["ours_playbook"] and runs["diy_playbook"]:
            largest = max(set(runs["ours_playbook"]) & set(runs["diy_playbook"]))
            needed = sum(median(runs[k][largest]) for k in runs if largest in runs[k]) * count / largest
            if not bench.affordable(needed * 1.2, RESERVE_AFTER_PREFLIGHT):
                bench.log(f"skipping the preflight runs at N={count} (time budget: {needed:.0f} s needed)")
                continue
        inventory = preflight_inventory(bench, fleet, count)
        certs = write_json(os.path.join(bench.work, f"loop-{count}.json"), {
            "bench_certs": [{"pfx": fleet["pfx"][n], "hostname": n} for n in fleet["names"][:count]],
            "bench_pfx_password": PFX_PASSWORD, "bench_ca_path": fleet["root"]})
        if count in SIZES["diy"]:
            hosts = {n: {"diy_cert_pem_path": pems[n], "diy_hostname": n} for n in fleet["names"][:count]}
            diy_inventory = write_json(os.path.join(bench.work, f"diy-{count}.json"), {"all": {"hosts": hosts, "vars": {
                "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}})
            diy_certs = write_json(os.path.join(bench.work, f"diy-loop-{count}.json"), {
                "bench_certs": [{"pem": pems[n], "hostname": n} for n in fleet["names"][:count]]})
        for rep in range(max(ours_reps, diy_reps)):
            if count in SIZES["preflight"] and rep < ours_reps:
                summary = os.path.join(bench.work, f"summary-{count}.json")

                def verdicts_ok(count=count, summary=summary):
                    with open(summary) as handle:
                        verdicts = json.load(handle)
                    if len(verdicts["hosts"]) != count or verdicts["failed"]:
                        raise RuntimeError(f"preflight N={count}: {verdicts['failed']} of {len(verdicts['hosts'])} "
                                           "hosts failed; the benchmark measures good certificates only")

                measure("ours_playbook", count, "apexone.certificates.preflight", inventory,
                        "-e", "apexone_cert_report_only=true", "-e", f"apexone_cert_summary_path={summary}",
                        check=verdicts_ok)
            if count in SIZES["diy"] and rep < diy_reps:
                measure("diy_playbook", count, os.path.join(BENCH, "diy_preflight.yml"), diy_inventory)
            if count in SIZES["preflight"] and rep < ours_reps:
                measure("ours_loop", count, os.path.join(BENCH, "ours_preflight_loop.yml"), localhost,
                        "-e", f"@{certs}")
            if count in SIZES["diy"] and rep < diy_reps:
                measure("diy_loop", count, os.path.join(BENCH, "diy_preflight_loop.yml"), localhost,
                        "-e", f"@{diy_certs}")

    for key, by_size in runs.items():
        out[key] = {count: median(times) for count, times in by_size.items()}
        out[key + "_runs"] = by_size
    out["tasks"] = {key: {count: [{"task": t["task"], "seconds": t["seconds"]} for t in timings]
                          for count, timings in by_size.items()} for key, by_size in tasks.items()}
    largest_diy = max(out["diy_playbook"]) if out["diy_playbook"] else max(SIZES["diy"])
    out["diy_playbook_extrapolated"] = extrapolate(
        out["diy_playbook"], within_run(tasks["diy_playbook"].get(largest_diy, []), "Read the certificate", "hosts"),
        top)
    out["diy_loop_extrapolated"] = extrapolate(
        out["diy_loop"], within_run(tasks["diy_loop"].get(largest_diy, []), "Read each certificate", "items"), top)
    out["ours_loop_within_run"] = within_run(tasks["ours_loop"].get(top, []), "Read and check every PFX", "items")
    return out


def _fleet_specs(fleet: dict, names: list[str], ca: str) -> list[dict]:
    """What the webhost_preflight action builds for each host: the PFX bytes read from disk, once each."""
    specs = []
    for name in names:
        with open(fleet["pfx"][name], "rb") as handle:
            specs.append({"hostname": name, "min_days": 30, "ca": ca, "pfx": handle.read(), "label": name,
                          "password": PFX_PASSWORD, "encoding": "binary"})
    return specs


def _floor_inputs(fleet: dict, names: list[str]) -> list[tuple[bytes, bytes]]:
    """The encrypted key bag and the certificate bags of each PFX, taken out of the envelope beforehand."""
    from asn1crypto import pkcs12 as a12

    from ansible_collections.apexone.certificates.plugins.module_utils import _x509

    inputs = []
    for name in names:
        with open(fleet["pfx"][name], "rb") as handle:
            parsed = _x509._parse_pfx(handle.read())
        rest = a12.Pfx({"version": "v3", "auth_safe": {"content_type": "data", "content": a12.AuthenticatedSafe(
            parsed["_others"]).dump()}}).dump()
        inputs.append((parsed["_key_bags"][0][0], rest))
    return inputs


def decrypt_floor(inputs: list[tuple[bytes, bytes]]) -> float:
    """The floor: decrypt each PFX's key bag and certificate bags with cryptography, and nothing else."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    password = PFX_PASSWORD.encode()
    started = time.perf_counter()
    for key_bag, cert_bags in inputs:
        serialization.load_der_private_key(key_bag, password, unsafe_skip_rsa_key_validation=True)
        pkcs12.load_pkcs12(cert_bags, password)
    return time.perf_counter() - started


def bench_fleet(bench: Bench, fleet: dict) -> dict:
    """The fleet check in-process (what the webhost_preflight action runs) against the floor, at each size.

    Ours: read the N PFX files, then module_utils/_preflight.check_fleet (every check, every core when it pays),
    and once more with one process. Floor: decrypting the same N PFX files and nothing else (bags taken out of
    the envelope beforehand, not timed), one process. The three alternate, median of 3 (1 at the largest size).
    """
    from ansible_collections.apexone.certificates.plugins.module_utils import _preflight

    with open(fleet["root"]) as handle:
        ca = handle.read()
    out: dict = {"ours": {}, "ours_one_process": {}, "floor": {}, "processes": {}, "cpu_seconds": {}}
    for count in SIZES["fleet"]:
        names = fleet["names"][:count]
        inputs = _floor_inputs(fleet, names)
        reps = 1 if count == max(SIZES["fleet"]) and count > 1000 else 3
        runs: dict[str, list[float]] = {"ours": [], "ours_one_process": [], "floor": []}
        for _rep in range(reps):
            for key, processes in (("ours", None), ("ours_one_process", 1)):
                before = os.times()
                started = time.perf_counter()
                specs = _fleet_specs(fleet, names, ca)
                verdicts, used = _preflight.check_fleet(specs, processes)
                runs[key].append(time.perf_counter() - started)
                after = os.times()
                if key == "ours":
                    out["processes"][count] = used
                    out["cpu_seconds"][count] = (after.user - before.user + after.system - before.system
                                                 + after.children_user - before.children_user
                                                 + after.children_system - before.children_system)
                bad = [v for v in verdicts if not v["ok"]]
                if len(verdicts) != count or bad:
                    raise RuntimeError(f"fleet check N={count}: {len(bad)} verdicts not OK: {bad[:1]}")
            runs["floor"].append(decrypt_floor(inputs))
        for key, values in runs.items():
            out[key][count] = median(values)
        bench.log(f"fleet check in-process N={count}: ours {out['ours'][count]:.2f} s ({out['processes'][count]} "
                  f"processes), one process {out['ours_one_process'][count]:.2f} s, floor {out['floor'][count]:.2f} s")
    return out


def unit_costs(fleet: dict) -> dict:
    """Per-certificate cost of the collection's own code (no Ansible), and the share of RSA key validation."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from ansible_collections.apexone.certificates.plugins.module_utils import _x509

    names = fleet["names"][:40]
    with open(fleet["root"]) as handle:
        ca = handle.read()
    blobs = {}
    for name in names:
        with open(fleet["pfx"][name], "rb") as handle:
            blobs[name] = handle.read()
    infos = {}
    started = time.perf_counter()
    for name in names:
        infos[name] = _x509.pfx_info(blobs[name], PFX_PASSWORD)
    pfx_info_ms = (time.perf_counter() - started) * 1000 / len(names)
    started = time.perf_counter()
    for name in names:
        verdict = _x509.check_from_input(infos[name], hostname=name, ca=ca)
        if not verdict["ok"]:
            raise RuntimeError(f"in-process check of {name} failed: {verdict['problems']}")
    check_ms = (time.perf_counter() - started) * 1000 / len(names)
    started = time.perf_counter()
    for name in names:
        pkcs12.load_pkcs12(blobs[name], PFX_PASSWORD.encode())
    load_pkcs12_ms = (time.perf_counter() - started) * 1000 / len(names)
    started = time.perf_counter()
    for name in names:
        _x509.load_pfx(blobs[name], PFX_PASSWORD)
    load_pfx_ms = (time.perf_counter() - started) * 1000 / len(names)
    der = fleet["key"].private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    reps = 20
    started = time.perf_counter()
    for _rep in range(reps):
        serialization.load_der_private_key(der, None)
    validated_ms = (time.perf_counter() - started) * 1000 / reps
    started = time.perf_counter()
    for _rep in range(reps):
        serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
    skipped_ms = (time.perf_counter() - started) * 1000 / reps
    return {"pfx_info_ms": pfx_info_ms, "check_ms": check_ms, "load_pkcs12_ms": load_pkcs12_ms,
            "load_pfx_ms": load_pfx_ms, "rsa_validation_ms": validated_ms - skipped_ms,
            "rsa_load_skip_validation_ms": skipped_ms, "sample": len(names)}


# ---------------------------------------------------------------------------------------------------------
# 2. tls_probe


class TlsServers:
    """tests/bench/tls_servers.py in a subprocess: ``count`` endpoints, each with its own certificate."""

    def __init__(self, bench: Bench, spec_path: str, delay_ms: float = 0.0, lifetime: float = 300.0):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(BENCH, "tls_servers.py"), "--spec", spec_path, "--lifetime", str(lifetime),
             "--delay-ms", str(delay_ms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=bench.work,
        )
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("the local TLS servers did not start")
        self.ports = json.loads(line)

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used so far (Linux /proc), to tell its share of the handshakes."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def make_tls_fleet(bench: Bench, count: int) -> dict:
    import pki

    folder = os.path.join(bench.work, "tls")
    os.makedirs(folder, exist_ok=True)
    lab = pki.LabPki()
    key = pki.rsa_key(2048, slot=901)
    key_path = os.path.join(folder, "key.pem")
    with open(key_path, "w") as handle:
        handle.write(pki.key_pem(key))
    root = os.path.join(folder, "root.pem")
    with open(root, "w") as handle:
        handle.write(lab.root.pem)
    spec = []
    for name in fleet_names(count):
        _key, cert = lab.server(name, key=key)
        path = os.path.join(folder, f"{name}.pem")
        with open(path, "w") as handle:
            handle.write(pki.pem(cert) + pki.pem(lab.intermediate.cert))
        spec.append({"name": name, "cert": path, "key": key_path})
    return {"spec": write_json(os.path.join(folder, "spec.json"), spec), "root": root, "names": fleet_names(count)}


def endpoints(servers: TlsServers, names: list[str]) -> list[dict]:
    return [{"host": "127.0.0.1", "port": servers.ports[name], "server_name": name} for name in names]


def run_probe_module(bench: Bench, eps: list[dict], root: str, servers: TlsServers | None = None) -> dict:
    """The tls_probe module itself in a subprocess (as Ansible runs it, minus Ansible): wall time, CPU, peak RSS."""
    server_cpu = servers.cpu_seconds() if servers else None
    args = write_json(os.path.join(bench.work, "probe-args.json"),
                      {"ANSIBLE_MODULE_ARGS": {"endpoints": eps, "ca_path": root}})
    out_path = os.path.join(bench.work, "probe-out.json")
    env = dict(bench.env, PYTHONPATH=bench.collections)
    with open(out_path, "w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ansible_collections.apexone.certificates.plugins.modules.tls_probe", args],
            stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=bench.work,
        )
        watchdog = threading.Timer(300, proc.kill)
        watchdog.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path) as handle:
        result = json.load(handle)
    if proc.returncode != 0 or result.get("summary", {}).get("ok") != len(eps):
        raise RuntimeError(f"tls_probe did not read every endpoint: {result.get('summary') or result.get('msg')}")
    after = servers.cpu_seconds() if servers else None
    return {"seconds": seconds, "max_rss_mib": usage.ru_maxrss / 1024, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "server_cpu_seconds": after - server_cpu if after is not None and server_cpu is not None else None,
            "probes": result["probes"]}


def run_openssl_sequential(eps: list[dict]) -> float:
    openssl = shutil.which("openssl")
    started = time.perf_counter()
    for ep in eps:
        proc = subprocess.run(
            [openssl, "s_client", "-connect", f"{ep['host']}:{ep['port']}", "-servername", ep["server_name"],
             "-showcerts"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False,
        )
        if "BEGIN CERTIFICATE" not in proc.stdout:
            raise RuntimeError(f"openssl s_client read no certificate from {ep['host']}:{ep['port']}")
    return time.perf_counter() - started


def bench_tls(bench: Bench) -> dict:
    out: dict = {}
    top = max(SIZES["tls"])
    bench.log(f"tls_probe: generating {top} endpoint certificates")
    fleet = make_tls_fleet(bench, top)
    servers = TlsServers(bench, fleet["spec"])
    last_probes: list = []
    try:
        module = {}
        for count in SIZES["tls"]:
            eps = endpoints(servers, fleet["names"][:count])
            runs = [run_probe_module(bench, eps, fleet["root"], servers) for _rep in range(3)]
            server_cpu = [r["server_cpu_seconds"] for r in runs if r["server_cpu_seconds"] is not None]
            module[count] = {"seconds": median([r["seconds"] for r in runs]),
                             "max_rss_mib": max(r["max_rss_mib"] for r in runs),
                             "cpu_seconds": median([r["cpu_seconds"] for r in runs]),
                             "server_cpu_seconds": median(server_cpu)}
            last_probes = runs[-1]["probes"]
            bench.log(f"tls_probe module N={count}: {module[count]['seconds']:.2f} s (median of 3), CPU "
                      f"{module[count]['cpu_seconds']:.2f} s, peak RSS {module[count]['max_rss_mib']:.1f} MiB")
        out["module"] = module
        if shutil.which("openssl"):
            sequential = {}
            for count in SIZES["tls"]:
                sequential[count] = run_openssl_sequential(endpoints(servers, fleet["names"][:count]))
                bench.log(f"openssl s_client sequential N={count}: {sequential[count]:.1f} s")
            out["openssl"] = sequential
        # The Ansible level: one tls_probe task versus one get_certificate per endpoint.
        localhost = write_json(os.path.join(bench.work, "localhost.json"), {"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}})
        task = {}
        for count in SIZES["tls"]:
            eps = write_json(os.path.join(bench.work, f"eps-{count}.json"), {
                "bench_endpoints": endpoints(servers, fleet["names"][:count]), "bench_mode": "ours",
                "bench_ca_path": fleet["root"]})
            times = []
            for _rep in range(3):
                seconds, _proc, _tasks = run_playbook(bench, os.path.join(BENCH, "tls_compare.yml"), localhost,
                                                      "-e", f"@{eps}", timeout=300, label=f"tls_probe task N={count}")
                times.append(seconds)
            task[count] = median(times)
            bench.log(f"tls_probe task (ansible-playbook) N={count}: {task[count]:.2f} s (median of 3)")
        out["task"] = task
        get_certificate = {}
        timings = []
        for count in SIZES["get_certificate"]:
            eps = write_json(os.path.join(bench.work, f"eps-diy-{count}.json"), {
                "bench_endpoints": endpoints(servers, fleet["names"][:count]), "bench_mode": "diy",
                "bench_ca_path": fleet["root"]})
            times = []
            for _rep in range(3 if count <= 10 else 1):
                seconds, _proc, timings = run_playbook(bench, os.path.join(BENCH, "tls_compare.yml"), localhost,
                                                       "-e", f"@{eps}", timeout=600, label=f"get_certificate N={count}")
                times.append(seconds)
            get_certificate[count] = median(times)
            bench.log(f"get_certificate loop (ansible-playbook) N={count}: {get_certificate[count]:.1f} s")
        out["get_certificate"] = get_certificate
        out["get_certificate_extrapolated"] = extrapolate(
            get_certificate, within_run(timings, "one at a time", "items"), max(SIZES["tls"]))
    finally:
        servers.stop()
    out["sample_probes"] = last_probes
    out["fleet"] = fleet
    return out


def bench_tls_latency(bench: Bench, fleet: dict) -> dict | None:
    """tls_probe and openssl s_client again, with a simulated network round trip before each handshake."""
    if not shutil.which("openssl"):
        return None
    estimate_seconds = sum(n * (0.05 + LATENCY_MS / 1000) for n in SIZES["tls"]) + 10
    if not bench.affordable(estimate_seconds, 20):
        bench.log("skipping the simulated-latency runs (time budget)")
        return None
    slow = TlsServers(bench, fleet["spec"], delay_ms=LATENCY_MS)
    try:
        latency = {}
        for count in SIZES["tls"]:
            eps = endpoints(slow, fleet["names"][:count])
            ours = run_probe_module(bench, eps, fleet["root"])["seconds"]
            theirs = run_openssl_sequential(eps)
            latency[count] = {"module": ours, "openssl": theirs}
            bench.log(f"with {LATENCY_MS} ms latency N={count}: tls_probe {ours:.2f} s, openssl sequential "
                      f"{theirs:.1f} s")
        return latency
    finally:
        slow.stop()


# ---------------------------------------------------------------------------------------------------------
# 3. Remote round trips (test double)


def bench_round_trips(bench: Bench) -> dict:
    import pki
    import winsim
    from cryptography.hazmat.primitives import serialization

    from ansible_collections.apexone.certificates.plugins.module_utils import _x509

    folder = os.path.join(bench.work, "double")
    os.makedirs(folder, exist_ok=True)
    lab = pki.LabPki()
    root = os.path.join(folder, "root.pem")
    with open(root, "w") as handle:
        handle.write(lab.root.pem)
    hosts = {}
    # role-*: the collection's role; diy-*: tests/bench/diy_replace.yml. *-bad: an expired certificate.
    for index, name in enumerate(("role-full", "role-trust", "role-bad", "diy-full", "diy-bad")):
        fqdn = f"{name}.{DOMAIN}"
        _k, old = pki.make_cert(fqdn, issuer=None, key=pki.rsa_key(2048, slot=920 + index))
        if name.endswith("bad"):
            key, new = lab.server(fqdn, key=pki.rsa_key(2048, slot=930), not_before=pki.NOW - 400 * pki.DAY,
                                  not_after=pki.NOW - 30 * pki.DAY)
        else:
            key, new = lab.server(fqdn, key=pki.rsa_key(2048, slot=930))
        pfx = os.path.join(folder, f"{name}.pfx")
        with open(pfx, "wb") as handle:
            handle.write(pki.make_pfx(key, new, [lab.intermediate.cert], password=PFX_PASSWORD,
                                      friendly_name=FRIENDLY_NAME))
        cer = os.path.join(folder, f"{name}.cer")
        with open(cer, "wb") as handle:
            handle.write(new.public_bytes(serialization.Encoding.DER))
        write_json(os.path.join(folder, f"{name}.json"), winsim.new_state(old, hostname=fqdn))
        hosts[name] = {"fqdn": fqdn, "pfx": pfx, "cer": cer, "new": _x509.thumbprint(new)}
    common = {"ansible_connection": "apexone_double", "apexone_double_state_dir": folder,
              "apexone_cert_trusted_connections": ["apexone_double"],
              "ansible_python_interpreter": sys.executable}
    role_inventory = write_json(os.path.join(folder, "role.json"), {"all": {
        "hosts": {n: {"apexone_cert_hostname": h["fqdn"], "apexone_cert_pfx_path": h["pfx"],
                      **({"apexone_cert_client_auth_trust_mode": 2} if n == "role-trust" else {})}
                  for n, h in hosts.items() if n.startswith("role-")},
        "vars": {**common, "apexone_cert_pfx_password": PFX_PASSWORD, "apexone_cert_ca_bundle_path": root,
                 "apexone_cert_verify_tls": False, "apexone_cert_verify_settle": 0,
                 "apexone_cert_friendly_name": FRIENDLY_NAME,
                 "apexone_cert_run_record_dir": os.path.join(folder, "runs")}}})
    diy_inventory = write_json(os.path.join(folder, "diy.json"), {"all": {
        "hosts": {n: {"diy_pfx_path": h["pfx"], "diy_cer_path": h["cer"], "diy_hostname": h["fqdn"]}
                  for n, h in hosts.items() if n.startswith("diy-")},
        "vars": {**common, "diy_pfx_password": PFX_PASSWORD, "diy_friendly_name": FRIENDLY_NAME,
                 "diy_client_auth_trust_mode": 2}}})
    env = dict(bench.env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS)

    def collect(name: str) -> dict:
        entries = {}
        for kind in ("calls", "extra"):
            path = os.path.join(folder, f"{name}.{kind}.jsonl")
            entries[kind] = []
            if os.path.exists(path):
                with open(path) as handle:
                    entries[kind] = [json.loads(line) for line in handle if line.strip()]
                os.remove(path)
        return {"calls": len(entries["calls"]), "modules": [e["module"].rsplit(".", 1)[-1] for e in entries["calls"]],
                "changed": sum(1 for e in entries["calls"] if e.get("changed")),
                "other": len(entries["extra"]), "other_kinds": [e["kind"] for e in entries["extra"]]}

    def state(name: str) -> dict:
        with open(os.path.join(folder, f"{name}.json")) as handle:
            return json.load(handle)

    out: dict = {}
    bench.log("round trips: the role on fresh hosts (full replacement, and with ClientAuthTrustMode)")
    _seconds, _proc, _tasks = run_playbook(bench, "apexone.certificates.replace", role_inventory, "--limit",
                                           "role-full,role-trust", timeout=300, label="role replace", env=env)
    first = {n: collect(n) for n in ("role-full", "role-trust")}
    # Alone: replace.yml stops the whole batch when one host fails (max_fail_percentage 0).
    bench.log("round trips: the role with an expired certificate")
    _seconds, proc, _tasks = run_playbook(bench, "apexone.certificates.replace", role_inventory, "--limit",
                                          "role-bad", timeout=300, label="role replace (expired)", codes=(2,), env=env)
    first["role-bad"] = collect("role-bad")
    recap = proc.stdout.split("PLAY RECAP", 1)[-1]
    refused = re.search(r"^role-bad\s+:.*failed=1", recap, re.MULTILINE)
    if not refused or first["role-bad"]["calls"]:
        raise RuntimeError("the role did not refuse the expired certificate on the controller")
    bench.log("round trips: the role again (hosts now compliant)")
    _seconds, _proc, _tasks = run_playbook(bench, "apexone.certificates.replace", role_inventory, "--limit",
                                           "role-full,role-trust", timeout=300, label="role replace again", env=env)
    second = {n: collect(n) for n in ("role-full", "role-trust")}
    bench.log("round trips: the DIY playbook on fresh hosts, then again")
    _seconds, _proc, _tasks = run_playbook(bench, os.path.join(BENCH, "diy_replace.yml"), diy_inventory,
                                           timeout=300, label="DIY replace", env=env)
    diy_first = {n: collect(n) for n in hosts if n.startswith("diy-")}
    _seconds, _proc, _tasks = run_playbook(bench, os.path.join(BENCH, "diy_replace.yml"), diy_inventory,
                                           "--limit", "diy-full", timeout=300, label="DIY replace again", env=env)
    diy_second = {"diy-full": collect("diy-full")}

    # Both did the work: the site serves the new certificate, the agents get it, the services run again.
    for name in ("role-full", "role-trust", "diy-full", "diy-bad"):
        final = state(name)
        site = next(s for s in final["iis"]["sites"] if s["name"] == "OfficeScan")
        bindings = [b for b in site["bindings"] if b["protocol"] == "https"]
        ofcipcer = winsim.get_file(final, winsim.OFCIPCER)
        done = (all(winsim.binding_certificate(final, b)[0] == hosts[name]["new"] for b in bindings)
                and winsim._thumb_of(ofcipcer) == hosts[name]["new"]
                and {s["status"] for s in final["services"].values()} == {"running"})
        if not done:
            raise RuntimeError(f"{name}: the replacement did not complete; the call counts would mean nothing")
    out["role"] = {"full": first["role-full"], "full_with_trust_mode": first["role-trust"], "bad": first["role-bad"],
                   "compliant": second["role-full"], "compliant_with_trust_mode": second["role-trust"]}
    out["diy"] = {"full": diy_first["diy-full"], "bad": diy_first["diy-bad"], "compliant": diy_second["diy-full"]}
    bench.log("round trips: role full {} / compliant {}; DIY full {} (+{} other) / compliant {}".format(
        out["role"]["full"]["calls"], out["role"]["compliant"]["calls"], out["diy"]["full"]["calls"],
        out["diy"]["full"]["other"], out["diy"]["compliant"]["calls"]))
    return out


# ---------------------------------------------------------------------------------------------------------
# 4b. Report


def bench_report(bench: Bench, probes: list[dict]) -> dict:
    """The fleet report for SIZES["report"] hosts, through the filters the fleet_report role calls (in-process)."""
    from ansible.plugins.filter.core import to_nice_json

    from ansible_collections.apexone.certificates.plugins.filter.fleet_report import fleet_report
    from ansible_collections.apexone.certificates.plugins.filter.fleet_report_host import fleet_report_host
    from ansible_collections.apexone.certificates.plugins.filter.fleet_report_html import fleet_report_html
    from ansible_collections.apexone.certificates.plugins.filter.fleet_report_lines import fleet_report_lines

    with open(os.path.join(bench.collections, "ansible_collections", "apexone", "certificates", "roles",
                           "fleet_report", "templates", "report.html.j2")) as handle:
        template = handle.read()
    bench.log(f"report: {SIZES['report']} hosts from {len(probes)} real tls_probe results")

    def inputs():
        # Real probe results (from the tls_probe runs above), one per host; every tenth host unreachable, every
        # seventh serving another certificate than expected, so that every kind of row is rendered.
        for index in range(SIZES["report"]):
            probe = dict(probes[index % len(probes)])
            host = f"apex{index:05d}"
            probe["label"] = host
            expected = probe["thumbprint"] if index % 7 else "00" * 20
            if index % 10 == 9:
                probe = dict(probe, thumbprint=None, ok=False, error="connection refused", error_code="refused",
                             problems=[], chain_pem=[], certificate_pem=None)
            yield {"host": host, "hostname": probe["server_name"], "probes": [probe], "served_check": {},
                   "chain_checked": True, "expected": {"thumbprint": expected, "source": "pfx"},
                   "winrm": {"enabled": False, "status": "skipped"}, "plan": {}}

    runs = []
    for _rep in range(3):
        steps = {}
        started = time.perf_counter()
        records = [fleet_report_host(item, redact=[PFX_PASSWORD]) for item in inputs()]
        steps["records"] = time.perf_counter() - started
        hostvars = {r["host"]: {"apexone_cert_report_host": r} for r in records}
        started = time.perf_counter()
        report = fleet_report(list(hostvars), hostvars=hostvars)
        steps["assemble"] = time.perf_counter() - started
        started = time.perf_counter()
        lines = fleet_report_lines(report)
        steps["lines"] = time.perf_counter() - started
        started = time.perf_counter()
        text = to_nice_json(report, indent=2)
        steps["json"] = time.perf_counter() - started
        started = time.perf_counter()
        page = fleet_report_html(report, template)
        steps["html"] = time.perf_counter() - started
        steps["total"] = sum(steps.values())
        if len(report["hosts"]) != SIZES["report"] or len(lines) != SIZES["report"] + 2:
            raise RuntimeError("the report does not have one row per host")
        runs.append(steps)
    out = {key: median([r[key] for r in runs]) for key in runs[0]}
    out["json_mib"] = len(text) / 1024 / 1024
    out["html_mib"] = len(page) / 1024 / 1024
    bench.log(f"report for {SIZES['report']} hosts: {out['total']:.2f} s (median of 3)")
    return out


# ---------------------------------------------------------------------------------------------------------
# Table and document


def fmt_s(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def ratio(slow, fast) -> float | None:
    return slow / fast if slow and fast else None


def fmt_x(value) -> str:
    return "-" if value is None else f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def _keyed(mapping) -> dict[int, float]:
    return {int(k): v for k, v in (mapping or {}).items()}


def _growth(points: dict[int, float]) -> dict:
    """Marginal cost per item between successive measured sizes; linear when they agree within the tolerance."""
    sizes = sorted(points)
    marginals = [(points[b] - points[a]) / (b - a) for a, b in itertools.pairwise(sizes)]
    spread = (max(marginals) - min(marginals)) / max(marginals) if len(marginals) > 1 and max(marginals) > 0 else 0.0
    return {"marginals": marginals, "spread": spread, "linear": bool(marginals) and spread <= LINEAR_TOLERANCE}


def _diy_at(pre: dict, key: str, count: int) -> tuple[float | None, str]:
    """The DIY time at ``count``: measured, else extrapolated (marked), else None with the reason."""
    measured = _keyed(pre[key]).get(count)
    if measured is not None:
        return measured, "measured"
    extrapolated = pre.get(key + "_extrapolated") or {}
    if extrapolated.get("value") and count == extrapolated.get("target", count):
        return extrapolated["value"], f"extrapolated from N={','.join(str(n) for n in extrapolated['from'])}"
    return None, f"not measured ({extrapolated.get('why_not') or 'left out'})"


def analyse_preflight(pre: dict) -> tuple[list[dict], list[dict]]:
    """Rows and verdicts of the preflight targets (issue #15): playbook >= 30x DIY playbook, fleet check
    in-process >= 100x the DIY loop and within 2x of the floor, at the largest size; growth to the largest."""
    rows: list[dict] = []
    verdicts: list[dict] = []
    ours, loop = _keyed(pre["ours_playbook"]), _keyed(pre["ours_loop"])
    fleet = pre.get("fleet") or {}
    f_ours, f_one, f_floor = (_keyed(fleet.get(k)) for k in ("ours", "ours_one_process", "floor"))
    top = max(ours) if ours else None
    for count in sorted(ours):
        theirs, mark = _diy_at(pre, "diy_playbook", count)
        value = ratio(theirs, ours[count])
        is_target = count == top
        met = bool(value and value >= TARGETS["playbook"])
        rows.append({"what": f"preflight playbook over N hosts, N={count}", "ours": fmt_s(ours[count]),
                     "baseline": f"{fmt_s(theirs)} (x509_certificate_info per host)", "ratio": fmt_x(value),
                     "target": f">= {TARGETS['playbook']:.0f}x" if is_target else "",
                     "met": ("yes" if met else "NO") if is_target else "", "marks": f"ours measured; DIY {mark}"})
        if is_target:
            verdicts.append({"target": f"preflight playbook >= 30x the DIY per-host playbook at N={count}",
                             "value": fmt_x(value), "met": met})
    for count in sorted(loop):
        theirs, mark = _diy_at(pre, "diy_loop", count)
        rows.append({"what": f"set_fact loop (pfx_info + webhost_cert_check), N={count}", "ours": fmt_s(loop[count]),
                     "baseline": f"{fmt_s(theirs)} (x509_certificate_info loop)", "ratio": fmt_x(ratio(theirs, loop[count])),
                     "target": "(info)", "met": "", "marks": f"ours measured; DIY {mark}"})
    if top in f_ours:
        theirs, mark = _diy_at(pre, "diy_loop", top)
        value = ratio(theirs, f_ours[top])
        met = bool(value and value >= TARGETS["fleet"])
        rows.append({"what": f"fleet check in-process, N={top}", "ours": fmt_s(f_ours[top]),
                     "baseline": f"{fmt_s(theirs)} (x509_certificate_info loop)", "ratio": fmt_x(value),
                     "target": f">= {TARGETS['fleet']:.0f}x", "met": "yes" if met else "NO",
                     "marks": f"ours measured ({fleet['processes'].get(top, fleet['processes'].get(str(top)))} "
                              f"processes); DIY {mark}"})
        verdicts.append({"target": f"fleet check in-process >= 100x the DIY loop at N={top}", "value": fmt_x(value),
                         "met": met})
        over = f_ours[top] / f_floor[top] if f_floor.get(top) else None
        met = bool(over and over <= TARGETS["floor"])
        rows.append({"what": f"fleet check in-process vs the floor, N={top}", "ours": fmt_s(f_ours[top]),
                     "baseline": f"{fmt_s(f_floor.get(top))} (decrypting the PFX files, nothing else)",
                     "ratio": f"{over:.2f}x the floor" if over else "-", "target": "<= 2x the floor",
                     "met": "yes" if met else "NO", "marks": "measured, same run"})
        verdicts.append({"target": f"fleet check within 2x of the floor at N={top}",
                         "value": f"{over:.2f}x" if over else "-", "met": met})
        if f_one.get(top) and f_floor.get(top):
            rows.append({"what": f"fleet check in one process vs the floor, N={top}", "ours": fmt_s(f_one[top]),
                         "baseline": fmt_s(f_floor[top]), "ratio": f"{f_one[top] / f_floor[top]:.2f}x the floor",
                         "target": "(info)", "met": "", "marks": "measured, same run"})
    if f_ours:
        per = ", ".join(f"N={n}: {f_ours[n] / n * 1000:.2f} ms" for n in sorted(f_ours))
        growth = _growth(f_ours)
        pre["fleet_growth"] = growth
        marginal = ", ".join(f"{m * 1000:.2f}" for m in growth["marginals"])
        rows.append({"what": "growth: fleet check in-process, time/N", "ours": per, "baseline": "",
                     "ratio": f"marginal {marginal} ms/host", "target": "linear",
                     "met": "yes" if growth["linear"] else "NO", "marks": "measured"})
        verdicts.append({"target": f"fleet check grows linearly (N = {', '.join(str(n) for n in sorted(f_ours))})",
                         "value": f"marginal cost {marginal} ms per host", "met": growth["linear"]})
    if len(ours) > 1:
        growth = _growth(ours)
        pre["ours_playbook_growth"] = growth
        per = ", ".join(f"N={n}: {ours[n] / n * 1000:.1f} ms" for n in sorted(ours))
        marginal = ", ".join(f"{m * 1000:.1f}" for m in growth["marginals"])
        rows.append({"what": "growth: preflight playbook, time/N", "ours": per, "baseline": "",
                     "ratio": f"marginal {marginal} ms/host", "target": "(info)", "met": "", "marks": "measured"})
    return rows, verdicts


def analyse(results: dict) -> dict:
    """Ratios, verdicts and table rows from the raw measurements."""
    pre = results["sections"].get("preflight")
    tls = results["sections"].get("tls")
    trips = results["sections"].get("round_trips")
    report = results["sections"].get("report")
    rows: list[dict] = []
    verdicts: list[dict] = []
    if pre:
        rows_pre, verdicts_pre = analyse_preflight(pre)
        rows += rows_pre
        verdicts += verdicts_pre
    if tls:
        module = _keyed(tls["module"])
        openssl = _keyed(tls.get("openssl"))
        task = _keyed(tls["task"])
        get_certificate = _keyed(tls["get_certificate"])
        extrapolated = tls.get("get_certificate_extrapolated") or {}
        for count in sorted(module):
            value = ratio(openssl.get(count), module[count]["seconds"])
            rows.append({"what": f"tls_probe module, {count} endpoints", "ours": fmt_s(module[count]["seconds"]),
                         "baseline": f"{fmt_s(openssl.get(count))} (openssl s_client, sequential)",
                         "ratio": fmt_x(value), "target": ">= 20x",
                         "met": "yes" if value and value >= TARGETS["tls"] else "NO", "marks": "measured"})
            verdicts.append({"target": f"tls_probe >= 20x vs openssl s_client, N={count}", "value": fmt_x(value),
                             "met": bool(value and value >= TARGETS["tls"])})
        for count in sorted(task):
            theirs, mark = get_certificate.get(count), "measured"
            if theirs is None:
                theirs = extrapolated.get("value")
                mark = (f"extrapolated from N={','.join(str(n) for n in extrapolated['from'])}" if theirs
                        else f"not extrapolated: {extrapolated.get('why_not')}")
            value = ratio(theirs, task[count])
            rows.append({"what": f"tls_probe task (playbook), {count} endpoints", "ours": fmt_s(task[count]),
                         "baseline": f"{fmt_s(theirs)} (get_certificate per endpoint)", "ratio": fmt_x(value),
                         "target": ">= 20x", "met": "yes" if value and value >= TARGETS["tls"] else "NO",
                         "marks": f"ours measured; get_certificate {mark}"})
            verdicts.append({"target": f"tls_probe >= 20x vs get_certificate (playbooks), N={count}",
                             "value": fmt_x(value), "met": bool(value and value >= TARGETS["tls"])})
        for count, pair in sorted(_keyed(tls.get("latency")).items()):
            value = ratio(pair["openssl"], pair["module"])
            rows.append({"what": f"tls_probe module, {count} endpoints, {LATENCY_MS} ms simulated latency",
                         "ours": fmt_s(pair["module"]), "baseline": f"{fmt_s(pair['openssl'])} (openssl s_client)",
                         "ratio": fmt_x(value), "target": "(info)", "met": "", "marks": "measured"})
        low, high = min(module), max(module)
        growth = module[high]["max_rss_mib"] / module[low]["max_rss_mib"]
        rows.append({"what": f"tls_probe peak RSS, {low} -> {high} endpoints",
                     "ours": f"{module[low]['max_rss_mib']:.1f} -> {module[high]['max_rss_mib']:.1f} MiB",
                     "baseline": "", "ratio": f"x{growth:.2f}", "target": "roughly flat",
                     "met": "yes" if growth <= 1.5 else "NO", "marks": "measured (ru_maxrss)"})
        verdicts.append({"target": f"tls_probe peak RSS roughly flat ({low} -> {high})", "value": f"x{growth:.2f}",
                         "met": growth <= 1.5})
    if trips:
        role, diy = trips["role"], trips["diy"]
        rows.append({"what": "round trips: compliant host", "ours": str(role["compliant"]["calls"]),
                     "baseline": f"{diy['compliant']['calls']} (DIY playbook runs everything again)",
                     "ratio": fmt_x(ratio(diy["compliant"]["calls"], role["compliant"]["calls"])),
                     "target": "ours = 1", "met": "yes" if role["compliant"]["calls"] <= TARGETS["compliant"] else "NO",
                     "marks": "counted by the test double"})
        rows.append({"what": "round trips: full replacement", "ours": str(role["full"]["calls"]),
                     "baseline": f"{diy['full']['calls']} + {diy['full']['other']} temp-folder/transfer trips (DIY)",
                     "ratio": fmt_x(ratio(diy["full"]["calls"], role["full"]["calls"])),
                     "target": "ours <= 8, DIY >= 10",
                     "met": "yes" if (role["full"]["calls"] <= TARGETS["full"]
                                      and diy["full"]["calls"] >= TARGETS["diy"]) else "NO",
                     "marks": "counted by the test double"})
        rows.append({"what": "round trips: full + ClientAuthTrustMode (like the DIY)",
                     "ours": str(role["full_with_trust_mode"]["calls"]), "baseline": str(diy["full"]["calls"]),
                     "ratio": fmt_x(ratio(diy["full"]["calls"], role["full_with_trust_mode"]["calls"])),
                     "target": "(info)", "met": "", "marks": "counted by the test double"})
        rows.append({"what": "round trips: expired certificate", "ours": str(role["bad"]["calls"]),
                     "baseline": f"{diy['bad']['calls']} (DIY pushes it)", "ratio": "-",
                     "target": "ours = 0", "met": "yes" if role["bad"]["calls"] == 0 else "NO",
                     "marks": "counted by the test double"})
        verdicts.append({"target": "compliant host = 1 round trip", "value": str(role["compliant"]["calls"]),
                         "met": role["compliant"]["calls"] <= TARGETS["compliant"]})
        verdicts.append({"target": "full replacement <= 8 round trips", "value": str(role["full"]["calls"]),
                         "met": role["full"]["calls"] <= TARGETS["full"]})
        verdicts.append({"target": "DIY >= 10 round trips (full / compliant)",
                         "value": f"{diy['full']['calls']} / {diy['compliant']['calls']}",
                         "met": diy["full"]["calls"] >= TARGETS["diy"] and diy["compliant"]["calls"] >= TARGETS["diy"]})
    if report:
        rows.append({"what": f"fleet report, {results.get('report_hosts')} hosts (records, report, lines, JSON, HTML)",
                     "ours": fmt_s(report["total"]), "baseline": "", "ratio": "", "target": "seconds",
                     "met": "yes" if report["total"] < 60 else "NO", "marks": "measured, in-process (the filters)"})
        verdicts.append({"target": f"report for {results.get('report_hosts')} hosts in seconds", "value": fmt_s(report["total"]),
                         "met": report["total"] < 60})
    return {"rows": rows, "verdicts": verdicts}


def table(rows: list[dict]) -> str:
    headers = ("what", "ours", "baseline", "ratio", "target", "met", "marks")
    titles = ("Measure", "Ours", "Baseline", "Ratio", "Target", "Met", "Measured / extrapolated")
    lines = ["| " + " | ".join(titles) + " |", "|" + "|".join("---" for _h in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(h, "")) for h in headers) + " |")
    return "\n".join(lines)


def print_table(rows: list[dict]) -> None:
    headers = ("what", "ours", "baseline", "ratio", "target", "met")
    widths = {h: max(len(h), *(len(str(r.get(h, ""))) for r in rows)) for h in headers}
    print()
    print("  ".join(h.upper().ljust(widths[h]) for h in headers))
    for row in rows:
        print("  ".join(str(row.get(h, "")).ljust(widths[h]) for h in headers))
    print()
    for row in rows:
        if row.get("marks") and "extrapolated" in row["marks"]:
            print(f"  note: {row['what']}: {row['marks']}")


# ---------------------------------------------------------------------------------------------------------


def report_results(results: dict, args: argparse.Namespace) -> int:
    """Print the table and the verdicts; write the Markdown page when asked."""
    analysis = analyse(results)
    print_table(analysis["rows"])
    for verdict in analysis["verdicts"]:
        print(f"  {'MET   ' if verdict['met'] else 'MISSED'} {verdict['target']}: {verdict['value']}")
    if args.write_doc:
        import perfdoc

        measured = set(results["sections"])
        if measured == {"preflight"} and os.path.exists(args.write_doc):
            # Only the preflight was measured: replace its part of the page, keep the other sections as they were.
            with open(args.write_doc) as handle:
                page = perfdoc.update_preflight(handle.read(), results, analysis)
        else:
            page = perfdoc.render(results, analysis, table(analysis["rows"]))
        with open(args.write_doc, "w") as handle:
            handle.write(page)
        print(f"wrote {args.write_doc}")
    return 0


def main(argv: list[str] | None = None) -> int:
    global BUDGET_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-doc", metavar="PATH", help="also write the results as Markdown (docs/performance.md)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (generated files, inventories)")
    parser.add_argument("--only", metavar="SECTIONS", help="comma-separated: preflight, round_trips, tls, report")
    parser.add_argument("--from-json", metavar="FILE", help="measure nothing: print and write the results of a "
                        "run saved with --json (to rework the page without measuring again)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check that the benchmark itself works")
    for name in ("preflight", "diy", "fleet"):
        parser.add_argument(f"--{name}-sizes", metavar="N,N,...", help=f"sizes of the {name} runs "
                            f"(default {','.join(str(n) for n in SIZES[name])})")
    parser.add_argument("--budget-minutes", type=float, help=f"time budget (default {BUDGET_SECONDS // 60})")
    args = parser.parse_args(argv)
    if args.smoke:
        SIZES.update(SMOKE_SIZES)
    for name in ("preflight", "diy", "fleet"):
        value = getattr(args, f"{name}_sizes")
        if value:
            SIZES[name] = tuple(sorted(int(n) for n in value.split(",")))
    if args.budget_minutes:
        BUDGET_SECONDS = int(args.budget_minutes * 60)
    if args.from_json:
        with open(args.from_json) as handle:
            results = json.load(handle)
        return report_results(results, args)
    if not os.path.isdir(INSTALLED):
        print("the collection is not installed: run 'make install' (make bench does it)", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="apexone-bench-")
    bench = Bench(work)
    try:
        # A private copy of the installed collection: a concurrent `make install` cannot swap it mid-run.
        shutil.copytree(INSTALLED, os.path.join(bench.collections, "ansible_collections", "apexone", "certificates"),
                        ignore=shutil.ignore_patterns("tests"))
        sys.path.insert(0, bench.collections)
        if DEPS not in sys.path:
            sys.path.append(DEPS)
        bench.results["machine"] = machine()
        bench.results["report_hosts"] = SIZES["report"]
        bench.results["latency_ms"] = LATENCY_MS
        info = bench.results["machine"]
        bench.log(f"machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['ram']} RAM, Python {info['python']}, "
                  f"ansible-core {info['ansible_core']}; load average at start {info['load_at_start']}")
        sections = bench.results["sections"]
        wanted = set(args.only.split(",")) if args.only else {"preflight", "round_trips", "tls", "report"}
        if "preflight" in wanted:
            sections["preflight"] = bench_preflight(bench)
        if "round_trips" in wanted:
            sections["round_trips"] = bench_round_trips(bench)
        if wanted & {"tls", "report"}:
            sections["tls"] = bench_tls(bench)
            probes = sections["tls"].pop("sample_probes")
            tls_fleet = sections["tls"].pop("fleet")
            if "report" in wanted:
                sections["report"] = bench_report(bench, probes)
            if "tls" in wanted:
                sections["tls"]["latency"] = bench_tls_latency(bench, tls_fleet)
        bench.results["seconds"] = bench.elapsed()
        try:
            bench.results["load_at_end"] = round(os.getloadavg()[0], 2)
        except OSError:
            bench.results["load_at_end"] = None
        bench.log(f"done in {bench.elapsed() / 60:.1f} min")
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(bench.results, handle, indent=2, default=str)
        report_results(bench.results, args)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if BENCH not in sys.path:
        sys.path.insert(0, BENCH)
    sys.exit(main())
