"""The planner's helpers, one behaviour per test (issue 17, second round: survivors of the first scored run).

The http.sys record a binding uses, the service states and the stop order around step 7, the restore list of a
rollback, which names a certificate covers, which old-key readers are copied, and the exact texts of the blockers
and health checks an operator reads. Facts come from the helpers of test_planner_mutants.py.
"""

from __future__ import annotations

import pytest
from test_planner_mutants import ADMIN_ACL, CERT, FRIENDLY, HOST, NEW, OLD, cert, desired, fresh, plan, raw_files, site

from ansible_collections.apexone.certificates.plugins.plugin_utils import _planner
from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError

# ------------------------------------------------------------------------------------- the http.sys record


@pytest.mark.parametrize(("binding", "key"), [
    ({"ssl_flags": 1, "hostname": " Apex.Example ", "port": 443}, "apex.example:443"),
    ({"ssl_flags": "1", "hostname": "", "port": 443}, None),
    ({"ssl_flags": 3, "hostname": "apex.example", "port": 443}, None),
    ({"ssl_flags": 0, "ip": "10.0.0.5", "port": "4343"}, "10.0.0.5:4343"),
    ({"ip": "[fe80::1]", "port": 443}, "[fe80::1]:443"),
    ({"ip": "::1", "port": 443}, "[::1]:443"),
    ({"ip": "*", "port": 443}, "0.0.0.0:443"),
    ({"ip": "", "port": 443}, "0.0.0.0:443"),
    ({"port": 443}, "0.0.0.0:443"),
    ({"ip": "X10.0.0.1X", "port": 443}, None),
    ({"ip": "10.0.0.5", "port": None}, None),
])
def test_the_http_sys_record_of_a_binding(binding, key):
    assert _planner._sslcert_key(binding) == key


def test_only_http_sys_entries_with_an_endpoint_are_records():
    facts = {"http_sys": {"bindings": ["junk", None, {"thumbprint": OLD},
                                       {"endpoint": "0.0.0.0:4343", "thumbprint": NEW}]}}
    assert _planner._http_sys_records(facts) == {"0.0.0.0:4343": {"endpoint": "0.0.0.0:4343", "thumbprint": NEW}}


# ------------------------------------------------------------------------------------------- key readers


def _copied(acl):
    old = {"private_key": {"acl": acl}}
    return _planner.key_readers({"copy_key_readers": True}, [old])


@pytest.mark.parametrize(("rights", "copied"), [
    ("Read, Synchronize", True), ("ReadAndExecute,Synchronize", True), ("Synchronize", False), ("Write", False),
    ("-2147483648", True), ("268435456", True), ("1048576", False), ("", False), (None, False),
])
def test_an_old_key_reader_is_copied_only_when_its_rights_read(rights, copied):
    sid = "S-1-5-82-1036420768-1044797643-1061213386-2937092688-4282445334"
    assert _copied([{"sid": sid, "rights": rights, "type": "allow"}]) == ([sid] if copied else [])


def test_an_acl_entry_without_a_type_is_an_allow_entry():
    sid = "S-1-5-21-1-2-3-1001"
    assert _copied([{"sid": sid, "rights": "Read"}]) == [sid]
    assert _copied([{"sid": sid, "rights": "Read", "type": "deny"}]) == []
    acl = [{"identity": "A", "sid": "S-1"}, {"identity": "B", "type": "Deny"}]
    assert _planner._acl_identities({"private_key": {"acl": acl}}) == ["A", "S-1"]


def test_a_reader_on_an_entry_without_a_type_is_not_missing():
    facts = fresh()
    facts["certificates"]["my"].append(cert(NEW, FRIENDLY, acl=[*ADMIN_ACL, {"identity": "CORP\\svc-apex"}]))
    facts["certificates"]["trusted_people"] = [cert(NEW, FRIENDLY, has_key=False)]
    result = plan(facts, desired(key_readers=["CORP\\svc-apex"]))
    assert CERT not in result["modules"]


def test_copy_key_readers_must_be_a_boolean():
    with pytest.raises(PlanError) as caught:
        _planner.key_readers({"copy_key_readers": "yes"}, [])
    assert str(caught.value) == "copy_key_readers must be true or false, not 'yes'"


# ------------------------------------------------------------------------------------------------- names


def test_certificate_covers_a_cn_with_a_trailing_dot_and_a_bracketed_ip():
    assert _planner.certificate_covers(HOST, HOST + ".") is True
    assert _planner.certificate_covers("::1", "other", san_ip=["[::1]"]) is True
    assert _planner.certificate_covers("10.0.0.7", "other", san_ip=["junk", "10.0.0.7"]) is True
    assert _planner.certificate_covers("10.0.0.8", "other", san_ip=["10.0.0.7"]) is False


