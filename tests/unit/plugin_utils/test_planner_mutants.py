"""The planner's decisions, one behaviour per test, on hand-made server facts (issue 17: mutation survivors).

Each test pins what the role reads: the exact action (module, steps), the exact ``args`` it passes to the module,
the exact problem code of a blocker or warning, and the keys of the plan. Facts are built here, so the tests do not
depend on the double: the tests set the file values they mean (``https_cert``, ``cert_cn``, OfcIPCer.dat's
thumbprint, an encoding...) and :func:`plan` turns them into the raw files win_server_info returns
({path, exists, sha256, content}, tests/fixtures/server_info/compliant.json) before planning.
``make mutation`` runs these with tests/unit/plugin_utils/test_planner.py against every mutant of _planner.py.
"""

from __future__ import annotations

import base64
import copy
import hashlib

import pki
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from ansible_collections.apexone.certificates.plugins.module_utils import _apexone_files as files
from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils import _planner
from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError

HOST = "apex01.corp.example"
FRIENDLY = "Apex One web host 2026"
_CERTS = {
    "old": pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=740))[1],
    "new": pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=741))[1],
}
NEW = _x509.thumbprint(_CERTS["new"])
OLD = _x509.thumbprint(_CERTS["old"])
NEW_PEM = _CERTS["new"].public_bytes(Encoding.PEM).decode()
DER = {NEW: _CERTS["new"].public_bytes(Encoding.DER), OLD: _CERTS["old"].public_bytes(Encoding.DER)}
PCCSRV = "C:\\Program Files (x86)\\Trend Micro\\Apex One\\PCCSRV"
_CODECS = {None: ("latin-1", b""), "ansi": ("latin-1", b""), "utf-8-bom": ("utf-8", b"\xef\xbb\xbf"),
           "utf-16le": ("utf-16-le", b"\xff\xfe"), "utf-16be": ("utf-16-be", b"\xfe\xff")}


def _raw(path: str, data: bytes | None) -> dict:
    """One file as win_server_info returns it."""
    if data is None:
        return {"path": path, "exists": False, "sha256": None, "content": None, "error": None}
    return {"path": path, "exists": True, "sha256": hashlib.sha256(data).hexdigest(),
            "content": base64.b64encode(data).decode(), "error": None}


def _text(entry: dict, lines: list[str]) -> bytes:
    codec, bom = _CODECS[entry.get("encoding")]
    return bom + "".join(line + "\r\n" for line in lines).encode(codec)


def raw_files(facts):
    """The facts with the four files as raw bytes, made from the parsed values the tests set (anything else as is)."""
    if not isinstance(facts, dict):
        return facts
    out = copy.deepcopy(facts)
    ini, apricot = out.get("service_ini"), out.get("apricot_config")
    ofcipcer, ofcscan = out.get("ofcipcer"), out.get("ofcscan_ini")
    if isinstance(ini, dict):
        lines = ["[WSS]", "HTTP=8080", "HTTPS=4343"]
        lines += [f"HTTPS_CERT={ini['https_cert']}"] if ini.get("https_cert") is not None else []
        lines += ([f"HTTPS_CERT_FRIENDLY_NAME={ini['https_cert_friendly_name']}"]
                  if ini.get("https_cert_friendly_name") is not None else [])
        out["service_ini"] = _raw(PCCSRV + "\\WSS\\Service.ini", _text(ini, lines) if ini.get("exists") else None)
    if isinstance(apricot, dict):
        def element(name):
            value = apricot.get(name)
            return f"  <{name}/>" if value is None else f"  <{name}>{files.xml_escape(value)}</{name}>"
        lines = ["<config>", element("cert_cn")]
        lines += [element("cert_friendly_name")] if apricot.get("cert_friendly_name") is not None else []
        lines += ["</config>"]
        data = _text(apricot, lines) if apricot.get("exists") else None
        out["apricot_config"] = _raw(PCCSRV + "\\SRS\\apricot_config", data)
    if isinstance(ofcipcer, dict):
        data = DER.get(ofcipcer.get("thumbprint"), b"unreadable") if ofcipcer.get("exists") else None
        out["ofcipcer"] = _raw(PCCSRV + "\\Pccnt\\Common\\OfcIPCer.dat", data)
    if isinstance(ofcscan, dict):
        lines = ["[INI_SERVER_SECTION]"]
        lines += [f"Master_DomainName={ofcscan['master_domain_name']}"] if ofcscan.get("master_domain_name") else []
        out["ofcscan_ini"] = _raw(PCCSRV + "\\ofcscan.ini", _text({}, lines) if ofcscan.get("exists") else None)
    return out


