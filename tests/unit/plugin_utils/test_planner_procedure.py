"""The procedure defects of issue #12 in the planner, each shown on the facts that expose it.

Every test here failed on the planner before the fix (see the commit that added it); the facts come from the
current test double and are then changed the way a real server differs from the ideal one.
"""

import base64

import pki
import pytest
import winsim
from planner_double import FRIENDLY, HOST, apply, facts

from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import (
    PlanError,
    certificate_covers,
    health,
    plan,
    service_restore,
)


def desired_for(material, **extra):
    info = material["info"]
    return {"thumbprint": info["thumbprint"], "subject_cn": info["subject_cn"], "friendly_name": FRIENDLY,
            "certificate_pem": info["certificate_pem"], "pfx_encryption": info["encryption"],
            "san_dns": info["san_dns"], "san_ip": info["san_ip"], **extra}


def set_master(info, name):
    """Master_DomainName in the raw bytes of ofcscan.ini (the planner parses the file content itself)."""
    import re

    entry = info["ofcscan_ini"]
    data = base64.b64decode(entry["content"])
    data = re.sub(rb"Master_DomainName=[^\r\n]*", b"Master_DomainName=" + name.encode(), data)
    entry["content"] = base64.b64encode(data).decode()
    entry.pop("sha256", None)
    return info


def codes(items):
    return [i["code"] for i in items]


# ---------------------------------------------------------------------------------- 1: Master_DomainName
@pytest.mark.parametrize("version", [("14.0", "12526"), ("14.0", "16000"), ("12.0", "6000")])
def test_master_domain_name_not_covered_blocks_on_every_version(server, material, version):
    winsim.set_product(server.state, version[0], version[1])
    info = facts(server)
    set_master(info, "apexone-vip.corp.example")  # agents use another name
    result = plan(info, desired_for(material))
    assert codes(result["blockers"]) == ["master_domain_name"]
    message = result["blockers"][0]["message"]
    assert "apexone-vip.corp.example" in message and "apexone_cert_allow_name_mismatch" in message
    assert result["applicable"] is False


def test_master_domain_name_mismatch_can_be_allowed_explicitly(server, material):
    info = facts(server)
    set_master(info, "apex01")  # the short name, not in the certificate
    result = plan(info, desired_for(material, allow_name_mismatch=True))
    assert result["applicable"] is True
    assert "master_domain_name" in codes(result["warnings"])


def test_master_domain_name_covered_by_a_san_passes(server, material):
    info = facts(server)
    set_master(info, "APEX01.corp.example.")
    assert plan(info, desired_for(material))["applicable"] is True
    set_master(info, "apexone.corp.example")
    assert plan(info, desired_for(material, san_dns=[HOST, "*.corp.example"]))["applicable"] is True


def test_certificate_covers_uses_rfc6125():
    assert certificate_covers("a.example.com", "x", ["*.example.com"])
    assert not certificate_covers("a.b.example.com", "x", ["*.example.com"])
    assert not certificate_covers("example.com", "x", ["*.example.com"])
    assert certificate_covers("10.0.0.5", "x", [], ["10.0.0.5"])
    assert not certificate_covers("10.0.0.5", "x", ["10.0.0.5"], [])
    assert not certificate_covers("not a name", "not a name")


# ---------------------------------------------------------------------------------- 2: builds without the fix
@pytest.mark.parametrize(("version", "build", "code"), [
    ("12.0", "5000", "old_build"), ("12.0", None, "old_build"), ("11.0", "6000", "unsupported_version"),
    ("10.6", "3000", "unsupported_version"),
])
def test_builds_without_the_step7_fix_are_blockers(server, material, version, build, code):
    winsim.set_product(server.state, version, build)
    result = plan(facts(server), desired_for(material))
    assert codes(result["blockers"]) == [code]
    assert "Upgrade first" in result["blockers"][0]["message"]


def test_xg_5417_and_apex_one_pass(server, material):
    winsim.set_product(server.state, "12.0", "5417")
    assert plan(facts(server), desired_for(material))["blockers"] == []