# ---------------------------------------------------------------------------------------------- services


@pytest.mark.parametrize(("service", "status"), [
    ({"state": "started"}, "running"), ({"state": "Stop_Pending"}, "stop_pending"), ({"state": "Weird"}, "weird"),
    ({"status": "Running", "state": "stopped"}, "running"), ({}, None), ({"state": ""}, None),
])
def test_service_status_from_status_or_state(service, status):
    assert _planner._status(service) == status


def test_a_dependency_cycle_still_gives_a_finite_stop_order():
    services = [{"name": "Alpha", "status": "running", "dependents": ["BETA"]},
                {"name": "Beta", "status": "running", "dependents": ["alpha"]}]
    # Alpha's dependent Beta depends on Alpha again: the walk stops at the repeat and lists each name once.
    assert _planner._stop_order(services) == ["alpha", "Beta"]


def test_dependents_of_a_dependent_are_stopped_first_whatever_their_case():
    services = [{"name": "Master", "status": "running", "dependents": ["CHILD"]},
                {"name": "child", "status": "stopped", "dependents": ["Grandchild"]}]
    assert _planner._stop_order(services) == ["Grandchild", "child", "Master"]


def test_service_restore_skips_only_services_with_neither_status_nor_mode():
    before = [{"name": "A", "status": "running", "start_mode": None},
              {"name": "B", "status": None, "start_mode": "manual"},
              {"name": "C", "status": None, "start_mode": None},
              {"name": "D", "before": {"status": "stopped", "start_mode": "Disabled"}}]
    assert _planner.service_restore(before) == [
        {"name": "D", "state": "stopped", "start_mode": "disabled"},
        {"name": "B", "state": "stopped", "start_mode": "manual"},
        {"name": "A", "state": "started"}]


# ------------------------------------------------------------------------------------- exact operator texts


def test_the_several_sites_and_friendly_name_taken_texts():
    facts = fresh()
    facts["iis"]["sites"] = [site("OfficeScan", https=((4343, OLD),)), site("Other", https=((443, OLD),))]
    facts["certificates"]["my"].append(cert("AB" * 20, FRIENDLY))
    result = plan(facts, desired())
    messages = {b["code"]: b["message"] for b in result["blockers"]}
    assert messages["several_sites"] == (
        "several IIS sites look like the Apex One site (OfficeScan, Other): set apexone_cert_site_name to the one that "
        "serves the Apex One console and agents (run again with the other name if it needs the new certificate too)")
    assert messages["friendly_name_taken"] == (
        f"the friendly name '{FRIENDLY}' is already used in LocalMachine\\My by {'AB' * 20}; the Smart Protection "
        "Server selects its certificate by this name (KA-0004491), so it must be unique in the store: choose another "
        "apexone_cert_friendly_name, or remove the stale certificate")


def test_health_names_a_binding_that_serves_nothing_and_checks_master_expected():
    facts = fresh()
    facts["iis"]["sites"] = [site(https=((4343, None),))]
    facts["http_sys"]["bindings"] = []
    result = _planner.health(raw_files(facts), NEW)
    assert result["checks"][4]["message"] == "*:4343: serves nothing"
    with pytest.raises(PlanError) as caught:
        _planner.health(raw_files(facts), NEW, master_expected="maybe")
    assert str(caught.value) == "master_expected must be true or false, not 'maybe'"


def test_a_certificate_without_a_cn_is_not_referenced_by_name():
    facts = fresh()
    facts["certificates"]["my"] = [{**cert(OLD), "subject_cn": None, "friendly_name": ""}]
    facts["service_ini"].update(https_cert="XXXX", https_cert_friendly_name=None)
    facts["apricot_config"].update(cert_cn="xxxx", cert_friendly_name=None)
    refs = _planner.certificate_references(raw_files(facts), OLD)
    assert [r for r in refs if r.startswith(("Service.ini", "apricot_config"))] == []


# ---------------------------------------------------------------------------------------------- OfcIPCer.dat


def _ofcipcer_problems(result):
    return [(p["code"], p["severity"], p["message"]) for p in result["blockers"] + result["warnings"]
            if p["code"].startswith("ofcipcer")]


