"""The real role and playbooks under ansible-playbook against simulated Apex One servers (tests/double).

The remote side is the apexone_double connection plugin: Ansible builds the real PowerShell payload for every
Windows module, the double answers from winsim.py and records each call. This proves the round-trip claims
(compliant host: 1 call; full replacement: 7), check mode, rollback on failure and the rollback playbook.
"""

import base64
import json
import os
import subprocess

import pki
import pytest
import winsim

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")
PASSWORD = "Double-Pfx-Secret-42"
HOSTS = {"apex01": "apex01.corp.example", "apex02": "apex02.corp.example"}


@pytest.fixture
def fleet(tmp_path):
    lab = pki.LabPki()
    (tmp_path / "root.pem").write_text(lab.root.pem)
    hosts = {}
    for index, (name, fqdn) in enumerate(HOSTS.items()):
        _k, old = pki.make_cert(fqdn, issuer=None, key=pki.rsa_key(2048, slot=700 + index))
        key, new = lab.server(fqdn, key=pki.rsa_key(2048, slot=710 + index))
        (tmp_path / f"{name}.pfx").write_bytes(pki.make_pfx(key, new, [lab.intermediate.cert], password=PASSWORD))
        state = winsim.new_state(old, hostname=fqdn)
        (tmp_path / f"{name}.json").write_text(json.dumps(state))
        hosts[name] = {
            "ansible_connection": "apexone_double",
            "apexone_double_state_dir": str(tmp_path),
            "apexone_cert_hostname": fqdn,
            "apexone_cert_pfx_path": str(tmp_path / f"{name}.pfx"),
            "initial": winsim.comparable(state),
            "new": _x509.thumbprint(new),
            "old": _x509.thumbprint(old),
        }
    inventory = {"all": {"hosts": {n: {k: v for k, v in h.items() if k not in ("initial", "new", "old")}
                                   for n, h in hosts.items()},
                         "vars": {"apexone_cert_pfx_password": PASSWORD,
                                  "apexone_cert_ca_bundle_path": str(tmp_path / "root.pem"),
                                  "apexone_cert_verify_tls": False,
                                  "apexone_cert_verify_settle": 0,
                                  "apexone_cert_friendly_name": "Apex One web host 2026",
                                  "apexone_cert_run_record_dir": str(tmp_path / "runs")}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    return {"dir": tmp_path, "hosts": hosts, "inventory": str(tmp_path / "inventory.json")}


def run(ansible_env, fleet, playbook, *extra):
    env = dict(ansible_env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS)
    cmd = ["ansible-playbook", "-i", fleet["inventory"], os.path.join(REPO, "playbooks", playbook), *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=300, cwd=str(fleet["dir"]))


def calls(fleet, host):
    path = fleet["dir"] / f"{host}.calls.jsonl"
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    path.unlink()
    return entries


def names(entries):
    return [e["module"].rsplit(".", 1)[-1] for e in entries]


def state(fleet, host):
    return json.loads((fleet["dir"] / f"{host}.json").read_text())


def test_check_mode_prints_the_plan_and_costs_one_read(ansible_env, fleet):
    proc = run(ansible_env, fleet, "replace.yml", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for host, facts in fleet["hosts"].items():
        assert names(calls(fleet, host)) == ["win_server_info"]
        assert winsim.comparable(state(fleet, host)) == facts["initial"]
        assert f"binding *:4343:: {facts['old']} -> {facts['new']}" in proc.stdout
    assert "step 2+3: win_webhost_cert" in proc.stdout
    assert "step 7: win_cert_persistence" in proc.stdout


def test_full_replacement_then_compliant(ansible_env, fleet):
    proc = run(ansible_env, fleet, "replace.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for host, facts in fleet["hosts"].items():
        recorded = calls(fleet, host)
        # The run record is kept on the server (#14): written before the first change, after each step and at the
        # end; the KB calls are the others.
        everything = names(recorded)
        writes = [i for i, n in enumerate(everything) if n == "win_apexone_run_record"]
        assert writes and writes[0] == 1 and writes[-1] == len(everything) - 1, everything
        recorded = [c for c in recorded if not c["module"].endswith("win_apexone_run_record")]
        assert names(recorded) == [
            "win_server_info", "win_webhost_cert", "win_agent_cert", "win_iis_https_binding",
            "win_apexone_services", "win_cert_persistence", "win_apexone_services", "win_server_info",
        ]
        # 8: the seven of the KB procedure, plus one read-only re-gather for the KA-0010488 health verdict.
        assert len(recorded) <= 8
        final = state(fleet, host)
        site = next(s for s in final["iis"]["sites"] if s["name"] == "OfficeScan")
        assert all(winsim.binding_certificate(final, b)[0] == facts["new"] for b in site["bindings"] if b["protocol"] == "https")
        assert {s["status"] for s in final["services"].values()} == {"running"}
        record = json.loads(winsim.reg_get(final, winsim.RUN_RECORD_KEY, winsim.RUN_RECORD_VALUE))
        assert record["status"] == "applied" and record["old_thumbprint"] == facts["old"]
        assert record["health"]["ok"] is True
        assert json.loads((fleet["dir"] / "runs" / f"{host}.json").read_text()) == record  # the report copy
        assert record["binding_restore"] == [{"thumbprint": facts["old"], "bindings": ["*:4343:"]}]
    # Second run: every host is compliant and costs exactly one remote call.
    proc = run(ansible_env, fleet, "replace.yml")
    assert proc.returncode == 0, proc.stdout
    for host in fleet["hosts"]:
        assert names(calls(fleet, host)) == ["win_server_info"]
    assert "compliant:" in proc.stdout


# A failure at each step (before and after its change) is rolled back: tests/unit/reliability/test_partial_failure.py.


def test_rollback_that_cannot_finish_says_what_is_left(ansible_env, fleet):
    host = "apex01"
    current = state(fleet, host)
    current["fail"] = {"win_iis_https_binding": "the binding is locked"}
    (fleet["dir"] / f"{host}.json").write_text(json.dumps(current))
    proc = run(ansible_env, fleet, "replace.yml", "--limit", host)
    assert proc.returncode == 2
    assert "NOT restored" in proc.stdout and "bindings: the binding is locked" in proc.stdout
    record = json.loads((fleet["dir"] / "runs" / f"{host}.json").read_text())
    assert record["status"] == "rollback_incomplete"
    final = state(fleet, host)
    # Everything else was put back: OfcIPCer.dat and the services.
    assert winsim.get_file(final, winsim.OFCIPCER) == winsim.get_file(current, winsim.OFCIPCER)
    assert {s["status"] for s in final["services"].values()} == {"running"}


def test_rollback_playbook_restores_the_recorded_start(ansible_env, fleet):
    host = "apex02"
    assert run(ansible_env, fleet, "replace.yml", "--limit", host).returncode == 0
    calls(fleet, host)
    proc = run(ansible_env, fleet, "rollback.yml", "--limit", host)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert winsim.comparable(state(fleet, host)) == fleet["hosts"][host]["initial"]
    assert "rolled back" in proc.stdout


def test_no_secret_reaches_output_or_remote_record(ansible_env, fleet):
    proc = run(ansible_env, fleet, "replace.yml", "-vvv")
    assert proc.returncode == 0, proc.stdout
    pfx = (fleet["dir"] / "apex01.pfx").read_bytes()
    b64 = base64.b64encode(pfx).decode()
    text = proc.stdout + proc.stderr
    for host in fleet["hosts"]:
        text += json.dumps(calls(fleet, host))
        text += (fleet["dir"] / "runs" / f"{host}.json").read_text()
    assert PASSWORD not in text
    assert b64[:48] not in text and b64[-48:] not in text


def test_audit_plans_over_winrm_and_changes_nothing(ansible_env, fleet):
    report_dir = fleet["dir"] / "report"
    proc = run(ansible_env, fleet, "audit.yml", "-e", f"apexone_cert_report_dir={report_dir}",
               "-e", '{"apexone_cert_audit_endpoints": ["127.0.0.1:9"], "apexone_cert_audit_timeout": 2}')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((report_dir / "report.json").read_text())
    for record in report["hosts"]:
        host = record["host"]
        assert record["winrm"]["status"] == "ok"
        assert record["plan"]["status"] == "changes"
        assert [a["module"] for a in record["plan"]["actions"]] == [
            "apexone.certificates.win_webhost_cert", "apexone.certificates.win_agent_cert",
            "apexone.certificates.win_iis_https_binding", "apexone.certificates.win_cert_persistence",
        ]
        assert names(calls(fleet, host)) == ["win_server_info"]
        assert winsim.comparable(state(fleet, host)) == fleet["hosts"][host]["initial"]
    # After a replacement the audit sees compliant servers.
    assert run(ansible_env, fleet, "replace.yml").returncode == 0
    proc = run(ansible_env, fleet, "audit.yml", "-e", f"apexone_cert_report_dir={report_dir}",
               "-e", '{"apexone_cert_audit_endpoints": ["127.0.0.1:9"], "apexone_cert_audit_timeout": 2}')
    report = json.loads((report_dir / "report.json").read_text())
    assert {r["plan"]["status"] for r in report["hosts"]} == {"compliant"}


@pytest.fixture
def served(fleet):
    """A local TLS server standing in for apex01's IIS: serves whichever certificate the test asks for."""
    import serve_lab

    servers = []

    def serve(which):
        info = _x509.pfx_info((fleet["dir"] / "apex01.pfx").read_bytes(), PASSWORD)
        if which == "new":
            chain, key = info["certificate_pem"] + "".join(info["chain_pem"]), pki.rsa_key(2048, slot=710)
        else:
            chain, key = state(fleet, "apex01")["stores"]["My"][0]["pem"], pki.rsa_key(2048, slot=700)
        (fleet["dir"] / f"{which}.crt").write_text(chain)
        (fleet["dir"] / f"{which}.key").write_text(pki.key_pem(key))
        ports, started = serve_lab.start([{"name": which, "kind": "tls", "cert": str(fleet["dir"] / f"{which}.crt"),
                                           "key": str(fleet["dir"] / f"{which}.key")}])
        servers.extend(started)
        current = state(fleet, "apex01")
        site = next(s for s in current["iis"]["sites"] if s["name"] == "OfficeScan")
        site["bindings"][1]["binding_information"] = f"*:{ports[which]}:"
        current["http_sys"][0].update(port=ports[which], key=f"0.0.0.0:{ports[which]}")
        # The verification probes the HTTPS= port of Service.ini too: it is the same port here.
        ini = winsim.get_file(current, winsim.SERVICE_INI).replace(b"HTTPS=4343", f"HTTPS={ports[which]}".encode())
        winsim.set_file(current, winsim.SERVICE_INI, ini)
        (fleet["dir"] / "apex01.json").write_text(json.dumps(current))
        return winsim.comparable(current)

    yield serve
    serve_lab.stop(servers)


VERIFY = ["-e", '{"apexone_cert_verify_tls": true, "apexone_cert_verify_address": "127.0.0.1", '
                '"apexone_cert_verify_retries": 1, "apexone_cert_verify_delay": 0}']


def test_verification_from_the_controller_passes_when_the_new_certificate_is_served(ansible_env, fleet, served):
    served("new")
    proc = run(ansible_env, fleet, "replace.yml", "--limit", "apex01", *VERIFY)
    assert proc.returncode == 0, proc.stdout
    assert "Wait until every https port serves the new certificate" in proc.stdout
    assert json.loads((fleet["dir"] / "runs" / "apex01.json").read_text())["status"] == "applied"


def test_verification_failure_rolls_back(ansible_env, fleet, served):
    start = served("old")  # the site keeps serving the old certificate (for example a stale http.sys entry)
    proc = run(ansible_env, fleet, "replace.yml", "--limit", "apex01", *VERIFY)
    assert proc.returncode == 2, proc.stdout
    assert "failed at 'Wait until every https port serves the new certificate" in proc.stdout
    assert winsim.comparable(state(fleet, "apex01")) == start
