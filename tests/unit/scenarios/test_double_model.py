"""The test double's own behaviour: the facts it models (tests/double/README.md), each checked directly.

These are fast (no ansible-playbook): they call winsim.ApexOneServer like the connection plugin does.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import os

import pki
import pytest
import scenarios
import winsim

FQDN = "apex01.corp.example"
DOUBLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "double")


@pytest.fixture(scope="module")
def certs():
    lab = pki.LabPki()
    _k, original = pki.make_cert(FQDN, issuer=None, key=pki.rsa_key(2048, slot=820))
    key, new = lab.server(FQDN, key=pki.rsa_key(2048, slot=821))
    return {"lab": lab, "original": original, "key": key, "new": new}


def server(certs, **spec) -> winsim.ApexOneServer:
    return winsim.ApexOneServer(scenarios.build_state(scenarios.Scenario("t", **spec), hostname=FQDN,
                                                      original=certs["original"]))


def pfx_args(certs, encryption="legacy", friendly="Apex One web host 2026", **extra):
    data = pki.make_pfx(certs["key"], certs["new"], [certs["lab"].intermediate.cert], password="pw",
                        encryption=encryption)
    return {"_pfx_b64": base64.b64encode(data).decode(), "password": "pw", "friendly_name": friendly, **extra}


def imported(certs, **spec):
    srv = server(certs, **spec)
    srv.call("win_webhost_cert", pfx_args(certs))
    return srv, winsim.thumbprint(certs["new"]), winsim.thumbprint(certs["original"])


def served(srv, port=4343):
    return {r["key"]: r["thumbprint"] for r in srv.state["http_sys"] if r["port"] == port}


def test_the_double_imports_nothing_from_the_collection():
    for name in ("winsim.py", "scenarios.py", os.path.join("connection_plugins", "apexone_double.py")):
        tree = ast.parse(open(os.path.join(DOUBLE, name), encoding="utf-8").read())
        modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [m for m in modules if "apexone" in m or m.startswith("plugins")], (name, modules)


def test_every_scenario_is_a_fixed_point_of_a_service_restart(certs):
    """The initial state is what a running server looks like: restarting the services changes no binding."""
    for spec in scenarios.MATRIX:
        srv = winsim.ApexOneServer(scenarios.build_state(spec, hostname=FQDN, original=certs["original"]))
        before = [dict(r) for r in srv.state["http_sys"]]
        srv.call("win_service", {"name": winsim.SPS_SERVICE, "state": "restarted"})
        assert srv.state["http_sys"] == before, spec.name


@pytest.mark.parametrize(("version", "build", "reverts"), [
    ("14.0", "12526", False), ("12.0", "5427", False), ("12.0", "5417", False), ("12.0", "5416", True),
    ("11.0", "6054", True),
])
def test_smart_protection_server_rebinds_its_port_on_start(certs, version, build, reverts):
    """KA-0004491: with step 7 done, only builds with the fix keep the new certificate when the SPS starts."""
    srv, new, old = imported(certs, version=version, build=build)
    srv.call("win_iis_https_binding", {"thumbprint": new, "site_name": "OfficeScan"})
    ini = winsim.get_file(srv.state, winsim.SERVICE_INI)
    ini = winsim.ini_set(ini, "HTTPS_CERT", FQDN)
    ini = winsim.ini_set(ini, "HTTPS_CERT_FRIENDLY_NAME", "Apex One web host 2026", after="HTTPS_CERT")
    winsim.set_file(srv.state, winsim.SERVICE_INI, ini)
    srv.call("win_service", {"name": winsim.SPS_SERVICE, "state": "stopped"})
    assert served(srv) == {"0.0.0.0:4343": new}  # stopping changes nothing
    srv.call("win_service", {"name": winsim.SPS_SERVICE, "state": "started"})
    assert served(srv) == {"0.0.0.0:4343": old if reverts else new}


def test_without_step7_even_a_fixed_build_reverts(certs):
    srv, new, old = imported(certs)
    srv.call("win_iis_https_binding", {"thumbprint": new, "site_name": "OfficeScan"})
    srv.call("win_service", {"name": winsim.SPS_SERVICE, "state": "restarted"})
    assert served(srv) == {"0.0.0.0:4343": old}


def test_stale_certificate_with_the_friendly_name_wins(certs):
    srv = server(certs)
    _k, stale = certs["lab"].server(FQDN, key=pki.rsa_key(2048, slot=822))
    srv.state["stores"]["My"].append(winsim.cert_record(stale, has_key=True, friendly_name="Apex One web host 2026"))
    srv.call("win_webhost_cert", pfx_args(certs))
    ini = winsim.ini_set(winsim.get_file(srv.state, winsim.SERVICE_INI), "HTTPS_CERT", FQDN)
    winsim.set_file(srv.state, winsim.SERVICE_INI,
                    winsim.ini_set(ini, "HTTPS_CERT_FRIENDLY_NAME", "Apex One web host 2026", after="HTTPS_CERT"))
    srv.call("win_service", {"name": winsim.SPS_SERVICE, "state": "restarted"})
    assert served(srv) == {"0.0.0.0:4343": winsim.thumbprint(stale)}


def test_disabled_service_cannot_start_until_its_start_type_is_restored(certs):
    srv = server(certs, services="ad_disabled")
    with pytest.raises(winsim.ModuleFailure, match="disabled"):
        srv.call("win_service", {"name": "OSCEIntegrationService", "state": "started"})
    result = srv.call("win_apexone_services", {"services": [
        {"name": "OSCEIntegrationService", "state": "started", "start_mode": "manual"}]})
    assert result["services"][0]["after"] == {"status": "running", "start_mode": "manual"}


def test_force_stops_dependents_and_never_restarts_them(certs):
    srv = server(certs, services="dependent")
    srv.call("win_powershell", {"path": "apexone_services.ps1", "parameters": {"Action": "stop", "Names": ["ofcservice"]}})
    assert winsim.service(srv.state, "ApexOneAddonSvc")["status"] == "stopped"
    srv.call("win_powershell", {"path": "apexone_services.ps1", "parameters": {"Action": "start", "Names": ["ofcservice"]}})
    assert winsim.service(srv.state, "ApexOneAddonSvc")["status"] == "stopped"


def test_services_module_refuses_a_running_dependent_before_stopping_anything(certs):
    srv = server(certs, services="dependent")
    with pytest.raises(winsim.ModuleFailure, match="dependent services"):
        srv.call("win_apexone_services", {"services": [{"name": "TMiCRCScanService", "state": "stopped"},
                                                       {"name": "ofcservice", "state": "stopped"}]})
    assert {s["status"] for s in srv.state["services"].values()} == {"running"}
    with pytest.raises(winsim.ModuleFailure, match="matched exactly"):
        srv.call("win_apexone_services", {"services": [{"name": "ofc*", "state": "stopped"}]})
    info = srv.call("win_server_info", {})["services"]["master"]
    assert (info["status"], info["start_mode"], info["dependents"]) == ("running", "auto", ["ApexOneAddonSvc"])


@pytest.mark.parametrize(("windows", "fails"), [("2012r2", True), ("2016", True), ("2019", False), ("2022", False)])
def test_aes_pfx_imports_only_from_build_17763(certs, windows, fails):
    srv = server(certs, windows=windows)
    if fails:
        with pytest.raises(winsim.ModuleFailure, match="network password is not correct"):
            srv.call("win_webhost_cert", pfx_args(certs, encryption="aes"))
    else:
        srv.call("win_webhost_cert", pfx_args(certs, encryption="aes"))
    srv.call("win_webhost_cert", pfx_args(certs, encryption="legacy"))  # 3DES/SHA-1 imports everywhere


def test_ecc_key_stays_in_cng(certs):
    key = pki.ec_key()
    _k, cert = certs["lab"].server(FQDN, key=key)
    data = pki.make_pfx(key, cert, password="pw")
    srv = server(certs)
    result = srv.call("win_webhost_cert", {"_pfx_b64": base64.b64encode(data).decode(), "password": "pw",
                                           "friendly_name": "x", "key_provider": "legacy"})
    assert result["key_provider"] == "cng" and result["warnings"]


def test_file_facts_are_raw_bytes_and_writers_compare_and_swap(certs):
    srv = server(certs, apricot_xml=True)
    facts = srv.call("win_server_info", {})
    for key in ("service_ini", "apricot_config", "ofcipcer", "ofcscan_ini"):
        data = base64.b64decode(facts[key]["content"])
        assert facts[key]["sha256"] == hashlib.sha256(data).hexdigest() and facts[key]["exists"]
    assert facts["apricot_config"]["path"].endswith("apricot_config.xml")
    new_ini = b"[WSS]\r\nHTTPS=4343\r\n"
    with pytest.raises(winsim.ModuleFailure, match="changed since the facts were gathered"):
        srv.call("win_cert_persistence", {"service_ini": {"content": base64.b64encode(new_ini).decode(),
                                                          "expected_sha256": "0" * 64}})
    new_xml = b"<config><cert_cn>x</cert_cn></config>"
    result = srv.call("win_cert_persistence", {
        "service_ini": {"content": base64.b64encode(new_ini).decode(), "expected_sha256": facts["service_ini"]["sha256"]},
        "apricot_config": {"content": base64.b64encode(new_xml).decode(),
                           "expected_sha256": facts["apricot_config"]["sha256"]}})
    assert result["changed"] and len(result["backups"]) == 2
    assert all(b["backup_file"].startswith(winsim.BACKUP_FOLDER + "\\") for b in result["backups"])
    assert winsim.get_path(srv.state, facts["apricot_config"]["path"]) == new_xml
    assert winsim.get_file(srv.state, winsim.APRICOT) is None  # written where it was found


def test_binding_module_moves_only_the_named_bindings_and_keeps_ctl(certs):
    srv, new, old = imported(certs, layout="ctl")
    srv.state["iis"]["sites"][1]["bindings"].append({"protocol": "https", "binding_information": f"*:4343:{FQDN}",
                                                     "ssl_flags": 1})
    srv.state["http_sys"].append(scenarios._record("hostnameport", f"{FQDN}:4343", old))
    result = srv.call("win_iis_https_binding", {"thumbprint": new, "site_name": "OfficeScan",
                                                "bindings": ["*:4343:"]})
    assert "skipped" not in result and result["untouched"] == []
    assert served(srv) == {"0.0.0.0:4343": new, f"{FQDN}:4343": old}
    record = winsim.http_record(srv.state, "ipport", "0.0.0.0:4343")
    assert (record["ctl_store_name"], record["flags"]) == ("ClientAuthIssuer", 2)
    with pytest.raises(winsim.ModuleFailure, match="does not exist"):
        srv.call("win_iis_https_binding", {"thumbprint": new, "site_name": "officescan"})  # exact names


def test_ccs_binding_is_left_untouched(certs):
    srv, new, _old = imported(certs, layout="ccs")
    result = srv.call("win_iis_https_binding", {"thumbprint": new, "site_name": "OfficeScan"})
    assert [u["binding_information"] for u in result["untouched"]] == [f"*:443:{FQDN}"]


def test_root_store_hygiene_reports_kept_not_skipped(certs):
    srv = server(certs)
    srv.state["stores"]["Root"].append(winsim.cert_record(certs["lab"].intermediate.cert))
    result = srv.call("win_root_store_hygiene", {})
    assert "skipped" not in result and "kept" in result and len(result["moved"]) == 1


def test_run_record_is_read_from_the_registry(certs):
    srv = server(certs)
    assert srv.call("win_server_info", {})["run_record"] is None
    winsim.reg_set(srv.state, winsim.RUN_RECORD_KEY, winsim.RUN_RECORD_VALUE, '{"status": "applied"}')
    assert srv.call("win_server_info", {})["run_record"] == '{"status": "applied"}'
    assert winsim.RUN_RECORD_KEY.lower() not in winsim.comparable(srv.state)["registry"]


def test_check_mode_changes_nothing(certs):
    srv = server(certs)
    before = winsim.comparable(srv.state)
    srv.call("win_webhost_cert", pfx_args(certs), check_mode=True)
    srv.call("win_service", {"name": "ofcservice", "state": "stopped"}, check_mode=True)
    assert winsim.comparable(srv.state) == before


def test_minimal_file_edits_keep_every_other_byte():
    ini = b"[WSS]\r\nHTTP=8080\r\nHTTPS=4343\r\nHTTPS_CERT=apex01\r\nLOG_LEVEL=1\r\n"
    edited = winsim.ini_set(winsim.ini_set(ini, "HTTPS_CERT", FQDN), "HTTPS_CERT_FRIENDLY_NAME", "N", after="HTTPS_CERT")
    assert edited == b"[WSS]\r\nHTTP=8080\r\nHTTPS=4343\r\nHTTPS_CERT=" + FQDN.encode() + \
        b"\r\nHTTPS_CERT_FRIENDLY_NAME=N\r\nLOG_LEVEL=1\r\n"
    utf16 = b"\xff\xfe" + "HTTPS_CERT=a\r\n".encode("utf-16-le")
    assert winsim.ini_get(utf16, "https_cert") == "a"
    xml = b"<c>\r\n  <cert_cn>a</cert_cn>\r\n</c>\r\n"
    assert winsim.apricot_set(xml, "b", "N") == b"<c>\r\n  <cert_cn>b</cert_cn>\r\n  <cert_friendly_name>N</cert_friendly_name>\r\n</c>\r\n"


def _connection_plugin():
    import importlib.util

    path = os.path.join(DOUBLE, "connection_plugins", "apexone_double.py")
    spec = importlib.util.spec_from_file_location("apexone_double_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_options_the_module_source_does_not_declare_fail_the_call():
    """As Ansible.Basic does on a real server: the double reads the $spec of the source Ansible sent."""
    plugin = _connection_plugin()
    repo = os.path.dirname(os.path.dirname(DOUBLE))
    source = open(os.path.join(repo, "plugins", "modules", "win_iis_https_binding.ps1"), encoding="utf-8").read()
    declared = plugin.spec_options(source)
    assert {"thumbprint", "site_name", "ports", "bindings"} <= declared
    assert plugin.unsupported("apexone.certificates.win_iis_https_binding",
                              {"thumbprint": "A" * 40, "site_name": "OfficeScan", "_ansible_check_mode": False}, source) == []
    assert plugin.unsupported("win_iis_https_binding", {"thumbprint": "A" * 40, "site": "x"}, source) == ["site"]
    aliased = "$spec = @{\n    options = @{\n        path = @{ type = 'str'; aliases = 'dest', 'name' }\n    }\n}\n"
    assert plugin.spec_options(aliased) == {"path", "dest", "name"}
    assert plugin.spec_options("no spec here") is None  # then nothing is checked