def test_an_ofcipcer_of_unknown_bytes_is_replaced_as_der_with_a_warning():
    facts = fresh()
    facts["ofcipcer"]["thumbprint"] = "not a certificate"
    result = plan(facts, desired())
    assert _ofcipcer_problems(result) == [
        ("ofcipcer_encoding_unknown", "warning",
         "OfcIPCer.dat is neither DER nor PEM (unknown); it will be written as DER")]
    (change,) = [f for f in result["files"] if f["file"] == "ofcipcer"]
    assert change["diff"] == (f"{change['path']}: certificate unreadable (unknown) -> {NEW} (der)\n")
    assert "apexone.certificates.win_agent_cert" in result["modules"]


def test_an_ofcipcer_whose_content_is_not_what_was_gathered_is_a_blocker():
    raw = raw_files(fresh())
    raw["ofcipcer"]["sha256"] = "0" * 64
    result = _planner.plan(raw, desired())
    assert _ofcipcer_problems(result) == [
        ("ofcipcer_unusable", "error", "OfcIPCer.dat cannot be replaced: the content of OfcIPCer.dat does not have the "
         "SHA-256 win_server_info reported; gather the facts again")]
    assert result["applicable"] is False


def test_the_ofcipcer_diff_names_both_certificates_and_encodings():
    result = plan(fresh(), desired())
    (change,) = [f for f in result["files"] if f["file"] == "ofcipcer"]
    assert change["diff"] == f"{change['path']}: certificate {OLD} (der) -> {NEW} (der)\n"


# ------------------------------------------------------------------------------------------ bindings (step 5)


def _binding(**fields):
    return {"protocol": "https", "port": 4343, "certificate_hash": OLD, "ip": "*", **fields}


def test_a_binding_without_binding_information_is_named_from_ip_port_and_host():
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"] = [_binding(ssl_flags=1, hostname="apex.example", ip="*")]
    facts["http_sys"]["bindings"] = [{"endpoint": "apex.example:4343", "port": 4343, "thumbprint": OLD, "type": "sni"}]
    result = plan(facts, desired())
    changes = [(c["binding"], c["sslcert"]) for c in result["binding_changes"]]
    assert changes == [("*:4343:apex.example", "apex.example:4343")]


@pytest.mark.parametrize(("flags", "code", "severity"), [
    (1, "binding_unusable", "error"), (2, "central_certificate_store", "warning"),
    (3, "central_certificate_store", "warning")])
def test_a_binding_without_a_record_is_a_blocker_or_a_central_store_warning(flags, code, severity):
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"] = [_binding(binding_information="*:4343:", ssl_flags=flags, hostname=""),
                                            _binding(binding_information="*:443:", port=443)]
    result = plan(facts, desired())
    found = [(p["code"], p["severity"]) for p in result["blockers"] + result["warnings"]
             if p["code"] in ("binding_unusable", "central_certificate_store")]
    assert found == [(code, severity)]
    texts = {p["code"]: p["message"] for p in result["blockers"] + result["warnings"]}
    if code == "central_certificate_store":
        assert texts[code] == ("binding *:4343: of site 'OfficeScan' uses the central certificate store; it is not "
                               "changed here (put the new certificate in the central store)")
    assert [c["binding"] for c in result["binding_changes"]] == ["*:443:"]


def test_an_ip_record_used_by_another_sites_binding_is_never_moved():
    facts = fresh()
    facts["iis"]["other_https_bindings"] = [{"site": "Other", "protocol": "https", "port": 4343, "ip": "10.0.0.9",
                                             "binding_information": "10.0.0.9:4343:", "certificate_hash": OLD}]
    facts["http_sys"]["bindings"].append({"endpoint": "10.0.0.9:4343", "port": 4343, "thumbprint": OLD, "type": "ip"})
    result = plan(facts, desired())
    assert [c["sslcert"] for c in result["binding_changes"]] == ["0.0.0.0:4343"]


# ------------------------------------------------------------------------------------------------ step 7 name


@pytest.mark.parametrize("wanted", [FRIENDLY, "XXXX"])
def test_a_certificate_without_a_friendly_name_gets_one_whatever_it_is(wanted):
    facts = fresh()
    facts["certificates"]["my"].append(cert(NEW, None, acl=ADMIN_ACL))
    facts["certificates"]["trusted_people"] = [cert(NEW, None, has_key=False)]
    result = plan(facts, desired(friendly_name=wanted))
    (action,) = [a for a in result["actions"] if a["module"] == CERT]
    assert action["steps"] == [7]
    assert action["reasons"] == [f"friendly name is '', not '{wanted}'"]