def plan(facts, desired):
    return _planner.plan(raw_files(facts), desired)


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
             "restart_services", "services", "warnings", "blockers", "lines", "files", "site_name", "binding_restore",
             "service_stop", "services_before", "service_restore"}


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
    return {"thumbprint": NEW, "subject_cn": HOST, "friendly_name": FRIENDLY, "certificate_pem": NEW_PEM, **extra}


def write_args(before: bytes | None, after: bytes) -> dict:
    """The writer options for a file change: the new bytes and the SHA-256 of the file they replace."""
    return {"content": base64.b64encode(after).decode(),
            "expected_sha256": hashlib.sha256(before).hexdigest() if before is not None else None}


def step7_args(facts) -> dict:
    """What win_cert_persistence gets for the files of these facts (computed the way the role's plan does)."""
    raw, args = raw_files(facts), {}
    for key, edit in (("service_ini", lambda d: files.set_ini_values(d, {"HTTPS_CERT": HOST, "HTTPS_CERT_FRIENDLY_NAME": FRIENDLY})),
                      ("apricot_config", lambda d: files.set_apricot_cert(d, HOST, FRIENDLY))):
        before = files.file_bytes(raw[key])
        if before is not None and edit(before) != before:
            args[key] = write_args(before, edit(before))
    return args


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
        write_args(DER[OLD], DER[NEW]),
        {"thumbprint": NEW, "site_name": "OfficeScan", "bindings": ["*:4343:"]},
        step7_args(fresh()),
    ]
    assert set(args[3]) == {"service_ini", "apricot_config"}
    # The binding and the http.sys record it uses are one change.
    assert result["binding_changes"] == [
        {"site": "OfficeScan", "binding": "*:4343:", "sslcert": "0.0.0.0:4343", "old_thumbprint": OLD,
         "new_thumbprint": NEW},
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
    assert lines[4:5] == [f"binding *:4343:: {OLD} -> {NEW}"]
    assert [line.split(": sha256 ")[0] for line in lines[5:8]] == ["file " + PCCSRV + "\\Pccnt\\Common\\OfcIPCer.dat",
                                                                   "file " + PCCSRV + "\\WSS\\Service.ini",
                                                                   "file " + PCCSRV + "\\SRS\\apricot_config"]
    assert lines[8:] == ["warning: service_missing: Apex One service(s) not found: smart_protection"]
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
    my_new["private_key"]["acl"] = ADMIN_ACL  # ... then step 2 (the named reader cannot read the key)
    action = only(plan(facts, desired(key_readers=[POOL])))
    assert (action["module"], action["step"], action["steps"]) == (CERT, 2, [2, 7])
    assert len(action["reasons"]) == 2 and action["args"] == dict(CERT_ARGS, key_readers=[POOL])


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
    assert result["actions"] == [] and "key_not_exportable" in codes(result["warnings"])


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
    assert plan(facts, desired(key_readers=[POOL]))["actions"] == []
    facts["certificates"]["my"][1]["private_key"]["acl"] = [{"identity": POOL, "type": "deny"}]
    action = only(plan(facts, desired(key_readers=[POOL])))
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
        "the friendly name 'Zertifikat für Apex' cannot be written to apricot_config (ansi): "
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
    assert (action["module"], action["steps"], action["args"]) == (AGENT, [4], write_args(DER[OLD], DER[NEW]))
    facts["ofcipcer"] = {"exists": False}
    action = only(plan(facts, desired()))
    assert (action["module"], action["args"]) == (AGENT, write_args(None, DER[NEW]))
    assert action["reason"] == f"OfcIPCer.dat holds missing, not {NEW}"
    without_pem = desired()
    del without_pem["certificate_pem"]
    result = plan(facts, without_pem)
    assert (only(result)["args"], codes(result["blockers"])) == ({}, ["certificate_pem_missing"])
    facts["ofcipcer"] = {"exists": True, "thumbprint": None}
    assert only(plan(facts, desired()))["reason"] == f"OfcIPCer.dat holds unreadable, not {NEW}"


# ------------------------------------------------------------------------------------------------ step 5


def test_site_name_selects_the_site_case_insensitively_and_is_passed_exactly():
    facts = fresh()
    facts["iis"]["sites"] = [site("Default Web Site", https=((443, OLD),), accounts=("IIS AppPool\\Default",)),
                             site("OfficeScan", https=((4343, OLD),))]
    result = plan(facts, desired(site_name="officescan"))
    binding = next(a for a in result["actions"] if a["module"] == BINDING)
    assert binding["args"] == {"thumbprint": NEW, "site_name": "OfficeScan", "bindings": ["*:4343:"]}
    assert [c["binding"] for c in result["binding_changes"]] == ["*:4343:"]
    assert result["actions"][0]["args"]["key_readers"] == []  # #14: application pools get no key access
    assert "several_sites" not in codes(result["blockers"])


def test_several_matching_sites_are_a_blocker_and_only_the_first_is_planned():
    facts = fresh()
    facts["iis"]["sites"] = [site("OfficeScan", https=((4343, OLD),)),
                             site("Default Web Site", https=((443, OLD),), accounts=("IIS AppPool\\Default",))]
    result = plan(facts, desired())
    several = [b for b in result["blockers"] if b["code"] == "several_sites"]
    assert len(several) == 1 and result["applicable"] is False
    assert "(OfficeScan, Default Web Site)" in several[0]["message"]
    binding = next(a for a in result["actions"] if a["module"] == BINDING)
    assert binding["args"] == {"thumbprint": NEW, "site_name": "OfficeScan", "bindings": ["*:4343:"]}
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
    assert binding["args"] == {"thumbprint": NEW, "site_name": "OfficeScan", "bindings": ["*:4343:"]}
    assert [c["binding"] for c in result["binding_changes"]] == ["*:4343:"]
    result = plan(facts, desired())
    assert [c["binding"] for c in result["binding_changes"]] == ["*:443:", "*:4343:"]


def test_only_https_bindings_count():
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"][1]["protocol"] = "HTTPS"
    facts["iis"]["sites"][0]["bindings"].append({"protocol": "net.tcp", "port": 808, "certificate_hash": OLD,
                                                 "binding_information": "808:*"})
    result = plan(facts, desired())
    assert [c["binding"] for c in result["binding_changes"]] == ["*:4343:"]


def test_a_binding_without_binding_information_is_named_by_ip_port_and_host():
    facts = fresh()
    del facts["iis"]["sites"][0]["bindings"][1]["binding_information"]
    assert plan(facts, desired())["binding_changes"][0]["binding"] == "*:4343:"


def test_a_binding_without_a_certificate_moves_from_none():
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"][1]["certificate_hash"] = None
    facts["http_sys"]["bindings"] = []  # and no http.sys record either
    result = plan(facts, desired())
    assert result["binding_changes"][0] == {"site": "OfficeScan", "binding": "*:4343:", "sslcert": "0.0.0.0:4343",
                                            "old_thumbprint": None, "new_thumbprint": NEW}
    assert result["old_thumbprints"] == []  # nothing was bound, so no old certificate
    assert result["binding_restore"] == []  # and nothing to give back


def test_what_a_binding_serves_is_its_http_sys_record_and_stray_ip_records_on_its_port_move_too():
    facts = compliant()
    facts["http_sys"]["bindings"] = [
        {"endpoint": "0.0.0.0:4343", "port": 4343, "thumbprint": "B" * 40},  # the site binding's own record
        {"endpoint": "0.0.0.0:9443", "port": 9443, "thumbprint": "C" * 40},  # unrelated port and certificate
        {"endpoint": "0.0.0.0:4344", "port": 4344, "thumbprint": None},
        {"endpoint": "10.0.0.5:4343", "port": 4343, "thumbprint": "C" * 40},  # IP-specific, overrides the binding
    ]
    result = plan(facts, desired())
    assert result["binding_changes"] == [
        {"site": "OfficeScan", "binding": "*:4343:", "sslcert": "0.0.0.0:4343", "old_thumbprint": "B" * 40,
         "new_thumbprint": NEW},
        {"site": None, "binding": "http.sys 10.0.0.5:4343", "sslcert": "10.0.0.5:4343", "old_thumbprint": "C" * 40,
         "new_thumbprint": NEW}]
    assert only(result)["module"] == BINDING
    assert result["binding_restore"] == [{"thumbprint": "B" * 40, "bindings": ["*:4343:"]}]
    facts = fresh()
    facts["http_sys"]["bindings"].append({"endpoint": "10.0.0.5:9443", "port": 9443, "thumbprint": OLD})
    moved = [c["binding"] for c in plan(facts, desired())["binding_changes"]]
    assert moved == ["*:4343:"]  # not on a port of the site: win_iis_https_binding would not move it


def test_the_binding_reason_lists_every_move():
    facts = fresh()
    facts["http_sys"]["bindings"].append({"endpoint": "10.0.0.5:4343", "port": 4343, "thumbprint": "C" * 40})
    binding = next(a for a in plan(facts, desired())["actions"] if a["module"] == BINDING)
    assert binding["reason"] == (f"bindings to move: *:4343: (http.sys 0.0.0.0:4343) {OLD} -> {NEW}; "
                                 f"http.sys 10.0.0.5:4343 {'C' * 40} -> {NEW}")


@pytest.mark.parametrize(
    ("other", "warned"),
    [
        ({"site": "Default Web Site", "binding_information": "*:4343:", "port": 4343, "sni": False,
          "certificate_hash": OLD}, True),
        ({"site": "Default Web Site", "binding_information": "*:4343:www", "port": 4343, "sni": True,
          "certificate_hash": OLD}, False),
        ({"site": "Default Web Site", "binding_information": "*:443:", "port": 443, "sni": False,
          "certificate_hash": OLD}, False),
        # IIS config says D, but a non-SNI binding on the same ip:port uses the same http.sys record, which moves.
        ({"site": "Default Web Site", "binding_information": "*:4343:", "port": 4343, "sni": False,
          "certificate_hash": "D" * 40}, True),
    ],
)
def test_shared_binding_warning_only_for_a_non_sni_binding_on_the_same_record(other, warned):
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
    assert (action["module"], action["steps"], action["args"]) == (PERSIST, [7], step7_args(facts))
    assert set(action["args"]) == {file}, "only the file that changes"
    assert len(action["reasons"]) == 1


@pytest.mark.parametrize(("file", "key"), [("service_ini", "https_cert"), ("apricot_config", "cert_cn")])
def test_the_cn_in_the_files_is_compared_byte_for_byte(file, key):
    """The plan lists exactly the bytes the writer changes: a CN differing only in case is rewritten."""
    facts = compliant()
    facts[file][key] = HOST.upper()
    action = only(plan(facts, desired()))
    assert (action["module"], set(action["args"])) == (PERSIST, {file})


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
    ("version", "build", "code"),
    [("12.0", "5416", "old_build"), ("12.0", "5417", None), ("12.0", "6000", None),
     ("11.0", "3000", "unsupported_version"), ("10.6", "9999", "unsupported_version"), ("12.0", None, "old_build"),
     ("12.0", "n/a", "old_build"), (None, "1000", None), ("14.0", "1000", None)],
)
def test_builds_without_the_step7_fix_are_blocked(version, build, code):
    facts = compliant()
    facts["product"] = {"server_version": version, "service_pack_build": build}
    facts["ofcscan_ini"]["master_domain_name"] = HOST
    result = plan(facts, desired())
    version_blockers = [b for b in result["blockers"] if b["code"] in ("old_build", "unsupported_version")]
    assert codes(version_blockers) == ([code] if code else [])
    if code:
        assert "Upgrade first" in version_blockers[0]["message"]
    assert ("unknown_version" in codes(result["warnings"])) is (version is None)


