"""The planner on simulated Apex One servers: every KB step, guard rail and warning, and convergence."""

import copy

import pytest
import winsim
from planner_double import FRIENDLY, HOST, apply, facts

from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, plan


def desired_for(material, **extra):
    info = material["info"]
    return {"thumbprint": info["thumbprint"], "subject_cn": info["subject_cn"], "friendly_name": FRIENDLY,
            "certificate_pem": info["certificate_pem"], "pfx_encryption": info["encryption"], **extra}


def modules(result):
    return [a["module"].rsplit(".", 1)[-1] for a in result["actions"]]


def test_fresh_server_needs_every_step(server, material):
    result = plan(facts(server), desired_for(material))
    assert result["compliant"] is False and result["applicable"] is True
    assert modules(result) == ["win_webhost_cert", "win_agent_cert", "win_iis_https_binding", "win_cert_persistence"]
    steps = {a["module"].rsplit(".", 1)[-1]: a["steps"] for a in result["actions"]}
    assert steps == {"win_webhost_cert": [2, 3], "win_agent_cert": [4], "win_iis_https_binding": [5],
                     "win_cert_persistence": [7]}
    old = _x509.thumbprint(material["old"])
    assert result["old_thumbprints"] == [old]
    # The binding and the http.sys record it uses are one change (listed once, with the record it moves).
    assert [(c["binding"], c["sslcert"], c["old_thumbprint"]) for c in result["binding_changes"]] == [
        ("*:4343:", "0.0.0.0:4343", old)
    ]
    assert result["actions"][2]["args"] == {"thumbprint": _x509.thumbprint(material["new"]), "site_name": "OfficeScan",
                                            "bindings": ["*:4343:"]}
    cert_args = result["actions"][0]["args"]
    assert cert_args["friendly_name"] == FRIENDLY and cert_args["exportable"] is True
    assert cert_args["key_readers"] == []  # least key access (#14): nobody beyond SYSTEM and Administrators
    assert "password" not in str(result) and "_pfx_b64" not in str(result)
    assert result["restart_services"] is True


def test_applying_the_plan_converges_to_compliant(server, material):
    apply(server, plan(facts(server), desired_for(material)), material)
    again = plan(facts(server), desired_for(material))
    assert again["compliant"] is True, again["actions"]
    assert again["actions"] == [] and again["restart_services"] is False


@pytest.fixture
def compliant(server, material):
    apply(server, plan(facts(server), desired_for(material)), material)
    return server


def new_thumbprint(material):
    return _x509.thumbprint(material["new"])


@pytest.mark.parametrize(
    ("drift", "module", "step", "reason"),
    [
        (lambda s, t: s.state["stores"].__setitem__("TrustedPeople", []), "win_webhost_cert", 3, "TrustedPeople"),
        (lambda s, t: s.state["stores"]["My"][-1].__setitem__("has_private_key", False), "win_webhost_cert", 2,
         "no private key"),
        (lambda s, t: s.state["stores"]["My"][-1].__setitem__("friendly_name", "other"), "win_webhost_cert", 7,
         "friendly name"),
        (lambda s, t: winsim.set_file(s.state, winsim.OFCIPCER, b"old"),
         "win_agent_cert", 4, "OfcIPCer.dat"),
        (lambda s, t: s.state["http_sys"][0].__setitem__("thumbprint", "A" * 40),
         "win_iis_https_binding", 5, "*:4343:"),
        (lambda s, t: s.state["http_sys"][0].__setitem__("thumbprint", "B" * 40), "win_iis_https_binding", 5,
         "http.sys 0.0.0.0:4343"),
        (lambda s, t: winsim.set_file(s.state, winsim.SERVICE_INI, b"HTTPS=4343\r\nHTTPS_CERT=apex01\r\n"),
         "win_cert_persistence", 7, "HTTPS_CERT"),
        (lambda s, t: winsim.set_file(s.state, winsim.APRICOT, b"<config><cert_cn>apex01</cert_cn></config>"),
         "win_cert_persistence", 7, "cert_cn"),
    ],
)
def test_each_drift_gives_exactly_its_action(compliant, material, drift, module, step, reason):
    drift(compliant, new_thumbprint(material))
    result = plan(facts(compliant), desired_for(material))
    assert modules(result) == [module]
    assert step in result["actions"][0]["steps"]
    assert reason in result["actions"][0]["reason"]


def test_trust_mode_and_roots_only_when_asked(compliant, material):
    root_intermediate = winsim.cert_record(material["lab"].intermediate.cert)
    compliant.state["stores"]["Root"].append(root_intermediate)
    result = plan(facts(compliant), desired_for(material))
    assert result["actions"] == [] and result["compliant"] is True
    assert [w["code"] for w in result["warnings"]] == ["non_self_signed_roots"]
    result = plan(facts(compliant), desired_for(material, move_non_self_signed_roots=True, client_auth_trust_mode=2))
    assert modules(result) == ["win_root_store_hygiene", "win_schannel_trust"]
    assert result["actions"][1]["args"] == {"client_auth_trust_mode": 2}
    apply(compliant, result, material)
    final = plan(facts(compliant), desired_for(material, move_non_self_signed_roots=True, client_auth_trust_mode=2))
    assert final["compliant"] is True