def test_the_key_not_exportable_text():
    facts = fresh()
    facts["certificates"]["my"].append(cert(NEW, FRIENDLY, acl=ADMIN_ACL, exportable=False))
    result = plan(facts, desired())
    assert [(w["code"], w["message"]) for w in result["warnings"] if w["code"] == "key_not_exportable"] == [
        ("key_not_exportable", "the private key in My is not exportable; the KB asks for an exportable key, but it is "
         "left as it is (safer). Import it again by hand if you need to export it.")]


# ---------------------------------------------------------------------------------------------- true / false


@pytest.mark.parametrize(("value", "flag"), [
    (True, True), (False, False), ("yes", True), (" On ", True), ("ON", True), ("1", True), (1, True), ("TRUE", True),
    ("no", False), ("Off", False), ("0", False), (0, False), ("false", False), ("FALSE", False),
    (None, "default"), ("", "default")])
def test_bool_words(value, flag):
    assert _planner._bool(value, "x", "default") == flag


def test_a_bool_that_is_neither_names_its_option():
    for name in ("allow_name_mismatch", "restart_services"):
        with pytest.raises(PlanError) as caught:
            plan(fresh(), desired(**{name: "maybe"}))
        assert str(caught.value) == f"{name} must be true or false, not 'maybe'"


# ------------------------------------------------------------------------------------- http.sys and sharing


def test_an_sni_record_on_the_sites_port_is_not_a_stray_ip_record():
    facts = fresh()
    facts["http_sys"]["bindings"].append({"endpoint": "other.example:4343", "port": 4343, "thumbprint": OLD,
                                          "type": "sni"})
    result = plan(facts, desired())
    assert [c["sslcert"] for c in result["binding_changes"]] == ["0.0.0.0:4343"]


def test_a_shared_ipv6_record_is_warned_about_whatever_the_case_of_its_address():
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"] = [_binding(binding_information="[fe80::a]:4343:", ip="fe80::a")]
    facts["http_sys"]["bindings"] = [{"endpoint": "[fe80::a]:4343", "port": 4343, "thumbprint": OLD, "type": "ip"}]
    facts["iis"]["other_https_bindings"] = [{"site": "Other", "protocol": "https", "port": 4343, "ip": "FE80::A",
                                             "binding_information": "[FE80::A]:4343:", "certificate_hash": OLD}]
    result = plan(facts, desired())
    assert [w["code"] for w in result["warnings"] if w["code"] == "shared_binding"] == ["shared_binding"]


def test_a_binding_without_a_certificate_reads_none_in_the_reason_and_the_lines():
    facts = fresh()
    facts["iis"]["sites"] = [site(https=((4343, None),))]
    facts["http_sys"]["bindings"] = []
    result = plan(facts, desired())
    (action,) = [a for a in result["actions"] if a["module"] == "apexone.certificates.win_iis_https_binding"]
    assert action["reasons"] == [f"bindings to move: *:4343: (http.sys 0.0.0.0:4343) none -> {NEW}"]
    assert f"binding *:4343:: none -> {NEW}" in result["lines"]
    assert result["site_name"] == "OfficeScan"


# ------------------------------------------------------------------------------------------------- step 7


def test_step7_reasons_name_only_the_fields_that_differ():
    facts = fresh()
    facts["service_ini"].update(https_cert=HOST, https_cert_friendly_name="old name")
    facts["apricot_config"].update(cert_cn=HOST, cert_friendly_name="old name")
    result = plan(facts, desired())
    (action,) = [a for a in result["actions"] if a["module"] == "apexone.certificates.win_cert_persistence"]
    assert action["reasons"] == ["Service.ini HTTPS_CERT_FRIENDLY_NAME is 'old name'; apricot_config "
                                 "cert_friendly_name is 'old name'"]


@pytest.mark.parametrize(("key", "label"), [("service_ini", "Service.ini"), ("apricot_config", "apricot_config")])
def test_a_step7_file_that_changed_since_it_was_gathered_is_a_blocker(key, label):
    raw = raw_files(fresh())
    raw[key]["sha256"] = "0" * 64
    result = _planner.plan(raw, desired())
    (blocker,) = [b for b in result["blockers"] if b["code"] == "persistence_file_unusable"]
    assert blocker["message"] == (
        f"{label} ({raw[key]['path']}) cannot be edited for step 7: the content of {label} does not have the SHA-256 "
        "win_server_info reported; gather the facts again; fix the file by hand (KA-0004491) and run again")


def test_an_unwritable_name_still_warns_about_a_missing_second_file():
    facts = fresh()
    facts["apricot_config"] = {"exists": False}
    result = plan(facts, desired(friendly_name="Apex One Zertifikat \u00fc"))
    assert "friendly_name_invalid" in [b["code"] for b in result["blockers"]]
    assert "apricot_config_missing" in [w["code"] for w in result["warnings"]]