@pytest.mark.parametrize(
    ("master", "blocked"),
    [("old.corp.example", True), (HOST.upper(), False), (HOST + ".", False), ("apex01", True), (None, False),
     ("", False)],
)
@pytest.mark.parametrize("version", ["10.0", "12.0", "14.0"])
def test_master_domain_name_is_compared_on_every_version(version, master, blocked):
    facts = compliant()
    facts["product"] = {"server_version": version, "service_pack_build": "12526"}
    facts["ofcscan_ini"]["master_domain_name"] = master
    result = plan(facts, desired())
    found = [b for b in result["blockers"] if b["code"] == "master_domain_name"]
    assert bool(found) is blocked
    if blocked:
        assert found[0]["message"].startswith(f"Master_DomainName in ofcscan.ini is '{master}', the name agents use")
        allowed = plan(facts, desired(allow_name_mismatch=True))
        assert "master_domain_name" in codes(allowed["warnings"])
        assert "master_domain_name" not in codes(allowed["blockers"])
    if not master:
        assert "master_domain_name_unknown" in codes(result["warnings"])


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


# ------------------------------------------------------------------------------------------------ what people read
# The reasons, warnings and blockers are what an operator reads in the plan and the audit report: pinned whole.


def test_reasons_of_the_certificate_action():
    facts = compliant()
    my_new = facts["certificates"]["my"][1]
    my_new.update(has_private_key=False, friendly_name="")
    action = only(plan(facts, desired()))
    assert action["reasons"] == ["the certificate in My has no private key: re-import it with its key",
                                 f"friendly name is '', not '{FRIENDLY}'"]
    # Windows Server 2022 (build 20348) imports any PFX: no re-pack, whatever the encryption.
    assert action["args"] == CERT_ARGS
    facts = fresh()
    facts["windows"]["build"] = None
    action = plan(facts, desired(pfx_encryption="PBES2/AES-256-CBC/PBKDF2-SHA-256"))["actions"][0]
    assert action["reasons"] == [
        f"certificate {NEW} is not in LocalMachine\\My",
        "the PFX uses PBES2/AES-256-CBC/PBKDF2-SHA-256; Windows build unknown needs it re-packed with 3DES/SHA-1",
        f"certificate {NEW} is not in LocalMachine\\TrustedPeople"]
    facts = compliant()
    facts["certificates"]["my"][1]["private_key"].update(exportable=False, acl=ADMIN_ACL)
    action = only(plan(facts, desired(key_readers=[POOL])))
    assert action["reasons"] == [f"the private key is not readable by {POOL} (key_readers)"]


