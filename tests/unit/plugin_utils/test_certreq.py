"""_certreq: the INF text of a request spec (exact, and only what Microsoft's certreq reference documents) and the
reading of certreq's answers to a submission (issued, pending, denied, failed) from published output samples."""

from __future__ import annotations

import json
import os
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.filter.certreq_inf import certreq_inf
from ansible_collections.apexone.certificates.plugins.filter.certreq_submit_result import certreq_submit_result
from ansible_collections.apexone.certificates.plugins.plugin_utils import _certreq

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
with open(os.path.join(REPO, "tests", "reference", "certreq_inf.json"), encoding="utf-8") as _handle:
    REFERENCE = json.load(_handle)

SPEC = {"subject_cn": "apex01.corp.example", "dns_names": ["apex01", "APEX01.corp.example"],
        "ip_addresses": ["10.0.0.15"], "key_length": 2048, "key_provider": "legacy", "exportable": False,
        "friendly_name": "Apex One web host 2026", "hash_algorithm": "sha256", "template": "WebServer"}
CERT = ("-----BEGIN CERTIFICATE-----\r\nMIIBszCCAVmgAwIBAgIUQ2VydHJlcSBkb3VibGUgc2FtcGxl\r\n"
        "-----END CERTIFICATE-----\r\n")


# ------------------------------------------------------------------------------------------------ INF text
def test_exact_inf_legacy_provider_with_template_and_ip():
    assert _certreq.build_inf(SPEC) == "\r\n".join([
        "[Version]",
        'Signature = "$Windows NT$"',
        "",
        "[NewRequest]",
        'Subject = "CN=apex01.corp.example"',
        "KeyAlgorithm = RSA",
        "KeyLength = 2048",
        "Exportable = FALSE",
        "MachineKeySet = TRUE",
        'ProviderName = "Microsoft RSA SChannel Cryptographic Provider"',
        "ProviderType = 12",
        "KeySpec = 1",
        "KeyUsage = 0xa0",
        "HashAlgorithm = sha256",
        "RequestType = PKCS10",
        "SMIME = FALSE",
        "Silent = TRUE",
        'FriendlyName = "Apex One web host 2026"',
        "",
        "[Extensions]",
        '2.5.29.17 = "{text}"',
        '_continue_ = "DNS=apex01.corp.example&"',
        '_continue_ = "DNS=apex01&"',
        '_continue_ = "IPAddress=10.0.0.15"',
        '2.5.29.37 = "{text}"',
        '_continue_ = "1.3.6.1.5.5.7.3.1"',
        "",
        "[RequestAttributes]",
        'CertificateTemplate = "WebServer"',
        "",
    ])


def test_exact_inf_cng_exportable_without_template():
    spec = dict(SPEC, dns_names=[], ip_addresses=[], key_provider="cng", exportable=True, key_length=4096,
                hash_algorithm="sha384", template=None)
    assert _certreq.build_inf(spec) == "\r\n".join([
        "[Version]", 'Signature = "$Windows NT$"', "",
        "[NewRequest]", 'Subject = "CN=apex01.corp.example"', "KeyAlgorithm = RSA", "KeyLength = 4096",
        "Exportable = TRUE", "MachineKeySet = TRUE", 'ProviderName = "Microsoft Software Key Storage Provider"',
        "KeyUsage = 0xa0", "HashAlgorithm = sha384",
        "RequestType = PKCS10", "SMIME = FALSE", "Silent = TRUE", 'FriendlyName = "Apex One web host 2026"', "",
        "[Extensions]", '2.5.29.17 = "{text}"', '_continue_ = "DNS=apex01.corp.example"', '2.5.29.37 = "{text}"',
        '_continue_ = "1.3.6.1.5.5.7.3.1"', "",
    ])


def test_the_subject_cn_is_always_a_dns_name_and_names_are_not_repeated():
    spec = _certreq.check_spec(dict(SPEC, dns_names=["APEX01.CORP.EXAMPLE.", "apex01", "apex01"],
                                    ip_addresses=["10.0.0.15", "10.0.0.15", "::1"]))
    assert spec["dns_names"] == ["apex01.corp.example", "apex01"]
    assert spec["ip_addresses"] == ["10.0.0.15", "::1"]


def _inf_lines(text: str):
    """(section, key, value) of every key line, values unquoted; _continue_ kept as its own key."""
    section = None
    for line in text.split("\r\n"):
        if not line:
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            section = header.group(1)
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if value.startswith('"'):
            assert value.endswith('"') and value.count('"') == 2, line
            value = value[1:-1]
        yield section, key, value


