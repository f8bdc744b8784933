"""Partial failure (issue 7): fail each apply step of the role in turn, on simulated Apex One servers.

Every step of the procedure runs on every host here (the optional KB step 6a and 6b too: non-self-signed
certificates in Root, ClientAuthTrustMode asked for), and each host fails one of them:

- "before": the module fails without changing anything (access denied, locked file);
- "after": the module fails after its change (a verification or a second write that fails): the change stays and
  the failed result holds what the module had reported, as Ansible.Basic's FailJson returns ``$module.Result``.

After the failed run every server must be back exactly where it started (``winsim.comparable``), with a run record
that says so; once the cause is gone, one run converges and the next costs a single read.
All hosts run in one ansible-playbook process (one host per failure), so the whole matrix costs three runs.
"""

from __future__ import annotations

import json

import pytest
import winsim
from playbook_output import failures, recap
from reliability_helpers import HOST, Fleet, Material, names

pytestmark = pytest.mark.slow

SERVICE_NAMES = ["ofcservice", "OSCEIntegrationService", "TMiCRCScanService"]  # the order the plan stops them in
# host -> (module short name, fail rule)
STEPS = {
    "import": ("win_webhost_cert", {}),
    "roots": ("win_root_store_hygiene", {}),
    "schannel": ("win_schannel_trust", {}),
    "agent": ("win_agent_cert", {}),
    "binding": ("win_iis_https_binding", {}),
    "persistence": ("win_cert_persistence", {}),
    "stop": ("win_apexone_services", {"match": {"services": [{"name": n, "state": "stopped"} for n in SERVICE_NAMES]}}),
    "start": ("win_apexone_services", {"match": {"services": [
        {"name": n, "state": "started", "start_mode": "auto"} for n in reversed(SERVICE_NAMES)]}}),
    "import-after": ("win_webhost_cert", {"after": True}),
    "roots-after": ("win_root_store_hygiene", {"after": True}),
    "schannel-after": ("win_schannel_trust", {"after": True}),
    "agent-after": ("win_agent_cert", {"after": True}),
    "binding-after": ("win_iis_https_binding", {"after": True}),
    "persistence-after": ("win_cert_persistence", {"after": True}),
}
FULL_RUN = ["win_server_info", "win_webhost_cert", "win_root_store_hygiene", "win_schannel_trust", "win_agent_cert",
            "win_iis_https_binding", "win_apexone_services", "win_cert_persistence", "win_apexone_services",
            "win_server_info"]
MESSAGE = "simulated failure: access is denied"


@pytest.fixture(scope="module")
def material():
    return Material()


def starting_state(material: Material) -> dict:
    state = winsim.new_state(material.old, hostname=HOST)
    # KB step 6a has work to do: an intermediate CA sits in Root (the cause of IIS 403.16).
    state["stores"]["Root"].append(winsim.cert_record(material.lab.intermediate.cert))
    return state


def differences(expected, actual, path="") -> list[str]:
    """Where two states differ, as paths (stores.Root, files.WSS\\Service.ini...)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            out += differences(expected.get(key), actual.get(key), f"{path}.{key}" if path else str(key))
        return out
    return [] if expected == actual else [path]


def test_each_failing_step_is_rolled_back_exactly_and_the_next_run_converges(ansible_env, material, tmp_path):
    fleet = Fleet(tmp_path, material, common_vars={"apexone_cert_move_non_self_signed_roots": True,
                                                   "apexone_cert_client_auth_trust_mode": 2})
    for host, (module, rule) in STEPS.items():
        state = starting_state(material)
        state["fail"] = {module: {"message": f"{MESSAGE} ({host})", "times": 1, **rule}}
        fleet.add(host, state=state)

    proc = fleet.run(ansible_env, "replace.yml", "-f", "16", "-e", "apexone_cert_max_fail_percentage=100")
    assert proc.returncode == 2, proc.stdout[-4000:] + proc.stderr[-2000:]
    failed = failures(proc.stdout)
    wrong = {}
    for host, (module, _rule) in STEPS.items():
        recorded = fleet.calls(host)
        assert f"{MESSAGE} ({host})" in failed.get(host, ""), (host, failed.get(host))
        assert "the replacement failed at" in failed[host]
        assert names(recorded)[0] == "win_server_info" and module in names(recorded), host
        record = json.loads((tmp_path / "runs" / f"{host}.json").read_text())
        final = fleet.state(host)
        if winsim.comparable(final) != fleet.initial[host] or record["status"] != "rolled_back":
            wrong[host] = {"status": record["status"], "not_restored": record.get("not_restored"),
                           "differs": differences(fleet.initial[host], winsim.comparable(final))}
    assert wrong == {}, json.dumps(wrong, indent=1)

    # The cause is gone: one run converges, the next costs one read.
    for host in STEPS:
        state = fleet.state(host)
        state["fail"] = {}
        fleet.write_state(host, state)
    proc = fleet.run(ansible_env, "replace.yml", "-f", "16")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    new = material.pfx_thumbprint()
    for host in STEPS:
        # the run record writes on the server (#14) aside
        assert [n for n in names(fleet.calls(host)) if n != "win_apexone_run_record"] == FULL_RUN, host
        final = fleet.state(host)
        site = next(s for s in final["iis"]["sites"] if s["name"] == "OfficeScan")
        assert {winsim.binding_certificate(final, b)[0] for b in site["bindings"] if b["protocol"] == "https"} == {new}
        assert winsim.reg_get(final, winsim.SCHANNEL_KEY, "ClientAuthTrustMode") == 2
        assert final["stores"]["Root"] == []
        assert {s["status"] for s in final["services"].values()} == {"running"}
    proc = fleet.run(ansible_env, "replace.yml", "-f", "16")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert all(c["changed"] == 0 for c in recap(proc.stdout).values())
    for host in STEPS:
        assert names(fleet.calls(host)) == ["win_server_info"], host
