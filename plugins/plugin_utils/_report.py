# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: per-host records, the report document, merging slices, one-line summaries, HTML.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
Do not use it from outside the collection.

Controller-only and free of Ansible imports, so it is unit-tested directly; the fleet_report* filters are thin
adapters. The report (``report.json``) has a versioned schema: roles/fleet_report/files/report.schema.json,
documented field by field in docs/report.md. Records are built from named inputs only (a whitelist), so no
variable that is not listed here can reach a report; strings equal to known secrets are masked on top of that.
"""

from __future__ import annotations

import collections.abc
import datetime
import math
import typing as t

from ansible_collections.apexone.certificates.plugins.module_utils._tls_probe import (
    CHAIN_CODES,
    NAME_CODES,
    PROBE_PROBLEM_CODES,
)
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import (
    CertificateError,
    _utc,
    format_time,
    normalize_thumbprint,
)

REPORT_KIND = "apexone.certificates.fleet_report"
SCHEMA_VERSION = 1
DEFAULT_TITLE = "Apex One web host certificates"
# Host status, from best to worst; the order is the sort order of the report.
STATUSES = ("ok", "warning", "error", "unreachable")
STATUS_LABELS = {"ok": "OK", "warning": "Warning", "error": "Error", "unreachable": "Unreachable"}
SEVERITIES = ("error", "warning", "info")
WINRM_STATUSES = ("ok", "failed", "unreachable", "skipped")
PLAN_STATUSES = ("not_available", "compliant", "changes", "blocked")
# Problem codes the report adds to those of webhost_cert_check and tls_probe (documented in docs/report.md).
REPORT_PROBLEM_CODES = (
    "unreachable",
    "not_audited",
    "check_failed",
    "thumbprint_mismatch",
    "endpoints_differ",
    "endpoint_unreachable",
    "expected_unreadable",
    "winrm_unreachable",
    "winrm_failed",
    "server_warning",
)
MASK = "********"
MIN_SECRET_LENGTH = 4
_MESSAGE_LIMIT = 500


class ReportError(ValueError):
    """An input cannot be turned into a report (the filters raise it as AnsibleFilterError)."""


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def _now(now: t.Any = None) -> datetime.datetime:
    try:
        return _utc(now).replace(microsecond=0)
    except CertificateError as exc:
        raise ReportError(str(exc)) from None


def _text(value: t.Any, limit: int = _MESSAGE_LIMIT) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _int(value: t.Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool_or_none(value: t.Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _mapping(value: t.Any) -> collections.abc.Mapping:
    return value if isinstance(value, collections.abc.Mapping) else {}


def _list(value: t.Any) -> list:
    if value is None or isinstance(value, (str, bytes, collections.abc.Mapping)):
        return []
    return list(value) if isinstance(value, collections.abc.Iterable) else []


def _thumbprint(value: t.Any) -> str | None:
    """The thumbprint as Windows shows it, or None when ``value`` is not one."""
    if not value or not isinstance(value, str):
        return None
    try:
        return normalize_thumbprint(value)
    except CertificateError:
        return None


def _problem(code: str, severity: str, message: t.Any) -> dict[str, str]:
    return {"code": str(code), "severity": severity if severity in SEVERITIES else "error", "message": _text(message)}


def _problems(items: t.Any) -> list[dict[str, str]]:
    out = []
    for item in _list(items):
        item = _mapping(item)
        if item.get("code"):
            out.append(_problem(item["code"], str(item.get("severity") or "error"), item.get("message") or ""))
    return out


def _mask(value: t.Any, secrets: t.Sequence[str]) -> t.Any:
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {key: _mask(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item, secrets) for item in value]
    return value


def _secrets(redact: t.Any) -> list[str]:
    values = {str(s) for s in _list(redact) if s is not None and len(str(s)) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)  # longest first, so a secret containing another is masked whole


def status_of(problems: t.Sequence[dict[str, str]], served: bool) -> str:
    if not served:
        return "unreachable"
    severities = {p["severity"] for p in problems}
    if "error" in severities:
        return "error"
    if "warning" in severities:
        return "warning"
    return "ok"


# ---------------------------------------------------------------------------------------------------------
# Per-host records


def _endpoint(probe: collections.abc.Mapping) -> dict[str, t.Any]:
    return {
        "endpoint": str(probe.get("endpoint") or ""),
        "ok": bool(probe.get("ok")),
        "thumbprint": _thumbprint(probe.get("thumbprint")),
        "tls_version": _text(probe.get("tls_version"), 32),
        "error_code": _text(probe.get("error_code"), 32),
        "error": _text(probe.get("error")),
    }


def _winrm(value: t.Any) -> dict[str, t.Any]:
    winrm = _mapping(value)
    enabled = bool(_bool_or_none(winrm.get("enabled")))
    status = str(winrm.get("status") or ("skipped" if not enabled else "ok"))
    if status not in WINRM_STATUSES:
        status = "failed"
    return {"enabled": enabled, "status": status, "message": _text(winrm.get("message"))}


def _plan(value: t.Any) -> tuple[dict[str, t.Any], list[dict[str, str]]]:
    """webhost_plan output ({compliant, actions, blockers, warnings}), or nothing while no plan is made.

    Returns the record's ``plan`` and the plan's blockers and warnings as problems.
    """
    plan = _mapping(value)
    if not plan:
        return {"status": "not_available", "actions": []}, []
    actions = []
    for action in _list(plan.get("actions")):
        action = _mapping(action)
        step = action.get("step")
        actions.append({
            "step": _int(step) if _int(step) is not None else _text(step, 64),
            "module": _text(action.get("module"), 128),
            "reason": _text(action.get("reason")),
        })
    blockers = [
        _problem(p.get("code") or "plan_blocker", str(p.get("severity") or "error"), p.get("message") or "")
        for p in map(_mapping, _list(plan.get("blockers")))
    ]
    warnings = [
        _problem(p.get("code") or "plan_warning", str(p.get("severity") or "warning"), p.get("message") or "")
        for p in map(_mapping, _list(plan.get("warnings")))
    ]
    if blockers:
        status = "blocked"
    elif _bool_or_none(plan.get("compliant")) and not actions:
        status = "compliant"
    else:
        status = "changes"
    return {"status": status, "actions": actions}, blockers + warnings


def build_host_record(
    host: t.Any,
    *,
    hostname: t.Any = None,
    probes: t.Any = (),
    served_check: t.Any = None,
    chain_checked: t.Any = False,
    expected: t.Any = None,
    winrm: t.Any = None,
    plan: t.Any = None,
    redact: t.Any = (),
) -> dict[str, t.Any]:
    """One row of the report, from what the audit gathered for one host.

    ``probes``: this host's tls_probe entries, in the order of its endpoints. ``served_check``: the
    webhost_cert_check verdict of the served certificate (checked with the host's own name, CA bundle and
    min_days); without it the probe's own verdict is used. ``chain_checked``: a CA bundle was given, so the chain
    verdict means something. ``expected``: ``{thumbprint, source, error}`` of the certificate the host should
    serve. ``winrm``: ``{enabled, status, message, warnings}`` (warnings: those of win_server_info).
    ``plan``: webhost_plan output (its blockers and warnings become problems), or None while no plan is made.
    ``redact``: secret values to mask wherever they appear.
    """
    if not isinstance(host, str) or not host:
        raise ReportError(f"a report record needs the inventory host name, not {host!r}")
    # Mask before anything is shortened to the message limit, so that no cut-off start of a secret is left.
    secrets = _secrets(redact)
    hostname, probes, served_check, expected, winrm, plan = _mask(
        [hostname, probes, served_check, expected, winrm, plan], secrets
    )
    probe_list = [_mapping(p) for p in _list(probes) if isinstance(p, collections.abc.Mapping)]
    endpoints = [_endpoint(p) for p in probe_list]
    served_probe = next((p for p in probe_list if _thumbprint(p.get("thumbprint"))), None)
    problems: list[dict[str, str]] = []
    served = None
    if served_probe is None:
        if not probe_list:
            problems.append(_problem("unreachable", "error", "no endpoint was probed for this host"))
        else:
            reasons = "; ".join(f"{e['endpoint']}: {e['error'] or 'no certificate'}" for e in endpoints)
            problems.append(_problem("unreachable", "error", f"no endpoint answered with TLS ({reasons})"))
    else:
        check = _mapping(served_check)
        if check:
            problems.extend(_problems(check.get("problems")))
            # Only what the probe alone can know; the served check has judged the certificate itself.
            problems.extend(p for p in _problems(served_probe.get("problems")) if p["code"] in PROBE_PROBLEM_CODES)
            days_left = _int(check.get("days_left"))
            not_after = check.get("not_after") or served_probe.get("not_after")
        else:
            problems.extend(_problems(served_probe.get("problems")))
            days_left = _int(served_probe.get("days_left"))
            not_after = served_probe.get("not_after")
        codes = {p["code"] for p in problems}
        chain_known = bool(_bool_or_none(chain_checked)) if check else served_probe.get("chain_valid") is not None
        served = {
            "endpoint": str(served_probe.get("endpoint") or ""),
            "thumbprint": _thumbprint(served_probe.get("thumbprint")),
            "subject_cn": _text(served_probe.get("subject_cn"), 256),
            "issuer": _text(served_probe.get("issuer"), 512),
            "san_dns": [_text(n, 256) for n in _list(served_probe.get("san_dns"))][:50],
            "not_after": _text(not_after, 32),
            "days_left": days_left,
            "tls_version": _text(served_probe.get("tls_version"), 32),
            "chain_length": 1 + len(_list(served_probe.get("chain_pem"))),
            "chain_valid": (not codes & set(CHAIN_CODES)) if chain_known else None,
            "hostname_valid": not codes & set(NAME_CODES),
        }
        for other in probe_list:
            if other is served_probe:
                continue
            other_print = _thumbprint(other.get("thumbprint"))
            name = other.get("endpoint")
            if other_print and other_print != served["thumbprint"]:
                problems.append(_problem(
                    "endpoints_differ", "warning",
                    f"{name} serves {other_print}, {served['endpoint']} serves {served['thumbprint']}: a binding "
                    "was not switched to the same certificate",
                ))
            elif not other_print:
                problems.append(_problem(
                    "endpoint_unreachable", "info", f"{name}: {other.get('error') or 'no certificate'}"
                ))

    expected_in = _mapping(expected)
    expected_print = _thumbprint(expected_in.get("thumbprint"))
    expected_out = {"thumbprint": expected_print, "source": _text(expected_in.get("source"), 32)}
    if expected_in.get("error"):
        problems.append(_problem(
            "expected_unreadable", "warning",
            f"the certificate this host should serve could not be read: {expected_in['error']}",
        ))
    elif expected_in.get("thumbprint") and not expected_print:
        problems.append(_problem(
            "expected_unreadable", "warning", f"{expected_in['thumbprint']!r} is not a SHA-1 thumbprint",
        ))
    match = None
    if served is not None and expected_print:
        match = served["thumbprint"] == expected_print
        if not match:
            problems.append(_problem(
                "thumbprint_mismatch", "warning",
                f"the server serves {served['thumbprint']}, not the expected certificate {expected_print} "
                "(not deployed yet, or reverted)",
            ))

    winrm_out = _winrm(winrm)
    if winrm_out["status"] == "unreachable":
        problems.append(_problem(
            "winrm_unreachable", "warning", f"WinRM unreachable: {winrm_out['message'] or 'no details'}"
        ))
    elif winrm_out["status"] == "failed":
        problems.append(_problem(
            "winrm_failed", "warning", f"reading the server facts failed: {winrm_out['message'] or 'no details'}"
        ))
    # Warnings of win_server_info, such as the agent-authentication (NTSG) certificate nearing expiry.
    problems.extend(
        _problem("server_warning", "warning", text) for text in _list(_mapping(winrm).get("warnings"))[:20] if text
    )

    plan_out, plan_problems = _plan(plan)
    problems.extend(plan_problems)

    record = {
        "host": host,
        "hostname": _text(hostname, 256) if hostname else None,
        "status": status_of(problems, served is not None),
        "served": served,
        "expected": expected_out,
        "thumbprint_match": match,
        "problems": problems,
        "endpoints": endpoints,
        "winrm": winrm_out,
        "plan": plan_out,
    }
    return _mask(record, secrets)


def not_audited_record(host: str) -> dict[str, t.Any]:
    """A host that was targeted but left the play before its record was built (an earlier task failed)."""
    problems = [_problem(
        "not_audited", "error", "the host left the play before it was audited (an earlier task failed for it)"
    )]
    return {
        "host": host,
        "hostname": None,
        "status": "unreachable",
        "served": None,
        "expected": {"thumbprint": None, "source": None},
        "thumbprint_match": None,
        "problems": problems,
        "endpoints": [],
        "winrm": {"enabled": False, "status": "skipped", "message": None},
        "plan": {"status": "not_available", "actions": []},
    }


# ---------------------------------------------------------------------------------------------------------
# Reports


def summarize(hosts: t.Sequence[dict[str, t.Any]]) -> dict[str, t.Any]:
    counts = {status: 0 for status in STATUSES}
    expired = soon30 = soon90 = mismatch = changes = 0
    for record in hosts:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
        days = (record.get("served") or {}).get("days_left")
        if days is not None:
            expired += days < 0
            soon30 += 0 <= days < 30
            soon90 += 0 <= days < 90
        mismatch += record.get("thumbprint_match") is False
        changes += record["plan"]["status"] == "changes"
    return {
        "hosts": len(hosts),
        "status": counts,
        "expired": expired,
        "expires_within_30_days": soon30,
        "expires_within_90_days": soon90,
        "thumbprint_mismatch": mismatch,
        "planned_changes": changes,
    }


def _sorted(records: t.Iterable[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return sorted(records, key=lambda r: r["host"])


def build_report(
    items: t.Any,
    *,
    hostvars: t.Any = None,
    title: t.Any = None,
    slice_id: t.Any = None,
    now: t.Any = None,
) -> dict[str, t.Any]:
    """The report document from records (dicts) or inventory host names (looked up in ``hostvars``).

    A host name whose host has no ``apexone_cert_report_host`` record gets a ``not_audited`` record, so every
    targeted host has its row.
    """
    when = _now(now)
    records: dict[str, dict[str, t.Any]] = {}
    for item in _list(items):
        if isinstance(item, collections.abc.Mapping):
            record = dict(item)
        elif isinstance(item, str):
            record = None
            if hostvars is not None:
                try:
                    record = hostvars[item].get("apexone_cert_report_host")
                except (KeyError, AttributeError, TypeError):
                    record = None
            record = dict(record) if isinstance(record, collections.abc.Mapping) else not_audited_record(item)
        else:
            raise ReportError(f"report entries must be records or host names, not {type(item).__name__}")
        if "host" not in record or "status" not in record:
            raise ReportError("a report record needs at least 'host' and 'status' (build it with fleet_report_host)")
        record = _plain(record)
        _check_record(record, "a report record")
        records[record["host"]] = record
    hosts = _sorted(records.values())
    slice_text = _text(slice_id, 128) if slice_id not in (None, "") else None
    return {
        "kind": REPORT_KIND,
        "schema_version": SCHEMA_VERSION,
        "title": _text(title, 200) or DEFAULT_TITLE,
        "generated_at": format_time(when),
        "sources": [{"slice": slice_text, "generated_at": format_time(when), "hosts": len(hosts)}],
        "summary": summarize(hosts),
        "hosts": hosts,
    }


def _plain(value: t.Any) -> t.Any:
    """Plain dict/list/str/int/bool/None (Ansible hands over its own container and string types)."""
    if isinstance(value, collections.abc.Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def check_report(report: t.Any, where: str = "the report") -> dict[str, t.Any]:
    """Raise ReportError unless ``report`` looks like a fleet report this collection can read."""
    if not isinstance(report, collections.abc.Mapping):
        raise ReportError(f"{where} is not a JSON object (got {type(report).__name__})")
    if report.get("kind") != REPORT_KIND:
        raise ReportError(f"{where} is not an apexone.certificates fleet report (kind={report.get('kind')!r})")
    version = report.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ReportError(f"{where} has no schema_version")
    if version > SCHEMA_VERSION:
        raise ReportError(
            f"{where} was written with schema_version {version}; this collection reads up to {SCHEMA_VERSION}: "
            "update the collection"
        )
    if not isinstance(report.get("hosts"), list):
        raise ReportError(f"{where} has no 'hosts' list")
    _fields(report, {"title": _OPT_STR, "generated_at": _OPT_STR, "sources": (list, type(None))}, where)
    if not all(isinstance(source, collections.abc.Mapping) for source in report.get("sources") or []):
        raise ReportError(f"{where}: 'sources' must be a list of objects")
    plain = _plain(report)
    for index, record in enumerate(plain["hosts"], start=1):
        _check_record(record, f"{where}, host {index}")
    return plain


def _fields(mapping: t.Any, types: dict[str, tuple], where: str) -> None:
    for name, allowed in types.items():
        value = mapping.get(name)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ReportError(f"{where}: '{name}' is {value!r}, not what a fleet report holds")


_OPT_STR = (str, type(None))
_OPT_INT = (int, type(None))
_OPT_BOOL = (bool, type(None))


def _check_record(record: t.Any, where: str) -> None:
    """Raise ReportError unless ``record`` has the shape of a host record (docs/report.md), as far as it is read."""
    if not isinstance(record, dict):
        raise ReportError(f"{where} is not a host record (a JSON object)")
    _fields(record, {"host": (str,), "status": (str,), "hostname": _OPT_STR, "thumbprint_match": _OPT_BOOL,
                     "problems": (list,), "plan": (dict,), "winrm": (dict,), "served": (dict, type(None)),
                     "expected": (dict, type(None)), "endpoints": (list, type(None))}, where)
    where = f"{where} ({record['host']})"
    if not record["host"] or record["status"] not in STATUSES:
        raise ReportError(f"{where}: the host name is empty or the status {record['status']!r} is unknown")
    for problem in record["problems"]:
        if not isinstance(problem, dict):
            raise ReportError(f"{where}: a problem is not an object")
        _fields(problem, {"code": (str,), "severity": (str,), "message": _OPT_STR}, f"{where}, problem")
        if problem["severity"] not in SEVERITIES:
            raise ReportError(f"{where}: unknown problem severity {problem['severity']!r}")
    plan = record["plan"]
    if plan.get("status") not in PLAN_STATUSES or not isinstance(plan.get("actions"), list) or not all(
        isinstance(a, dict) for a in plan["actions"]
    ):
        raise ReportError(f"{where}: 'plan' needs a known status and a list of actions")
    if record["winrm"].get("status") not in WINRM_STATUSES:
        raise ReportError(f"{where}: unknown WinRM status {record['winrm'].get('status')!r}")
    if record.get("served") is not None:
        _fields(record["served"], {"endpoint": _OPT_STR, "thumbprint": _OPT_STR, "subject_cn": _OPT_STR,
                                   "not_after": _OPT_STR, "tls_version": _OPT_STR, "days_left": _OPT_INT,
                                   "chain_valid": _OPT_BOOL}, f"{where}, served")
    if record.get("expected") is not None:
        _fields(record["expected"], {"thumbprint": _OPT_STR}, f"{where}, expected")
    for endpoint in record.get("endpoints") or []:
        if not isinstance(endpoint, dict) or not isinstance(endpoint.get("endpoint"), str):
            raise ReportError(f"{where}: an endpoint is not an object with 'endpoint'")


def merge_reports(reports: t.Any, *, title: t.Any = None, now: t.Any = None) -> dict[str, t.Any]:
    """One report from several (job slices, --limit runs). A host in more than one keeps its newest record."""
    inputs = _list(reports)
    if not inputs:
        raise ReportError("nothing to merge: give a list of fleet reports (the content of report.json files)")
    checked = [check_report(r, f"report {i}") for i, r in enumerate(inputs, start=1)]
    newest: dict[str, tuple[str, dict[str, t.Any]]] = {}
    sources = []
    for report in checked:
        stamp = str(report.get("generated_at") or "")
        sources.extend(report.get("sources") or [{"slice": None, "generated_at": stamp, "hosts": len(report["hosts"])}])
        for record in report["hosts"]:
            previous = newest.get(record["host"])
            if previous is None or stamp >= previous[0]:
                newest[record["host"]] = (stamp, record)
    hosts = _sorted(record for _stamp, record in newest.values())
    return {
        "kind": REPORT_KIND,
        "schema_version": SCHEMA_VERSION,
        "title": _text(title, 200) or checked[0].get("title") or DEFAULT_TITLE,
        "generated_at": format_time(_now(now)),
        "sources": sources,
        "summary": summarize(hosts),
        "hosts": hosts,
    }


def summary_lines(report: t.Any) -> list[str]:
    """One line per host for the play output: status, host, served thumbprint, match, days left, problems."""
    report = check_report(report)
    hosts = report["hosts"]
    summary = summarize(hosts)  # from the records, not from what the file says about them
    width = max([len("host")] + [len(r["host"]) for r in hosts])
    header = f"{'STATUS':<11}  {'host':<{width}}  {'served thumbprint':<40}  {'expected':<8}  {'days':>5}  problems"
    lines = [header]
    for record in hosts:
        served = record.get("served") or {}
        match = {True: "yes", False: "NO", None: "-"}[record.get("thumbprint_match")]
        days = served.get("days_left")
        codes = ", ".join(p["code"] for p in record["problems"] if p["severity"] != "info") or "-"
        lines.append(
            f"{record['status'].upper():<11}  {record['host']:<{width}}  {served.get('thumbprint') or '-':<40}  "
            f"{match:<8}  {days if days is not None else '-':>5}  {codes}"
        )
    counts = ", ".join(f"{summary['status'][s]} {s}" for s in STATUSES)
    lines.append(f"{summary['hosts']} hosts: {counts}")
    return lines


# ---------------------------------------------------------------------------------------------------------
# HTML


CHART = {"width": 760, "height": 240, "left": 44, "right": 12, "top": 22, "bottom": 48}


def _buckets(timeline_days: int) -> list[dict[str, t.Any]]:
    step = 30
    count = max(1, math.ceil(timeline_days / step))
    buckets = [{"label": "expired", "low": None, "high": 0, "css": "b-expired"}]
    for index in range(count):
        low, high = index * step, (index + 1) * step
        css = "b-soon" if high <= 30 else "b-near" if high <= 90 else "b-later"
        buckets.append({"label": f"{low}-{high - 1}", "low": low, "high": high, "css": css})
    buckets.append({"label": f"{count * step}+", "low": count * step, "high": None, "css": "b-later"})
    return buckets


def timeline(report: dict[str, t.Any], timeline_days: int = 360) -> dict[str, t.Any]:
    """Geometry of the expiry histogram (inline SVG): hosts per 30-day bucket of days left, expired first."""
    buckets = _buckets(timeline_days)
    for bucket in buckets:
        bucket["hosts"] = []
    unknown = 0
    for record in report["hosts"]:
        days = (record.get("served") or {}).get("days_left")
        if days is None:
            unknown += 1
            continue
        for bucket in buckets:
            low, high = bucket["low"], bucket["high"]
            if (low is None or days >= low) and (high is None or days < high):
                bucket["hosts"].append(record["host"])
                break
    c = CHART
    plot_w = c["width"] - c["left"] - c["right"]
    plot_h = c["height"] - c["top"] - c["bottom"]
    peak = max([len(b["hosts"]) for b in buckets] + [1])
    slot = plot_w / len(buckets)
    bars = []
    for index, bucket in enumerate(buckets):
        n = len(bucket["hosts"])
        h = round(plot_h * n / peak, 1)
        x = round(c["left"] + index * slot + slot * 0.12, 1)
        names = bucket["hosts"][:25]
        more = f" and {n - len(names)} more" if n > len(names) else ""
        bars.append({
            "label": bucket["label"],
            "count": n,
            "css": bucket["css"],
            "x": x,
            "w": round(slot * 0.76, 1),
            "y": round(c["top"] + plot_h - h, 1),
            "h": h,
            "cx": round(c["left"] + index * slot + slot / 2, 1),
            "tip": (bucket["label"] if bucket["low"] is None else f"{bucket['label']} days left") + f": {n} host(s)"
            + (" (" + ", ".join(names) + more + ")" if n else ""),
        })
    ticks = sorted({0, peak // 2, peak}) if peak > 1 else [0, 1]
    return {
        **c,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "base_y": c["top"] + plot_h,
        "bars": bars,
        "ticks": [{"value": v, "y": round(c["top"] + plot_h - plot_h * v / peak, 1)} for v in ticks],
        "unknown": unknown,
    }


def _row(record: dict[str, t.Any]) -> dict[str, t.Any]:
    served = record.get("served") or {}
    days = served.get("days_left")
    problems = record["problems"]
    return {
        "host": record["host"],
        "hostname": record.get("hostname") or "",
        "status": record["status"],
        "status_label": STATUS_LABELS.get(record["status"], record["status"]),
        "status_rank": STATUSES.index(record["status"]) if record["status"] in STATUSES else len(STATUSES),
        "endpoint": served.get("endpoint") or ", ".join(e["endpoint"] for e in record.get("endpoints") or []),
        "served": served.get("thumbprint") or "",
        "subject_cn": served.get("subject_cn") or "",
        "expected": (record.get("expected") or {}).get("thumbprint") or "",
        "match": record.get("thumbprint_match"),
        "not_after": (served.get("not_after") or "")[:10],
        "days": days,
        "days_sort": days if days is not None else 10**6,
        "days_css": "" if days is None else "d-expired" if days < 0 else "d-soon" if days < 30 else "d-near"
        if days < 90 else "",
        "tls": served.get("tls_version") or "",
        "chain_valid": served.get("chain_valid"),
        "problems": problems,
        "problem_count": sum(1 for p in problems if p["severity"] != "info"),
        "plan": record["plan"],
        "winrm": record["winrm"],
    }


def html_view(report: t.Any, *, timeline_days: int = 360) -> dict[str, t.Any]:
    """Everything the HTML template shows, precomputed (the template only lays it out)."""
    report = check_report(report)
    summary = summarize(report["hosts"])
    return {
        "title": report.get("title") or DEFAULT_TITLE,
        "generated_at": report.get("generated_at") or "",
        "sources": report.get("sources") or [],
        "schema_version": report["schema_version"],
        "summary": summary,
        "tiles": [
            {"status": s, "label": STATUS_LABELS[s], "count": summary["status"].get(s, 0)} for s in STATUSES
        ],
        "chart": timeline(report, timeline_days),
        "rows": [_row(r) for r in report["hosts"]],
    }


def render_html(report: t.Any, template: str, *, timeline_days: int = 360) -> str:
    """The self-contained HTML page: ``template`` is Jinja text, rendered sandboxed with autoescaping on."""
    try:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment
    except ImportError as exc:  # pragma: no cover - Jinja2 comes with ansible-core
        raise ReportError(f"Jinja2 is required to render the HTML report ({exc})") from exc
    if not isinstance(template, str) or not template.strip():
        raise ReportError("the HTML template is empty")
    environment = SandboxedEnvironment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    try:
        compiled = environment.from_string(str(template))
        return compiled.render(view=html_view(report, timeline_days=timeline_days))
    except ReportError:
        raise
    except Exception as exc:
        raise ReportError(f"the HTML template failed: {type(exc).__name__}: {exc}") from exc