@pytest.mark.parametrize("provider", ["legacy", "cng"])
@pytest.mark.parametrize("template", ["WebServer", None])
def test_the_inf_writes_only_what_the_certreq_reference_documents(provider, template):
    sections = REFERENCE["sections"]
    text = _certreq.build_inf(dict(SPEC, key_provider=provider, template=template))
    assert text.isascii() and "\n" not in text.replace("\r\n", "")
    seen = []
    oid = None
    for section, key, value in _inf_lines(text):
        seen.append(section)
        assert section in sections, section
        if section == "Extensions":
            if key == sections["Extensions"]["continuation_key"]:
                assert oid is not None
                if oid == "2.5.29.17":
                    kind = value.split("=", 1)[0]
                    assert kind in sections["Extensions"]["oids"][oid]["name_types"]
                else:
                    assert value == REFERENCE["eku"]["server_auth"]
                continue
            assert key in sections["Extensions"]["oids"] and value == "{text}"
            oid = key
            continue
        documented = sections[section]["keys"]
        assert key in documented, f"[{section}] {key} is not a documented certreq INF key"
        rule = documented[key]
        if "values" in rule:
            assert value in rule["values"], f"[{section}] {key} = {value}"
        if "symbols" in rule:
            if value.lower().startswith("0x"):
                bits = int(value, 16)
                assert bits and bits & ~sum(set(rule["symbols"].values())) == 0, value
                assert bits == 0x80 | 0x20  # digital signature + key encipherment: a TLS server's RSA key
            else:
                assert all(s.strip() in rule["symbols"] for s in value.split(rule["separator"])), value
        if key == "ProviderName":
            assert value in REFERENCE["providers"]
        if key == "ProviderType":
            assert int(value) == REFERENCE["providers"][dict((k, v) for _s, k, v in _inf_lines(text))["ProviderName"]][
                "provider_type"]
    assert ("RequestAttributes" in seen) == (template is not None)


# ------------------------------------------------------------------------------------------------ bad specs
@pytest.mark.parametrize(("change", "message"), [
    ({"subject_cn": 'apex01" \r\nKeyLength = 512'}, "subject_cn .* is not a DNS host name"),
    ({"subject_cn": "apex 01"}, "subject_cn .* is not a DNS host name"),
    ({"subject_cn": 5}, "subject_cn 5 is not a DNS host name"),
    ({"subject_cn": ("a" * 63 + ".") * 3 + "a" * 62}, "subject_cn .* is not a DNS host name"),
    ({"friendly_name": "x" * 129}, "at most 128 printable ASCII characters"),
    ({"subject_cn": "apex01.corp.example\n"}, "subject_cn .* is not a DNS host name"),
    ({"dns_names": ["apex01\n"]}, "dns_names entry"),
    ({"template": "WebServer\n"}, "is not a certificate template name"),
    ({"key_length": 2048.0}, "key_length 2048.0 is not one of"),
    ({"key_length": "2048"}, "key_length '2048' is not one of"),
    ({"subject_cn": "CN=apex01,O=x"}, "is not a DNS host name"),
    ({"dns_names": ["ok.example", "-bad.example"]}, "dns_names entry '-bad.example'"),
    ({"dns_names": "apex01"}, "dns_names must be a list"),
    ({"ip_addresses": ["10.0.0.256"]}, "ip_addresses entry '10.0.0.256' is not an IPv4 or IPv6 address"),
    ({"key_length": 1024}, "key_length 1024 is not one of 2048, 3072, 4096"),
    ({"key_length": True}, "key_length True"),
    ({"key_provider": "Microsoft Enhanced RSA and AES Cryptographic Provider"}, "key_provider .* is not one of legacy, cng"),
    ({"exportable": "yes"}, "exportable must be true or false"),
    ({"hash_algorithm": "sha1"}, "hash_algorithm 'sha1' is not one of sha256, sha384, sha512"),
    ({"friendly_name": 'web "2026"'}, "friendly_name .* no double quote or '%'"),
    ({"friendly_name": "web %szOID%"}, "friendly_name"),
    ({"friendly_name": "web\r\n[Extensions]"}, "friendly_name"),
    ({"friendly_name": "Webhôte"}, "printable ASCII"),
    ({"friendly_name": ""}, "friendly_name must be a non-empty string"),
    ({"template": "Web:Server"}, "template 'Web:Server' is not a certificate template name"),
    ({"template": ""}, "template '' is not a certificate template name"),
    ({"owner": "x"}, "has unknown keys: owner"),
])
def test_a_bad_spec_is_refused_with_a_clear_message(change, message):
    with pytest.raises(_certreq.CertreqError, match=message):
        _certreq.build_inf({**SPEC, **change})


