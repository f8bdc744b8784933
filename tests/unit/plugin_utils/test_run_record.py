"""Run records (issue #14): the controller refuses a forged or tampered record before a rollback acts on it.

The server facts come from the test double (tests/double/winsim.py), which answers win_server_info as the module
does. Each attack of the security review is planted as a record and must be refused with a message that names
what is wrong; a record the role really writes must pass.
"""

from __future__ import annotations

import base64
import copy
import json

import pki
import pytest
import winsim
from cryptography.hazmat.primitives import serialization

from ansible_collections.apexone.certificates.plugins.module_utils import _x509
from ansible_collections.apexone.certificates.plugins.plugin_utils import _run_record as rr

INSTALL = winsim.INSTALL
HOST = "apex01.corp.example"


@pytest.fixture(scope="module")
def material(lab_pki):
    _k, old = pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=800))
    _k2, attacker = pki.make_cert("attacker.example", issuer=None, key=pki.rsa_key(2048, slot=801))
    return {"old": old, "attacker": attacker, "intermediate": lab_pki.intermediate.cert}


def facts_of(state: dict, record: dict | str | None = None, protection: dict | None = None) -> dict:
    state = copy.deepcopy(state)
    if record is not None:
        plant(state, record if isinstance(record, str) else json.dumps(record), protection)
    return winsim.ApexOneServer(state).call("win_server_info", {})


def plant(state: dict, text: str, protection: dict | None = None) -> None:
    """A run record in the double's registry, with the key's security (admin-only unless overridden)."""
    winsim.reg_set(state, winsim.RUN_RECORD_KEY, winsim.RUN_RECORD_VALUE, text)
    state["registry"][winsim.RUN_RECORD_KEY.lower()]["security"] = dict(winsim.ADMIN_ONLY_KEY, **(protection or {}))


@pytest.fixture
def server_state(material):
    state = winsim.new_state(material["old"], hostname=HOST)
    # The intermediate sits in CA (where step 6a moved it, or where it always was).
    state["stores"]["CA"].append(winsim.cert_record(material["intermediate"]))
    return state


@pytest.fixture
def good_record(server_state, material):
    """What the role writes for a replacement that moved the binding, changed Schannel and wrote OfcIPCer.dat."""
    facts = facts_of(server_state)
    old = _x509.thumbprint(material["old"])
    plan = {"new_thumbprint": "A" * 40, "old_thumbprints": [old]}
    record = rr.start_record(facts, plan, "apex01", "2026-11-30T08:00:00Z")
    record.update(
        status="applied", imported=True, bindings_moved=True, schannel_changed=True, services_stopped=True,
        roots_moved=[], restores=[{"path": f"{INSTALL}\\Pccnt\\Common\\OfcIPCer.dat",
                                   "backup_file": f"{INSTALL}\\Pccnt\\Common\\OfcIPCer.dat.20261130-080001.bak"}],
    )
    return record


def refused(state, record, match, protection=None):
    with pytest.raises(rr.RunRecordError, match=match):
        rr.for_rollback(facts_of(state, record, protection), "apex01")


def test_the_record_the_role_writes_is_accepted(server_state, good_record, material):
    clean = rr.for_rollback(facts_of(server_state, good_record), "apex01")
    assert clean["old_thumbprint"] == _x509.thumbprint(material["old"])
    assert clean["bindings_before"] == [{"binding": "*:4343:", "thumbprint": _x509.thumbprint(material["old"])}]
    assert clean["schannel_previous"] is None


def test_no_record_on_the_server_means_nothing_to_roll_back(server_state):
    with pytest.raises(rr.RunRecordError, match=r"the server has no run record .*never used for a rollback"):
        rr.for_rollback(facts_of(server_state), "apex01")


# ------------------------------------------------------------------------------ the attacks of the review
def test_attack_copy_an_arbitrary_exe_over_ofcservice(server_state, good_record):
    forged = dict(good_record, restores=[{"path": f"{INSTALL}\\ofcservice.exe",
                                          "backup_file": "C:\\Users\\Public\\Downloads\\evil.exe"}])
    refused(server_state, forged, r"restores\[0\]\.path .*ofcservice\.exe.* is not one of the files this collection writes")


def test_attack_restore_a_known_file_from_an_arbitrary_source(server_state, good_record):
    forged = dict(good_record, restores=[{"path": f"{INSTALL}\\Pccnt\\Common\\OfcIPCer.dat",
                                          "backup_file": "C:\\Users\\Public\\evil.exe"}])
    refused(server_state, forged, r"backup_file .*evil\.exe.* is not a backup the modules write")