def test_a_key_readable_by_nobody_it_should_be_gives_the_full_arguments():
    facts = compliant()
    facts["certificates"]["my"][1]["private_key"]["acl"] = ADMIN_ACL
    action = only(plan(facts, desired(key_readers=[POOL])))
    assert (action["module"], action["steps"], action["args"]) == (CERT, [2], dict(CERT_ARGS, key_readers=[POOL]))


def test_step7_reason_for_a_service_ini_without_a_name():
    facts = compliant()
    facts["service_ini"].update(https_cert=None, https_cert_friendly_name=None)
    assert only(plan(facts, desired()))["reasons"] == [
        f"Service.ini HTTPS_CERT is '', not '{HOST}'; Service.ini HTTPS_CERT_FRIENDLY_NAME is ''"]
    facts["service_ini"]["https_cert_friendly_name"] = "Old"
    assert only(plan(facts, desired()))["reasons"] == [
        f"Service.ini HTTPS_CERT is '', not '{HOST}'; Service.ini HTTPS_CERT_FRIENDLY_NAME is 'Old'"]


def test_warning_and_blocker_messages():
    facts = fresh()
    facts["certificates"]["root_non_self_signed"] = [{"subject": "CN=Sub CA"}]
    facts["product"] = {"server_version": "12.0", "service_pack_build": "1000"}
    facts["ofcscan_ini"]["master_domain_name"] = "old.corp.example"
    facts["agent_auth_certificates"] = [{"subject": "CN=OfficeScan Server NTSG", "days_left": 12}]
    facts["service_ini"] = {"exists": False}
    facts["apricot_config"] = {"exists": False}
    facts["certificates"]["my"][0]["friendly_name"] = FRIENDLY
    facts["certificates"]["disallowed"] = [cert(NEW, has_key=False)]
    result = plan(facts, desired())
    assert result["warnings"] == [
        {"code": "non_self_signed_roots", "severity": "warning",
         "message": "1 non-self-signed certificate(s) in LocalMachine\\Root can cause IIS 403.16; set "
                    "apexone_cert_move_non_self_signed_roots to move them to Intermediate"},
        {"code": "service_ini_missing", "severity": "warning",
         "message": "PCCSRV\\WSS\\Service.ini was not found: step 7 cannot be applied there"},
        {"code": "apricot_config_missing", "severity": "warning",
         "message": "PCCSRV\\SRS\\apricot_config(.xml) was not found: step 7 cannot be applied there"},
        {"code": "agent_auth_certificate_expiring", "severity": "warning",
         "message": "the agent-authentication certificate 'CN=OfficeScan Server NTSG' expires in 12 days; it is never "
                    "changed by this collection, renew it with Trend Micro's procedure (agents become unmanaged "
                    "when it lapses)"},
    ]
    assert result["blockers"] == [
        {"code": "friendly_name_reused", "severity": "error",
         "message": f"the friendly name '{FRIENDLY}' is the original certificate's name; Apex One's Smart Protection "
                    "Server would re-import the old certificate on restart (KA-0004491): choose a friendly name of "
                    "its own"},
        {"code": "certificate_disallowed", "severity": "error",
         "message": "the new certificate is in the Untrusted Certificates store (Disallowed) of the server; remove it "
                    "there first (KA-0010488)"},
        {"code": "old_build", "severity": "error",
         "message": "OfficeScan XG build 1000 lacks the step-7 fix (needs 5417+): the certificate would be reverted "
                    "when the services restart. Upgrade first to OfficeScan XG build 5417 or later, or to Apex One "
                    "(KA-0004491)"},
        {"code": "master_domain_name", "severity": "error",
         "message": "Master_DomainName in ofcscan.ini is 'old.corp.example', the name agents use to reach this server, "
                    f"and the new certificate does not cover it (CN and SAN: {HOST}) (KA-0010488): request a "
                    "certificate for that name, or set apexone_cert_allow_name_mismatch: true if agents and browsers "
                    "really use a name the certificate covers"},
    ]
    facts = fresh()
    blocker = plan(facts, desired(friendly_name="Zertifikat für Apex"))["blockers"][0]
    assert blocker == {
        "code": "friendly_name_invalid", "severity": "error",
        "message": "the friendly name 'Zertifikat für Apex' cannot be written to Service.ini (ansi): friendly_name "
                   "contains non-ASCII characters and the file has no byte order mark, so its code page is unknown; "
                   "step 7 writes it there so the Smart Protection Server keeps the new certificate (KA-0004491): "
                   "choose a friendly name in plain ASCII"}


