"""The planner's decisions, one behaviour per test, on hand-made server facts (issue 17: mutation survivors).

Each test pins what the role reads: the exact action (module, steps), the exact ``args`` it passes to the module,
the exact problem code of a blocker or warning, and the keys of the plan. Facts are built here, in the shape
win_server_info returns (tests/fixtures/server_info/compliant.json), so the tests do not depend on the double.
``make mutation`` runs these with tests/unit/plugin_utils/test_planner.py against every mutant of _planner.py.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.apexone.certificates.plugins.plugin_utils import _planner
from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, plan

HOST = "apex01.corp.example"
FRIENDLY = "Apex One web host 2026"
NEW = "995C0EA6966A5438695FBEDA489AD784F9B504E1"
OLD = "1311EED19FF8E7A9551387A454B522F1440711F0"
POOL = "IIS AppPool\\OfficeScan"
CERT = "apexone.certificates.win_webhost_cert"
AGENT = "apexone.certificates.win_agent_cert"
BINDING = "apexone.certificates.win_iis_https_binding"
PERSIST = "apexone.certificates.win_cert_persistence"
SCHANNEL = "apexone.certificates.win_schannel_trust"
ROOTS = "apexone.certificates.win_root_store_hygiene"
ADMIN_ACL = [{"identity": "BUILTIN\\Administrators", "rights": "FullControl", "type": "allow"},
             {"identity": "NT AUTHORITY\\SYSTEM", "rights": "FullControl", "type": "allow"}]
PLAN_KEYS = {"compliant", "applicable", "actions", "modules", "binding_changes", "old_thumbprints", "new_thumbprint",
             "restart_services", "services", "warnings", "blockers", "lines"}


def cert(thumbprint, friendly="", acl=None, exportable=True, has_key=True):
    return {"thumbprint": thumbprint, "subject_cn": HOST, "friendly_name": friendly, "has_private_key": has_key,
            "private_key": {"acl": acl, "exportable": exportable, "provider_type": "csp", "error": None}
            if has_key else None}


def site(name="OfficeScan", https=((4343, NEW),), accounts=(POOL,)):
    bindings = [{"protocol": "http", "port": 8080, "binding_information": "*:8080:", "certificate_hash": None,
                 "ip": "*", "sni": False}]
    for port, thumbprint in https:
        bindings.append({"protocol": "https", "port": port, "binding_information": f"*:{port}:",
                         "certificate_hash": thumbprint, "ip": "*", "sni": False})
    return {"name": name, "bindings": bindings,
            "application_pools": [{"account": a, "name": name} for a in accounts]}


def compliant():
    """A server where NEW is in place everywhere (every KB step done)."""
    return {
        "install": {"path": "C:\\Program Files (x86)\\Trend Micro\\Apex One\\PCCSRV"},
        "certificates": {
            "my": [cert(OLD, acl=ADMIN_ACL), cert(NEW, FRIENDLY, acl=[*ADMIN_ACL, {"identity": POOL, "type": "allow"}])],
            "trusted_people": [cert(NEW, FRIENDLY, has_key=False)],
            "disallowed": [],
            "root_non_self_signed": [],
        },
        "iis": {"sites": [site()], "other_https_bindings": []},
        "http_sys": {"bindings": [{"endpoint": "0.0.0.0:4343", "port": 4343, "thumbprint": NEW}]},
        "ofcipcer": {"exists": True, "thumbprint": NEW},
        "service_ini": {"exists": True, "https_cert": HOST, "https_cert_friendly_name": FRIENDLY, "encoding": "ansi"},
        "apricot_config": {"exists": True, "cert_cn": HOST, "cert_friendly_name": FRIENDLY, "encoding": "ansi"},
        "ofcscan_ini": {"exists": True, "master_domain_name": HOST},
        "product": {"server_version": "14.0", "service_pack_build": "12526"},
        "schannel": {"client_auth_trust_mode": None},
        "windows": {"build": 20348},
        "agent_auth_certificates": [],
        "services": {"master": {"name": "ofcservice", "exists": True},
                     "ad_integration": {"name": "ofcADSvc", "exists": True},
                     "smart_protection": {"name": "TMiCRCScanService", "exists": True}},
    }


def fresh():
    """A server still on OLD (self-signed, from the install): nothing done yet."""
    facts = compliant()
    facts["certificates"]["my"] = [cert(OLD, acl=ADMIN_ACL)]
    facts["certificates"]["trusted_people"] = []
    facts["iis"]["sites"] = [site(https=((4343, OLD),))]
    facts["http_sys"]["bindings"][0]["thumbprint"] = OLD
    facts["ofcipcer"]["thumbprint"] = OLD
    facts["service_ini"].update(https_cert=HOST, https_cert_friendly_name=None)
    facts["apricot_config"].update(cert_cn=HOST, cert_friendly_name=None)
    return facts


def desired(**extra):
    return {"thumbprint": NEW, "subject_cn": HOST, "friendly_name": FRIENDLY, "certificate_pem": "PEM TEXT", **extra}


def only(result):
    """The single action of a plan (fails when there is not exactly one)."""
    assert len(result["actions"]) == 1, result["actions"]
    return result["actions"][0]


def codes(problems):
    return [p["code"] for p in problems]


# Least key access (#14): no reader beyond SYSTEM and Administrators unless named.
CERT_ARGS = {"friendly_name": FRIENDLY, "exportable": True, "key_provider": "legacy", "key_readers": []}


# ------------------------------------------------------------------------------------------------ the plan itself


def test_compliant_server_gives_the_exact_empty_plan():
    result = plan(compliant(), desired())
    assert set(result) == PLAN_KEYS
    assert result["compliant"] is True and result["applicable"] is True
    assert result["actions"] == [] and result["modules"] == [] and result["binding_changes"] == []
    assert result["old_thumbprints"] == [] and result["new_thumbprint"] == NEW
    assert result["restart_services"] is False
    assert result["services"] == ["master", "ad_integration", "smart_protection"]
    assert result["warnings"] == [] and result["blockers"] == []
    assert result["lines"] == [f"compliant: {NEW} is in place, nothing to change"]


def test_fresh_server_gives_every_action_with_the_exact_args_the_role_passes():
    result = plan(fresh(), desired())
    assert result["compliant"] is False and result["applicable"] is True and result["restart_services"] is True
    assert result["modules"] == [CERT, AGENT, BINDING, PERSIST]
    assert [(a["module"], a["step"], a["steps"]) for a in result["actions"]] == [
        (CERT, 2, [2, 3]), (AGENT, 4, [4]), (BINDING, 5, [5]), (PERSIST, 7, [7])]
    args = [a["args"] for a in result["actions"]]
    assert args == [
        CERT_ARGS,
        {"certificate": "PEM TEXT"},
        {"thumbprint": NEW, "site_name": "OfficeScan"},
        {"certificate_name": HOST, "friendly_name": FRIENDLY, "cert_cn": HOST},
    ]
    assert result["binding_changes"] == [
        {"site": "OfficeScan", "binding": "*:4343:", "old_thumbprint": OLD, "new_thumbprint": NEW},
        {"site": None, "binding": "http.sys 0.0.0.0:4343", "old_thumbprint": OLD, "new_thumbprint": NEW},
    ]
    assert result["old_thumbprints"] == [OLD] and result["new_thumbprint"] == NEW
    for action in result["actions"]:
        assert action["reason"] == "; ".join(action["reasons"])


def test_lines_list_every_action_binding_and_problem_and_never_claim_compliance():
    facts = fresh()
    facts["services"]["smart_protection"]["exists"] = False
    result = plan(facts, desired())
    lines = result["lines"]
    assert not any(line.startswith("compliant") for line in lines)
    assert [line.split(" - ")[0] for line in lines[:4]] == [
        "step 2+3: win_webhost_cert", "step 4: win_agent_cert", "step 5: win_iis_https_binding",
        "step 7: win_cert_persistence"]
    assert lines[4:6] == [f"binding *:4343:: {OLD} -> {NEW}", f"binding http.sys 0.0.0.0:4343: {OLD} -> {NEW}"]
    assert lines[6:] == ["warning: service_missing: Apex One service(s) not found: smart_protection"]
    assert result["services"] == ["master", "ad_integration"]


def test_a_blocked_plan_is_neither_compliant_nor_applicable_and_lists_the_blocker_first():
    facts = compliant()
    facts["certificates"]["disallowed"] = [cert(NEW, has_key=False)]
    result = plan(facts, desired())
    assert result["actions"] == [] and result["compliant"] is False and result["applicable"] is False
    assert codes(result["blockers"]) == ["certificate_disallowed"]
    assert result["blockers"][0]["severity"] == "error"
    assert result["lines"][0].startswith("error: certificate_disallowed: ")
    assert not any(line.startswith("compliant") for line in result["lines"])


def test_action_step_is_the_smallest_of_its_steps_whatever_the_order_they_were_found_in():
    facts = compliant()
    my_new = facts["certificates"]["my"][1]
    my_new["friendly_name"] = "other"  # step 7 found first ...
    my_new["private_key"]["acl"] = ADMIN_ACL  # ... then step 2 (the pool cannot read the key)
    action = only(plan(facts, desired()))
    assert (action["module"], action["step"], action["steps"]) == (CERT, 2, [2, 7])
    assert len(action["reasons"]) == 2 and action["args"] == CERT_ARGS


# ------------------------------------------------------------------------------------------------ steps 2 and 3


def test_only_trustedpeople_missing_still_passes_every_certificate_arg():
    facts = compliant()
    facts["certificates"]["trusted_people"] = []
    action = only(plan(facts, desired()))
    assert (action["module"], action["steps"]) == (CERT, [3])
    assert action["args"] == CERT_ARGS


def test_exportable_false_is_passed_on_and_a_non_exportable_key_is_then_fine():
    facts = fresh()
    cert_action = plan(facts, desired(exportable=False))["actions"][0]
    assert cert_action["args"]["exportable"] is False
    facts = compliant()
    facts["certificates"]["my"][1]["private_key"]["exportable"] = False
    assert plan(facts, desired(exportable=False))["actions"] == []
    # Never re-import only to make a key exportable (#14): a warning, no action.
    result = plan(facts, desired())
    assert result["actions"] == [] and [w["code"] for w in result["warnings"]] == ["key_not_exportable"]


def test_key_provider_is_passed_on():
    assert plan(fresh(), desired(key_provider="cng"))["actions"][0]["args"]["key_provider"] == "cng"


def test_a_certificate_without_its_key_is_imported_again():
    facts = compliant()
    facts["certificates"]["my"][1].update(has_private_key=False, private_key=None)
    action = only(plan(facts, desired()))
    assert (action["module"], action["steps"], action["args"]) == (CERT, [2], CERT_ARGS)


def test_an_unknown_key_acl_is_not_a_reason_to_act():
    facts = compliant()
    facts["certificates"]["my"][1]["private_key"]["acl"] = None
    assert plan(facts, desired())["actions"] == []


def test_key_readers_are_nobody_by_default_and_copied_by_sid_only_when_asked():
    facts = fresh()
    facts["iis"]["sites"][0]["application_pools"].append({"account": POOL, "name": "second pool, same account"})
    facts["certificates"]["my"][0]["private_key"]["acl"] = [
        *ADMIN_ACL,
        {"identity": "CORP\\svc-apex", "sid": "S-1-5-21-1-2-3-1001", "rights": "Read", "type": "allow"},
        {"identity": "CORP\\intruder", "sid": "S-1-5-21-1-2-3-1002", "rights": "Read", "type": "deny"},
        {"identity": POOL, "sid": "S-1-5-82-1", "rights": "Read", "type": "Allow"},
        {"identity": "CORP\\auditor", "sid": "S-1-5-21-1-2-3-1003", "rights": "Read"},  # no type: an allow entry
        {"identity": "CORP\\nosid", "rights": "Read", "type": "allow"},  # no SID: never copied
    ]
    assert plan(facts, desired())["actions"][0]["args"]["key_readers"] == []
    args = plan(facts, desired(copy_key_readers=True))["actions"][0]["args"]
    assert args["key_readers"] == ["S-1-5-21-1-2-3-1001", "S-1-5-82-1", "S-1-5-21-1-2-3-1003"]


def test_given_key_readers_replace_the_pool_accounts():
    args = plan(fresh(), desired(key_readers=["CORP\\web"]))["actions"][0]["args"]
    assert args["key_readers"] == ["CORP\\web"]


def test_a_reader_missing_on_the_new_key_is_found_case_insensitively():
    facts = compliant()
    facts["certificates"]["my"][1]["private_key"]["acl"] = [{"identity": POOL.upper(), "type": "allow"}]
    assert plan(facts, desired())["actions"] == []
    facts["certificates"]["my"][1]["private_key"]["acl"] = [{"identity": POOL, "type": "deny"}]
    action = only(plan(facts, desired()))
    assert (action["module"], action["steps"]) == (CERT, [2])


def test_a_modern_pfx_is_repacked_only_for_an_old_or_unknown_windows_build():
    aes = "PBES2/AES-256-CBC/PBKDF2-SHA-256"
    facts = fresh()
    facts["windows"]["build"] = 14393
    action = plan(facts, desired(pfx_encryption=aes))["actions"][0]
    assert action["args"] == {**CERT_ARGS, "pfx_legacy_encryption": "always"}
    assert action["steps"] == [2, 3] and len(action["reasons"]) == 3
    del facts["windows"]
    assert plan(facts, desired(pfx_encryption=aes))["actions"][0]["args"]["pfx_legacy_encryption"] == "always"
    facts["windows"] = {"build": 17763}
    assert "pfx_legacy_encryption" not in plan(facts, desired(pfx_encryption=aes))["actions"][0]["args"]
    facts["windows"] = {"build": 14393}
    assert "pfx_legacy_encryption" not in plan(facts, desired(pfx_encryption="PBE-SHA1-3DES"))["actions"][0]["args"]


# ------------------------------------------------------------------------------------------------ guard rails


@pytest.mark.parametrize("name", ["Legacy Apex", "legacy apex", "LEGACY APEX"])
def test_the_old_certificates_friendly_name_cannot_be_reused(name):
    facts = fresh()
    facts["certificates"]["my"][0]["friendly_name"] = " Legacy Apex "  # compared without surrounding blanks
    result = plan(facts, desired(friendly_name=name))
    assert codes(result["blockers"]) == ["friendly_name_reused"]
    assert result["applicable"] is False


def test_the_service_ini_name_counts_as_taken_only_while_no_friendly_name_is_recorded():
    facts = fresh()
    facts["service_ini"].update(https_cert="OfficeScan Server", https_cert_friendly_name=None)
    assert codes(plan(facts, desired(friendly_name="officescan server"))["blockers"]) == ["friendly_name_reused"]
    facts["service_ini"]["https_cert_friendly_name"] = "Something else"
    assert plan(facts, desired(friendly_name="officescan server"))["blockers"] == []


def test_a_new_name_is_not_taken():
    facts = fresh()
    facts["certificates"]["my"][0]["friendly_name"] = "Legacy Apex"
    assert plan(facts, desired())["blockers"] == []


@pytest.mark.parametrize(
    ("service_ini", "apricot", "blocked"),
    [
        ({"exists": True, "encoding": "ansi"}, {"exists": True, "encoding": "utf-8-bom"}, True),
        ({"exists": False}, {"exists": True, "encoding": "ansi"}, True),  # the loop goes on past a missing file
        ({"exists": True, "encoding": "utf-8-bom"}, {"exists": False}, False),
        ({"exists": True, "encoding": "utf-16le"}, {"exists": True, "encoding": "utf-16be"}, False),
        ({"exists": True, "encoding": "utf-8-bom"}, {"exists": True, "encoding": "utf-8-bom"}, False),
        ({"exists": True, "encoding": None}, {"exists": False}, True),  # unknown: ASCII only
        ({"exists": False, "encoding": "ansi"}, {"exists": False, "encoding": "ansi"}, False),
    ],
)
def test_a_non_ascii_friendly_name_is_blocked_where_a_file_cannot_hold_it(service_ini, apricot, blocked):
    facts = fresh()
    facts["service_ini"] = service_ini
    facts["apricot_config"] = apricot
    result = plan(facts, desired(friendly_name="Zertifikat für Apex"))
    assert ("friendly_name_invalid" in codes(result["blockers"])) is blocked


def test_the_unwritable_file_and_its_encoding_are_named():
    facts = fresh()
    facts["service_ini"]["encoding"] = "utf-8-bom"
    facts["apricot_config"]["encoding"] = None
    blocker = plan(facts, desired(friendly_name="Zertifikat für Apex"))["blockers"][0]
    assert blocker["message"].startswith(
        "the friendly name 'Zertifikat für Apex' cannot be written to apricot_config (unknown encoding): "
        "friendly_name contains non-ASCII characters")
    facts["service_ini"]["encoding"] = "ansi"
    blocker = plan(facts, desired(friendly_name="Zertifikat für Apex"))["blockers"][0]
    assert blocker["message"].startswith("the friendly name 'Zertifikat für Apex' cannot be written to Service.ini (ansi): ")


def test_the_unwritable_check_is_a_blocker_not_an_error_for_a_control_character():
    result = plan(fresh(), desired(friendly_name="Apex\tOne"))
    assert codes(result["blockers"]) == ["friendly_name_invalid"] and result["applicable"] is False


# ------------------------------------------------------------------------------------------------ step 4


def test_ofcipcer_on_another_certificate_gives_the_agent_action_with_the_pem():
    facts = compliant()
    facts["ofcipcer"]["thumbprint"] = OLD
    action = only(plan(facts, desired()))
    assert (action["module"], action["steps"], action["args"]) == (AGENT, [4], {"certificate": "PEM TEXT"})
    facts["ofcipcer"] = {"exists": False}
    without_pem = desired()
    del without_pem["certificate_pem"]
    action = only(plan(facts, without_pem))
    assert (action["module"], action["args"]) == (AGENT, {})
    assert action["reason"] == f"OfcIPCer.dat holds missing, not {NEW}"
    facts["ofcipcer"] = {"exists": True, "thumbprint": None}
    assert only(plan(facts, desired()))["reason"] == f"OfcIPCer.dat holds unreadable, not {NEW}"


# ------------------------------------------------------------------------------------------------ step 5


def test_site_name_selects_the_site_case_insensitively_and_is_passed_exactly():
    facts = fresh()
    facts["iis"]["sites"] = [site("Default Web Site", https=((443, OLD),), accounts=("IIS AppPool\\Default",)),
                             site("OfficeScan", https=((4343, OLD),))]
    result = plan(facts, desired(site_name="officescan"))
    binding = next(a for a in result["actions"] if a["module"] == BINDING)
    assert binding["args"] == {"thumbprint": NEW, "site_name": "OfficeScan"}
    assert [c["binding"] for c in result["binding_changes"]] == ["*:4343:", "http.sys 0.0.0.0:4343"]
    assert result["actions"][0]["args"]["key_readers"] == []  # #14: application pools get no key access


def test_without_site_name_every_site_is_considered_and_the_first_one_is_named():
    facts = fresh()
    facts["iis"]["sites"] = [site("OfficeScan", https=((4343, OLD),)),
                             site("Default Web Site", https=((443, OLD),), accounts=("IIS AppPool\\Default",))]
    result = plan(facts, desired())
    binding = next(a for a in result["actions"] if a["module"] == BINDING)
    assert binding["args"] == {"thumbprint": NEW, "site_name": "OfficeScan"}
    assert [c["binding"] for c in result["binding_changes"]][:2] == ["*:4343:", "*:443:"]
    assert result["actions"][0]["args"]["key_readers"] == []  # #14: application pools get no key access


def test_a_site_without_a_name_never_matches_a_site_name():
    facts = fresh()
    del facts["iis"]["sites"][0]["name"]
    with pytest.raises(PlanError, match=r"^no Apex One IIS site none found \(sites seen: None\); "):
        plan(facts, desired(site_name="none"))


def test_ports_limit_the_bindings_moved_and_are_passed_on():
    facts = fresh()
    facts["iis"]["sites"] = [site(https=((443, OLD), (4343, OLD)))]
    result = plan(facts, desired(ports=["4343"]))
    binding = next(a for a in result["actions"] if a["module"] == BINDING)
    assert binding["args"] == {"thumbprint": NEW, "site_name": "OfficeScan", "ports": [4343]}
    assert [c["binding"] for c in result["binding_changes"]] == ["*:4343:", "http.sys 0.0.0.0:4343"]
    result = plan(facts, desired())
    assert [c["binding"] for c in result["binding_changes"]] == ["*:443:", "*:4343:", "http.sys 0.0.0.0:4343"]


def test_only_https_bindings_count():
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"][1]["protocol"] = "HTTPS"
    facts["iis"]["sites"][0]["bindings"].append({"protocol": "net.tcp", "port": 808, "certificate_hash": OLD,
                                                 "binding_information": "808:*"})
    result = plan(facts, desired())
    assert [c["binding"] for c in result["binding_changes"]] == ["*:4343:", "http.sys 0.0.0.0:4343"]


def test_a_binding_without_binding_information_is_named_by_ip_and_port():
    facts = fresh()
    del facts["iis"]["sites"][0]["bindings"][1]["binding_information"]
    assert plan(facts, desired())["binding_changes"][0]["binding"] == "*:4343"


def test_a_binding_without_a_certificate_moves_from_none():
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"][1]["certificate_hash"] = None
    result = plan(facts, desired())
    assert result["binding_changes"][0] == {"site": "OfficeScan", "binding": "*:4343:", "old_thumbprint": None,
                                            "new_thumbprint": NEW}
    assert result["old_thumbprints"] == []  # nothing was bound, so no old certificate


def test_http_sys_entries_move_when_on_an_old_thumbprint_or_the_sites_port():
    facts = compliant()
    facts["http_sys"]["bindings"] = [
        {"endpoint": "0.0.0.0:4343", "port": 4343, "thumbprint": "B" * 40},  # the site's port
        {"endpoint": "0.0.0.0:9443", "port": 9443, "thumbprint": "C" * 40},  # unrelated port and certificate
        {"endpoint": "0.0.0.0:4344", "port": 4344, "thumbprint": None},
    ]
    result = plan(facts, desired())
    assert result["binding_changes"] == [
        {"site": None, "binding": "http.sys 0.0.0.0:4343", "old_thumbprint": "B" * 40, "new_thumbprint": NEW}]
    assert only(result)["module"] == BINDING
    facts = fresh()
    facts["http_sys"]["bindings"].append({"endpoint": "10.0.0.5:9443", "port": 9443, "thumbprint": OLD})
    moved = [c["binding"] for c in plan(facts, desired())["binding_changes"]]
    assert moved == ["*:4343:", "http.sys 0.0.0.0:4343", "http.sys 10.0.0.5:9443"]


def test_the_binding_reason_lists_every_move():
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"][1]["certificate_hash"] = None
    binding = next(a for a in plan(facts, desired())["actions"] if a["module"] == BINDING)
    assert binding["reason"] == (f"bindings to move: *:4343: none -> {NEW}; http.sys 0.0.0.0:4343 {OLD} -> {NEW}")


@pytest.mark.parametrize(
    ("other", "warned"),
    [
        ({"site": "Default Web Site", "binding_information": "*:4343:", "port": 4343, "sni": False,
          "certificate_hash": OLD}, True),
        ({"site": "Default Web Site", "binding_information": "*:4343:www", "port": 4343, "sni": True,
          "certificate_hash": OLD}, False),
        ({"site": "Default Web Site", "binding_information": "*:443:", "port": 443, "sni": False,
          "certificate_hash": OLD}, False),
        ({"site": "Default Web Site", "binding_information": "*:4343:", "port": 4343, "sni": False,
          "certificate_hash": "D" * 40}, False),
    ],
)
def test_shared_binding_warning_only_for_a_non_sni_binding_on_the_same_port_and_old_certificate(other, warned):
    facts = fresh()
    facts["iis"]["other_https_bindings"] = [other]
    warnings = plan(facts, desired())["warnings"]
    assert codes(warnings) == (["shared_binding"] if warned else [])
    if warned:
        assert warnings[0] == {
            "code": "shared_binding", "severity": "warning",
            "message": "site 'Default Web Site' binding *:4343: shares the http.sys entry and will serve the new "
                       "certificate too"}


# ------------------------------------------------------------------------------------------------ step 6


def test_roots_are_moved_only_when_asked_and_otherwise_warned_about():
    facts = compliant()
    facts["certificates"]["root_non_self_signed"] = [{"subject": f"CN=Sub CA {i}"} for i in range(6)]
    result = plan(facts, desired())
    assert result["actions"] == [] and codes(result["warnings"]) == ["non_self_signed_roots"]
    action = only(plan(facts, desired(move_non_self_signed_roots=True)))
    assert (action["module"], action["steps"], action["args"]) == (ROOTS, [6], {})
    assert action["reason"] == ("6 non-self-signed certificate(s) in Root cause 403.16: "
                                "CN=Sub CA 0, CN=Sub CA 1, CN=Sub CA 2, CN=Sub CA 3, CN=Sub CA 4")


@pytest.mark.parametrize(
    ("current", "wanted", "acts"),
    [(None, 2, True), (None, 0, False), ("2", 2, False), (1, "2", True), (2, None, False), (None, "", False)],
)
def test_client_auth_trust_mode(current, wanted, acts):
    facts = compliant()
    facts["schannel"]["client_auth_trust_mode"] = current
    result = plan(facts, desired(client_auth_trust_mode=wanted))
    if acts:
        action = only(result)
        assert (action["module"], action["steps"], action["args"]) == (SCHANNEL, [6], {"client_auth_trust_mode": 2})
    else:
        assert result["actions"] == []


def test_the_trust_mode_reason_says_unset_for_a_missing_value():
    assert only(plan(compliant(), desired(client_auth_trust_mode=1)))["reason"] == (
        "ClientAuthTrustMode is unset (0), not 1")


# ------------------------------------------------------------------------------------------------ step 7


STEP7_ARGS = {"certificate_name": HOST, "friendly_name": FRIENDLY, "cert_cn": HOST}


@pytest.mark.parametrize(
    ("file", "key", "value"),
    [
        ("service_ini", "https_cert", "apex01"),
        ("service_ini", "https_cert_friendly_name", "Apex One web host 2025"),
        ("service_ini", "https_cert_friendly_name", None),
        ("service_ini", "https_cert_friendly_name", FRIENDLY.lower()),  # the friendly name is compared exactly
        ("apricot_config", "cert_cn", "apex01"),
        ("apricot_config", "cert_friendly_name", "Apex One web host 2025"),
        ("apricot_config", "cert_friendly_name", FRIENDLY.upper()),
    ],
)
def test_each_step7_field_alone_gives_the_persistence_action(file, key, value):
    facts = compliant()
    facts[file][key] = value
    action = only(plan(facts, desired()))
    assert (action["module"], action["steps"], action["args"]) == (PERSIST, [7], STEP7_ARGS)
    assert len(action["reasons"]) == 1


@pytest.mark.parametrize(("file", "key"), [("service_ini", "https_cert"), ("apricot_config", "cert_cn")])
def test_the_cn_in_the_files_is_compared_case_insensitively(file, key):
    facts = compliant()
    facts[file][key] = HOST.upper()
    assert plan(facts, desired())["actions"] == []


def test_step7_reasons_name_each_field():
    facts = compliant()
    facts["service_ini"].update(https_cert="apex01", https_cert_friendly_name=None)
    facts["apricot_config"].update(cert_cn=None, cert_friendly_name="x")
    action = only(plan(facts, desired()))
    assert action["reasons"] == [
        f"Service.ini HTTPS_CERT is 'apex01', not '{HOST}'; Service.ini HTTPS_CERT_FRIENDLY_NAME is ''; "
        "apricot_config cert_cn is ''; apricot_config cert_friendly_name is 'x'"]


@pytest.mark.parametrize("file", ["service_ini", "apricot_config"])
def test_a_missing_step7_file_is_a_warning_and_not_an_action(file):
    facts = compliant()
    facts[file] = {"exists": False}
    result = plan(facts, desired())
    assert result["actions"] == []
    assert codes(result["warnings"]) == [f"{file}_missing"]


# ------------------------------------------------------------------------------------------------ warnings


@pytest.mark.parametrize(
    ("version", "build", "warned"),
    [("12.0", "5416", True), ("12.0", "5417", False), ("12.0", "6000", False), ("11.0", "3000", False),
     ("12.0", None, False), ("12.0", "n/a", False), (None, "1000", False), ("14.0", "1000", False)],
)
def test_old_build_warning_below_build_5417_of_officescan_xg(version, build, warned):
    facts = compliant()
    facts["product"] = {"server_version": version, "service_pack_build": build}
    facts["ofcscan_ini"]["master_domain_name"] = HOST
    assert ("old_build" in codes(plan(facts, desired())["warnings"])) is warned


@pytest.mark.parametrize(
    ("version", "build", "master", "warned"),
    [
        ("12.0", "1140", "old.corp.example", True),
        ("12.0", "1141", "old.corp.example", False),
        ("11.0", "1000", "old.corp.example", True),
        ("10.0", None, "old.corp.example", True),  # no build known: assume an old one
        ("14.0", "1000", "old.corp.example", False),
        (None, "1000", "old.corp.example", False),
        ("12.0", "1000", HOST.upper(), False),
        ("12.0", "1000", None, False),
        ("12.0", "1000", "", False),
    ],
)
def test_master_domain_name_warning_on_builds_that_compare_it(version, build, master, warned):
    facts = compliant()
    facts["product"] = {"server_version": version, "service_pack_build": build}
    facts["ofcscan_ini"]["master_domain_name"] = master
    warnings = [w for w in plan(facts, desired())["warnings"] if w["code"] == "master_domain_name"]
    assert bool(warnings) is warned
    if warned:
        assert warnings[0]["message"] == f"Master_DomainName is '{master}', not the certificate CN '{HOST}' (KA-0010488)"


@pytest.mark.parametrize(
    ("days", "warn_days", "warned"),
    [(12, None, True), (59, None, True), (60, None, False), (100, None, False), (None, None, False),
     ("n/a", None, False), (100, 200, True), (100, "100", False), (30, 0, True)],
)
def test_agent_certificate_warning_only_when_it_expires_within_the_threshold(days, warn_days, warned):
    facts = compliant()
    facts["agent_auth_certificates"] = [{"subject": "CN=OfficeScan Server NTSG", "days_left": days}]
    wanted = desired() if warn_days is None else desired(agent_cert_warn_days=warn_days)
    result = plan(facts, wanted)
    assert codes(result["warnings"]) == (["agent_auth_certificate_expiring"] if warned else [])
    assert result["actions"] == []


@pytest.mark.parametrize(
    ("gone", "missing"),
    [(("master",), "master"), (("smart_protection",), "smart_protection"),
     (("master", "smart_protection"), "master, smart_protection"), (("ad_integration",), None)],
)
def test_service_missing_warning_names_the_services(gone, missing):
    facts = compliant()
    for key in gone:
        facts["services"][key]["exists"] = False
    result = plan(facts, desired())
    if missing is None:
        assert result["warnings"] == []
    else:
        assert result["warnings"] == [{"code": "service_missing", "severity": "warning",
                                       "message": f"Apex One service(s) not found: {missing}"}]
    assert result["services"] == [k for k in ("master", "ad_integration", "smart_protection") if k not in gone]


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f["install"].update(path=""), "server_info names no Apex One server folder (install.path is empty)"),
        (lambda f: f.update(install={}), "server_info names no Apex One server folder (install.path is empty)"),
        (lambda f: f.update(certificates=[]), "server_info has no 'certificates'"),
        (lambda f: f.update(failed=True), "win_server_info failed on this host: no message"),
        (lambda f: f["iis"].update(sites=[site("A", https=()), site("B", https=())]),
         "the Apex One site has no https binding (ports: any); add one in IIS first"),
    ],
)
def test_unusable_facts_are_a_plan_error(change, message):
    facts = compliant()
    change(facts)
    with pytest.raises(PlanError) as caught:
        plan(facts, desired())
    assert str(caught.value).startswith(message)


def test_no_matching_site_names_the_sites_seen():
    facts = compliant()
    facts["iis"]["sites"] = [site("A"), site("B")]
    with pytest.raises(PlanError) as caught:
        plan(facts, desired(site_name="C"))
    assert str(caught.value) == ("no Apex One IIS site C found (sites seen: A, B); "
                                 "set apexone_cert_site_name to the site that serves the Apex One console")
    facts["iis"]["sites"] = []
    with pytest.raises(PlanError) as caught:
        plan(facts, desired())
    assert str(caught.value).startswith("no Apex One IIS site found (sites seen: none); ")


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ("thumbprint", "desired must be a dict (thumbprint, subject_cn, friendly_name, ...)"),
        ({"thumbprint": NEW}, "desired is missing subject_cn, friendly_name"),
        (desired(thumbprint="ab:" * 19 + "ab"), None),
        (desired(thumbprint=NEW[:-1]), f"desired.thumbprint '{NEW[:-1]}' is not a SHA-1 thumbprint"),
        (desired(client_auth_trust_mode="x"), "client_auth_trust_mode must be 0, 1 or 2 (or null to leave it), not 'x'"),
        (desired(ports=4343), "ports must be a list of TCP ports (for example [4343]), not 4343"),
        (desired(ports=[0]), "port 0 is out of range: give TCP ports between 1 and 65535"),
        (desired(ports=[65536]), "port 65536 is out of range"),
        (desired(ports=["x"]), "port 'x' is out of range"),
        (desired(key_readers="CORP\\web"), "key_readers must be a list of account names, not 'CORP\\\\web'"),
        (desired(key_readers=["CORP\\web", 5]), "key_readers must be a list of account names"),
    ],
)
def test_unusable_desired_state_is_a_plan_error(wanted, message):
    facts = fresh()
    if message is None:
        assert plan(facts, wanted)["new_thumbprint"] == "AB" * 20
        return
    with pytest.raises(PlanError) as caught:
        plan(facts, wanted)
    assert str(caught.value).startswith(message)


def test_edge_ports_and_trust_modes_are_accepted():
    facts = compliant()
    facts["iis"]["sites"] = [site(https=((1, NEW), (65535, NEW)))]
    assert plan(facts, desired(ports=[1, 65535], client_auth_trust_mode=0))["binding_changes"] == []
    for mode in (0, 1, 2, "2"):
        plan(compliant(), desired(client_auth_trust_mode=mode))


def test_malformed_facts_are_a_plan_error_naming_the_exception():
    facts = compliant()
    facts["iis"]["sites"] = ["OfficeScan"]
    with pytest.raises(PlanError) as caught:
        plan(facts, desired())
    assert str(caught.value).startswith("server_info is malformed (AttributeError: ")
    assert str(caught.value).endswith("): pass the registered result of apexone.certificates.win_server_info")


def test_the_plan_never_changes_its_input():
    facts, wanted = fresh(), desired(ports=[4343], key_readers=["CORP\\web"])
    snapshot = copy.deepcopy((facts, wanted))
    plan(facts, wanted)
    assert (facts, wanted) == snapshot


def test_thumbprints_are_compared_in_any_spelling():
    facts = compliant()
    spaced = " ".join(NEW[i:i + 2] for i in range(0, 40, 2)).lower()
    facts["certificates"]["my"][1]["thumbprint"] = spaced
    facts["iis"]["sites"][0]["bindings"][1]["certificate_hash"] = NEW.lower()
    assert plan(facts, desired(thumbprint=spaced))["actions"] == []


def test_apply_order_is_the_kb_order():
    assert _planner.APPLY_ORDER == (CERT, ROOTS, SCHANNEL, AGENT, BINDING, PERSIST)