@pytest.mark.parametrize("backup", [
    INSTALL + "\\Pccnt\\Common\\OfcIPCer.dat.20261130-080001.bak\\..\\..\\..\\ofcservice.exe",
    "\\\\attacker\\share\\OfcIPCer.dat.20261130-080001.bak",
    INSTALL + "\\Pccnt\\Common\\OfcIPCer.dat.20261130-080001.bak:evil.exe",
    "C:/Users/Public/OfcIPCer.dat.20261130-080001.bak",
])
def test_backup_paths_with_tricks_are_refused(server_state, good_record, backup):
    forged = dict(good_record, restores=[{"path": f"{INSTALL}\\Pccnt\\Common\\OfcIPCer.dat", "backup_file": backup}])
    refused(server_state, forged, r"is not a plain local Windows path")


def test_backup_of_another_file_is_refused(server_state, good_record):
    forged = dict(good_record, restores=[{"path": f"{INSTALL}\\WSS\\Service.ini",
                                          "backup_file": f"{INSTALL}\\WSS\\ofcservice.exe.20261130-080001.bak"}])
    refused(server_state, forged, r"is not a backup the modules write \('Service\.ini\.<yyyyMMdd-HHmmss>\.bak'")


def test_attack_promote_an_intermediate_into_root(server_state, good_record, material):
    intermediate = _x509.thumbprint(material["intermediate"])
    forged = dict(good_record, roots_moved=[{"thumbprint": intermediate, "subject": "CN=Lab Intermediate",
                                             "already_in_ca": True}])
    refused(server_state, forged, rf"roots_moved\[0\] {intermediate} is not listed in roots_before")


def test_a_root_the_record_says_was_there_is_accepted(server_state, good_record, material):
    intermediate = _x509.thumbprint(material["intermediate"])
    record = dict(good_record, roots_before=[intermediate],
                  roots_moved=[{"thumbprint": intermediate, "subject": "CN=x", "issuer": "CN=y",
                                "not_after": "2030-01-01T00:00:00Z", "already_in_ca": False}])
    assert rr.for_rollback(facts_of(server_state, record), "apex01")["roots_moved"][0]["thumbprint"] == intermediate


@pytest.mark.parametrize(("value", "match"), [
    ("0", r"schannel_previous must be null or one of 0, 1, 2"),
    (7, r"schannel_previous must be null or one of 0, 1, 2"),
    (True, r"schannel_previous must be null or one of 0, 1, 2"),
    (0.0, r"schannel_previous must be null or one of 0, 1, 2"),
])
def test_attack_client_auth_trust_mode_values_schannel_does_not_define(server_state, good_record, value, match):
    refused(server_state, dict(good_record, schannel_previous=value), match)


@pytest.mark.parametrize("writer", ["S-1-5-32-545", "S-1-1-0", "S-1-5-11", "S-1-5-21-1-2-3-1001"])
def test_attack_client_auth_trust_mode_0_in_a_key_others_can_write(server_state, good_record, writer):
    """ClientAuthTrustMode=0 is a value Schannel defines: the defence is that only admins can write the record."""
    forged = dict(good_record, schannel_changed=True, schannel_previous=0)
    refused(server_state, forged, rf"can be written by {writer} .* may have been forged",
            protection={"writers": ["S-1-5-18", "S-1-5-32-544", writer]})


def test_a_key_owned_by_someone_else_is_refused(server_state, good_record):
    refused(server_state, good_record, r"owned by S-1-5-21-1-2-3-1001, not by SYSTEM or Administrators",
            protection={"owner": "S-1-5-21-1-2-3-1001"})


def test_unreadable_permissions_are_refused(server_state, good_record):
    facts = facts_of(server_state, good_record)
    facts["run_record_protection"]["error"] = "Access is denied"
    with pytest.raises(rr.RunRecordError, match=r"could not be read: Access is denied"):
        rr.for_rollback(facts, "apex01")


def test_attack_rebind_to_a_thumbprint_of_the_attackers_choice(server_state, good_record, material):
    attacker = _x509.thumbprint(material["attacker"])
    refused(server_state, dict(good_record, old_thumbprint=attacker),
            rf"would rebind to {attacker}, which its bindings_before does not list")
    # Listed as bound before (a forged bindings_before too), but not on the server with a key.
    forged = dict(good_record, old_thumbprint=attacker, bindings_before=[{"binding": "*:4343:", "thumbprint": attacker}])
    refused(server_state, forged, rf"would rebind to {attacker}, which is not in LocalMachine\\My with a private key")