def test_aes_pfx_on_server_2016_is_repacked(material):
    server = winsim.ApexOneServer(winsim.new_state(material["old"], hostname=HOST, build=14393))
    result = plan(facts(server), desired_for(material, pfx_encryption="PBES2/AES-256-CBC/PBKDF2-SHA-256"))
    assert result["actions"][0]["args"]["pfx_legacy_encryption"] == "always"
    assert "re-packed" in result["actions"][0]["reason"]
    modern = winsim.ApexOneServer(winsim.new_state(material["old"], hostname=HOST, build=20348))
    result = plan(facts(modern), desired_for(material, pfx_encryption="PBES2/AES-256-CBC/PBKDF2-SHA-256"))
    assert "pfx_legacy_encryption" not in result["actions"][0]["args"]


@pytest.mark.parametrize("friendly", [HOST, "APEX01", "apex01"])
def test_friendly_name_equal_to_the_original_name_is_blocked(server, material, friendly):
    result = plan(facts(server), desired_for(material, friendly_name=friendly))
    assert result["applicable"] is False and result["compliant"] is False
    assert [b["code"] for b in result["blockers"]] == ["friendly_name_reused"]


def test_certificate_in_disallowed_is_blocked(server, material):
    server.state["stores"]["Disallowed"].append(winsim.cert_record(material["new"]))
    result = plan(facts(server), desired_for(material))
    assert [b["code"] for b in result["blockers"]] == ["certificate_disallowed"]


def test_warnings_old_build_shared_binding_and_agent_certificate(server, material):
    winsim.reg_set(server.state, winsim.INFO_KEY, "Server_Version", "12.0")
    winsim.reg_set(server.state, winsim.INFO_KEY, "ServicePack_Build", "5000")
    # Default Web Site listens on 4343 too, without SNI: it shares the http.sys record 0.0.0.0:4343.
    default_site = next(s for s in server.state["iis"]["sites"] if s["name"] == "Default Web Site")
    default_site["bindings"].append({"protocol": "https", "binding_information": "*:4343:", "ssl_flags": 0})
    info = facts(server)
    info["agent_auth_certificates"] = [{"subject": "CN=OfficeScan Server NTSG", "days_left": 12}]
    result = plan(info, desired_for(material))
    assert [w["code"] for w in result["warnings"]] == ["shared_binding", "agent_auth_certificate_expiring"]
    assert [b["code"] for b in result["blockers"]] == ["old_build"]


def test_the_plan_is_pure(server, material):
    info = facts(server)
    snapshot = copy.deepcopy(info)
    plan(info, desired_for(material))
    assert info == snapshot


@pytest.mark.parametrize(
    ("mutate_facts", "desired", "message"),
    [
        (None, {"subject_cn": HOST, "friendly_name": FRIENDLY}, "desired is missing thumbprint"),
        (None, {"thumbprint": "XYZ", "subject_cn": HOST, "friendly_name": FRIENDLY}, "not a SHA-1 thumbprint"),
        (None, {"client_auth_trust_mode": 3}, "client_auth_trust_mode must be 0, 1 or 2"),
        (None, {"ports": [70000]}, "port 70000 is out of range"),
        (None, {"site_name": "Nope"}, "no Apex One IIS site Nope found (sites seen: OfficeScan)"),
        (None, {"ports": [443]}, "has no https binding (ports: 443)"),
        (lambda f: f.update(failed=True, msg="Apex One is not installed"), {}, "Apex One is not installed"),
        (lambda f: f.pop("iis"), {}, "server_info has no 'iis'"),
    ],
)
def test_bad_input_is_a_clear_error(server, material, mutate_facts, desired, message):
    info = facts(server)
    if mutate_facts:
        mutate_facts(info)
    wanted = desired if "thumbprint" in desired or "subject_cn" in desired else desired_for(material, **desired)
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan(info, wanted)


def test_a_named_key_reader_missing_on_the_key_gives_the_import_action(compliant, material):
    """Least key access (#14): readers are only those named; a named one the key lacks is granted (step 2)."""
    desired = desired_for(material, key_readers=["IIS AppPool\\OfficeScan"])
    result = plan(facts(compliant), desired)
    assert modules(result) == ["win_webhost_cert"]
    assert "not readable by IIS AppPool\\OfficeScan" in result["actions"][0]["reason"]
    apply(compliant, result, material)
    assert plan(facts(compliant), desired)["compliant"] is True


def test_a_non_exportable_key_is_left_alone_with_a_warning(compliant, material):
    """Never re-import only to make a key exportable (#14): warn instead."""
    compliant.state["stores"]["My"][-1]["exportable"] = False
    result = plan(facts(compliant), desired_for(material))
    assert result["compliant"] is True and modules(result) == []
    assert [w["code"] for w in result["warnings"]] == ["key_not_exportable"]
