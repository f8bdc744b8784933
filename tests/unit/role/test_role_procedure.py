"""Procedure defects of issue #12, shown end to end: the real role and playbooks against the test double.

Each test failed on the role before the fix: services that were stopped or disabled got started, rollback.yml refused
a 'rollback_incomplete' record, several matching sites and a Master_DomainName the certificate does not cover went
through, and the run record was written only at the end.
"""

import json

import pytest
import winsim
from test_role_double import calls, fleet, names, run, state  # noqa: F401 pylint: disable=unused-import  # fleet is a fixture

pytestmark = pytest.mark.slow


def put(fleet, host, current):  # noqa: F811
    (fleet["dir"] / f"{host}.json").write_text(json.dumps(current))


KEYS = ("master", "ad_integration", "smart_protection")


def record(fleet, host):  # noqa: F811
    return json.loads((fleet["dir"] / "runs" / f"{host}.json").read_text())


def test_services_that_were_stopped_or_disabled_stay_so(ansible_env, fleet):  # noqa: F811
    host = "apex01"
    current = state(fleet, host)
    winsim.set_service(current, "ad_integration", status="stopped", start_mode="manual")
    winsim.set_service(current, "smart_protection", status="stopped", start_mode="disabled")
    put(fleet, host, current)
    proc = run(ansible_env, fleet, "replace.yml", "--limit", host)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    final = state(fleet, host)
    assert {k: (winsim.by_key(final, k)["status"], winsim.by_key(final, k)["start_mode"]) for k in KEYS} == {
        "master": ("running", "auto"), "ad_integration": ("stopped", "manual"), "smart_protection": ("stopped", "disabled")}
    services_calls = [c for c in calls(fleet, host) if c["module"].endswith("win_apexone_services")]
    assert [[{k: v for k, v in s.items() if v is not None} for s in c["args"]["services"]] for c in services_calls] == [
        [{"name": "ofcservice", "state": "stopped"}],
        [{"name": "ofcservice", "state": "started", "start_mode": "auto"}],
    ]


def test_failed_rollback_can_be_finished_by_the_rollback_playbook(ansible_env, fleet):  # noqa: F811
    host = "apex01"
    current = state(fleet, host)
    restore = [{"name": "TMiCRCScanService", "state": "started", "start_mode": "auto"},
               {"name": "OSCEIntegrationService", "state": "started", "start_mode": "auto"},
               {"name": "ofcservice", "state": "started", "start_mode": "auto"}]
    # The start after step 7 fails, and so does the rescue's own start: the rollback is incomplete.
    current["fail"] = {"win_apexone_services": {"message": "simulated: the service did not start in time", "times": 2,
                                                "match": {"services": restore}}}
    put(fleet, host, current)
    proc = run(ansible_env, fleet, "replace.yml", "--limit", host)
    assert proc.returncode == 2, proc.stdout
    assert "run playbooks/rollback.yml again" in proc.stdout
    # The record was written before the first change (a controller crash would leave it 'applying').
    assert proc.stdout.index("Write the run record before the first change") < proc.stdout.index(
        "Import the certificate into My")
    assert record(fleet, host)["status"] == "rollback_incomplete"
    assert {winsim.by_key(state(fleet, host), k)["status"] for k in KEYS} == {"stopped"}
    calls(fleet, host)
    proc = run(ansible_env, fleet, "rollback.yml", "--limit", host)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert record(fleet, host)["status"] == "rolled_back"
    assert winsim.comparable(state(fleet, host)) == fleet["hosts"][host]["initial"]
    # Once rolled back, the record has nothing left to roll back: a further run says so and changes nothing. The
    # record lives on the server, so reading it costs the one read-only round trip, and nothing follows it.
    calls(fleet, host)
    proc = run(ansible_env, fleet, "rollback.yml", "--limit", host)
    assert proc.returncode == 2 and "there is nothing to roll back" in proc.stdout
    assert names(calls(fleet, host)) == ["win_server_info"]
    assert record(fleet, host)["status"] == "rolled_back"
    assert winsim.comparable(state(fleet, host)) == fleet["hosts"][host]["initial"]


def test_several_matching_sites_are_refused_before_any_change(ansible_env, fleet):  # noqa: F811
    host = "apex02"
    current = state(fleet, host)
    old = fleet["hosts"][host]["old"]
    # Default Web Site serves the Apex One folder too (an /OfficeScan application) on 443, with the old certificate.
    default_site = next(s for s in current["iis"]["sites"] if s["name"] == "Default Web Site")
    default_site["applications"].append({"path": "/OfficeScan", "application_pool": "OfficeScan",
                                         "physical_path": winsim.install_path(current)})
    default_site["bindings"].append({"protocol": "https", "binding_information": "*:443:", "ssl_flags": 0})
    current["http_sys"].append(winsim.http_sys_record("ipport", "0.0.0.0:443", old))
    put(fleet, host, current)
    proc = run(ansible_env, fleet, "replace.yml", "--limit", host)
    assert proc.returncode == 2
    assert "apexone_cert_site_name" in proc.stdout
    assert names(calls(fleet, host)) == ["win_server_info"]
    proc = run(ansible_env, fleet, "replace.yml", "--limit", host, "-e", "apexone_cert_site_name=OfficeScan")
    assert proc.returncode == 0, proc.stdout
    final = state(fleet, host)
    default_site = next(s for s in final["iis"]["sites"] if s["name"] == "Default Web Site")
    https = next(b for b in default_site["bindings"] if b["protocol"] == "https")
    assert winsim.binding_certificate(final, https)[0] == old  # the other site is left alone


def test_master_domain_name_not_covered_is_refused_unless_allowed(ansible_env, fleet):  # noqa: F811
    host = "apex01"
    current = state(fleet, host)
    ini = winsim.get_file(current, winsim.OFCSCAN_INI).replace(b"apex01.corp.example", b"apexone-vip.corp.example")
    winsim.set_file(current, winsim.OFCSCAN_INI, ini)
    put(fleet, host, current)
    proc = run(ansible_env, fleet, "replace.yml", "--limit", host)
    assert proc.returncode == 2
    assert "Master_DomainName" in proc.stdout and "apexone-vip.corp.example" in proc.stdout
    assert names(calls(fleet, host)) == ["win_server_info"]
    proc = run(ansible_env, fleet, "replace.yml", "--limit", host, "-e", "apexone_cert_allow_name_mismatch=true")
    assert proc.returncode == 0, proc.stdout


def test_step7_without_restart_is_refused_while_the_services_run(ansible_env, fleet):  # noqa: F811
    host = "apex02"
    proc = run(ansible_env, fleet, "replace.yml", "--limit", host, "-e", "apexone_cert_restart_services=false")
    assert proc.returncode == 2
    assert "step7_services_running" not in proc.stdout or "KA-0004491" in proc.stdout
    assert "apexone_cert_restart_services: true" in proc.stdout
    assert names(calls(fleet, host)) == ["win_server_info"]
    assert winsim.comparable(state(fleet, host)) == fleet["hosts"][host]["initial"]
