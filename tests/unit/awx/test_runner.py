"""playbooks/preflight.yml and playbooks/audit.yml through ansible-runner, the runner AWX uses, with the PFX
credential injected the way AWX injects it: the credential type's injectors rendered from a credential's
inputs, extra vars in a private file tagged !unsafe passed with ``-e @file``, the PFX content in a private
file. The inventory has no password. Checked: status and rc, the set_stats artifact AWX hands to workflow
nodes, the preflight's JSON summary, the audit's report written into the job's artifact folder, and that no
secret (the PFX password, the base64 of any lab PFX) is in the artifacts (job events, stdout, report).
"""

import base64
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ansible_runner = pytest.importorskip("ansible_runner")

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
AWX = os.path.join(REPO, "awx")
RESULT_KEYS = {"ok", "hostname", "problems", "errors", "thumbprint", "subject_cn", "not_after", "days_left"}


def _validator():
    spec = importlib.util.spec_from_file_location("validate_credential_type", os.path.join(AWX, "validate_credential_type.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def secrets_of(lab):
    """Strings that must never appear in what AWX stores."""
    values = [lab["password"]]
    for pfx in sorted((lab["dir"] / "certs").glob("*.pfx")):
        encoded = base64.b64encode(pfx.read_bytes()).decode()
        values += [encoded, encoded[100:164]]
    return values


def awx_job(lab, ansible_env, workdir, ident, job_extra_vars, limit=None, playbook="playbooks/preflight.yml", host_vars=None):
    """Run a playbook as an AWX job would run it; return (runner, private data dir, injected credential)."""
    pdd = workdir / ident
    (pdd / "inventory").mkdir(parents=True)
    inventory = json.loads(open(lab["inventory"]).read())
    group_vars = inventory["all"]["children"]["apexone_servers"]["vars"]
    del group_vars["apexone_cert_pfx_password"]  # AWX's credential brings it, not the inventory
    group_vars["ansible_python_interpreter"] = sys.executable
    for host, values in (host_vars or {}).items():
        inventory["all"]["children"]["apexone_servers"]["hosts"][host].update(values)
    (pdd / "inventory" / "hosts.json").write_text(json.dumps(inventory))

    vct = _validator()
    credential_type = vct.load(os.path.join(AWX, "credential_type.yml"))
    pfx = (lab["dir"] / "certs" / "apex-good01.pfx").read_bytes()
    credential = {"pfx_password": lab["password"], "pfx_base64": base64.b64encode(pfx).decode()}
    injected = vct.render_injectors(credential_type, credential, str(pdd))
    # AWX writes the credential's extra vars with every value tagged !unsafe, and passes the file with -e @.
    cred_vars = pdd / "env" / "credential_extravars.yml"
    cred_vars.write_text("".join(f"{k}: !unsafe {json.dumps(v)}\n" for k, v in injected["extra_vars"].items()))

    envvars = {k: v for k, v in ansible_env.items() if k.startswith("ANSIBLE_") or k in ("PATH", "HOME")}
    envvars.update(injected["env"])
    runner = ansible_runner.run(
        private_data_dir=str(pdd),
        project_dir=REPO,
        playbook=playbook,
        inventory=str(pdd / "inventory" / "hosts.json"),
        extravars=job_extra_vars,
        cmdline=f"-e @{cred_vars}",
        envvars=envvars,
        limit=limit,
        ident=ident,
        quiet=True,
        timeout=240,
    )
    return runner, pdd, injected


def stats_artifacts(runner):
    (stats,) = [e for e in runner.events if e["event"] == "playbook_on_stats"]
    return stats["event_data"]["artifact_data"]


@pytest.fixture(scope="module")
def report_only_job(lab, ansible_env, tmp_path_factory):
    work = tmp_path_factory.mktemp("awx-runner")
    summary = work / "preflight.json"
    job_vars = {"apexone_cert_report_only": "true", "apexone_cert_summary_path": str(summary), "apexone_cert_min_days": 30}
    runner, pdd, injected = awx_job(lab, ansible_env, work, "preflight-report", job_vars)
    return runner, pdd, injected, summary


def test_job_succeeds_with_the_injected_password(report_only_job, lab):
    runner, pdd, injected, _summary = report_only_job
    assert (runner.status, runner.rc) == ("successful", 0), runner.stdout.read()
    # The password came from the credential only: the inventory the job used has none.
    assert lab["password"] not in (pdd / "inventory" / "hosts.json").read_text()
    assert injected["extra_vars"]["apexone_cert_pfx_password"] == lab["password"]
    assert os.path.isfile(injected["extra_vars"]["apexone_cert_pfx_base64_path"])


def test_set_stats_carries_every_verdict(report_only_job, lab):
    runner, _pdd, _injected, _summary = report_only_job
    results = stats_artifacts(runner)["apexone_cert_results"]
    assert set(results) == set(lab["expected"])
    for host, expected in lab["expected"].items():
        entry = results[host]["preflight"]
        assert set(entry) == RESULT_KEYS, host
        assert entry["ok"] is expected["ok"], (host, entry)
        assert entry["problems"] == expected["codes"], host
        assert entry["hostname"] == f"{host}.lab.example"
        if expected["ok"]:
            assert entry["errors"] == [] and len(entry["thumbprint"]) == 40, host
        else:
            assert entry["errors"], host
    # A PFX read with the injected password: the good hosts got a real verdict, not "unreadable".
    assert "unreadable" not in json.dumps(results)


def test_summary_written(report_only_job, lab):
    _runner, _pdd, _injected, summary = report_only_job
    data = json.loads(summary.read_text())
    assert data["kind"] == "apexone.certificates.preflight"
    assert set(data["hosts"]) == set(lab["expected"])


def test_no_secret_in_the_artifacts(report_only_job, lab):
    _runner, pdd, injected, _summary = report_only_job
    artifacts = pdd / "artifacts" / "preflight-report"
    events = list((artifacts / "job_events").glob("*.json"))
    assert len(events) > 20 and (artifacts / "stdout").exists()
    secrets = secrets_of(lab)
    checked = 0
    for path in artifacts.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            checked += 1
            for secret in secrets:
                assert secret not in text, f"a secret is in {path.relative_to(pdd)}"
    assert checked > len(events)
    # The scan looks for the right strings: they are in the injected files AWX deletes after the job.
    cred_file = (pdd / "env" / "credential_extravars.yml").read_text()
    assert lab["password"] in cred_file
    pfx_file = open(injected["extra_vars"]["apexone_cert_pfx_base64_path"]).read()
    assert pfx_file in secrets


def test_failing_hosts_still_publish_and_earlier_workflow_results_are_kept(lab, ansible_env, tmp_path):
    # Artifacts of an earlier workflow node arrive as an extra var of the same name.
    earlier = {"apex-good01": {"audit": {"status": "ok"}}, "apex-elsewhere": {"audit": {"status": "expired"}}}
    job_vars = {"apexone_cert_summary_path": str(tmp_path / "s.json"), "apexone_cert_results": earlier}
    runner, _pdd, _injected = awx_job(lab, ansible_env, tmp_path, "preflight-fail", job_vars, limit="apex-good01,apex-expired")
    assert (runner.status, runner.rc) == ("failed", 2)
    assert set(runner.stats["failures"]) == {"apex-expired"}
    results = stats_artifacts(runner)["apexone_cert_results"]
    assert results["apex-elsewhere"] == earlier["apex-elsewhere"]
    assert results["apex-good01"]["audit"] == {"status": "ok"}
    assert results["apex-good01"]["preflight"]["ok"] is True
    assert results["apex-expired"]["preflight"]["errors"] == ["expired"]


# --- the audit ---------------------------------------------------------------------------------------------------

SERVE_LAB = os.path.join(REPO, "tests", "lab", "serve_lab.py")


@pytest.fixture(scope="module")
def audit_job(lab, ansible_env, tmp_path_factory):
    if not os.path.exists(os.path.join(REPO, "playbooks", "audit.yml")):
        pytest.skip("playbooks/audit.yml is not in this checkout yet (issue 6)")
    work = tmp_path_factory.mktemp("awx-audit")
    certs = lab["dir"] / "certs"
    spec = work / "servers.json"
    spec.write_text(json.dumps([
        {"name": "apex-good01", "kind": "tls", "cert": str(certs / "apex-good01.crt.pem"), "key": str(certs / "apex-good01.key.pem")},
        {"name": "closed", "kind": "closed"},
    ]))
    # Local TLS server for apex-good01, a closed port for the others (they are reported unreachable).
    server = subprocess.Popen(
        [sys.executable, SERVE_LAB, "--spec", str(spec), "--lifetime", "120"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        ports = json.loads(server.stdout.readline())
        host_vars = {
            host: {"apexone_cert_audit_endpoints": [f"127.0.0.1:{ports.get(host, ports['closed'])}"]}
            for host in lab["expected"]
        }
        # A job template extra var: the report goes into the job's artifact folder (ansible-runner sets
        # AWX_ISOLATED_DATA_DIR to it, in AWX's execution environments too).
        job_vars = {"apexone_cert_report_dir": "{{ lookup('ansible.builtin.env', 'AWX_ISOLATED_DATA_DIR') }}/report"}
        runner, pdd, injected = awx_job(
            lab, ansible_env, work, "audit", job_vars, playbook="playbooks/audit.yml", host_vars=host_vars
        )
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    return runner, pdd, injected


def test_audit_succeeds_and_writes_the_report_as_an_artifact(audit_job, lab):
    runner, pdd, _injected = audit_job
    assert (runner.status, runner.rc) == ("successful", 0), runner.stdout.read()
    folder = pdd / "artifacts" / "audit" / "report"
    report = json.loads((folder / "report.json").read_text())
    assert (folder / "report.html").stat().st_size > 1000
    rows = {row["host"]: row for row in report["hosts"]}
    assert set(rows) == set(lab["expected"])
    # The expected certificate of every PFX host was read with the injected password.
    for host, row in rows.items():
        if host != "apex-keymismatch":  # the PEM host of the lab
            assert row["expected"]["source"] == "pfx" and row["expected"].get("error") is None, host
            assert len(row["expected"]["thumbprint"]) == 40, host
    # apex-good01 serves the certificate it should serve.
    assert rows["apex-good01"]["thumbprint_match"] is True
    assert rows["apex-expired"]["status"] == "unreachable"


def test_audit_artifacts_hold_no_secret(audit_job, lab):
    _runner, pdd, _injected = audit_job
    artifacts = pdd / "artifacts" / "audit"
    files = [p for p in artifacts.rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in files) and len(files) > 20
    for path in files:
        text = path.read_text(errors="replace")
        for secret in secrets_of(lab):
            assert secret not in text, f"a secret is in {path.relative_to(pdd)}"