# ------------------------------------------------------------------------------------------------ health, references


def test_health_of_a_compliant_server():
    facts = compliant()
    facts["services"]["master"]["status"] = "running"
    result = _planner.health(raw_files(facts), NEW.lower())
    assert result == {"ok": True, "failed": [], "thumbprint": NEW, "checks": [
        {"code": "in_my", "ok": True, "message": f"{NEW} is in LocalMachine\\My with its private key"},
        {"code": "trusted_people_same_thumbprint", "ok": True, "message": "TrustedPeople holds the same thumbprint"},
        {"code": "not_disallowed", "ok": True, "message": "not in Untrusted Certificates (Disallowed)"},
        {"code": "master_running", "ok": True, "message": "the master service ofcservice runs"},
        {"code": "binding_serves_new", "ok": True, "message": f"every https binding of the Apex One site serves {NEW}"},
    ]}


def test_health_of_a_server_still_on_the_old_certificate():
    facts = fresh()
    facts["services"]["master"]["status"] = "stopped"
    facts["certificates"]["disallowed"] = [cert(NEW, has_key=False)]
    result = _planner.health(raw_files(facts), NEW)
    assert result["ok"] is False
    assert result["failed"] == ["in_my", "trusted_people_same_thumbprint", "not_disallowed", "master_running",
                                "binding_serves_new"]
    assert [c["message"] for c in result["checks"]] == [
        f"{NEW} is not in LocalMachine\\My with its private key",
        f"LocalMachine\\TrustedPeople has no certificate {NEW}",
        f"{NEW} is in Untrusted Certificates (Disallowed)",
        "the Apex One master service does not run",
        f"*:4343: serves {OLD}"]
    facts["services"]["master"]["exists"] = False
    assert _planner.health(raw_files(facts), NEW)["checks"][3]["message"] == "the Apex One master service was not found"
    checks = _planner.health(raw_files(facts), NEW, master_expected=False)["checks"]
    assert checks[3] == {"code": "master_running", "ok": True,
                         "message": "the master service did not run before the change and was left so"}
    facts["iis"]["sites"] = [site(https=((443, OLD),))]
    result = _planner.health(raw_files(facts), NEW, ports=["4343"])
    assert result["checks"][4] == {"code": "binding_serves_new", "ok": False,
                                   "message": "the Apex One site has no https binding"}
    with pytest.raises(PlanError):
        _planner.health(raw_files(facts), "ABC")