@pytest.mark.parametrize("value", ["abc", "a" * 40, "G" * 40, "A" * 41, 12, None])
def test_thumbprints_are_40_upper_case_hex_digits(server_state, good_record, value):
    refused(server_state, dict(good_record, new_thumbprint=value), r"new_thumbprint must be a thumbprint of 40")


def test_site_must_be_one_the_server_has(server_state, good_record):
    refused(server_state, dict(good_record, site_name="*"), r"names the IIS site '\*', which this server does not have")


# ------------------------------------------------------------------------------ shape of the record
def test_unknown_fields_are_refused(server_state, good_record):
    refused(server_state, dict(good_record, command="calc.exe"), r"fields this collection never writes: command")
    nested = dict(good_record, restores=[dict(good_record["restores"][0], mode="0777")])
    refused(server_state, nested, r"restores\[0\] has fields this collection never writes: mode")


@pytest.mark.parametrize(("text", "match"), [
    ("not json", r"not valid JSON"),
    ("[1, 2]", r"not a JSON object"),
    ('{"host": "a", "host": "b"}', r"repeats a field"),
    ('{"schannel_previous": NaN}', r"holds NaN, which is not JSON"),
    ("{" + " " * rr.MAX_RECORD_CHARS + "}", r"larger than"),
])
def test_malformed_text_is_refused(server_state, text, match):
    refused(server_state, text, match)


@pytest.mark.parametrize("status", ["rolled_back", "planned", ""])
def test_a_status_with_nothing_to_roll_back(server_state, good_record, status):
    match = r"nothing to roll back" if status == "rolled_back" else r"status must be one of"
    refused(server_state, dict(good_record, status=status), match)


def test_missing_required_fields(server_state, good_record):
    record = dict(good_record)
    del record["started"]
    refused(server_state, record, r"lacks the field 'started'")


@pytest.mark.parametrize("name", ["../../x/owned", "..", ".hidden", "a/b", "a\\b", "CON", "nul.json", "", "x" * 300,
                                  "host name", "apex01.", "über"])
def test_hostile_inventory_names_are_refused_as_file_names(name):
    with pytest.raises(rr.RunRecordError, match=r"is not a safe file name"):
        rr.safe_file_name(name)


@pytest.mark.parametrize("name", ["apex01", "apex01.corp.example", "APEX-01_b", "10.0.0.1"])
def test_ordinary_inventory_names_are_safe(name):
    assert rr.safe_file_name(name) == name


def test_a_record_naming_a_hostile_host_is_refused(server_state, good_record):
    refused(server_state, dict(good_record, host="../../x/owned"), r"host '\.\./\.\./x/owned' is not a safe file name")


def test_start_record_refuses_a_hostile_inventory_name(server_state):
    with pytest.raises(rr.RunRecordError, match=r"not a safe file name"):
        rr.start_record(facts_of(server_state), {"new_thumbprint": "A" * 40}, "../../x/owned", "2026-11-30T08:00:00Z")


def test_the_schema_lists_every_field_the_role_writes():
    """restore.yml and apply.yml write these; a new field must be added to FIELDS (else rollbacks are refused)."""
    role_fields = {"host", "started", "status", "new_thumbprint", "old_thumbprint", "site_name", "new_was_present",
                   "schannel_previous", "imported", "bindings_moved", "schannel_changed", "roots_moved",
                   "services_stopped", "restores", "error", "rolled_back", "not_restored",
                   # enroll.yml (renewal in place, #16)
                   "source", "signer", "request_thumbprint", "request_created", "request_id", "accepted", "last_step"}
    assert role_fields <= set(rr.FIELDS)


