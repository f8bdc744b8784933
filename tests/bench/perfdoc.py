"""Render docs/performance.md from one run of tests/bench/run.py (``run.py --write-doc docs/performance.md``).

Only measured values and what is derived from them go into the page: no host name, no path of this machine.
"""

from __future__ import annotations

SIZES_REPORT_DEFAULT = 5000


def _s(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _ms(value) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms" if value >= 0.1 else f"{value:.3f} ms"


def _x(value) -> str:
    return "-" if not value else f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def _keyed(mapping: dict) -> dict[int, float]:
    return {int(k): v for k, v in (mapping or {}).items()}


def _machine(results: dict) -> list[str]:
    m = results["machine"]
    return [
        "## Machine",
        "",
        f"- {m['cpus']} CPUs, {m['cpu_model']}, {m['ram']} RAM, {m['os']}",
        f"- Python {m['python']}, ansible-core {m['ansible_core']}, cryptography {m['cryptography']}, "
        f"{m['python_ssl']} (Python ssl), {(m['openssl_cli'] or 'no openssl command').split(' (')[0]} (command line)",
        f"- Run on {m['date']}; whole run {results['seconds'] / 60:.1f} min; load average {m['load_at_start']} at the "
        f"start and {results.get('load_at_end')} at the end. The machine is shared with other jobs, so absolute times "
        "are noisy; both sides of every ratio were measured in the same run, minutes apart.",
        "",
    ]


def _headline(analysis: dict) -> list[str]:
    met = [v for v in analysis["verdicts"] if v["met"]]
    missed = [v for v in analysis["verdicts"] if not v["met"]]
    lines = ["## In short", ""]
    lines.append(f"{len(met)} of {len(analysis['verdicts'])} targets met.")
    lines.append("")
    for verdict in missed:
        lines.append(f"- **Missed**: {verdict['target']}: {verdict['value']} (measured reason below).")
    for verdict in met:
        lines.append(f"- Met: {verdict['target']}: {verdict['value']}.")
    lines.append("")
    return lines


def _extrapolation(info: dict, unit: str) -> str:
    check = info.get("within_run") or {}
    evidence = (f"within the N={info['from'][-1]} run the cost per {unit} was {check['first_half'] * 1000:.0f} ms in "
                f"the first half of the results and {check['second_half'] * 1000:.0f} ms in the second "
                f"(spread {check['spread']:.0%}; medians over windows of {check['window']} results)"
                ) if check else "no per-result timings"
    if info.get("value"):
        return (f"extrapolated from the measured N = {', '.join(str(n) for n in info['from'])} with "
                f"{info['slope'] * 1000:.0f} ms per {unit}, the smaller of the marginal cost between the runs "
                f"({info['marginal'] * 1000:.0f} ms) and the cost per {unit} within the largest run "
                f"({check['per_item'] * 1000:.0f} ms); linear because {evidence}")
    return f"not extrapolated ({info.get('why_not')}); {evidence}"


def _preflight(results: dict) -> list[str]:
    pre = results["sections"].get("preflight")
    if not pre:
        return []
    unit = pre["unit"]
    m = results["machine"]
    ours, loop = _keyed(pre["ours_playbook"]), _keyed(pre["ours_loop"])
    diy, diy_loop = _keyed(pre["diy_playbook"]), _keyed(pre["diy_loop"])
    ext, ext_loop = pre["diy_playbook_extrapolated"], pre["diy_loop_extrapolated"]
    fleet = pre.get("fleet") or {}
    f_ours, f_one, f_floor = (_keyed(fleet.get(k)) for k in ("ours", "ours_one_process", "floor"))
    processes = _keyed(fleet.get("processes"))
    top = max(ours) if ours else None
    lines = [
        "## 1. Controller preflight",
        "",
        f"Measured on {m['date']} with `make bench BENCH_ARGS=\"--only preflight\"` (`tests/bench/run.py --only "
        f"preflight`), run with `nice -n 10`: {m['cpus']} CPUs, Python {m['python']}, ansible-core "
        f"{m['ansible_core']}, cryptography {m['cryptography']}. **The machine was shared** with other jobs (load "
        f"average {m['load_at_start']} at the start of the run and {results.get('load_at_end')} at the end, on "
        f"{m['cpus']} CPUs): absolute times are inflated and noisy; both sides of every ratio were measured in the "
        "same run, alternating, minutes apart. Whole run: "
        f"{results['seconds'] / 60:.1f} min.",
        "",
        "Generated lab certificates (leaf issued by the lab intermediate, RSA 2048, PFX with key and chain in 3DES as "
        "Windows exports them; one RSA key for all of them: reading a PFX costs the same whatever key it holds). "
        "Every verdict is checked to be OK, so both sides do their full work.",
        "",
        "- **Ours, playbook**: `ansible-playbook apexone.certificates.preflight -e apexone_cert_report_only=true` over "
        "an inventory of N hosts: one `webhost_preflight` task for the whole play (each PFX read once, without RSA "
        "key validation, checks spread over the cores), then the verdict lines, the table, the JSON summary and "
        "`set_stats`, each once for the play.",
        "- **Ours, fleet check in-process**: what that task runs, without Ansible: read the N PFX files, "
        "`_preflight.check_fleet` (every check of `webhost_cert_check`, CA bundle parsed once, a second process "
        "when it pays); also measured with one process.",
        "- **Floor**: decrypting the same N PFX files and nothing else: cryptography's decryption of each key bag "
        "(`load_der_private_key(..., unsafe_skip_rsa_key_validation=True)`) and of its certificate bags "
        "(`load_pkcs12` of the bags without the key), one process, the bags taken out of the envelope beforehand "
        "(not timed).",
        "- **Ours, loop**: one `set_fact` task looping over N certificates (`pfx_info` lookup + `webhost_cert_check` "
        "filter, the per-host path the role uses): `tests/bench/ours_preflight_loop.yml`.",
        "- **DIY, playbook**: one `community.crypto.x509_certificate_info` run per host (delegated to the controller) "
        "and an `assert` on CN, SAN and expiry: `tests/bench/diy_preflight.yml`. **DIY, loop**: one "
        "`x509_certificate_info` run per certificate in a loop, then the assert: `tests/bench/diy_preflight_loop.yml`.",
        "- The two sides do not do the same work: the DIY checks three things (CN, SAN, expiry) of a PEM "
        "certificate; the collection opens the PFX (MAC, key present and matching the certificate, PFX encryption), "
        "validates the chain against the CA bundle, checks key size, signature hash, EKU and the other documented "
        "problems. `x509_certificate_info` reads PEM only: the benchmark extracts each PFX's certificate with "
        f"cryptography first ({_ms(pre['pem_extract_seconds_per_cert'] * 1000)} per certificate) and does **not** "
        "count that time for the DIY side.",
        "",
        "| N | ours, playbook | DIY, playbook | ratio | ours, set_fact loop | DIY, loop | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for count in sorted(set(ours) | set(diy)):
        their, their_loop, mark, mark_loop = diy.get(count), diy_loop.get(count), "", ""
        if their is None and ext.get("value") and count == ext.get("target"):
            their, mark = ext["value"], " *(extrapolated)*"
        if their_loop is None and ext_loop.get("value") and count == ext_loop.get("target"):
            their_loop, mark_loop = ext_loop["value"], " *(extrapolated)*"
        lines.append(
            f"| {count} | {_s(ours.get(count))} | {_s(their)}{mark} "
            f"| {_x(their / ours[count]) if their and count in ours else '-'} "
            f"| {_s(loop.get(count))} | {_s(their_loop)}{mark_loop} "
            f"| {_x(their_loop / loop[count]) if their_loop and count in loop else '-'} |"
        )
    if top not in diy:
        lines += ["", f"DIY at N={top}: playbook {_extrapolation(ext, 'host')}; loop {_extrapolation(ext_loop, 'certificate')}."]
    lines += [
        "",
        "Fleet check in-process and the floor (median of 3; 1 at the largest size):",
        "",
        "| N | fleet check | processes | per host | one process | floor | fleet / floor | one process / floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for count in sorted(f_ours):
        floor = f_floor.get(count)
        lines.append(
            f"| {count} | {_s(f_ours[count])} | {processes.get(count, '-')} | {_ms(f_ours[count] / count * 1000)} "
            f"| {_s(f_one.get(count))} | {_s(floor)} "
            f"| {f'{f_ours[count] / floor:.2f}x' if floor else '-'} "
            f"| {f'{f_one[count] / floor:.2f}x' if floor and f_one.get(count) else '-'} |"
        )
    growth = pre.get("fleet_growth") or {}
    if growth.get("marginals"):
        lines += [
            "",
            "Growth: marginal cost of the fleet check between successive N "
            f"{', '.join(_ms(x * 1000) for x in growth['marginals'])} per host "
            f"({'linear' if growth.get('linear') else 'not linear'} within 25%, spread {growth.get('spread', 0):.0%}).",
        ]
    lines += ["", "### Targets (measured in this run)", ""]
    diy_top_loop = diy_loop.get(top) or (ext_loop.get("value") if ext_loop.get("target") == top else None)
    diy_top = diy.get(top) or (ext.get("value") if ext.get("target") == top else None)
    if top and diy_top:
        value = diy_top / ours[top]
        lines.append(f"- Preflight playbook >= 30x the DIY per-host playbook at N={top}: **{value:.1f}x**, "
                     f"{'met' if value >= 30 else 'missed'} ({_s(ours[top])} vs {_s(diy_top)}).")
    if top in f_ours and diy_top_loop:
        value = diy_top_loop / f_ours[top]
        lines.append(f"- Fleet check in-process >= 100x the DIY loop at N={top}: **{value:.0f}x**, "
                     f"{'met' if value >= 100 else 'missed'} ({_s(f_ours[top])} vs {_s(diy_top_loop)}).")
    if top in f_ours and f_floor.get(top):
        over = f_ours[top] / f_floor[top]
        one = f_one.get(top, 0) / f_floor[top]
        lines.append(f"- Fleet check within 2x of the floor at N={top}: **{over:.2f}x**, "
                     f"{'met' if over <= 2 else 'missed'} (with {processes.get(top)} processes; in one process "
                     f"{one:.2f}x).")
    tasks = {int(k): v for k, v in ((pre.get("tasks") or {}).get("ours_playbook") or {}).items()}
    lines += [
        "",
        "### Where the time goes (measured)",
        "",
        f"- Opening one PFX in-process ({unit['sample']} files): `load_pfx` {_ms(unit['load_pfx_ms'])} (MAC, key "
        f"bag decrypted and loaded without RSA key validation, certificate bags) against "
        f"{_ms(unit['load_pkcs12_ms'])} for cryptography's `load_pkcs12`, which validates the RSA key (primality "
        f"of p and q, {_ms(unit['rsa_validation_ms'])} of it) on every load; `webhost_cert_check` "
        f"{_ms(unit['check_ms'])}; `pfx_info` (load plus the description the lookup returns) "
        f"{_ms(unit['pfx_info_ms'])}.",
    ]
    if top in f_ours and f_floor.get(top):
        lines.append(
            f"- The fleet check at N={top} costs {_ms(f_ours[top] / top * 1000)} per host against "
            f"{_ms(f_floor[top] / top * 1000)} for decrypting alone: above the floor are the MAC check "
            "(PKCS#12 key derivation), parsing the envelope, the chain validation and the other checks; the second "
            "process takes part of it off the wall clock when a core is free, which on a shared machine it "
            "often is not.")
    if top in tasks:
        cells = sorted(tasks[top], key=lambda t: -t["seconds"])
        spent = ", ".join(f"{t['task'].split(' : ', 1)[-1]} {_s(t['seconds'])}" for t in cells)
        lines.append(f"- The preflight playbook at N={top}, per task: {spent}; the rest of "
                     f"{_s(ours[top])} is starting `ansible-playbook` and reading the inventory of {top} hosts.")
    lines.append("")
    return lines


def update_preflight(page: str, results: dict, analysis: dict) -> str:
    """Replace the preflight part of an existing page (section 1, its table rows and verdicts) with this run's."""
    section = "\n".join(_preflight(results)).rstrip() + "\n\n"
    start = page.index("## 1. Controller preflight")
    end = page.index("## 2. ", start)
    page = page[:start] + section + page[end:]
    # Results table: the preflight rows of this run first, the other rows as they were.
    rows = list(analysis["rows"])
    table_rows = ["| " + " | ".join(str(r.get(h, "")) for h in ("what", "ours", "baseline", "ratio", "target", "met",
                                                                "marks")) + " |" for r in rows]
    out, in_table, inserted = [], False, False
    for line in page.split("\n"):
        if line.startswith("|---|---|---|---|---|---|---|") and not inserted:
            out.append(line)
            out.extend(table_rows)
            inserted = in_table = True
            continue
        if in_table and line.startswith("| ") and any(line.startswith(f"| {p}") for p in (
                "preflight", "growth: preflight", "growth: set_fact", "set_fact loop", "fleet check",
                "growth: fleet")):
            continue
        if in_table and not line.startswith("|"):
            in_table = False
        out.append(line)
    page = "\n".join(out)
    # In short: this run's preflight verdicts instead of the old ones, and the count again.
    lines = page.split("\n")
    begin = lines.index("## In short")
    finish = next(i for i in range(begin + 1, len(lines)) if lines[i].startswith("## "))
    kept = [ln for ln in lines[begin:finish] if ln.startswith("- ") and not any(
        word in ln for word in ("preflight", "set_fact loop", "fleet check"))]
    fresh = [f"- {'Met' if v['met'] else '**Missed**'}: {v['target']}: {v['value']}"
             + ("." if v["met"] else " (measured reason in section 1).") for v in analysis["verdicts"]]
    every = fresh + kept
    met = sum(1 for ln in every if ln.startswith("- Met"))
    block = ["## In short", "", f"{met} of {len(every)} targets met (the preflight ones measured on "
             f"{results['machine']['date']}, the others in the earlier full run described under Machine).", "",
             *sorted(every, key=lambda ln: not ln.startswith("- **Missed**")), ""]
    lines = lines[:begin] + block + lines[finish:]
    page = "\n".join(lines)
    # Section 4 no longer repeats the preflight growth (it is in section 1).
    start = page.index("## 4. How cost grows")
    cut = page.find("Fleet report for", start)
    if cut > 0:
        page = page[:start] + "## 4. How cost grows\n\nThe preflight's growth (to N=" + str(
            max(_keyed((results["sections"]["preflight"].get("fleet") or {}).get("ours")) or [0])) + \
            ") is in section 1.\n\n" + page[cut:]
    return page


def _tls(results: dict) -> list[str]:
    tls = results["sections"].get("tls")
    if not tls:
        return []
    module = _keyed(tls["module"])
    openssl = _keyed(tls.get("openssl"))
    task = _keyed(tls["task"])
    get_cert = _keyed(tls["get_certificate"])
    ext = tls.get("get_certificate_extrapolated") or {}
    lines = [
        "## 2. tls_probe",
        "",
        "Local endpoints on 127.0.0.1, each serving its own certificate and chain, all from one asyncio process "
        "(`tests/bench/tls_servers.py`, one listening socket per endpoint). tls_probe runs with its defaults "
        "(concurrency 50, timeout 10 s) and the CA bundle, so it also judges every chain; every endpoint must "
        "answer on both sides.",
        "",
        "- **Module**: the tls_probe module run directly in a subprocess (`python -m ...tls_probe args.json`), as "
        "Ansible runs it minus Ansible: wall time (median of 3) and peak RSS (`ru_maxrss`). Versus one "
        "`openssl s_client -connect ... -servername ... -showcerts` process per endpoint, one after the other.",
        "- **Playbook**: one `tls_probe` task versus one `community.crypto.get_certificate` per endpoint in a loop "
        "(`tests/bench/tls_compare.yml`), whole `ansible-playbook` runs.",
        "",
        "| N | tls_probe module | peak RSS | openssl s_client, sequential | ratio | tls_probe task | get_certificate loop | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for count in sorted(module):
        theirs, mark = get_cert.get(count), ""
        if theirs is None and ext.get("value"):
            theirs, mark = ext["value"], " *(extrapolated)*"
        lines.append(
            f"| {count} | {_s(module[count]['seconds'])} | {module[count]['max_rss_mib']:.1f} MiB "
            f"| {_s(openssl.get(count))} | {_x(openssl.get(count, 0) / module[count]['seconds'])} "
            f"| {_s(task.get(count))} | {_s(theirs)}{mark} "
            f"| {_x(theirs / task[count]) if theirs and task.get(count) else '-'} |"
        )
    lines += ["", f"get_certificate at larger N: {_extrapolation(ext, 'endpoint')}.", ""]
    latency = _keyed(tls.get("latency"))
    if latency:
        lines += [
            "With a simulated network round trip (each endpoint waits 20 ms before it answers, as a wide-area network "
            "adds per endpoint; same servers otherwise):",
            "",
            "| N | tls_probe module | openssl s_client, sequential | ratio |",
            "|---|---|---|---|",
        ]
        for count in sorted(latency):
            pair = latency[count]
            lines.append(f"| {count} | {_s(pair['module'])} | {_s(pair['openssl'])} | "
                         f"{_x(pair['openssl'] / pair['module'])} |")
        lines.append("")
    low, high = min(module), max(module)
    cpus = results["machine"]["cpus"] or 1
    vs_openssl = [openssl[n] / module[n]["seconds"] for n in module if openssl.get(n)]
    vs_ansible = [(get_cert.get(n) or ext.get("value") or 0) / task[n] for n in task if task.get(n)]
    lines += ["### Reading the numbers", ""]
    if vs_openssl:
        cpu_ms = module[high].get("cpu_seconds", 0) / high * 1000
        server_ms = (module[high].get("server_cpu_seconds") or 0) / high * 1000
        openssl_ms = openssl[high] / high * 1000
        floor_ms = (cpu_ms + server_ms) / cpus
        verdict = "met" if min(vs_openssl) >= 20 else "missed"
        lines.append(
            f"- Against `openssl s_client` on 127.0.0.1 the 20x target is {verdict} ({_x(min(vs_openssl))} to "
            f"{_x(max(vs_openssl))}). With no network latency a handshake is pure CPU, and here both ends of it run on "
            f"the same {cpus} cores. At N={high} tls_probe used {cpu_ms:.1f} ms of CPU per endpoint (the handshake, "
            f"then parsing and judging the chain) and the local servers {server_ms:.1f} ms per handshake: "
            f"{cpu_ms + server_ms:.1f} ms of CPU per endpoint shared by {cpus} cores is at best {floor_ms:.1f} ms per "
            f"endpoint, against {openssl_ms:.0f} ms per endpoint for a sequential `openssl s_client` (mostly starting "
            f"a process): a ceiling of about **{_x(openssl_ms / floor_ms) if floor_ms else '-'}** on this machine, "
            "before the module's own start-up (Python, imports) is paid once. What concurrency hides is waiting, and "
            "there is none on 127.0.0.1: the ratio grows with N and with latency (simulated-latency table); on a real "
            "fleet each server does its handshake on its own CPU, a network round trip away."
        )
    if vs_ansible:
        verdict = "met" if min(vs_ansible) >= 20 else "missed"
        lines.append(
            f"- Against the Ansible alternative (`get_certificate` per endpoint, one module process per endpoint) the "
            f"target is {verdict} ({_x(min(vs_ansible))} to {_x(max(vs_ansible))})."
        )
    lines += [
        f"- Peak RSS of the probing process: {module[low]['max_rss_mib']:.1f} MiB at N={low}, "
        f"{module[high]['max_rss_mib']:.1f} MiB at N={high} (x{module[high]['max_rss_mib'] / module[low]['max_rss_mib']:.2f}): "
        "at most `concurrency` handshakes are in flight, and a result is a small dictionary.",
        "",
    ]
    return lines


def _round_trips(results: dict) -> list[str]:
    trips = results["sections"].get("round_trips")
    if not trips:
        return []
    role, diy = trips["role"], trips["diy"]

    def modules(entry):
        return ", ".join(entry["modules"]) or "none"

    return [
        "## 3. Remote round trips per host",
        "",
        "Counted by the Windows test double (`tests/double`): every module payload Ansible builds is one call "
        "(`<host>.calls.jsonl`); temporary folders and file transfers, which only `win_copy` needs, are recorded "
        "apart (`<host>.extra.jsonl`). On a real WinRM connection each of them is at least one round trip. The DIY "
        "baseline is `tests/bench/diy_replace.yml`: the KB steps with `win_copy` (PFX to a temporary folder, public "
        "certificate over OfcIPCer.dat), `win_certificate_store` (My, TrustedPeople), `win_iis_webbinding`, "
        "`win_regedit` (ClientAuthTrustMode), `win_lineinfile` (Service.ini, apricot_config) and `win_service` "
        "(3 stops, 3 starts). Both runs are checked afterwards: binding, OfcIPCer.dat and services are as the KB wants.",
        "",
        "| Host | Role | DIY |",
        "|---|---|---|",
        f"| needs the full replacement | **{role['full']['calls']}** ({modules(role['full'])}) | "
        f"**{diy['full']['calls']}** module calls + {diy['full']['other']} more round trips "
        f"({', '.join(diy['full']['other_kinds'])}) |",
        f"| full replacement and ClientAuthTrustMode (like for like with the DIY) | "
        f"{role['full_with_trust_mode']['calls']} | {diy['full']['calls']} |",
        f"| already compliant | **{role['compliant']['calls']}** ({modules(role['compliant'])}) | "
        f"**{diy['compliant']['calls']}** ({diy['compliant']['changed']} of them report a change: the three Apex One "
        "services are stopped and started on every run) |",
        f"| new certificate expired | **{role['bad']['calls']}** (refused on the controller) | "
        f"{diy['bad']['calls']} (pushed to the server) |",
        "",
        "The DIY playbook also leaves the PFX in a temporary folder on the server and has no rollback.",
        "",
    ]


def _growth(results: dict) -> list[str]:
    pre = results["sections"].get("preflight")
    report = results["sections"].get("report")
    lines = ["## 4. How cost grows", ""]
    if pre:
        lines += ["The preflight's growth is in section 1.", ""]
    if report:
        hosts = results.get("report_hosts") or SIZES_REPORT_DEFAULT
        lines += [
            f"Fleet report for {hosts} hosts, through the filters the `fleet_report` role calls (records built from "
            "real tls_probe results; one host in ten unreachable, one in seven serving an unexpected certificate), "
            "median of 3, in-process:",
            "",
            "| step | seconds |",
            "|---|---|",
            f"| `fleet_report_host`, one record per host | {report['records']:.2f} |",
            f"| `fleet_report` (assembled from hostvars) | {report['assemble']:.2f} |",
            f"| `fleet_report_lines` | {report['lines']:.2f} |",
            f"| `to_nice_json` (report.json, {report['json_mib']:.1f} MiB) | {report['json']:.2f} |",
            f"| `fleet_report_html` (report.html, {report['html_mib']:.1f} MiB) | {report['html']:.2f} |",
            f"| **total** | **{report['total']:.2f}** |",
            "",
            "In a playbook the role's per-host task (building each record) also pays Ansible's per-host cost of a "
            "task, measured above for the preflight.",
            "",
        ]
    return lines


def render(results: dict, analysis: dict, table: str) -> str:
    lines = [
        "# Performance",
        "",
        "How apexone.certificates compares with doing the same by hand with generic modules, measured side by side "
        "in one run. Ratios are the headline; absolute times depend on the machine and its load.",
        "",
        "Produced by `make bench` (which runs `tests/bench/run.py` after `make install`, about "
        f"{results['seconds'] / 60:.0f} minutes here); this page was written by "
        "`make bench BENCH_ARGS=\"--write-doc docs/performance.md\"`. \"Measured\" numbers come from this run; "
        "\"extrapolated\" ones are marked: a straight line through two or more measured sizes, used only when the "
        "cost per item was also shown to be constant along the largest measured run.",
        "",
    ]
    lines += _headline(analysis)
    lines += _machine(results)
    lines += ["## Results", "", table, ""]
    lines += _preflight(results)
    lines += _tls(results)
    lines += _round_trips(results)
    lines += _growth(results)
    return "\n".join(lines).rstrip() + "\n"
