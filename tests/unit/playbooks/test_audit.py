"""playbooks/audit.yml and playbooks/merge_reports.yml under ansible-playbook, against local TLS servers."""

import html.parser
import json
import os
import subprocess
import sys

import jsonschema
import pytest
import serve_lab

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
AUDIT = os.path.join(REPO, "playbooks", "audit.yml")
MERGE = os.path.join(REPO, "playbooks", "merge_reports.yml")
SERVE_LAB = os.path.join(REPO, "tests", "lab", "serve_lab.py")
with open(os.path.join(REPO, "roles", "fleet_report", "files", "report.schema.json")) as _handle:
    SCHEMA = json.load(_handle)
# Problems of a lab PFX that the served certificate cannot have.
PFX_ONLY = ("key_mismatch", "modern_pfx_encryption")


def audit_command(lab, report_dir, *extra):
    return ["ansible-playbook", "-i", str(lab["dir"] / "audit-inventory.yml"), AUDIT,
            "-e", f"apexone_cert_report_dir={report_dir}", *extra]


def in_dir(ansible_env, folder):
    """The environment of a shell whose current directory is ``folder`` (relative paths resolve against PWD)."""
    return {**ansible_env, "PWD": str(folder)}


def serve_and_run(ansible_env, lab, tmp_path, command):
    """Start the demo's lab servers, run ``command`` (argv) while they serve, return the process."""
    return subprocess.run(
        [sys.executable, SERVE_LAB, "--lab", str(lab["dir"]), "--lifetime", "120", "--", *command],
        env=in_dir(ansible_env, tmp_path), capture_output=True, text=True, timeout=180, cwd=str(tmp_path), check=False,
    )


def rows_of(html_text):
    rows = []

    class Parser(html.parser.HTMLParser):
        in_body = False

        def handle_starttag(self, tag, attrs):
            if tag == "tbody":
                self.in_body = True
            elif tag == "tr" and self.in_body:
                rows.append(dict(attrs)["data-host"])

    Parser().feed(html_text)
    return rows


def codes(record):
    return [p["code"] for p in record["problems"] if p["severity"] != "info"]


