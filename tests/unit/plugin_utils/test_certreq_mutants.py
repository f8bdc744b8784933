"""_certreq: tests written for the surviving mutants of ``make mutation --target certreq``: the whole verdict of a
submission (every key), the exact refusal of a spec, and a chain file that is not clean base64."""

import base64

import pki
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from test_certreq import CERT, DENIED_TEMPLATE, ISSUED, PENDING, SPEC, answer

from ansible_collections.apexone.certificates.plugins.plugin_utils import _certreq
from ansible_collections.apexone.certificates.plugins.plugin_utils._certreq import CertreqError


@pytest.mark.parametrize("drop, add, message", [
    (("key_length",), {}, "the request spec lacks: key_length"),
    ((), {"owner": "x"}, "the request spec has unknown keys: owner"),
    (("key_length", "exportable"), {"owner": "x", "csp": 1}, "the request spec has unknown keys: csp, owner; lacks: "
                                                             "key_length, exportable"),
])
def test_the_refusal_of_a_spec_names_exactly_what_is_wrong(drop, add, message):
    spec = {k: v for k, v in SPEC.items() if k not in drop}
    with pytest.raises(CertreqError) as err:
        _certreq.check_spec({**spec, **add})
    assert str(err.value) == message


@pytest.mark.parametrize("result, verdict", [
    ({"failed": True, "msg": "certreq.exe was not found", "request_id": "9"},
     {"status": "failed", "request_id": 9, "certificate": None, "chain": [],
      "message": "win_apexone_cert_submit failed: certreq.exe was not found"}),
    ({"failed": True},
     {"status": "failed", "request_id": None, "certificate": None, "chain": [],
      "message": "win_apexone_cert_submit failed: no message"}),
    (answer(None, code=None),
     {"status": "failed", "request_id": None, "certificate": None, "chain": [],
      "message": "the request was not submitted (check mode)"}),
    (answer(ISSUED),
     {"status": "failed", "request_id": 7, "certificate": None, "chain": [],
      "message": "certreq reports the certificate issued (RequestId 7) but wrote no certificate file: RequestId: 7 "
                 'RequestId: "7" Certificate retrieved(Issued) Issued'}),
    (answer(ISSUED, certificate="not base64!"),
     {"status": "failed", "request_id": 7, "certificate": None, "chain": [],
      "message": "certreq reports the certificate issued (RequestId 7) but wrote a file that holds no certificate: "
                 'RequestId: 7 RequestId: "7" Certificate retrieved(Issued) Issued'}),
    (answer(PENDING),
     {"status": "pending", "request_id": 12, "certificate": None, "chain": [],
      "message": "the request is pending approval by a CA manager (RequestId 12); once it is issued, retrieve it with "
                 "request_id 12"}),
    (answer("", code=5),
     {"status": "failed", "request_id": None, "certificate": None, "chain": [],
      "message": "certreq exited with 5 (no RequestId): no output"}),
])
def test_the_whole_verdict(result, verdict):
    assert _certreq.submit_result(result) == verdict


def test_not_a_submit_result_is_refused_with_the_exact_reason():
    with pytest.raises(CertreqError) as err:
        _certreq.submit_result({"changed": False})
    assert str(err.value) == ("certreq_submit_result: the result has no certreq_output/certreq_exit_code (is it the "
                              "registered result of win_apexone_cert_submit?)")


def test_a_chain_file_with_characters_outside_base64_is_refused(lab_pki):
    _key, leaf = lab_pki.server("apex01.corp.example", key=pki.rsa_key(2048, slot=840))
    der = pkcs7.serialize_certificates([leaf, lab_pki.intermediate.cert], serialization.Encoding.DER)
    body = base64.b64encode(der).decode()
    leaf_pem = leaf.public_bytes(serialization.Encoding.PEM).decode()
    good = _certreq.submit_result(answer(ISSUED, certificate=leaf_pem, certificate_chain=body))
    assert good["chain"] == [lab_pki.intermediate.cert.public_bytes(serialization.Encoding.PEM).decode()]
    with pytest.raises(CertreqError) as err:
        _certreq.submit_result(answer(ISSUED, certificate=leaf_pem, certificate_chain=body[:40] + "!?" + body[40:]))
    assert str(err.value).startswith("certreq's chain file is not a PKCS #7 certificate bundle: ")


# ------------------------------------------------------------------------------ survivors of a full run (--sample 1)
def test_a_host_name_loses_only_its_final_dot():
    assert _certreq.check_spec(dict(SPEC, subject_cn="apex01.corp.X."))["subject_cn"] == "apex01.corp.X"
    assert _certreq.check_spec(dict(SPEC, subject_cn="apexX"))["subject_cn"] == "apexX"


def test_the_refusal_of_a_host_name_and_a_template_in_full():
    with pytest.raises(CertreqError) as err:
        _certreq.check_spec(dict(SPEC, subject_cn="a b"))
    assert str(err.value) == ("subject_cn 'a b' is not a DNS host name (letters, digits, '-' and '.' labels, an "
                              "optional leading '*.')")
    with pytest.raises(CertreqError) as err:
        _certreq.check_spec(dict(SPEC, template="Web:Server"))
    assert str(err.value) == ("template 'Web:Server' is not a certificate template name (letters, digits, space, '.', "
                              "'_', '-'; at most 64 characters)")


def test_without_cryptography_the_chain_file_error_in_full(monkeypatch):
    monkeypatch.setattr(_certreq, "HAS_CRYPTOGRAPHY", False)
    with pytest.raises(CertreqError) as err:
        _certreq.submit_result(answer(ISSUED, certificate=CERT, certificate_chain="MIIB"))
    assert str(err.value) == "reading certreq's chain file needs the Python library cryptography on the controller"


def test_a_chain_file_in_64_character_lines(lab_pki):
    _key, leaf = lab_pki.server("apex01.corp.example", key=pki.rsa_key(2048, slot=840))
    der = pkcs7.serialize_certificates([leaf, lab_pki.intermediate.cert], serialization.Encoding.DER)
    body = base64.b64encode(der).decode()
    lines = "\r\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    leaf_pem = leaf.public_bytes(serialization.Encoding.PEM).decode()
    verdict = _certreq.submit_result(answer(ISSUED, certificate=leaf_pem,
                                            certificate_chain=f"-----BEGIN PKCS7-----\r\n{lines}\r\n-----END PKCS7-----\r\n"))
    assert verdict["chain"] == [lab_pki.intermediate.cert.public_bytes(serialization.Encoding.PEM).decode()]


@pytest.mark.parametrize("result, verdict", [
    (answer(DENIED_TEMPLATE.split("\r\n", 2)[2], code=1),
     {"status": "denied", "request_id": None, "certificate": None, "chain": [],
      "message": "the CA denied the request (no RequestId): Certificate not issued (Denied) Denied by Policy Module  "
                 "0x80094800, The request was for a certificate template that is not supported by the Active Directory "
                 "Certificate Services policy: WebServerX."}),
    (answer(PENDING.split("\r\n", 2)[2]),
     {"status": "pending", "request_id": None, "certificate": None, "chain": [],
      "message": "the request is pending approval by a CA manager (no RequestId)"}),
])
def test_the_whole_verdict_without_a_request_id(result, verdict):
    assert _certreq.submit_result(result) == verdict