def test_certificate_references():
    records = [{"old_thumbprint": OLD, "status": "applied", "host": "apex01"},
               {"old_thumbprints": [OLD], "status": "rolled_back"}, "junk",
               {"binding_restore": [{"thumbprint": OLD, "bindings": ["*:4343:"]}], "status": "failed"}]
    assert _planner.certificate_references(raw_files(fresh()), OLD, records) == [
        "IIS binding OfficeScan *:4343:", "http.sys 0.0.0.0:4343", "OfcIPCer.dat", "Service.ini https_cert",
        "apricot_config cert_cn", "run record of apex01 (applied): a rollback needs it",
        "run record of this host (failed): a rollback needs it"]
    assert _planner.certificate_references(raw_files(compliant()), NEW) == [
        "IIS binding OfficeScan *:4343:", "http.sys 0.0.0.0:4343", "OfcIPCer.dat",
        "Service.ini https_cert_friendly_name", "apricot_config cert_friendly_name"]
    assert _planner.certificate_references(raw_files(compliant()), OLD) == []
    facts = compliant()
    facts["iis"]["other_https_bindings"] = [{"site": "Default Web Site", "binding_information": "*:443:", "port": 443,
                                             "ip": "*", "certificate_hash": OLD, "protocol": "https"}]
    assert _planner.certificate_references(raw_files(facts), OLD) == ["IIS binding Default Web Site *:443:"]
    with pytest.raises(PlanError):
        _planner.certificate_references(raw_files(facts), "nope")