def test_values_of_subclasses_are_taken_as_their_base_type():
    """Ansible hands templated values over as subclasses of int and str (data tagging, ansible-core 2.19)."""

    class TaggedInt(int):
        pass

    class TaggedStr(str):
        pass

    spec = dict(SPEC, key_length=TaggedInt(3072), subject_cn=TaggedStr("apex01.corp.example"))
    assert "KeyLength = 3072\r\n" in _certreq.build_inf(spec)


def test_the_longest_names_and_friendly_name_are_accepted():
    longest = ("a" * 63 + ".") * 3 + "a" * 61  # 253 characters
    assert len(longest) == 253
    text = _certreq.build_inf(dict(SPEC, subject_cn=longest, dns_names=[], friendly_name="x" * 128))
    assert f'Subject = "CN={longest}"' in text and f'FriendlyName = "{"x" * 128}"' in text


def test_missing_keys_are_named():
    spec = {k: v for k, v in SPEC.items() if k not in ("key_length", "friendly_name", "template")}
    with pytest.raises(_certreq.CertreqError, match=r"lacks: key_length, friendly_name$"):
        _certreq.build_inf(spec)
    with pytest.raises(_certreq.CertreqError, match="must be a dict, got list"):
        _certreq.build_inf([])


def test_the_filter_turns_errors_into_filter_errors():
    assert certreq_inf(SPEC) == _certreq.build_inf(SPEC)
    with pytest.raises(AnsibleFilterError, match=r"^certreq_inf: key_length"):
        certreq_inf(dict(SPEC, key_length=512))


# ------------------------------------------------------------------------------------------------ certreq answers
# Output samples: the line shapes published in Microsoft's documentation and transcripts (tests/double/README.md).
ISSUED = 'RequestId: 7\r\nRequestId: "7"\r\nCertificate retrieved(Issued) Issued\r\n'
ISSUED_NOTE = ('RequestId: 20\r\nRequestId: "20"\r\nCertificate retrieved(Issued) Issued  The certificate validity period '
               'will be shorter than the WebServer Certificate Template specifies\r\n')
PENDING = 'RequestId: 12\r\nRequestId: "12"\r\nCertificate request is pending: Taken Under Submission (0)\r\n'
DENIED_TEMPLATE = ('RequestId: 31\r\nRequestId: "31"\r\nCertificate not issued (Denied) Denied by Policy Module  0x80094800, '
                   'The request was for a certificate template that is not supported by the Active Directory '
                   'Certificate Services policy: WebServerX.\r\n')
DENIED_EMAIL = ("RequestId: 4\r\nCertificate not issued (Denied) Denied by Policy Module The EMail name is unavailable and "
                "cannot\r\nbe added to the Subject or Subject Alternate name. 0x80094812 (-2146875374\r\n"
                "CERTSRV_E_SUBJECT_EMAIL_REQUIRED)\r\n")
RPC = ("Certificate Request Processor: The RPC server is unavailable. 0x800706ba (WIN32: 1722 RPC_S_SERVER_UNAVAILABLE)"
       "\r\n")
ACCESS = "Certificate Request Processor: Access is denied. 0x80070005 (WIN32: 5 ERROR_ACCESS_DENIED)\r\n"


def answer(output, code=0, certificate=None, **extra):
    return {"changed": True, "certreq_exit_code": code, "certreq_output": output, "certificate": certificate, **extra}


@pytest.mark.parametrize(("result", "status", "request_id", "message"), [
    (answer(ISSUED, certificate=CERT), "issued", 7, "issued (RequestId 7): Certificate retrieved(Issued) Issued"),
    (answer(ISSUED_NOTE, certificate=CERT), "issued", 20, "issued (RequestId 20): Certificate retrieved(Issued)"),
    (answer(PENDING), "pending", 12, "pending approval by a CA manager (RequestId 12); once it is issued, retrieve it "
                                     "with request_id 12"),
    (answer(DENIED_TEMPLATE, code=-2146875392), "denied", 31, "the CA denied the request (RequestId 31): Certificate "
                                                              "not issued (Denied) Denied by Policy Module  0x80094800"),
    (answer(DENIED_EMAIL, code=-2146875374), "denied", 4, "Denied by Policy Module The EMail name is unavailable"),
    (answer(RPC, code=-2147023174), "failed", None, "certreq exited with -2147023174 (no RequestId): Certificate Request "
                                                    "Processor: The RPC server is unavailable."),
    (answer(ACCESS, code=-2147024891), "failed", None, "Access is denied"),
    (answer(ISSUED), "failed", 7, "reports the certificate issued (RequestId 7) but wrote no certificate file"),
    (answer("Zertifikat abgerufen (Ausgestellt)\r\n", certificate=CERT), "issued", None, "issued: certificate written"),
    (answer("Certificate retrieved(Issued) Issued\r\n", certificate=CERT, request_id=12), "issued", 12, "RequestId 12"),
    (answer(PENDING.split("\r\n", 2)[2], request_id=12), "pending", 12, "retrieve it with request_id 12"),
    (answer(None, code=None), "failed", None, "not submitted (check mode)"),
    ({"failed": True, "msg": "certreq.exe was not found"}, "failed", None, "win_apexone_cert_submit failed: certreq.exe"),
    (answer("", code=0), "failed", None, "certreq exited with 0 (no RequestId): no output"),
])
def test_submit_results(result, status, request_id, message):
    verdict = _certreq.submit_result(result)
    assert (verdict["status"], verdict["request_id"]) == (status, request_id)
    assert message in verdict["message"], verdict["message"]
    assert (verdict["certificate"] is not None) == (status == "issued")


