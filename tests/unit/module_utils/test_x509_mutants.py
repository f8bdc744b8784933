"""The certificate checks, one behaviour per test (issue 17: mutation survivors of _x509.py).

Each test pins an exact problem code list, an exact field or an exact error class, on real certificates made by
tests/lab/pki.py. ``make mutation`` runs these with tests/unit/module_utils/test_x509.py against every mutant of
_x509.py.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re

import pki
import pytest
from asn1crypto import cms, core
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

HOST = "apex01.corp.example"
PASSWORD = "Mutant-Pfx-Pw"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SERVER_ONLY = (ExtendedKeyUsageOID.SERVER_AUTH,)


def codes(result):
    return [p["code"] for p in result["problems"]]


def check(cert, **kwargs):
    kwargs.setdefault("hostname", HOST)
    return _x509.check_webhost_certificate(cert, **kwargs)


@pytest.fixture(scope="module")
def lab():
    return pki.LabPki()


@pytest.fixture(scope="module")
def leaf(lab):
    key = pki.rsa_key(2048, slot=720)
    return key, lab.server(HOST, key=key)[1]


def pem_der(cert) -> bytes:
    """DER bytes read back from the PEM text with base64 alone (not through cryptography)."""
    text = pki.pem(cert)
    body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
    return base64.b64decode(body)


def sign_ec_sha1(cert, signer):
    """Re-sign ``cert`` with ECDSA-SHA1 (cryptography no longer signs so; pki.py does the RSA case)."""
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    algorithm = asn1_x509.SignedDigestAlgorithm({"algorithm": "sha1_ecdsa"})
    tbs = parsed["tbs_certificate"]
    tbs["signature"] = algorithm
    tbs_der = tbs.dump(force=True)
    signature = signer.sign(tbs_der, ec.ECDSA(hashes.SHA1()))
    rebuilt = asn1_x509.Certificate({"tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
                                     "signature_algorithm": algorithm, "signature_value": signature})
    return x509.load_der_x509_certificate(rebuilt.dump())


# ------------------------------------------------------------------------------------------------ thumbprints


def test_thumbprint_is_the_upper_case_sha1_of_the_der_bytes(leaf):
    expected = hashlib.sha1(pem_der(leaf[1])).hexdigest().upper()
    assert _x509.thumbprint(leaf[1]) == expected
    assert re.fullmatch(r"[0-9A-F]{40}", expected)


def test_thumbprint_matches_openssl(leaf, tmp_path):
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("no openssl on this machine")
    path = tmp_path / "leaf.pem"
    path.write_text(pki.pem(leaf[1]))
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha1", "-in", str(path)],
                         capture_output=True, text=True, check=True).stdout
    assert _x509.thumbprint(leaf[1]) == out.strip().split("=", 1)[1].replace(":", "")


# ------------------------------------------------------------------------------------------------ dates


def test_a_naive_now_is_taken_as_utc(leaf):
    cert = leaf[1]
    naive = cert.not_valid_after_utc.replace(tzinfo=None) - datetime.timedelta(days=10, hours=1)
    result = check(cert, now=naive)
    assert codes(result) == ["expires_soon"] and result["days_left"] == 10
    assert check(cert, now=naive.replace(tzinfo=datetime.timezone.utc)) == result


def test_now_as_text_with_z_or_offset(leaf):
    cert = leaf[1]
    after = cert.not_valid_after_utc
    z = (after + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert codes(check(cert, now=z)) == ["expired"]
    shifted = (after - datetime.timedelta(hours=1)).astimezone(datetime.timezone(datetime.timedelta(hours=5)))
    result = check(cert, now=shifted.isoformat(), min_days=0)
    assert codes(result) == [] and result["days_left"] == 0


@pytest.mark.parametrize("now", [12345, ["2027-01-01"], datetime.date(2027, 1, 1)])
def test_now_of_another_type_is_an_error(leaf, now):
    with pytest.raises(_x509.CertificateError) as caught:
        check(leaf[1], now=now)
    assert str(caught.value).startswith("now must be an ISO 8601 string or a datetime, not ")


def test_days_left_and_the_threshold_boundary(lab):
    _key, cert = lab.server(HOST, key=pki.rsa_key(2048, slot=721))
    when = cert.not_valid_after_utc - datetime.timedelta(days=30)
    result = check(cert, now=when, min_days=30)
    assert result["days_left"] == 30 and codes(result) == []
    result = check(cert, now=when + datetime.timedelta(seconds=1), min_days=30)
    assert result["days_left"] == 29 and codes(result) == ["expires_soon"]
    assert result["problems"][0]["severity"] == "warning" and result["ok"] is True
    assert codes(check(cert, now=when, min_days="31")) == ["expires_soon"]


def test_validity_edges_are_inclusive(lab):
    _key, cert = lab.server(HOST, key=pki.rsa_key(2048, slot=721))
    assert "expired" not in codes(check(cert, now=cert.not_valid_after_utc, min_days=0))
    assert codes(check(cert, now=cert.not_valid_after_utc + datetime.timedelta(seconds=1)))[0] == "expired"
    assert "not_yet_valid" not in codes(check(cert, now=cert.not_valid_before_utc))
    assert codes(check(cert, now=cert.not_valid_before_utc - datetime.timedelta(seconds=1))) == ["not_yet_valid"]


def test_result_fields(leaf):
    cert = leaf[1]
    result = check(cert, now=cert.not_valid_before_utc + datetime.timedelta(days=1))
    assert result == {"ok": True, "problems": [], "thumbprint": _x509.thumbprint(cert), "subject_cn": HOST,
                      "not_after": _x509.format_time(cert.not_valid_after_utc),
                      "days_left": (cert.not_valid_after_utc - cert.not_valid_before_utc).days - 1,
                      "hostname": HOST}


# ------------------------------------------------------------------------------------------------ names


def test_names_are_not_checked_when_asked_not_to(lab):
    _key, cert = lab.server("other.example", sans=["other.example"], key=pki.rsa_key(2048, slot=722))
    result = _x509.check_webhost_certificate(cert, hostname=None, check_names=False)
    assert codes(result) == [] and result["hostname"] is None
    result = _x509.check_webhost_certificate(cert, hostname="APEX01.corp.example", check_names=False)
    assert codes(result) == [] and result["hostname"] == HOST


def test_a_certificate_without_san_and_cn(lab):
    _key, cert = pki.make_cert(None, issuer=lab.intermediate, key=pki.rsa_key(2048, slot=723), sans=[])
    result = check(cert)
    assert codes(result) == ["cn_mismatch", "hostname_not_in_san"] and result["subject_cn"] is None


def test_cn_with_trailing_dot_and_case_matches(lab):
    _key, cert = lab.server("APEX01.corp.example.", sans=[HOST], key=pki.rsa_key(2048, slot=724))
    assert codes(check(cert)) == []


def test_an_ip_host_is_looked_up_in_the_ip_sans_not_the_dns_sans(lab):
    _key, cert = lab.server("10.0.0.5", sans=["10.0.0.5"], key=pki.rsa_key(2048, slot=725))
    assert codes(check(cert, hostname="10.0.0.5")) == []
    _key, dns_only = lab.server("10.0.0.5", sans=["host.example"], key=pki.rsa_key(2048, slot=725))
    (problem,) = check(dns_only, hostname="10.0.0.5")["problems"]
    assert problem["code"] == "hostname_not_in_san"
    assert problem["message"] == "'10.0.0.5' is not covered by the Subject Alternative Name (host.example)"
    _key, ip_only = lab.server(HOST, sans=["10.0.0.9"], key=pki.rsa_key(2048, slot=725))
    (problem,) = check(ip_only)["problems"]
    assert problem["message"] == f"'{HOST}' is not covered by the Subject Alternative Name (no DNS names)"


@pytest.mark.parametrize(
    ("pattern", "hostname", "matches"),
    [
        ("*.corp.example", "apex01.corp.example", True),
        ("*.CORP.example.", "apex01.corp.example", True),
        (" apex01.corp.example ", "apex01.corp.example", True),
        ("*.corp.example", ".corp.example", False),
        ("*", "apex01", False),
        ("*.", "apex01.", False),
        ("**.corp.example", "a.corp.example", False),
        ("*.corp.*", "a.corp.example", False),
        ("*.example", "corp.example", False),
        ("*.0.0.1", "10.0.0.1", False),
        (None, "apex01", False),
        ("apex01", None, False),
        ("   ", "apex01", False),
    ],
)
def test_dns_name_matches(pattern, hostname, matches):
    assert _x509.dns_name_matches(pattern, hostname) is matches


@pytest.mark.parametrize(
    ("given", "normalized"),
    [(" APEX01.Corp.Example. ", HOST), ("[::1]", "::1"), ("10.0.0.005".replace("005", "5"), "10.0.0.5"),
     ("bücher.example", "xn--bcher-kva.example"), ("_srv.corp.example", "_srv.corp.example"),
     ("a" * 63 + ".example", "a" * 63 + ".example")],
)
def test_normalize_hostname(given, normalized):
    assert _x509.normalize_hostname(given) == normalized


@pytest.mark.parametrize("bad", ["a" * 64 + ".example", "-a.example", "a..example", "a b", "\udcff.example"])
def test_normalize_hostname_refuses(bad):
    with pytest.raises(_x509.CertificateError) as caught:
        _x509.normalize_hostname(bad)
    assert str(caught.value).startswith(f"hostname {bad!r} is not a valid DNS name")


# ------------------------------------------------------------------------------------------------ keys


def test_webhost_cert_check_uses_the_key_password(leaf):
    key, cert = leaf
    encrypted = pki.key_pem(key, password=b"key-pw")
    result = _x509.check_from_input(pki.pem(cert), hostname=HOST, key=encrypted, key_password="key-pw")
    assert result["ok"] is True and codes(result) == []
    other = pki.key_pem(pki.rsa_key(2048, slot=726), password=b"key-pw")
    result = _x509.check_from_input(pki.pem(cert), hostname=HOST, key=other, key_password="key-pw")
    assert codes(result) == ["key_mismatch"]


def test_a_matching_key_with_has_private_key_false_is_still_a_key(leaf):
    key, cert = leaf
    assert codes(check(cert, key=key, has_private_key=False)) == []


@pytest.mark.parametrize(
    ("make", "kind", "size"),
    [
        (lambda: pki.rsa_key(2048, slot=727), "RSA", 2048),
        (lambda: pki.ec_key(ec.SECP384R1()), "EC", 384),
        (ed25519.Ed25519PrivateKey.generate, "Ed25519", 256),
    ],
)
def test_key_description_in_x509_info(lab, make, kind, size):
    key = make()
    _k, cert = lab.server(HOST, key=key)
    info = _x509.x509_info(pki.pem(cert))
    assert (info["key_type"], info["key_size"]) == (kind, size)


def test_weak_key_boundaries_and_message(lab):
    _k, small = lab.server(HOST, key=pki.rsa_key(2047, slot=728))
    (problem,) = check(small)["problems"]
    assert problem == {"code": "weak_key", "severity": "error",
                       "message": "RSA 2047-bit key is too weak: use RSA 2048+ or EC P-256+"}
    _k, p224 = lab.server(HOST, key=pki.ec_key(ec.SECP224R1()))
    assert codes(check(p224)) == ["weak_key"]


# ------------------------------------------------------------------------------------------------ signatures


def test_a_failed_legacy_signature_check_is_not_an_issuer(lab):
    """A SHA-1 leaf links only to the CA whose key signed it, not to any CA with the same name."""
    real_ca = pki.make_ca("Legacy Issuing CA", parent=lab.root, key=pki.rsa_key(2048, slot=730))
    impostor = pki.make_ca("Legacy Issuing CA", parent=lab.root, key=pki.rsa_key(2048, slot=731))
    _k, leaf_cert = pki.make_cert(HOST, issuer=real_ca, key=pki.rsa_key(2048, slot=732), hash_algorithm=hashes.SHA1())
    assert _x509._issued_by(leaf_cert, real_ca.cert) is True
    assert _x509._issued_by(leaf_cert, impostor.cert) is False
    result = check(leaf_cert, chain=[impostor.cert], ca=[lab.root.cert])
    assert codes(result) == ["weak_signature", "chain_incomplete"]
    result = check(leaf_cert, chain=[real_ca.cert], ca=[lab.root.cert])
    assert codes(result) == ["weak_signature", "chain_untrusted"]
    assert result["problems"][1]["message"] == (
        "the chain does not validate against the CA bundle: path validation stops at the certificate itself: its "
        "signature uses an algorithm path validation refuses (MD5/SHA-1): re-issue it with SHA-256 (cryptography: "
        "validation failed: candidates exhausted: Forbidden signature algorithm: RsaWithSha1); re-issue or replace "
        "the certificate named there (or give the CA bundle the agents really trust)")


def test_an_ec_sha1_signature_links_to_its_issuer_only(lab):
    ca_key = pki.ec_key()
    ec_ca = pki.make_ca("EC Legacy CA", parent=lab.root, key=ca_key)
    impostor = pki.make_ca("EC Legacy CA", parent=lab.root, key=pki.ec_key())
    _k, modern = pki.make_cert(HOST, issuer=ec_ca, key=pki.rsa_key(2048, slot=733))
    legacy = sign_ec_sha1(modern, ca_key)
    assert _x509._issued_by(legacy, ec_ca.cert) is True
    assert _x509._issued_by(legacy, impostor.cert) is False
    assert codes(check(legacy)) == ["weak_signature"]


def test_a_legacy_signature_from_a_key_that_cannot_verify_is_not_an_issuer(lab):
    ed_key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Ed CA")])
    ed_ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ed_key.public_key())
             .serial_number(1).not_valid_before(pki.NOW - pki.DAY).not_valid_after(pki.NOW + pki.DAY)
             .sign(ed_key, None))
    _k, cert = pki.make_cert(HOST, issuer=lab.intermediate, key=pki.rsa_key(2048, slot=734),
                             hash_algorithm=hashes.SHA1())
    assert _x509._verify_legacy_signature(cert, ed_ca) is False
    assert _x509._verify_legacy_signature(cert, lab.intermediate.cert) is True


def test_the_weak_signature_message_names_the_algorithm_and_the_certificate(lab):
    _k, sha1_leaf = lab.server(HOST, key=pki.rsa_key(2048, slot=735), hash_algorithm=hashes.SHA1())
    (problem,) = check(sha1_leaf)["problems"]
    assert problem == {"code": "weak_signature", "severity": "error",
                       "message": "the certificate is signed with SHA1: re-issue with SHA-256"}


def test_a_self_signed_root_in_the_chain_is_not_judged_by_its_signature(lab):
    _k, old_root = pki.make_cert("Old Root", issuer=None, key=pki.rsa_key(2048, slot=736),
                                 hash_algorithm=hashes.SHA1(), is_ca=True, eku=None)
    _k, cert = lab.server(HOST, key=pki.rsa_key(2048, slot=737))
    assert codes(check(cert, chain=[old_root])) == []


# ------------------------------------------------------------------------------------------------ chain


def test_a_wildcard_only_san_still_gets_a_chain_verdict(lab):
    _k, cert = lab.server(HOST, sans=["*.corp.example"], key=pki.rsa_key(2048, slot=738), eku=SERVER_ONLY)
    result = check(cert, chain=[lab.intermediate.cert], ca=[lab.root.cert])
    assert codes(result) == [] and result["ok"] is True


def test_an_ip_only_san_still_gets_a_chain_verdict(lab):
    _k, cert = lab.server("10.0.0.5", sans=["10.0.0.5"], key=pki.rsa_key(2048, slot=739), eku=SERVER_ONLY)
    result = check(cert, hostname="10.0.0.5", chain=[lab.intermediate.cert], ca=[lab.root.cert])
    assert codes(result) == [] and result["ok"] is True


def test_the_chain_is_judged_inside_the_leafs_validity(lab):
    _k, cert = lab.server(HOST, key=pki.rsa_key(2048, slot=740))
    later = cert.not_valid_after_utc + datetime.timedelta(days=3)
    assert codes(check(cert, chain=[lab.intermediate.cert], ca=[lab.root.cert], now=later)) == ["expired"]


def test_a_self_signed_top_outside_the_bundle_is_named(lab):
    _k, cert = pki.make_cert(HOST, issuer=lab.rogue_root, key=pki.rsa_key(2048, slot=741))
    (problem,) = check(cert, chain=[lab.rogue_root.cert], ca=[lab.root.cert])["problems"]
    assert problem["code"] == "chain_untrusted"
    assert problem["message"] == (
        "the chain leads to the root CA 'CN=Rogue Root CA,O=Apex Lab', which is not in the CA bundle (the bundle "
        "holds one certificate, 'CN=Apex Lab Root CA,O=Apex Lab'); adding intermediates cannot fix this: use a "
        "certificate issued under a root of the bundle, or, if agents and browsers trust 'CN=Rogue Root CA,O=Apex "
        "Lab', add it to the CA bundle (apexone_cert_ca_bundle_path); path validation stops at 'CN=Rogue Root CA,"
        "O=Apex Lab': it is a root CA, and the CA bundle does not hold it (cryptography: validation failed: "
        "candidates exhausted: all candidates exhausted with no interior errors)")


def test_the_missing_issuer_is_named(lab, leaf):
    (problem,) = check(leaf[1], ca=[lab.root.cert])["problems"]
    assert problem["code"] == "chain_incomplete"
    assert problem["message"] == (
        "the chain stops at the certificate itself: its issuer 'CN=Apex Lab Issuing CA,O=Apex Lab' is neither in the "
        "PFX/chain nor in the CA bundle (which holds one certificate, 'CN=Apex Lab Root CA,O=Apex Lab'). If "
        "'CN=Apex Lab Issuing CA,O=Apex Lab' is an intermediate CA, add it (and any CA above it up to the root) to "
        "the PFX: export with 'Include all certificates in the certification path'; if it is a root CA that agents "
        "and browsers trust, add it to the CA bundle (apexone_cert_ca_bundle_path); path validation stops at the "
        "certificate itself: no issuer of it is in the chain or the CA bundle (cryptography: validation failed: "
        "candidates exhausted: all candidates exhausted with no interior errors)")


def test_ca_as_pem_list_and_chain_pem(lab, leaf):
    result = _x509.check_from_input(pki.pem(leaf[1]), hostname=HOST, chain=[lab.intermediate.pem],
                                    ca=[lab.root.pem, ""])
    assert codes(result) == []
    result = _x509.check_from_input(pki.pem(leaf[1]), hostname=HOST, chain=lab.intermediate.cert, ca="")
    assert codes(result) == []  # no CA: no chain verdict


def test_check_from_input_with_a_pfx_info_dict(lab, leaf):
    key, cert = leaf
    info = _x509.pfx_info(pki.make_pfx(key, cert, [lab.intermediate.cert], password=PASSWORD), PASSWORD)
    assert codes(_x509.check_from_input(info, hostname=HOST, ca=lab.root.pem)) == []
    info = {**info, "chain_pem": [], "has_private_key": False,
            "pfx_problems": [{"code": "duplicate_leaf", "severity": "error", "message": "m"}]}
    result = _x509.check_from_input(info, hostname=HOST, ca=lab.root.pem, min_days="400")
    assert codes(result) == ["no_private_key", "duplicate_leaf", "expires_soon", "chain_incomplete"] or codes(
        result) == ["expires_soon", "no_private_key", "duplicate_leaf", "chain_incomplete"]
    assert result["ok"] is False


def test_the_same_pfx_problem_is_listed_once(leaf):
    problem = {"code": "no_private_key", "severity": "error",
               "message": "the PFX has no private key: IIS cannot serve it; export it again with 'Yes, export the "
                          "private key'"}
    result = check(leaf[1], has_private_key=False, pfx_problems=[problem, {**problem, "message": "other"}])
    assert [p["message"] for p in result["problems"]] == [problem["message"], "other"]


# ------------------------------------------------------------------------------------------------ x509_info


def test_x509_info_describes_the_leaf_and_keeps_the_rest_as_chain(lab, leaf):
    cert = leaf[1]
    info = _x509.x509_info(pki.pem(cert) + lab.intermediate.pem)
    assert info["thumbprint"] == hashlib.sha1(pem_der(cert)).hexdigest().upper()
    assert info["sha256_fingerprint"] == hashlib.sha256(pem_der(cert)).hexdigest().upper()
    assert info["serial_number"] == format(cert.serial_number, "X")
    assert info["chain_pem"] == [lab.intermediate.pem]
    assert info["certificate_pem"] == pki.pem(cert)
    assert (info["subject"], info["subject_cn"]) == ("CN=apex01.corp.example,O=Apex Lab", HOST)
    assert info["issuer"] == "CN=Apex Lab Issuing CA,O=Apex Lab"
    assert (info["san_dns"], info["san_ip"]) == ([HOST], [])
    assert info["signature_hash"] == "sha256"
    assert info["extended_key_usage"] == ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]
    assert (info["is_ca"], info["self_signed"], info["has_private_key"], info["friendly_name"]) == (
        False, False, False, None)
    assert info["not_before"] == _x509.format_time(cert.not_valid_before_utc)
    assert info["not_after"] == _x509.format_time(cert.not_valid_after_utc)


def test_x509_info_of_a_ca_without_eku_or_san(lab):
    info = _x509.x509_info(lab.root.cert.public_bytes(serialization.Encoding.DER))
    assert (info["is_ca"], info["self_signed"], info["extended_key_usage"], info["san_dns"], info["san_ip"]) == (
        True, True, [], [], [])
    assert info["chain_pem"] == []


def test_x509_info_of_an_ip_san(lab):
    _k, cert = lab.server("10.0.0.5", sans=["10.0.0.5", "apex01"], key=pki.rsa_key(2048, slot=742))
    info = _x509.x509_info(pki.pem(cert))
    assert (info["san_dns"], info["san_ip"]) == (["apex01"], ["10.0.0.5"])


# ------------------------------------------------------------------------------------------------ PFX


def _merge_pfx(*parts: bytes, key_bags_from_last_only: bool = False) -> bytes:
    """One PFX (no password, no MAC) from the safe contents of unprotected PFX files."""
    contents = []
    for index, raw in enumerate(parts):
        safe = asn1_pkcs12.AuthenticatedSafe.load(asn1_pkcs12.Pfx.load(raw)["auth_safe"]["content"].native)
        for content_info in safe:
            if key_bags_from_last_only and index == len(parts) - 1:
                bags = asn1_pkcs12.SafeContents(
                    [b for b in asn1_pkcs12.SafeContents.load(content_info["content"].native)
                     if b["bag_id"].native == "key_bag"])
                content_info = cms.ContentInfo({"content_type": "data", "content": core.OctetString(bags.dump())})
            contents.append(content_info)
    auth_safe = asn1_pkcs12.AuthenticatedSafe(contents)
    return asn1_pkcs12.Pfx({"version": "v3", "auth_safe": cms.ContentInfo(
        {"content_type": "data", "content": core.OctetString(auth_safe.dump())})}).dump()


def test_a_pfx_with_two_private_keys_is_a_duplicate_leaf(lab, leaf):
    key, cert = leaf
    first = pki.make_pfx(key, cert, password=None)
    second = pki.make_pfx(pki.rsa_key(2048, slot=743), lab.server("apex02.corp.example",
                                                                  key=pki.rsa_key(2048, slot=743))[1], password=None)
    raw = _merge_pfx(first, second, key_bags_from_last_only=True)  # one certificate, two keys
    assert _x509.read_pfx_envelope(raw)["key_bags"] == 2
    info = _x509.pfx_info(raw)
    assert info["pfx_problems"] == [{
        "code": "duplicate_leaf", "severity": "error",
        "message": "the PFX holds 2 private keys; it must hold exactly one certificate with its key plus its chain: "
                   "export only the web host certificate"}]
    assert info["thumbprint"] == _x509.thumbprint(cert)


def test_a_pfx_with_a_second_server_certificate_is_a_duplicate_leaf(lab, leaf):
    key, cert = leaf
    _k, other = lab.server("apex02.corp.example", key=pki.rsa_key(2048, slot=744))
    raw = pki.make_pfx(key, cert, [other, lab.intermediate.cert], password=PASSWORD)
    (problem,) = _x509.pfx_info(raw, PASSWORD)["pfx_problems"]
    assert problem["code"] == "duplicate_leaf"
    assert problem["message"].startswith("the PFX holds 2 server certificates ('CN=apex01.corp.example,O=Apex Lab' "
                                         "and 'CN=apex02.corp.example,O=Apex Lab'); ")


def test_an_old_v1_root_in_a_pfx_is_chain_not_a_second_leaf(lab, leaf):
    key, cert = leaf
    _k, v1_like_root = pki.make_cert("Old Root", issuer=None, key=pki.rsa_key(2048, slot=745), eku=None, sans=[])
    raw = pki.make_pfx(key, cert, [lab.intermediate.cert, v1_like_root], password=PASSWORD)
    info = _x509.pfx_info(raw, PASSWORD)
    assert info["pfx_problems"] == [] and len(info["chain_pem"]) == 2


def test_the_same_leaf_twice_in_a_pfx(leaf):
    key, cert = leaf
    (problem,) = _x509.pfx_info(pki.make_pfx(key, cert, [cert], password=PASSWORD), PASSWORD)["pfx_problems"]
    assert problem["message"] == ("the PFX holds the same certificate twice for its one private key: export it again "
                                  "with one leaf certificate")


def test_a_pfx_without_key_picks_the_end_entity_certificate(lab, leaf):
    raw = pkcs12.serialize_key_and_certificates(None, None, None, [lab.intermediate.cert, leaf[1]],
                                                pki.pfx_encryption(PASSWORD))
    info = _x509.pfx_info(raw, PASSWORD)
    assert info["thumbprint"] == _x509.thumbprint(leaf[1])
    assert (info["has_private_key"], info["key_matches_certificate"]) == (False, False)
    assert info["chain_pem"] == [lab.intermediate.pem]


def test_pfx_info_reports_both_encryptions(lab, leaf):
    key, cert = leaf
    info = _x509.pfx_info(pki.make_pfx(key, cert, password=None), None)
    assert (info["encryption"], info["certificate_encryption"]) == ("none", "none")
    info = _x509.pfx_info(pki.make_pfx(key, cert, password=PASSWORD, encryption="aes"), PASSWORD)
    assert info["encryption"] == "PBES2/AES-256-CBC/PBKDF2-SHA-256"
    assert info["certificate_encryption"] == "PBES2/AES-256-CBC/PBKDF2-SHA-256"
    assert info["mac_algorithm"] == "SHA-256"
    (problem,) = info["pfx_problems"]
    assert (problem["code"], problem["severity"]) == ("modern_pfx_encryption", "warning")
    assert problem["message"].startswith("the PFX is protected with PBES2/AES-256-CBC/PBKDF2-SHA-256, which ")


def test_a_password_given_for_an_open_pfx_is_refused(leaf):
    raw = pki.make_pfx(*leaf, password=None)
    with pytest.raises(_x509.PfxPasswordError) as caught:
        _x509.pfx_info(raw, "unneeded")
    assert str(caught.value).startswith("the PFX is not password-protected but a password was given")


@pytest.mark.parametrize("password", ["pw\x00x", b"\xff\xfe"])
def test_unusable_passwords_are_password_errors(leaf, password):
    with pytest.raises(_x509.PfxPasswordError):
        _x509.pfx_info(pki.make_pfx(*leaf, password=PASSWORD), password)


def test_repack_keeps_the_friendly_name_or_takes_a_new_one(leaf):
    key, cert = leaf
    modern = pki.make_pfx(key, cert, password=PASSWORD, encryption="aes", friendly_name="Old Name")
    assert _x509.pfx_info(_x509.repack_pfx_legacy(modern, PASSWORD, "New Name"), PASSWORD)["friendly_name"] == \
        "New Name"
    unnamed = pki.make_pfx(key, cert, password=PASSWORD, encryption="aes", friendly_name=None)
    assert _x509.pfx_info(_x509.repack_pfx_legacy(unnamed, PASSWORD), PASSWORD)["friendly_name"] is None
    open_pfx = pki.make_pfx(key, cert, password=None)
    info = _x509.pfx_info(_x509.repack_pfx_legacy(open_pfx, None), None)
    assert info["encryption"] == "none" and info["key_matches_certificate"] is True


def test_repack_without_a_key_is_an_error(leaf):
    raw = pkcs12.serialize_key_and_certificates(None, None, None, [leaf[1]], pki.pfx_encryption(PASSWORD))
    with pytest.raises(_x509.CertificateError) as caught:
        _x509.repack_pfx_legacy(raw, PASSWORD)
    assert str(caught.value).startswith("the PFX has no private key: there is nothing to re-pack")


def test_windows_cannot_import_a_modern_pfx_before_build_17763():
    aes = "PBES2/AES-256-CBC/PBKDF2-SHA-256"
    assert _x509.windows_cannot_import(aes, None) is True
    assert _x509.windows_cannot_import(aes, 17762) is True
    assert _x509.windows_cannot_import(aes, 17763) is False
    assert _x509.windows_cannot_import("PBE-SHA1-3DES", 14393) is False
    assert _x509.windows_cannot_import("none", None) is False
    assert _x509.windows_cannot_import(None, 14393) is True  # unknown: treated as one old Windows cannot read
    assert _x509.windows_cannot_import(None, 17763) is False
    assert _x509.windows_cannot_import("", 17763) is False
    assert _x509.is_modern_pfx_encryption("") is False


# ------------------------------------------------------------------------------------------------ text input


def test_base64_pfx_text_with_junk_is_refused(leaf):
    data = pki.make_pfx(*leaf, password=PASSWORD)
    text = base64.b64encode(data).decode()
    assert _x509.decode_pfx_text("\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n") == data
    for junk in (text + "!", "#" + text, text[:40] + "*" + text[40:], text[:-1]):
        with pytest.raises(_x509.CertificateError) as caught:
            _x509.decode_pfx_text(junk)
        assert str(caught.value).startswith("the base64 PFX is not valid base64")


def test_base64_pfx_text_of_pem_is_refused(leaf):
    with pytest.raises(_x509.CertificateError) as caught:
        _x509.decode_pfx_text("  " + pki.pem(leaf[1]))
    assert str(caught.value).startswith("the base64 PFX is PEM text")


@pytest.mark.parametrize(
    ("text", "decodes"),
    [(base64.b64encode(b"\x30" + b"x" * 20), True), (base64.urlsafe_b64encode(b"\x30\xfb\xff" * 8), True),
     (base64.b64encode(b"\x30" * 8)[:11], False), (base64.b64encode(b"\x31" + b"x" * 20), False),
     (b"MIIB" + b"@" * 20, False)],
)
def test_base64_of_der_is_recognised(text, decodes):
    assert _x509._base64_decodes_to_der(text) is decodes


@pytest.mark.parametrize(
    ("data", "error", "start"),
    [
        (b"-----BEGIN PKCS12-----\nAAAA\n-----END PKCS12-----\n", _x509.CertificateError,
         "the certificate is a PKCS#12 bundle: use the pfx_info lookup"),
        ("\udcff" * 3, _x509.CertificateError, "the certificate is neither PEM"),
    ],
)
def test_more_certificate_inputs(data, error, start):
    with pytest.raises(error) as caught:
        _x509.load_certificates(data)
    assert str(caught.value).startswith(start)


def test_a_pem_bundle_keeps_its_order(lab, leaf):
    certs = _x509.load_certificates(pki.pem(leaf[1]) + lab.intermediate.pem + lab.root.pem)
    assert [_x509.thumbprint(c) for c in certs] == [_x509.thumbprint(c) for c in (leaf[1], *lab.chain)]


def test_a_damaged_second_pem_block_is_named(lab, leaf):
    bad = lab.intermediate.pem.replace("M", "A", 40)
    with pytest.raises(_x509.CertificateError) as caught:
        _x509.load_certificates(pki.pem(leaf[1]) + bad)
    assert str(caught.value).startswith("PEM block 2 of the certificate is not a valid certificate")


def test_der_key_and_passwordless_key(leaf):
    key = leaf[0]
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    assert _x509.load_private_key(der).key_size == 2048
    assert _x509.load_private_key(pki.key_pem(key), "").key_size == 2048
    with pytest.raises(_x509.CertificateError) as caught:
        _x509.load_private_key(b"\x30\x03\x02\x01\x01")
    assert str(caught.value).startswith("the private key could not be read")


def test_text_input_keeps_binary_bytes(leaf):
    der = leaf[1].public_bytes(serialization.Encoding.DER)
    as_text = der.decode("utf-8", "surrogateescape")
    assert _x509.load_certificates(as_text)[0] == leaf[1]


# ------------------------------------------------------------------------------------------------ problem codes


def test_every_problem_code_is_documented_in_the_filter():
    """PROBLEM_CODES is the documented list: each code is named in webhost_cert_check's documentation."""
    with open(os.path.join(REPO, "plugins", "filter", "webhost_cert_check.py"), encoding="utf-8") as handle:
        documentation = handle.read().split('"""')[1]
    documented = set(re.findall(r"C\((\w+)\) \((?:error|warning)\)", documentation))
    assert documented == set(_x509.PROBLEM_CODES)