# ---------------------------------------------------------------------------------- 3: services
def services(info, **changes):
    for key, values in changes.items():
        info["services"][key].update(values)
    return info


def test_only_running_services_are_stopped_dependents_first(server, material):
    info = services(facts(server),
                    master={"status": "running", "start_mode": "auto", "dependents": ["OSCEIntegrationService"]},
                    ad_integration={"status": "running", "start_mode": "manual", "dependents": []},
                    smart_protection={"status": "stopped", "start_mode": "disabled", "dependents": []})
    result = plan(info, desired_for(material))
    assert result["service_stop"] == [{"name": "OSCEIntegrationService", "state": "stopped"},
                                      {"name": "ofcservice", "state": "stopped"}]
    # Restored in reverse order, each with its own start mode first; the stopped/disabled one is not touched.
    assert result["service_restore"] == [
        {"name": "ofcservice", "state": "started", "start_mode": "auto"},
        {"name": "OSCEIntegrationService", "state": "started", "start_mode": "manual"},
    ]


def test_a_foreign_dependent_is_stopped_explicitly_and_restored(server, material):
    info = services(facts(server), master={"status": "running", "start_mode": "auto", "dependents": ["TmFooAgent"]})
    stop = [s["name"] for s in plan(info, desired_for(material))["service_stop"]]
    assert stop.index("TmFooAgent") < stop.index("ofcservice")
    restore = service_restore([
        {"name": "TmFooAgent", "before": {"status": "running", "start_mode": "delayed"}},
        {"name": "ofcservice", "before": {"status": "running", "start_mode": "auto"}},
    ])
    assert restore == [{"name": "ofcservice", "state": "started", "start_mode": "auto"},
                       {"name": "TmFooAgent", "state": "started", "start_mode": "delayed"}]


def test_restore_of_a_stopped_disabled_service_keeps_it_so():
    assert service_restore([{"name": "TMiCRCScanService", "before": {"status": "stopped", "start_mode": "disabled"}}]) == [
        {"name": "TMiCRCScanService", "state": "stopped", "start_mode": "disabled"}]
    with pytest.raises(PlanError, match="has no name"):
        service_restore([{"before": {"status": "running"}}])


def test_a_running_disabled_service_blocks(server, material):
    info = services(facts(server), smart_protection={"status": "running", "start_mode": "disabled"})
    assert "service_disabled_running" in codes(plan(info, desired_for(material))["blockers"])


# ---------------------------------------------------------------------------------- 4: sites and bindings
def test_several_matching_sites_block_unless_one_is_named(server, material):
    old = _x509.thumbprint(material["old"])
    # Default Web Site serves the Apex One folder too (an /OfficeScan application) on 443.
    default_site = next(s for s in server.state["iis"]["sites"] if s["name"] == "Default Web Site")
    default_site["applications"].append({"path": "/OfficeScan", "application_pool": "OfficeScan",
                                         "physical_path": winsim.install_path(server.state)})
    default_site["bindings"].append({"protocol": "https", "binding_information": "*:443:", "ssl_flags": 0})
    server.state["http_sys"].append(winsim.http_sys_record("ipport", "0.0.0.0:443", old))
    result = plan(facts(server), desired_for(material))
    assert codes(result["blockers"]) == ["several_sites"]
    assert "apexone_cert_site_name" in result["blockers"][0]["message"]
    named = plan(facts(server), desired_for(material, site_name="Default Web Site"))
    assert named["applicable"] is True
    binding = next(a for a in named["actions"] if a["module"].endswith("win_iis_https_binding"))
    assert binding["args"]["site_name"] == "Default Web Site" and binding["args"]["bindings"] == ["*:443:"]


