"""The double's model of certreq.exe and of an enterprise CA (issue 16), checked directly (no ansible-playbook).

Request (certreq -new) -> submit (issued / pending / denied) -> accept, the REQUEST store entry's lifecycle, the
saved request file, key deletion on absent, reuse of a pending request, win_webhost_cert's finish mode.
"""

from __future__ import annotations

import pki
import pytest
import scenarios
import winsim
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.apexone.certificates.plugins.plugin_utils import _certreq

FQDN = "apex01.corp.example"
SPEC = {"subject_cn": FQDN, "dns_names": ["apex01"], "ip_addresses": ["10.0.0.15"], "key_length": 2048,
        "key_provider": "legacy", "exportable": False, "friendly_name": "Apex One web host 2026",
        "hash_algorithm": "sha256", "template": "WebServer"}


@pytest.fixture(scope="module")
def original():
    return pki.make_cert(FQDN, issuer=None, key=pki.rsa_key(2048, slot=820))[1]


def server(original, name="enroll_adcs_issue", **ca) -> winsim.ApexOneServer:
    state = scenarios.build_state(scenarios.ENROLL_BY_NAME[name], hostname=FQDN, original=original)
    if ca:
        scenarios.add_ca(state, **ca)
    return winsim.ApexOneServer(state)


def request(srv, **spec):
    return srv.call("win_apexone_cert_request", {"inf": _certreq.build_inf({**SPEC, **spec})})


def submit(srv, made, **extra):
    return srv.call("win_apexone_cert_submit", {"request_thumbprint": made["request_thumbprint"],
                                                "ca_config": scenarios.CA_CONFIG, **extra})


