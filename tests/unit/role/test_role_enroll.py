"""Renewal in place (#16) end to end: playbooks/renew.yml and rollback.yml under ansible-playbook on the test double.

One inventory, five servers, four ansible-playbook runs (module scope, shared by the assertions below):
- apex01 is signed on the controller by a CA built here, through the example signing tasks
  (playbooks/tasks/sign_ownca.yml, community.crypto's ownca provider);
- apex02, apex03, apex04, apex05 submit to the double's AD CS, which issues, denies, or holds the request for
  approval (apex04 and apex05); a CA manager then issues apex05's, and a run with its request id retrieves it
  (the same run finds apex02 not due any more).
``renew --check`` must print the plan with the request and change nothing; ``renew`` must end with the new
certificate bound, OfcIPCer.dat and step 7 done on the issued hosts, a clear message and nothing changed on the
denied and pending ones, and no PFX, password or private key anywhere; ``rollback`` must put apex01 back exactly and
remove the pending request and its key on apex04.
"""

from __future__ import annotations

import json
import os
import subprocess

import pki
import pytest
import scenarios
import winsim
from cryptography import x509
from playbook_output import failures, recap
from secret_scan import secret_blobs

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONNECTIONS = os.path.join(REPO, "tests", "double", "connection_plugins")

HOSTS = {
    "apex01": ("enroll_controller_ca", "controller"),
    "apex02": ("enroll_adcs_issue", "adcs"),
    "apex03": ("enroll_adcs_denied", "adcs"),
    "apex04": ("enroll_adcs_pending", "adcs"),
    "apex05": ("enroll_adcs_pending", "adcs"),
}


def _fqdn(name: str) -> str:
    return f"{name}.corp.example"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, ansible_env):
    tmp = tmp_path_factory.mktemp("enroll")
    lab = pki.LabPki()
    # The controller-side CA: the lab's issuing CA (certificate and key files on the controller), root as the bundle.
    (tmp / "ca.pem").write_text(lab.intermediate.pem)
    (tmp / "ca.key").write_text(pki.key_pem(lab.intermediate.key))
    (tmp / "root.pem").write_text(lab.root.pem)
    hosts, inventory = {}, {}
    for index, (name, (scenario, signer)) in enumerate(HOSTS.items()):
        _k, old = pki.make_cert(_fqdn(name), issuer=None, key=pki.rsa_key(2048, slot=830 + index))
        state = scenarios.build_state(scenarios.ENROLL_BY_NAME[scenario], hostname=_fqdn(name), original=old)
        (tmp / f"{name}.json").write_text(json.dumps(state))
        host_vars = {
            "ansible_connection": "apexone_double",
            "apexone_double_state_dir": str(tmp),
            "apexone_cert_hostname": _fqdn(name),
            "apexone_cert_enroll_signer": signer,
        }
        if signer == "controller":
            host_vars.update(apexone_cert_enroll_sign_tasks=os.path.join(REPO, "playbooks", "tasks", "sign_ownca.yml"),
                             apexone_ca_cert_path=str(tmp / "ca.pem"), apexone_ca_key_path=str(tmp / "ca.key"),
                             apexone_cert_ca_bundle_path=str(tmp / "root.pem"))
        else:
            (tmp / f"{name}-ca.pem").write_text(state["ca"]["certificate"])
            host_vars.update(apexone_cert_enroll_ca_config=scenarios.CA_CONFIG, apexone_cert_enroll_template="WebServer",
                             apexone_cert_ca_bundle_path=str(tmp / f"{name}-ca.pem"))
        inventory[name] = host_vars
        hosts[name] = {"initial": winsim.comparable(state), "old": _x509.thumbprint(old)}
    (tmp / "inventory.json").write_text(json.dumps({"all": {"hosts": inventory, "vars": {
        "apexone_cert_verify_tls": False, "apexone_cert_verify_settle": 0,
        "apexone_cert_run_record_dir": str(tmp / "runs")}}}))
    env = dict(ansible_env, ANSIBLE_CONNECTION_PLUGINS=CONNECTIONS)

    def run(playbook, *extra):
        cmd = ["ansible-playbook", "-v", "-i", str(tmp / "inventory.json"), os.path.join(REPO, "playbooks", playbook),
               *extra]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=300, cwd=str(tmp))
        calls = {}
        for name in HOSTS:
            path = tmp / f"{name}.calls.jsonl"
            calls[name] = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
            if path.exists():
                path.unlink()
        states = {name: json.loads((tmp / f"{name}.json").read_text()) for name in HOSTS}
        return {"proc": proc, "calls": calls, "states": states}

    check = run("renew.yml", "--check")
    renew = run("renew.yml")
    extra = "".join((tmp / f"{name}.extra.jsonl").read_text() for name in HOSTS if (tmp / f"{name}.extra.jsonl").exists())
    # A CA manager issues apex05's pending request; the next run retrieves it onto the key kept on the server.
    state = json.loads((tmp / "apex05.json").read_text())
    winsim.ca_decide(state, 100, "issue")
    (tmp / "apex05.json").write_text(json.dumps(state))
    # The same run: apex02, renewed above, is not due any more (one read-only round trip).
    retrieve = run("renew.yml", "--limit", "apex02,apex05", "-e", "apexone_cert_enroll_request_id=100")
    rollback = run("rollback.yml", "--limit", "apex01,apex04")
    return {"dir": tmp, "hosts": hosts, "check": check, "renew": renew, "retrieve": retrieve, "rollback": rollback,
            "extra": extra, "lab": lab}