def test_the_issued_certificate_comes_back_as_lf_pem():
    verdict = _certreq.submit_result(answer(ISSUED, certificate="noise\r\n" + CERT))
    assert verdict["certificate"] == CERT.replace("\r\n", "\n")


def test_a_bare_base64_certificate_file_is_read_and_anything_else_is_not():
    import base64

    der = base64.b64encode(b"\x30\x82\x01\x00" + b"x" * 60).decode()
    verdict = _certreq.submit_result(answer(ISSUED, certificate=der[:40] + "\r\n" + der[40:] + "\r\n"))
    assert verdict["status"] == "issued"
    assert verdict["certificate"] == f"-----BEGIN CERTIFICATE-----\n{der[:64]}\n{der[64:]}\n-----END CERTIFICATE-----\n"
    for junk in ("not base64!", base64.b64encode(b"plain text").decode(), ""):
        verdict = _certreq.submit_result(answer(ISSUED, certificate=junk))
        assert verdict["status"] == "failed" and "(RequestId 7) but wrote" in verdict["message"]


def test_the_chain_file_gives_the_other_certificates(lab_pki):
    import base64

    import pki
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    _key, leaf = lab_pki.server("apex01.corp.example", key=pki.rsa_key(2048, slot=840))
    der = pkcs7.serialize_certificates([leaf, lab_pki.intermediate.cert, lab_pki.root.cert], serialization.Encoding.DER)
    body = base64.b64encode(der).decode()
    expected = [lab_pki.intermediate.cert.public_bytes(serialization.Encoding.PEM).decode(),
                lab_pki.root.cert.public_bytes(serialization.Encoding.PEM).decode()]
    leaf_pem = leaf.public_bytes(serialization.Encoding.PEM).decode()
    for chain in (f"-----BEGIN PKCS7-----\r\n{body}\r\n-----END PKCS7-----\r\n", body):
        verdict = _certreq.submit_result(answer(ISSUED, certificate=leaf_pem, certificate_chain=chain))
        assert verdict["status"] == "issued" and verdict["chain"] == expected
    assert _certreq.submit_result(answer(ISSUED, certificate=leaf_pem, certificate_chain=None))["chain"] == []
    with pytest.raises(_certreq.CertreqError, match="chain file is not a PKCS #7"):
        _certreq.submit_result(answer(ISSUED, certificate=leaf_pem, certificate_chain="bm90IGEgcGtjczc="))


def test_without_cryptography_only_a_chain_file_is_an_error(monkeypatch):
    monkeypatch.setattr(_certreq, "HAS_CRYPTOGRAPHY", False)
    assert _certreq.submit_result(answer(ISSUED, certificate=CERT))["status"] == "issued"
    with pytest.raises(_certreq.CertreqError, match="needs the Python library cryptography"):
        _certreq.submit_result(answer(ISSUED, certificate=CERT, certificate_chain="MIIB"))


def test_pending_or_denied_text_wins_over_a_written_file():
    assert _certreq.submit_result(answer(PENDING, certificate=CERT))["status"] == "pending"
    assert _certreq.submit_result(answer(DENIED_TEMPLATE, certificate=CERT))["status"] == "denied"
    assert _certreq.submit_result(answer(ISSUED, code=1, certificate=CERT))["status"] == "failed"


def test_not_a_submit_result_is_an_error():
    with pytest.raises(_certreq.CertreqError, match="got str"):
        _certreq.submit_result("RequestId: 7")
    for partial in ({"certreq_output": ISSUED}, {"certreq_exit_code": 0}):
        with pytest.raises(_certreq.CertreqError, match="no certreq_output/certreq_exit_code"):
            _certreq.submit_result(partial)


def test_a_boolean_is_no_request_id():
    assert _certreq.submit_result({"failed": True, "msg": "x", "request_id": True})["request_id"] is None
    assert _certreq.submit_result({"failed": True, "msg": "x", "request_id": 12})["request_id"] == 12
    with pytest.raises(AnsibleFilterError, match=r"^certreq_submit_result: .*no certreq_output"):
        certreq_submit_result({"changed": False})