def test_http_sys_record_of_another_site_is_never_planned(server, material):
    old = _x509.thumbprint(material["old"])
    server.state["iis"]["sites"].append({
        "name": "Intranet", "id": 3, "state": "started",
        "applications": [{"path": "/", "application_pool": "Intranet", "physical_path": "C:\\inetpub\\intranet"}],
        "bindings": [{"protocol": "https", "binding_information": "10.0.0.9:8443:", "ssl_flags": 0}]})
    server.state["http_sys"].append(winsim.http_sys_record("ipport", "10.0.0.9:8443", old))
    result = plan(facts(server), desired_for(material))
    assert all("8443" not in c["binding"] for c in result["binding_changes"])
    apply(server, result, material)
    # The planned changes are all made: the plan converges although the other site keeps the old certificate.
    assert plan(facts(server), desired_for(material))["compliant"] is True


def test_stray_ip_specific_record_on_the_site_port_is_planned(server, material):
    old = _x509.thumbprint(material["old"])
    server.state["http_sys"].append(winsim.http_sys_record("ipport", "10.0.0.5:4343", old))
    result = plan(facts(server), desired_for(material))
    assert ("http.sys 10.0.0.5:4343", old) in {(c["binding"], c["old_thumbprint"]) for c in result["binding_changes"]}


# ---------------------------------------------------------------------------------- 5: step 7 needs stopped services
def test_step7_with_running_services_and_no_restart_is_blocked(server, material):
    result = plan(facts(server), desired_for(material, restart_services=False))
    assert codes(result["blockers"]) == ["step7_services_running"]
    assert result["service_stop"] == []
    info = facts(server)
    for key in info["services"]:
        info["services"][key].update(state="stopped", status="stopped")
    assert plan(info, desired_for(material, restart_services=False))["applicable"] is True


# ---------------------------------------------------------------------------------- 6: friendly name unique in My
def test_stale_unbound_certificate_with_the_friendly_name_blocks(server, material):
    _k, stale = pki.make_cert("stale.corp.example", issuer=None, key=pki.rsa_key(2048, slot=602))
    server.state["stores"]["My"].append(winsim.cert_record(stale, has_key=True, friendly_name=FRIENDLY.upper()))
    result = plan(facts(server), desired_for(material))
    assert codes(result["blockers"]) == ["friendly_name_taken"]
    assert _x509.thumbprint(stale) in result["blockers"][0]["message"]


# ---------------------------------------------------------------------------------- 9: health verdict
def test_health_after_a_converged_run_and_after_a_revert(server, material):
    new = material["info"]["thumbprint"]
    before = health(facts(server), new)
    assert before["ok"] is False and "binding_serves_new" in [c["code"] for c in before["checks"] if not c["ok"]]
    apply(server, plan(facts(server), desired_for(material)), material)
    after = health(facts(server), new)
    assert after["ok"] is True, after
    assert {c["code"] for c in after["checks"]} >= {"in_my", "trusted_people_same_thumbprint", "not_disallowed",
                                                    "master_running", "binding_serves_new"}
    # The Smart Protection Server reverts its port to the old certificate (KA-0004491): health says so.
    server.state["http_sys"][0]["thumbprint"] = _x509.thumbprint(material["old"])
    reverted = health(facts(server), new)
    assert reverted["ok"] is False
    winsim.set_service(server.state, "master", status="stopped")
    assert "master_running" in [c["code"] for c in health(facts(server), new)["checks"] if not c["ok"]]


# ---------------------------------------------------------------------------------- 7: what uses a certificate
def test_references_by_thumbprint_include_files_and_the_run_record(server, material):
    from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import certificate_references

    old = _x509.thumbprint(material["old"])
    before = certificate_references(facts(server), old)
    assert "OfcIPCer.dat" in before and "http.sys 0.0.0.0:4343" in before
    result = plan(facts(server), desired_for(material))
    apply(server, result, material)
    record = {"host": HOST, "status": "applied", "old_thumbprint": old, "binding_restore": result["binding_restore"]}
    assert certificate_references(facts(server), old) == []
    assert certificate_references(facts(server), old, [record]) == [
        f"run record of {HOST} (applied): a rollback needs it"]
    assert certificate_references(facts(server), old, [dict(record, status="rolled_back")]) == []