def test_every_problem_code_is_produced(lab, leaf):
    """Each code of PROBLEM_CODES comes out of the checks for some input (a code no check emits is dead)."""
    key, cert = leaf
    produced = set()

    def run(certificate, **kwargs):
        produced.update(codes(check(certificate, **kwargs)))

    run(lab.server("other.example", sans=["other.example"], key=pki.rsa_key(2048, slot=746))[1])
    run(cert, now=cert.not_valid_after_utc + datetime.timedelta(days=1))
    run(cert, now=cert.not_valid_before_utc - datetime.timedelta(days=1))
    run(cert, min_days=10000)
    run(cert, has_private_key=False)
    run(cert, key=pki.rsa_key(2048, slot=747))
    run(lab.server(HOST, key=pki.rsa_key(1024, slot=748))[1])
    run(lab.server(HOST, key=pki.rsa_key(2048, slot=749), hash_algorithm=hashes.SHA1())[1])
    run(lab.server(HOST, key=pki.rsa_key(2048, slot=749), eku=[ExtendedKeyUsageOID.CLIENT_AUTH])[1])
    run(lab.server(HOST, key=pki.rsa_key(2048, slot=749), is_ca=True)[1])
    run(pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=749))[1])
    run(cert, ca=[lab.root.cert])
    run(pki.make_cert(HOST, issuer=lab.rogue_root, key=pki.rsa_key(2048, slot=749))[1], chain=[lab.rogue_root.cert],
        ca=[lab.root.cert])
    for raw, password in (
        (pki.make_pfx(key, cert, [cert], password=PASSWORD), PASSWORD),
        (pki.make_pfx(key, cert, password=PASSWORD, encryption="aes"), PASSWORD),
    ):
        produced.update(p["code"] for p in _x509.pfx_info(raw, password)["pfx_problems"])
    assert produced == set(_x509.PROBLEM_CODES)


def test_the_signature_padding_is_pkcs1v15(lab):
    """The legacy check verifies what Windows CAs produce: RSA PKCS#1 v1.5 over the TBS bytes."""
    _k, cert = lab.server(HOST, key=pki.rsa_key(2048, slot=750), hash_algorithm=hashes.SHA1())
    lab.intermediate.key.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                                             hashes.SHA1())
    assert _x509._verify_legacy_signature(cert, lab.intermediate.cert) is True