# ------------------------------------------------------------------------------ previous bytes in the record
def test_previous_bytes_through_the_writers_are_accepted(server_state, good_record, material):
    """The writers' restore (#13 bytes): file key, previous content, sha256 of what the run wrote, backup in
    %ProgramData%\\apexone.certificates\\backups."""
    der = base64.b64encode(material["old"].public_bytes(serialization.Encoding.DER)).decode()
    record = dict(good_record, restores=[{
        "file": "ofcipcer", "path": f"{INSTALL}\\Pccnt\\Common\\OfcIPCer.dat", "content": der, "sha256": "ab" * 32,
        "backup_file": "C:\\ProgramData\\apexone.certificates\\backups\\OfcIPCer.dat.20261130-080001.bak"}])
    assert rr.for_rollback(facts_of(server_state, record), "apex01")["restores"][0]["file"] == "ofcipcer"
    refused(server_state, dict(record, restores=[dict(record["restores"][0], file="service_ini")]),
            r"says file 'service_ini' but its path is the ofcipcer file")
    refused(server_state, dict(record, restores=[dict(record["restores"][0], content=base64.b64encode(b"MZ\x90\x00").decode())]),
            r"content is not a certificate")
    key_pem = pki.key_pem(pki.rsa_key(2048, slot=800)).encode()
    with_key = base64.b64encode(material["old"].public_bytes(serialization.Encoding.PEM) + key_pem).decode()
    refused(server_state, dict(record, restores=[dict(record["restores"][0], content=with_key)]), r"holds a private key")
    refused(server_state, dict(record, restores=[dict(record["restores"][0], sha256="xyz")]), r"SHA-256 of 64 hex")
    refused(server_state, dict(record, restores=[dict(record["restores"][0], content="not base64!")]), r"is not base64")
    refused(server_state, dict(record, restores=[dict(record["restores"][0], file="ofcservice")]),
            r"file must be one of ofcipcer, service_ini, apricot_config")


# ------------------------------------------------------------------------------ the procedure's fields
def test_binding_restore_and_services_are_checked(server_state, good_record, material):
    old, attacker = _x509.thumbprint(material["old"]), _x509.thumbprint(material["attacker"])
    facts = facts_of(server_state)
    service = next(iter(facts["services"].values()))["name"]
    record = dict(good_record, binding_restore=[{"thumbprint": old, "bindings": ["*:4343:"]}],
                  services_stop=[{"name": service, "state": "stopped"}],
                  services_restore=[{"name": service, "state": "started", "start_mode": "auto"}])
    assert rr.for_rollback(facts_of(server_state, record), "apex01")["binding_restore"][0]["thumbprint"] == old
    refused(server_state, dict(record, binding_restore=[{"thumbprint": attacker, "bindings": ["*:4343:"]}]),
            rf"binding_restore\[0\] would rebind to {attacker}, which its bindings_before does not list")
    refused(server_state, dict(record, services_stop=[{"name": "WinRM", "state": "stopped"}]),
            r"services_stop\[0\] names the service 'WinRM', which is not an Apex One service")
    refused(server_state, dict(record, services_restore=[{"name": service, "state": "paused"}]),
            r"state must be one of started, stopped")
    refused(server_state, dict(record, services_stop=[{"name": "*", "state": "stopped"}]), r"is not a service name")


# ------------------------------------------------------------------------------ renewal in place (#16)
@pytest.fixture
def enroll_record(server_state, material):
    """What the role writes before a renewal in place made its request: no new certificate yet."""
    facts = facts_of(server_state)
    record = rr.start_record(facts, {"new_thumbprint": None, "old_thumbprints": [_x509.thumbprint(material["old"])]},
                             "apex01", "2026-11-30T08:00:00Z")
    record.update(source="enroll", signer="adcs", request_thumbprint="C" * 40, request_created=True, accepted=False,
                  request_id=42, status="pending")
    return record


def test_a_renewal_record_before_signing_is_accepted(server_state, enroll_record):
    clean = rr.for_rollback(facts_of(server_state, enroll_record), "apex01")
    assert (clean["new_thumbprint"], clean["request_thumbprint"], clean["status"], clean["request_id"]) == \
        (None, "C" * 40, "pending", 42)


@pytest.mark.parametrize("change, message", [
    ({"source": None}, r"new_thumbprint must be a thumbprint of 40 upper-case hex digits, not None"),
    ({"accepted": True}, r"names no new certificate but says accepted"),
    ({"bindings_moved": True}, r"names no new certificate but says bindings_moved"),
    ({"source": "csr"}, r"source must be one of pfx, enroll"),
    ({"request_thumbprint": "c" * 40}, r"request_thumbprint must be a thumbprint of 40"),
    ({"request_id": -1}, r"request_id must be null or a positive AD CS request id"),
    ({"request_id": True}, r"request_id must be null or a positive AD CS request id"),
    ({"signer": "anyone"}, r"signer must be one of adcs, controller"),
])
def test_a_renewal_record_is_checked_like_any_other(server_state, enroll_record, change, message):
    record = dict(enroll_record, **change)
    if change.get("source", "") is None:
        del record["source"]
    refused(server_state, record, message)


def test_only_a_renewal_accepts_onto_a_pending_key(server_state, good_record):
    refused(server_state, dict(good_record, accepted=True), r"says a certificate was accepted onto a pending key")
    refused(server_state, dict(good_record, source="pfx", accepted=True), r"accepted onto a pending key")