def test_request_makes_a_key_a_pending_request_and_a_saved_request_file(original):
    srv = server(original)
    made = request(srv)
    assert made["changed"] and made["certreq_exit_code"] == 0 and "CertReq: Request Created" in made["certreq_output"]
    assert made["request"].startswith("-----BEGIN NEW CERTIFICATE REQUEST-----\r\n")
    csr = winsim.read_request(made["request"])
    assert csr.is_signature_valid and csr.subject.rfc4514_string() == f"CN={FQDN}"
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [FQDN, "apex01"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.15"]
    assert list(csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert csr.public_key().key_size == 2048
    usage = csr.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.digital_signature, usage.key_encipherment, usage.key_cert_sign, usage.content_commitment) == (
        True, True, False, False)
    entry = srv._find("REQUEST", made["request_thumbprint"])
    key = srv.state["machine_keys"][entry["key_id"]]
    assert (key["provider"], key["provider_type"], key["exportable"], key["machine"]) == (
        "Microsoft RSA SChannel Cryptographic Provider", "csp", False, True)
    assert entry["friendly_name"] == "Apex One web host 2026"
    assert made["request_file"] == winsim.request_file(made["request_thumbprint"])
    assert srv.read_path(made["request_file"]).decode() == made["request"]
    info = srv.call("win_server_info", {})["certificates"]["request"]
    assert [(i["thumbprint"], i["request_file"], i["key_size"], i["private_key"]["provider_type"]) for i in info] == [
        (made["request_thumbprint"], made["request_file"], 2048, "csp")]


def test_cng_provider_and_exportable(original):
    srv = server(original)
    made = request(srv, key_provider="cng", exportable=True, key_length=3072)
    key = srv.state["machine_keys"][srv._find("REQUEST", made["request_thumbprint"])["key_id"]]
    assert (key["provider_type"], key["exportable"], key["length"]) == ("cng", True, 3072)


def test_issued_then_accepted_into_my_with_the_pending_key(original):
    srv = server(original)
    made = request(srv)
    sent = submit(srv, made)
    assert sent["changed"] and sent["certreq_exit_code"] == 0
    assert sent["certreq_output"] == 'RequestId: 100\r\nRequestId: "100"\r\nCertificate retrieved(Issued) Issued\r\n'
    verdict = _certreq.submit_result(sent)
    assert (verdict["status"], verdict["request_id"]) == ("issued", 100)
    cert = x509.load_pem_x509_certificate(verdict["certificate"].encode())
    assert cert.public_key().public_numbers() == winsim.read_request(made["request"]).public_key().public_numbers()
    accepted = srv.call("win_apexone_cert_accept", {"certificate": verdict["certificate"]})
    assert accepted["changed"] and accepted["thumbprint"] == winsim.thumbprint(cert)
    assert "Installed Certificate:" in accepted["certreq_output"]
    mine = srv._find("My", accepted["thumbprint"])
    assert mine["has_private_key"] and mine["provider_type"] == "csp" and mine["exportable"] is False
    assert srv._store("REQUEST") == [] and srv.read_path(made["request_file"]) is None
    again = srv.call("win_apexone_cert_accept", {"certificate": verdict["certificate"]})
    assert (again["changed"], again["certreq_exit_code"]) == (False, None)


def test_the_chain_file_holds_the_issuing_ca_and_the_chain_above_it(original, lab_pki):
    srv = server(original, certificate=lab_pki.intermediate.cert, key=lab_pki.intermediate.key,
                 chain=(lab_pki.root.cert,))
    sent = submit(srv, request(srv))
    assert sent["certificate_chain"].startswith("-----BEGIN PKCS7-----\r\n")
    verdict = _certreq.submit_result(sent)
    assert verdict["status"] == "issued"
    assert verdict["chain"] == [pki.pem(lab_pki.intermediate.cert), pki.pem(lab_pki.root.cert)]
    leaf = x509.load_pem_x509_certificate(verdict["certificate"].encode())
    assert leaf.issuer == lab_pki.intermediate.cert.subject
    leaf.verify_directly_issued_by(lab_pki.intermediate.cert)


def test_pending_then_retrieved_after_a_ca_manager_issues_it(original):
    srv = server(original, "enroll_adcs_pending")
    made = request(srv)
    sent = submit(srv, made)
    assert "Certificate request is pending: Taken Under Submission (0)" in sent["certreq_output"]
    verdict = _certreq.submit_result(sent)
    assert (verdict["status"], verdict["request_id"], verdict["certificate"], sent["certificate"], verdict["chain"]) == (
        "pending", 100, None, None, [])
    again = _certreq.submit_result(submit(srv, made, request_id=100))
    assert again["status"] == "pending"
    winsim.ca_decide(srv.state, 100, "issue")
    retrieved = _certreq.submit_result(submit(srv, made, request_id=100))
    assert retrieved["status"] == "issued" and retrieved["request_id"] == 100
    assert srv.call("win_apexone_cert_accept", {"certificate": retrieved["certificate"]})["changed"]


@pytest.mark.parametrize("how", ["mode", "template", "manager"])
def test_denied(original, how):
    srv = server(original, "enroll_adcs_denied" if how == "mode" else "enroll_adcs_pending")
    made = request(srv, template="NoSuchTemplate" if how == "template" else "WebServer")
    sent = submit(srv, made)
    if how == "manager":
        winsim.ca_decide(srv.state, 100, "deny")
        sent = submit(srv, made, request_id=100)
    verdict = _certreq.submit_result(sent)
    assert verdict["status"] == "denied" and verdict["request_id"] == 100 and sent["certreq_exit_code"] != 0
    assert ("0x80094800" in verdict["message"]) == (how == "template")
    assert srv._find("REQUEST", made["request_thumbprint"]) is not None  # nothing installed, the request stays


def test_wrong_ca_config_is_a_failure_not_a_denial(original):
    srv = server(original)
    made = request(srv)
    sent = srv.call("win_apexone_cert_submit", {"request_thumbprint": made["request_thumbprint"],
                                                "ca_config": "ca02\\Other CA"})
    verdict = _certreq.submit_result(sent)
    assert verdict["status"] == "failed" and "RPC server is unavailable" in verdict["message"]


@pytest.mark.parametrize(("extra", "message"), [
    ({"ca_config": "-f"}, "not a CA configuration string"),
    ({"ca_config": "ca01"}, "not a CA configuration string"),
    ({"ca_config": "ca01\\Corp CA\n"}, "not a CA configuration string"),
    ({"template": "Web:Server"}, "not a certificate template name"),
    ({"request_id": 0}, "positive RequestId"),
])
def test_submit_refuses_what_the_module_refuses(original, extra, message):
    srv = server(original)
    made = request(srv)
    with pytest.raises(winsim.ModuleFailure, match=message):
        submit(srv, made, **extra)
    assert srv.state["ca"]["requests"] == {}


def test_absent_removes_entry_key_and_file_and_is_idempotent(original):
    srv = server(original)
    before = winsim.comparable(srv.state)
    made = request(srv)
    gone = srv.call("win_apexone_cert_request", {"state": "absent", "request_thumbprint": made["request_thumbprint"]})
    assert (gone["changed"], gone["removed"], gone["key_deleted"]) == (True, True, True)
    assert srv.state["machine_keys"] == {} and srv.read_path(made["request_file"]) is None
    assert winsim.comparable(srv.state) == before
    again = srv.call("win_apexone_cert_request", {"state": "absent", "request_thumbprint": made["request_thumbprint"]})
    assert (again["changed"], again["removed"], again["key_deleted"]) == (False, False, False)


def test_reuse_of_a_pending_request_that_still_has_its_key_and_file(original):
    srv = server(original)
    made = request(srv)
    inf = _certreq.build_inf(SPEC)
    reused = srv.call("win_apexone_cert_request", {"inf": inf, "reuse_thumbprint": made["request_thumbprint"]})
    assert (reused["changed"], reused["request"], reused["request_thumbprint"]) == (
        False, made["request"], made["request_thumbprint"])
    srv.state["files"].pop(winsim._key(made["request_file"]))  # the saved request file is gone: a new request
    fresh = srv.call("win_apexone_cert_request", {"inf": inf, "reuse_thumbprint": made["request_thumbprint"]})
    assert fresh["changed"] and fresh["request_thumbprint"] != made["request_thumbprint"]


def test_check_mode_changes_nothing(original):
    srv = server(original)
    before = winsim.comparable(srv.state)
    made = srv.call("win_apexone_cert_request", {"inf": _certreq.build_inf(SPEC)}, check_mode=True)
    assert made["changed"] and made["request_thumbprint"] is None
    assert winsim.comparable(srv.state) == before


def test_accept_refuses_a_certificate_for_a_key_the_server_does_not_hold(original, lab_pki):
    srv = server(original)
    request(srv)
    _key, foreign = lab_pki.server(FQDN, key=pki.rsa_key(2048, slot=821))
    with pytest.raises(winsim.ModuleFailure, match="matches no pending request"):
        srv.call("win_apexone_cert_accept", {"certificate": pki.pem(foreign)})


def test_certreq_refuses_what_the_documentation_does_not_allow(original):
    srv = server(original)
    inf = _certreq.build_inf(SPEC)
    with pytest.raises(winsim.ModuleFailure, match="unknown key keylenght"):
        srv.call("win_apexone_cert_request", {"inf": inf.replace("KeyLength", "KeyLenght")})
    with pytest.raises(winsim.ModuleFailure, match="disagree"):
        srv.call("win_apexone_cert_request", {"inf": inf.replace("MachineKeySet = TRUE", "MachineKeySet = FALSE")})
    with pytest.raises(winsim.ModuleFailure, match="NTE_PROV_DLL_NOT_FOUND"):
        srv.call("win_apexone_cert_request", {"inf": inf.replace("SChannel", "Schannell")})
    assert srv._store("REQUEST") == []


def test_finish_mode_then_rollback_removes_certificate_and_key(original, lab_pki):
    srv = server(original)
    before = winsim.comparable(srv.state)
    verdict = _certreq.submit_result(submit(srv, request(srv)))
    thumb = srv.call("win_apexone_cert_accept", {"certificate": verdict["certificate"]})["thumbprint"]
    chain = [pki.pem(lab_pki.intermediate.cert)]
    done = srv.call("win_webhost_cert", {"thumbprint": thumb, "friendly_name": "Apex One web host 2026",
                                         "chain": chain, "key_provider": "legacy", "exportable": False})
    assert done["changed"] and srv._find("TrustedPeople", thumb) is not None
    assert srv.call("win_webhost_cert", {"thumbprint": thumb, "friendly_name": "Apex One web host 2026",
                                         "chain": chain})["changed"] is False
    with pytest.raises(winsim.ModuleFailure, match="does not move it"):
        srv.call("win_webhost_cert", {"thumbprint": thumb, "key_provider": "cng"})
    srv.call("win_webhost_cert", {"state": "absent", "thumbprint": thumb})
    assert srv.state["machine_keys"] == {}
    assert winsim.comparable(srv.state) == before


def test_finish_mode_needs_the_certificate_with_its_key(original):
    srv = server(original)
    with pytest.raises(winsim.ModuleFailure, match="not in Cert:"):
        srv.call("win_webhost_cert", {"thumbprint": "AB" * 20})


def test_the_doubles_inf_keys_are_the_documented_ones():
    """The double refuses any [NewRequest] key the certreq reference does not list (tests/reference)."""
    import json
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "reference",
                        "certreq_inf.json")
    with open(path, encoding="utf-8") as handle:
        documented = json.load(handle)["sections"]["NewRequest"]["keys"]
    assert winsim.INF_NEWREQUEST_KEYS == {k.lower() for k in documented}
    symbols = documented["KeyUsage"]["symbols"]
    assert winsim.KEY_USAGE_BITS == {k.lower(): v for k, v in symbols.items()}