def names(entries):
    return [e["module"].rsplit(".", 1)[-1] for e in entries]


def record_of(state):
    return json.loads(winsim.reg_get(state, winsim.RUN_RECORD_KEY, winsim.RUN_RECORD_VALUE))


def served(state, site="OfficeScan"):
    site = next(s for s in state["iis"]["sites"] if s["name"] == site)
    return {winsim.binding_certificate(state, b)[0] for b in site["bindings"] if b["protocol"] == "https"}


def test_check_mode_prints_the_request_and_changes_nothing(fleet):
    run = fleet["check"]
    assert run["proc"].returncode == 0, run["proc"].stdout + run["proc"].stderr
    out = run["proc"].stdout
    for name, facts in fleet["hosts"].items():
        assert names(run["calls"][name]) == ["win_server_info"]
        assert winsim.comparable(run["states"][name]) == facts["initial"]
        assert (f"request: new key and request on the server (certreq -new -machine): CN={_fqdn(name)}, "
                f"SAN {_fqdn(name)}, RSA 2048 legacy exportable, sha256") in out
        assert f"binding *:4343:: {facts['old']} -> (issued certificate)" in out
    assert json.dumps(f"sign: AD CS {scenarios.CA_CONFIG}")[1:-1] in out and "sign: on the controller" in out
    assert "step 7: win_cert_persistence" in out and "step 4: win_agent_cert" in out


def test_controller_signed_renewal_ends_bound_with_ofcipcer_and_step7(fleet):
    run = fleet["renew"]
    state = run["states"]["apex01"]
    record = record_of(state)
    assert record["status"] == "applied", run["proc"].stdout[-3000:]
    new = record["new_thumbprint"]
    assert (record["source"], record["signer"], record["accepted"], record["request_created"]) == \
        ("enroll", "controller", True, True)
    assert served(state) == {new}
    ofcipcer = x509.load_der_x509_certificate(winsim.get_file(state, winsim.OFCIPCER))
    assert _x509.thumbprint(ofcipcer) == new and ofcipcer.issuer == fleet["lab"].intermediate.cert.subject
    my = next(c for c in state["stores"]["My"] if c["thumbprint"] == new)
    service_ini = winsim.get_file(state, winsim.SERVICE_INI).decode("latin-1")
    assert f"HTTPS_CERT_FRIENDLY_NAME={my['friendly_name']}" in service_ini and my["friendly_name"].startswith(
        "Apex One web host ")
    assert any(c["thumbprint"] == new for c in state["stores"]["TrustedPeople"])
    assert not state["stores"].get("REQUEST")  # accepted: the pending request is gone
    calls = [n for n in names(run["calls"]["apex01"]) if n != "win_apexone_run_record"]
    assert calls == ["win_server_info", "win_apexone_cert_request", "win_apexone_cert_accept", "win_webhost_cert",
                     "win_agent_cert", "win_iis_https_binding", "win_apexone_services", "win_cert_persistence",
                     "win_apexone_services", "win_server_info"]
    finish = next(c for c in run["calls"]["apex01"] if c["module"].endswith("win_webhost_cert"))
    assert "src" not in finish["args"] and "_pfx_b64" not in finish["args"] and "password" not in finish["args"]
    assert finish["args"]["thumbprint"] == new


def test_adcs_issued_renewal_ends_bound(fleet):
    state = fleet["renew"]["states"]["apex02"]
    record = record_of(state)
    assert record["status"] == "applied" and record["signer"] == "adcs" and record["request_id"] == 100
    assert served(state) == {record["new_thumbprint"]}
    assert "win_apexone_cert_submit" in names(fleet["renew"]["calls"]["apex02"])