def test_the_step7_diff_and_its_line_name_the_file():
    result = plan(fresh(), desired())
    (change,) = [f for f in result["files"] if f["file"] == "service_ini"]
    assert change["diff"].splitlines()[:2] == [f"--- {change['path']} (now)", f"+++ {change['path']} (planned)"]
    assert (f"file {change['path']}: sha256 {change['sha256_before'][:16]} -> {change['sha256_after'][:16]}"
            in result["lines"])


# --------------------------------------------------------------------------------------- versions and names


def _problem_text(result, code):
    (text,) = [p["message"] for p in result["blockers"] + result["warnings"] if p["code"] == code]
    return text


def test_the_version_blocker_texts():
    facts = fresh()
    facts["product"] = {"server_version": "11.0", "service_pack_build": None}
    assert _problem_text(plan(facts, desired()), "unsupported_version") == (
        "OfficeScan 11.0 (build unknown) has no fix for the certificate revert: the Smart Protection Server re-imports "
        "its own certificate when the services restart (KA-0004491). Upgrade first to OfficeScan XG build 5417 or "
        "later, or to Apex One")
    facts["product"] = {"server_version": "12.0", "service_pack_build": None}
    assert _problem_text(plan(facts, desired()), "old_build") == (
        "OfficeScan XG build unknown lacks the step-7 fix (needs 5417+): the certificate would be reverted when the "
        "services restart. Upgrade first to OfficeScan XG build 5417 or later, or to Apex One (KA-0004491)")


def test_the_master_domain_name_texts():
    facts = fresh()
    facts["ofcscan_ini"]["master_domain_name"] = "apex-old.corp.example"
    wanted = desired(san_dns=[HOST, "apex"], san_ip=["10.0.0.5"])
    head = ("Master_DomainName in ofcscan.ini is 'apex-old.corp.example', the name agents use to reach this server, "
            f"and the new certificate does not cover it (CN and SAN: {HOST}, {HOST}, apex, 10.0.0.5) (KA-0010488)")
    assert _problem_text(plan(facts, wanted), "master_domain_name") == (
        head + ": request a certificate for that name, or set apexone_cert_allow_name_mismatch: true if agents and "
        "browsers really use a name the certificate covers")
    assert _problem_text(plan(facts, {**wanted, "allow_name_mismatch": True}), "master_domain_name") == (
        head + "; allowed by apexone_cert_allow_name_mismatch")
    facts["ofcscan_ini"]["master_domain_name"] = None
    assert _problem_text(plan(facts, desired()), "master_domain_name_unknown") == (
        "ofcscan.ini has no Master_DomainName (or it could not be read): the name agents use was not compared with the "
        "certificate (KA-0010488)")


def test_a_foreign_dependent_is_recorded_without_a_state():
    facts = fresh()
    facts["services"]["master"].update(status="running", start_mode="auto", dependents=["TmFoo"])
    result = plan(facts, desired())
    assert result["services_before"] == [{"name": "TmFoo", "status": None, "start_mode": None},
                                         {"name": "ofcservice", "status": "running", "start_mode": "auto"}]
    assert result["service_restore"] == [{"name": "ofcservice", "state": "started", "start_mode": "auto"}]


def test_a_dependency_cycle_below_the_running_service_ends():
    services = [{"name": "A", "status": "running", "dependents": ["B"]},
                {"name": "B", "status": "stopped", "dependents": ["C"]},
                {"name": "C", "status": "stopped", "dependents": ["B"]}]
    assert _planner._stop_order(services) == ["B", "C", "A"]


def test_a_binding_is_named_by_its_binding_information():
    facts = fresh()
    facts["iis"]["sites"][0]["bindings"] = [_binding(binding_information="*:4343:", ip="0.0.0.0")]
    result = plan(facts, desired())
    assert [(c["binding"], c["sslcert"]) for c in result["binding_changes"]] == [("*:4343:", "0.0.0.0:4343")]


def test_an_apricot_config_with_only_its_cn_wrong_gives_only_that_reason():
    facts = fresh()
    facts["service_ini"].update(https_cert=HOST, https_cert_friendly_name=FRIENDLY)
    facts["apricot_config"].update(cert_cn="old-name", cert_friendly_name=FRIENDLY)
    result = plan(facts, desired())
    (action,) = [a for a in result["actions"] if a["module"] == "apexone.certificates.win_cert_persistence"]
    assert action["reasons"] == ["apricot_config cert_cn is 'old-name'"]