@pytest.fixture(scope="module")
def fleet_audit(ansible_env, lab, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("audit")
    report_dir = tmp_path / "report"
    proc = serve_and_run(ansible_env, lab, tmp_path, audit_command(lab, report_dir, "-v"))
    report = json.loads((report_dir / "report.json").read_text()) if (report_dir / "report.json").exists() else None
    page = (report_dir / "report.html").read_text() if (report_dir / "report.html").exists() else ""
    return proc, report, page


def test_audit_reports_every_lab_host(fleet_audit, lab):
    proc, report, page = fleet_audit
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    extra = set(serve_lab.DEMO_EXTRA_HOSTS)
    hosts = {h["host"]: h for h in report["hosts"]}
    assert set(hosts) == set(lab["expected"]) | extra
    assert rows_of(page) == sorted(hosts)
    legacy = serve_lab.tls10_supported()
    for host, expected in lab["expected"].items():
        want = [c for c in expected["codes"] if c not in PFX_ONLY]
        if host == "apex-good02" and legacy:
            want = ["tls_legacy_version"]
        assert codes(hosts[host]) == want, host
        assert hosts[host]["thumbprint_match"] is True, host  # each server serves the certificate of its PFX
        assert hosts[host]["served"]["endpoint"].startswith("127.0.0.1:"), host
        assert hosts[host]["winrm"] == {"enabled": False, "status": "skipped", "message": None}
        assert hosts[host]["plan"] == {"status": "not_available", "actions": []}
    assert hosts["apex-good01"]["status"] == "ok"
    assert hosts["apex-good01"]["served"]["chain_valid"] is True
    assert hosts["apex-good02"]["status"] == ("warning" if legacy else "ok")
    assert hosts["apex-expired"]["status"] == "error"
    assert hosts["apex-pending"]["status"] == "error"
    assert codes(hosts["apex-pending"]) == ["self_signed", "chain_untrusted", "thumbprint_mismatch"]
    assert hosts["apex-offline"]["status"] == "unreachable"
    assert hosts["apex-offline"]["problems"][0]["message"].startswith("no endpoint answered with TLS (127.0.0.1:")
    assert report["summary"]["hosts"] == len(hosts)


def test_audit_prints_one_line_per_host(fleet_audit, lab):
    proc, report, _paths = fleet_audit
    lines = [line.strip().strip('",') for line in proc.stdout.splitlines()]
    for record in report["hosts"]:
        assert any(line.startswith(f"{record['status'].upper():<11}  {record['host']} ") for line in lines), record["host"]
    assert "Fleet report (12 hosts):" in proc.stdout


def test_audit_leaks_no_secret(fleet_audit, lab):
    proc, report, page = fleet_audit
    for text in (proc.stdout, proc.stderr, json.dumps(report), page):
        assert lab["password"] not in text
        assert "PRIVATE KEY" not in text


def test_slices_with_limit_then_merge(ansible_env, lab, tmp_path):
    """Two runs on parts of the inventory (as AWX job slices do), then the merge playbook."""
    one, two, merged = tmp_path / "slice1", tmp_path / "slice2", tmp_path / "merged"
    script = " && ".join([
        subprocess.list2cmdline(audit_command(lab, one, "--limit", "apex-good01,apex-expired",
                                              "-e", "apexone_cert_report_slice=1")),
        subprocess.list2cmdline(audit_command(lab, two, "--limit", "apex-offline,apex-wrongcn",
                                              "-e", "apexone_cert_report_slice=2")),
    ])
    proc = serve_and_run(ansible_env, lab, tmp_path, ["bash", "-c", script])
    assert proc.returncode == 0, proc.stdout[-3000:]
    first = json.loads((one / "report.json").read_text())
    assert [h["host"] for h in first["hosts"]] == ["apex-expired", "apex-good01"]
    collected = tmp_path / "collected"  # as one collects the artifacts of the slice jobs
    collected.mkdir()
    for number, folder in ((1, one), (2, two)):
        (collected / f"report-slice{number}.json").write_text((folder / "report.json").read_text())
    proc = subprocess.run(
        ["ansible-playbook", MERGE, "-e", "apexone_cert_report_inputs=collected/report-slice*.json",
         "-e", f"apexone_cert_report_dir={merged}"],
        env=in_dir(ansible_env, tmp_path), capture_output=True, text=True, timeout=120, cwd=str(tmp_path), check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = json.loads((merged / "report.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    assert [h["host"] for h in report["hosts"]] == ["apex-expired", "apex-good01", "apex-offline", "apex-wrongcn"]
    assert [s["slice"] for s in report["sources"]] == ["1", "2"]
    assert report["summary"]["status"] == {"ok": 1, "warning": 0, "error": 2, "unreachable": 1}
    assert rows_of((merged / "report.html").read_text()) == [h["host"] for h in report["hosts"]]


def test_merge_refuses_a_missing_report(ansible_env, tmp_path):
    proc = subprocess.run(
        ["ansible-playbook", MERGE, "-e", "apexone_cert_report_inputs=nothere.json"],
        env=in_dir(ansible_env, tmp_path), capture_output=True, text=True, timeout=120, cwd=str(tmp_path), check=False,
    )
    assert proc.returncode == 2
    assert f"not found: {tmp_path}/nothere.json" in proc.stdout


def test_winrm_unreachable_host_is_still_probed_in_check_mode(ansible_env, lab, tmp_path):
    """A Windows host whose WinRM port is closed: the WinRM part fails, the host is probed and reported anyway.

    A second host has a malformed endpoint: it gets its row, and the first host is still audited.
    """
    winrm_password = "WinRM-Lab-Passw0rd-xyz"  # a test value that must never appear
    certs = lab["dir"] / "certs"
    server = serve_lab.TlsServer(str(certs / "apex-good01.crt.pem"), str(certs / "apex-good01.key.pem"))
    closed = serve_lab.closed_port()
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"apex-win": {
        "ansible_host": "127.0.0.1", "ansible_port": closed, "ansible_connection": "winrm",
        "ansible_winrm_scheme": "http", "ansible_winrm_transport": "ntlm",
        "ansible_user": "auditor", "ansible_password": winrm_password,
        "apexone_cert_hostname": "apex-good01.lab.example",
        "apexone_cert_audit_endpoints": [f"127.0.0.1:{server.port}"],
        "apexone_cert_ca_bundle_path": str(lab["dir"] / "ca" / "root.pem"),
        "apexone_cert_pfx_path": str(certs / "apex-good01.pfx"),
        "apexone_cert_pfx_password": lab["password"],
    }, "apex-typo": {  # a malformed endpoint is this host's error, never the whole run's
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "apexone_cert_audit_endpoints": ["127.0.0.1:0"],
    }}}}))
    with server:
        proc = subprocess.run(
            ["ansible-playbook", "-i", str(inventory), AUDIT, "--check", "-vvv",
             "-e", f"apexone_cert_report_dir={tmp_path / 'report'}"],
            env=ansible_env, capture_output=True, text=True, timeout=120, cwd=str(tmp_path), check=False,
        )
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    typo, record = report["hosts"]
    assert typo["status"] == "unreachable"
    assert typo["problems"][0]["message"] == (
        "no endpoint answered with TLS (127.0.0.1:0: invalid endpoint: the port must be a number from 1 to 65535, not 0)"
    )
    assert typo["winrm"]["enabled"] is False
    assert record["winrm"]["enabled"] is True
    assert record["winrm"]["status"] == "unreachable"
    assert codes(record) == ["winrm_unreachable"]
    assert record["status"] == "warning"
    assert record["thumbprint_match"] is True and record["served"]["chain_valid"] is True
    for text in (proc.stdout, proc.stderr, json.dumps(report), (tmp_path / "report" / "report.html").read_text()):
        assert winrm_password not in text
        assert lab["password"] not in text