def test_denied_ends_with_a_clear_message_and_nothing_changed(fleet):
    run = fleet["renew"]
    assert run["proc"].returncode == 2
    failed = failures(run["proc"].stdout)
    assert sorted(failed) == ["apex03", "apex04", "apex05"]  # denied, pending, pending; apex01 and apex02 renewed
    assert {h: c["failed"] for h, c in recap(run["proc"].stdout).items()} == {
        "apex01": 0, "apex02": 0, "apex03": 1, "apex04": 1, "apex05": 1}
    message = failed["apex03"]
    assert "the renewal stopped at 'Stop when AD CS did not issue the certificate (pending approval or denied): AD CS " \
           "denied: the CA denied the request (RequestId 100)" in message
    assert "Removed: pending request and key removed. Nothing else was changed" in message
    assert winsim.comparable(run["states"]["apex03"]) == fleet["hosts"]["apex03"]["initial"]
    assert record_of(run["states"]["apex03"])["status"] == "rolled_back"


def test_pending_keeps_the_request_says_how_to_retrieve_and_changes_nothing_else(fleet):
    run = fleet["renew"]
    message = failures(run["proc"].stdout)["apex04"]
    assert "The CA holds request 100 for approval. Once a CA manager has issued it, run again with " \
           "apexone_cert_enroll_request_id=100" in message and "Nothing else was changed" in message
    state = run["states"]["apex04"]
    record = record_of(state)
    assert (record["status"], record["request_id"], record["accepted"]) == ("pending", 100, False)
    assert [c["thumbprint"] for c in state["stores"]["REQUEST"]] == [record["request_thumbprint"]]
    assert served(state) == {fleet["hosts"]["apex04"]["old"]}
    assert "win_apexone_cert_accept" not in names(run["calls"]["apex04"])


def test_an_approved_request_is_retrieved_onto_the_kept_key(fleet):
    pending = record_of(fleet["renew"]["states"]["apex05"])
    run = fleet["retrieve"]
    assert run["proc"].returncode == 0, run["proc"].stdout[-3000:]
    state = run["states"]["apex05"]
    record = record_of(state)
    assert (record["status"], record["request_id"], record["request_created"]) == ("applied", 100, False)
    assert record["request_thumbprint"] == pending["request_thumbprint"]  # the same key: reused, not made again
    assert served(state) == {record["new_thumbprint"]}
    submit = next(c for c in run["calls"]["apex05"] if c["module"].endswith("win_apexone_cert_submit"))
    assert submit["args"]["request_id"] == 100
    assert f"request: reuse pending request {pending['request_thumbprint']}" in run["proc"].stdout


def test_a_renewed_server_is_not_due_and_costs_one_round_trip(fleet):
    run = fleet["retrieve"]
    assert names(run["calls"]["apex02"]) == ["win_server_info"]
    assert winsim.comparable(run["states"]["apex02"]) == winsim.comparable(fleet["renew"]["states"]["apex02"])
    assert "compliant: not due: the served certificate" in run["proc"].stdout


def test_no_pfx_password_or_private_key_anywhere_in_the_run(fleet):
    run = fleet["renew"]
    recorded = json.dumps(run["calls"])
    for text in (run["proc"].stdout, run["proc"].stderr, recorded, fleet["extra"]):
        assert "PRIVATE KEY" not in text
        assert secret_blobs(text) == []
    for calls in run["calls"].values():
        for call in calls:
            assert not {"_pfx_b64", "password", "src"} & set(call["args"]), call["module"]
    for name in HOSTS:
        copy = fleet["dir"] / "runs" / f"{name}.json"
        if copy.exists():
            assert secret_blobs(copy.read_text()) == []


def test_rollback_removes_the_pending_request_and_the_new_key(fleet):
    run = fleet["rollback"]
    assert run["proc"].returncode == 0, run["proc"].stdout[-3000:]
    for name in ("apex01", "apex04"):
        state = run["states"][name]
        assert winsim.comparable(state) == fleet["hosts"][name]["initial"], name
        assert not state.get("machine_keys") and not state["stores"].get("REQUEST")
        assert record_of(state)["status"] == "rolled_back"
    assert "pending request and key removed" in run["proc"].stdout
    assert "new certificate removed" in run["proc"].stdout
    assert not any(k.endswith(".req") for k in run["states"]["apex04"]["files"])
