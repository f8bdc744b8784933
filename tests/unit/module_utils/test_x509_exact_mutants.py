"""The certificate checks, second round (issue 17): survivors of the first scored run of _x509.py.

Each test pins an exact value: the severity and ``ok`` of every problem, the exact text of each error an operator
reads (the error text is the only output of a refused input), PKCS#12 details against published test vectors,
and the corner cases of the chain verdict (a cycle of cross-signed CAs, a CA named like the bundle's, an issuer
with no organisation). ``make mutation`` runs these with the other _x509 tests against every mutant of _x509.py.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pki
import pytest
import test_x509_mutants
from asn1crypto import algos, core
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ed448
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from test_x509_mutants import HOST, check, codes

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

PASSWORD = "Exact-Pfx-Pw"

# The helpers and fixtures of test_x509_mutants.py (the lab PKI and its server certificate).
lab = test_x509_mutants.lab
leaf = test_x509_mutants.leaf


def error_of(call, *args, **kwargs):
    with pytest.raises(_x509.CertificateError) as caught:
        call(*args, **kwargs)
    return type(caught.value).__name__, str(caught.value)


def _ca(subject: x509.Name, key, issuer_name: x509.Name | None = None, signer=None):
    """A CA certificate with any subject (pki.make_ca always adds O=Apex Lab)."""
    now = pki.NOW
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - 365 * pki.DAY)
        .not_valid_after(now + 3650 * pki.DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(signer or key, hashes.SHA256())
    )


def _cn(name: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, name)])


# ------------------------------------------------------------------------------------- PKCS#12 key derivation


@pytest.mark.parametrize(
    ("password", "salt", "id_byte", "iterations", "size", "expected"),
    [
        # RFC 7292 appendix B.2 test vectors as published with Bouncy Castle's PKCS12 test suite.
        ("smeg", "0A58CF64530D823F", 1, 1, 24, "8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3"),
        ("smeg", "0A58CF64530D823F", 2, 1, 8, "79993DFE048D3B76"),
        ("queeg", "05DEC959ACFF72F7", 1, 1000, 24, "ED2034E36328830FF09DF1E1A07DD357185DAC0D4F9EB3D4"),
    ],
)
def test_pkcs12_kdf_matches_the_published_vectors(password, salt, id_byte, iterations, size, expected):
    """24 bytes from SHA-1 (20 a block) need the second round, where the I blocks are updated."""
    bmp = password.encode("utf-16-be") + b"\x00\x00"
    assert _x509._pkcs12_kdf("sha1", bmp, bytes.fromhex(salt), id_byte, iterations, size).hex().upper() == expected


def test_the_mac_password_of_no_password_is_empty():
    assert _x509._pfx_mac_password(None) == b""
    assert _x509._pfx_mac_password(b"") == b"\x00\x00"
    assert _x509._pfx_mac_password("Aé".encode()) == b"\x00A\x00\xe9\x00\x00"


# ----------------------------------------------------------------------------------- PKCS#12 algorithm names


def _pbes2(cipher: str, prf: str | None):
    kdf_params = {"salt": algos.Pbkdf2Salt(name="specified", value=core.OctetString(b"s" * 8)), "iteration_count": 2048}
    if prf is not None:
        kdf_params["prf"] = {"algorithm": prf}
    return algos.EncryptionAlgorithm({
        "algorithm": "pbes2",
        "parameters": {
            "key_derivation_func": {"algorithm": "pbkdf2", "parameters": kdf_params},
            "encryption_scheme": {"algorithm": cipher, "parameters": b"\x00" * 16},
        },
    })


def _pbe(name: str):
    return algos.EncryptionAlgorithm({"algorithm": name, "parameters": {"salt": b"s" * 8, "iterations": 2048}})


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        (_pbes2("aes128_cbc", "sha256"), "PBES2/AES-128-CBC/PBKDF2-SHA-256"),
        (_pbes2("aes192_cbc", "sha384"), "PBES2/AES-192-CBC/PBKDF2-SHA-384"),
        (_pbes2("aes256_cbc", "sha512"), "PBES2/AES-256-CBC/PBKDF2-SHA-512"),
        (_pbes2("tripledes_3key", None), "PBES2/3DES-CBC/PBKDF2-SHA-1"),
        (_pbes2("des", "sha256"), "PBES2/des/PBKDF2-SHA-256"),
        (_pbe("pkcs12_sha1_tripledes_3key"), "PBE-SHA1-3DES"),
        (_pbe("pkcs12_sha1_tripledes_2key"), "PBE-SHA1-2DES"),
        (_pbe("pkcs12_sha1_rc2_40"), "PBE-SHA1-RC2-40"),
        (_pbe("pkcs12_sha1_rc2_128"), "PBE-SHA1-RC2-128"),
        (_pbe("pkcs12_sha1_rc4_128"), "PBE-SHA1-RC4-128"),
        (_pbe("pkcs12_sha1_rc4_40"), "PBE-SHA1-RC4-40"),
        (_pbe("pbes1_md5_des"), "pbes1_md5_des"),
    ],
)
def test_pkcs12_algorithm_names(algorithm, expected):
    """The names people know, exactly as the legacy list of windows_cannot_import spells them."""
    assert _x509._algorithm_name(algorithm) == expected


@pytest.mark.parametrize(("name", "legacy"), [
    ("PBE-SHA1-2DES", True), ("PBE-SHA1-RC2-128", True), ("PBE-SHA1-RC4-40", True), ("pbes1_md5_des", False),
])
def test_each_legacy_name_is_importable_by_old_windows(name, legacy):
    assert _x509.windows_cannot_import(name, 14393) is (not legacy)


# ------------------------------------------------------------------------------------------------ envelopes


def test_the_envelope_has_only_its_public_fields_and_a_certificates_only_pfx_names_their_encryption(lab, leaf):
    raw = pkcs12.serialize_key_and_certificates(None, None, None, [leaf[1], lab.intermediate.cert],
                                                pki.pfx_encryption(PASSWORD))
    assert _x509.read_pfx_envelope(raw) == {"encryption": "PBE-SHA1-3DES", "certificate_encryption": "PBE-SHA1-3DES",
                                            "mac_algorithm": "SHA-1", "key_bags": 0}


def test_bytes_after_the_pfx_structure_are_refused(leaf):
    raw = pki.make_pfx(*leaf, password=PASSWORD) + b"\x00\x00"
    kind, message = error_of(_x509.pfx_info, raw, PASSWORD)
    assert kind == "CertificateError"
    assert message.startswith("the file is not a valid PKCS#12 (PFX) file: it is truncated or corrupt (")
    # As a certificate it is binary, not DER, and not a PFX either (a PFX is exactly its DER structure).
    assert error_of(_x509.load_certificates, raw)[1].startswith("the certificate is binary but not a DER certificate (")


def test_the_repacked_pfx_uses_2000_rounds(leaf):
    repacked = _x509.repack_pfx_legacy(pki.make_pfx(*leaf, password=PASSWORD, encryption="aes"), PASSWORD)
    (der, encrypted), = _x509._parse_pfx(repacked)["_key_bags"]
    params = asn1_keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]["parameters"]
    assert encrypted and params["iterations"].native == 2000


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize(("keypbe", "certpbe"), [("AES-256-CBC", "PBE-SHA1-3DES"), ("PBE-SHA1-3DES", "AES-128-CBC")])
def test_either_modern_part_of_a_pfx_gives_the_warning(tmp_path, leaf, keypbe, certpbe):
    """OpenSSL can protect the key and the certificates differently: either one in AES needs the re-pack."""
    key, cert = leaf
    (tmp_path / "c.pem").write_text(pki.pem(cert))
    (tmp_path / "k.pem").write_text(pki.key_pem(key))
    subprocess.run(["openssl", "pkcs12", "-export", "-in", str(tmp_path / "c.pem"), "-inkey", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "x.pfx"), "-keypbe", keypbe, "-certpbe", certpbe,
                    "-passout", "pass:" + PASSWORD], check=True, capture_output=True)
    info = _x509.pfx_info((tmp_path / "x.pfx").read_bytes(), PASSWORD)
    assert [(p["code"], p["severity"]) for p in info["pfx_problems"]] == [("modern_pfx_encryption", "warning")]


def test_the_duplicate_leaf_problem_is_listed_once(lab, leaf):
    """The same leaf twice and a second server certificate: one duplicate_leaf, the first one found."""
    key, cert = leaf
    _k, other = lab.server("apex02.corp.example", key=pki.rsa_key(2048, slot=744))
    info = _x509.pfx_info(pki.make_pfx(key, cert, [cert, other], password=PASSWORD), PASSWORD)
    assert info["pfx_problems"] == [{
        "code": "duplicate_leaf", "severity": "error",
        "message": "the PFX holds the same certificate twice for its one private key: export it again with one leaf "
                   "certificate"}]


def test_a_second_leaf_after_a_non_ca_issuer_is_found(lab, leaf):
    """A certificate that issued another one of the PFX is chain, whatever its flags; the search goes on after it."""
    key, cert = leaf
    odd_key = pki.rsa_key(2048, slot=751)
    _ok, odd = lab.server("Odd Issuer", key=odd_key, eku=None, sans=[])
    odd_issuer = pki.Issuer(odd_key, odd)
    _k2, second = pki.make_cert("apex02.corp.example", issuer=odd_issuer, key=pki.rsa_key(2048, slot=752))
    info = _x509.pfx_info(pki.make_pfx(key, cert, [odd, second], password=PASSWORD), PASSWORD)
    assert [(p["code"], p["severity"]) for p in info["pfx_problems"]] == [("duplicate_leaf", "error")]
    assert "'CN=apex02.corp.example,O=Apex Lab'" in info["pfx_problems"][0]["message"]
    assert "Odd Issuer" not in info["pfx_problems"][0]["message"]


def test_a_pfx_of_ca_certificates_names_each(lab):
    raw = pkcs12.serialize_key_and_certificates(None, None, None, [lab.root.cert, lab.intermediate.cert],
                                                pki.pfx_encryption(PASSWORD))
    assert error_of(_x509.pfx_info, raw, PASSWORD) == (
        "CertificateError",
        "the PFX holds only CA certificates (CN=Apex Lab Root CA,O=Apex Lab, CN=Apex Lab Issuing CA,O=Apex Lab) and "
        "no server certificate: export the web host certificate with its private key instead")


# ----------------------------------------------------------------------------------------- severity and ok


def _problem_cases(lab, leaf):
    _key, cert = leaf
    return {
        "hostname_not_in_san": lambda: check(lab.server(HOST, sans=["other.example"],
                                                        key=pki.rsa_key(2048, slot=753))[1]),
        "expired": lambda: check(cert, now=cert.not_valid_after_utc + datetime.timedelta(days=3)),
        "not_yet_valid": lambda: check(cert, now=cert.not_valid_before_utc - datetime.timedelta(days=1)),
        "no_private_key": lambda: check(cert, has_private_key=False),
        "key_mismatch": lambda: check(cert, key=pki.rsa_key(2048, slot=747)),
        "is_ca": lambda: check(lab.server(HOST, key=pki.rsa_key(2048, slot=749), is_ca=True)[1]),
        "self_signed": lambda: check(pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=749))[1]),
        "weak_key": lambda: check(lab.server(HOST, key=pki.rsa_key(1024, slot=748))[1]),
    }


@pytest.mark.parametrize("code", ["hostname_not_in_san", "expired", "not_yet_valid", "no_private_key", "key_mismatch",
                                  "is_ca", "self_signed", "weak_key"])
def test_each_error_problem_is_an_error_and_makes_the_verdict_not_ok(lab, leaf, code):
    result = _problem_cases(lab, leaf)[code]()
    assert [(p["code"], p["severity"]) for p in result["problems"]] == [(code, "error")]
    assert result["ok"] is False


def test_exact_problem_messages(lab, leaf):
    _key, cert = leaf
    expired = check(cert, now=cert.not_valid_after_utc + datetime.timedelta(days=3))
    assert expired["problems"][0]["message"] == (
        f"the certificate expired on {_x509.format_time(cert.not_valid_after_utc)} (3 days ago)")
    assert expired["days_left"] == -3
    cases = _problem_cases(lab, leaf)
    assert cases["key_mismatch"]()["problems"][0]["message"] == "the private key does not belong to the certificate"
    assert cases["is_ca"]()["problems"][0]["message"] == (
        "the certificate is a CA certificate (basicConstraints CA:TRUE), not a server certificate")
    assert cases["self_signed"]()["problems"][0]["message"] == (
        "the certificate is self-signed: the point of the replacement is a certificate your CA signed")


def test_a_pfx_whose_key_matches_nothing_is_an_error(leaf):
    _key, cert = leaf
    raw = pkcs12.serialize_key_and_certificates(b"x", pki.rsa_key(2048, slot=600), None, [cert],
                                                pki.pfx_encryption(PASSWORD))
    info = _x509.pfx_info(raw, PASSWORD)
    assert [(p["code"], p["severity"]) for p in info["pfx_problems"]] == [("key_mismatch", "error")]
    assert _x509.check_from_input(info, hostname=HOST)["ok"] is False


def test_the_default_threshold_is_30_days(leaf):
    cert = leaf[1]
    at_30 = cert.not_valid_after_utc - datetime.timedelta(days=30)
    assert check(cert, now=at_30)["days_left"] == 30
    assert codes(check(cert, now=at_30)) == []
    assert codes(check(cert, now=at_30 + datetime.timedelta(seconds=1))) == ["expires_soon"]


def test_a_weak_intermediate_after_a_root_in_the_chain_is_still_reported(lab):
    """The root's own signature is skipped; the certificates after it in the chain are still judged."""
    sha1_intermediate = pki.make_ca("SHA1 Issuing CA", parent=lab.root, key=pki.rsa_key(2048, slot=754),
                                    hash_algorithm=hashes.SHA256())
    sha1_intermediate = pki.Issuer(sha1_intermediate.key,
                                   pki._sign_legacy(sha1_intermediate.cert, lab.root.key, hashes.SHA1()))
    _k, cert = pki.make_cert(HOST, issuer=sha1_intermediate, key=pki.rsa_key(2048, slot=755))
    result = check(cert, chain=[lab.root.cert, sha1_intermediate.cert])
    assert [(p["code"], p["severity"]) for p in result["problems"]] == [("weak_signature", "error")]


# --------------------------------------------------------------------------------------------- key types


def test_dsa_and_ed448_keys_are_described_and_dsa_is_weak(lab):
    _k, dsa_cert = lab.server(HOST, key=dsa.generate_private_key(1024))
    info = _x509.x509_info(pki.pem(dsa_cert))
    assert (info["key_type"], info["key_size"]) == ("DSA", 1024)
    assert codes(check(dsa_cert)) == ["weak_key"]
    _k, ed_cert = lab.server(HOST, key=ed448.Ed448PrivateKey.generate())
    assert (_x509.x509_info(pki.pem(ed_cert))["key_type"], _x509.x509_info(pki.pem(ed_cert))["key_size"]) == (
        "Ed448", 456)


# ---------------------------------------------------------------------------------------------- chain corners


def test_a_root_named_like_the_bundles_root_is_not_the_bundles_root(lab):
    """Same subject, another key: the chain leads to a root outside the bundle (not 'does not validate')."""
    impostor = pki.make_ca("Apex Lab Root CA", key=pki.rsa_key(2048, slot=756))
    issuing = pki.make_ca("Apex Lab Issuing CA", parent=impostor, key=pki.rsa_key(2048, slot=757))
    _k, cert = pki.make_cert(HOST, issuer=issuing, key=pki.rsa_key(2048, slot=758))
    result = check(cert, chain=[issuing.cert, impostor.cert], ca=[lab.root.cert])
    (problem,) = result["problems"]
    assert (problem["code"], problem["severity"]) == ("chain_untrusted", "error")
    assert problem["message"].startswith("the chain leads to the root CA 'CN=Apex Lab Root CA,O=Apex Lab', which is "
                                         "not in the CA bundle (the bundle holds one certificate, ")


def test_a_ca_of_the_same_name_with_another_key_is_an_error(lab):
    other_issuing = pki.make_ca("Apex Lab Issuing CA", parent=lab.root, key=pki.rsa_key(2048, slot=759))
    _k, cert = pki.make_cert(HOST, issuer=other_issuing, key=pki.rsa_key(2048, slot=760))
    result = check(cert, ca=[lab.root.cert, lab.intermediate.cert])
    assert [(p["code"], p["severity"]) for p in result["problems"]] == [("chain_untrusted", "error")]
    assert result["ok"] is False


def test_cross_signed_cas_in_a_cycle_end_the_path(lab):
    """A signed by B and B signed by A: the path stops where it would repeat a certificate."""
    key_a, key_b = pki.rsa_key(2048, slot=761), pki.rsa_key(2048, slot=762)
    name_a, name_b = _cn("Cycle A", "Apex Lab"), _cn("Cycle B", "Apex Lab")
    a_by_b = _ca(name_a, key_a, issuer_name=name_b, signer=key_b)
    b_by_a = _ca(name_b, key_b, issuer_name=name_a, signer=key_a)
    _k, cert = pki.make_cert(HOST, issuer=pki.Issuer(key_a, a_by_b), key=pki.rsa_key(2048, slot=763))
    assert [c.subject for c in _x509._build_path(cert, [a_by_b, b_by_a])] == [cert.subject, name_a, name_b]
    assert codes(check(cert, chain=[a_by_b, b_by_a], ca=[lab.root.cert])) == ["chain_incomplete"]


def test_an_issuer_with_no_organisation_may_be_a_missing_intermediate(lab):
    """Nothing in the name says which PKI it belongs to: chain_incomplete, not chain_untrusted."""
    key = pki.rsa_key(2048, slot=764)
    bare = _ca(_cn("Bare Issuing CA"), key)
    bare_issuer = pki.Issuer(key, bare)
    _k, cert = pki.make_cert(HOST, issuer=bare_issuer, key=pki.rsa_key(2048, slot=765))
    assert _x509._may_be_missing_intermediate(bare.subject, [lab.root.cert]) is True
    result = check(cert, ca=[lab.root.cert])
    assert codes(result) == ["chain_incomplete"]


def test_organisations_compare_case_insensitively_by_lower_case(lab):
    assert _x509._organisation(_cn("x", "Apex LAB")) == {("O", "apex lab")}
    # lower() and upper() differ for the German sharp s: 'Straße' is not 'STRASSE' (upper() would make them one).
    assert not _x509._organisation(_cn("x", "Straße AG")) & _x509._organisation(_cn("y", "STRASSE AG"))


def test_a_partial_wildcard_first_in_the_san_does_not_break_the_chain_verdict(lab):
    _k, cert = lab.server(HOST, sans=["f*.corp.example", HOST], key=pki.rsa_key(2048, slot=766))
    result = check(cert, chain=[lab.intermediate.cert], ca=[lab.root.cert])
    assert result["problems"] == [] and result["ok"] is True


# ------------------------------------------------------------------------------------------ names and text


def test_a_partial_wildcard_never_matches():
    assert _x509.dns_name_matches("a*b.corp.example", "x.b.corp.example") is False
    assert _x509.dns_name_matches("a*.corp.example", "corp.example") is False


def test_only_brackets_are_stripped_from_an_address():
    assert _x509.normalize_hostname("X10.0.0.1X") == "x10.0.0.1x"
    assert _x509.normalize_hostname("[::1]") == "::1"


def test_base64url_text_with_a_dash_is_recognised():
    assert _x509._base64_decodes_to_der(b"MII-" + b"A" * 12) is True
    assert _x509._base64_decodes_to_der(b"MII_" + b"A" * 12) is True  # base64url with an underscore only
    assert error_of(_x509.pfx_info, b"MII-" + b"A" * 12, PASSWORD)[1].startswith(
        "the file is base64 text of a PFX, not the binary PFX")


def test_short_takes_the_first_line_or_the_type_name():
    assert _x509._short(ValueError("first line\nsecond")) == "first line"
    assert _x509._short(ValueError("  ")) == "ValueError"
    assert _x509._short(ValueError("x" * 200)) == "x" * 160


# ------------------------------------------------------------------------------------ exact error messages


def test_missing_cryptography_is_named_with_its_import_error(monkeypatch):
    monkeypatch.setattr(_x509, "HAS_CRYPTOGRAPHY", False)
    monkeypatch.setattr(_x509, "CRYPTOGRAPHY_IMPORT_ERROR", ImportError("No module named 'cryptography'"))
    assert error_of(_x509.require_libraries)[1] == (
        "the Python library 'cryptography' (>= 45) is required on the Ansible controller: pip install cryptography "
        "(No module named 'cryptography')")


def _damaged(leaf, old: bytes, new: bytes) -> bytes:
    der = leaf[1].public_bytes(pki.serialization.Encoding.DER)
    assert der.count(old) == 1
    return der.replace(old, new)


def _late_error(der: bytes, read) -> str:
    try:
        read(x509.load_der_x509_certificate(der))
    except Exception as exc:  # the text cryptography gives, whatever its class
        return _x509._short(exc)
    raise AssertionError("the damage was not seen")


def test_late_damage_is_named_with_the_parsers_words(leaf):
    rsa_oid = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
    bad_key = _damaged(leaf, rsa_oid, rsa_oid[:-1] + b"\x63")
    detail = _late_error(bad_key, lambda c: c.public_key())
    assert error_of(_x509.ensure_parsable, x509.load_der_x509_certificate(bad_key))[1] == (
        f"the certificate has a public key this controller cannot read ({detail}); Apex One needs an RSA or EC key")
    assert error_of(_x509.load_certificates, bad_key)[1] == (
        f"the certificate has a public key this controller cannot read ({detail}); Apex One needs an RSA or EC key")
    duplicate = _damaged(leaf, b"\x06\x03\x55\x1d\x0e", b"\x06\x03\x55\x1d\x23")
    detail = _late_error(duplicate, lambda c: list(c.extensions))
    assert error_of(_x509.ensure_parsable, x509.load_der_x509_certificate(duplicate))[1] == (
        f"the certificate is not a valid certificate ({detail}); check that the file was not cut or edited")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: _x509.load_private_key("\ud800"),
         "the private key is text with characters that are not valid Unicode (surrogates not allowed)"),
        (lambda s: _x509.pfx_info(pki.make_pfx(*s, password=PASSWORD), "pw\x00"),
         "the password holds a NUL character, which no PFX password can: check the variable"),
        (lambda s: _x509.pfx_info(pki.make_pfx(*s, password=PASSWORD), b"\xff\xfe"),
         "the PFX password is not valid UTF-8 text: check the variable that holds it"),
        (lambda s: _x509.pfx_info(pki.make_pfx(*s, password=None), "given"),
         "the PFX is not password-protected but a password was given: leave apexone_cert_pfx_password empty"),
        (lambda s: _x509.pfx_info(pki.make_pfx(*s, password=PASSWORD), "wrong"),
         "could not decrypt the PFX: the password is wrong or the file is damaged (check apexone_cert_pfx_password / "
         "the vault value, PFX passwords are case-sensitive; if the password is right, copy the file again)"),
        (lambda s: _x509.pfx_info(pki.pem(s[1]).encode(), PASSWORD),
         "the file is PEM text (-----BEGIN ...), not a PFX: give the certificate and key as PEM (cert_path/key_path), "
         "or convert with 'openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.pfx'"),
        (lambda s: _x509.pfx_info(b"-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n", PASSWORD),
         "the file is PEM text, not a binary PKCS#12 (PFX) file"),
        (lambda s: _x509.normalize_thumbprint(42), "a thumbprint must be a string, not int"),
        (lambda s: _x509.load_certificates("hello world"),
         "the certificate is neither PEM (-----BEGIN CERTIFICATE-----) nor DER: export the certificate again as "
         ".cer / .pem"),
        (lambda s: _x509.x509_info("hello world"),
         "the certificate is neither PEM (-----BEGIN CERTIFICATE-----) nor DER: export the certificate again as "
         ".cer / .pem"),
        (lambda s: _x509.check_from_input({"thumbprint": "AB"}, hostname=HOST),
         "the input is a dict without 'certificate_pem': pass the result of the pfx_info lookup, or PEM text"),
        (lambda s: _x509.check_from_input({"certificate_pem": "junk text"}, hostname=HOST),
         "the certificate is neither PEM (-----BEGIN CERTIFICATE-----) nor DER: export the certificate again as "
         ".cer / .pem"),
        (lambda s: _x509.check_from_input(pki.pem(s[1]), hostname=HOST, chain="junk text"),
         "the chain is neither PEM (-----BEGIN CERTIFICATE-----) nor DER: export the certificate again as .cer / .pem"),
        (lambda s: _x509.check_from_input(pki.pem(s[1]), hostname=HOST, ca="junk text"),
         "the CA bundle is neither PEM (-----BEGIN CERTIFICATE-----) nor DER: export the certificate again as "
         ".cer / .pem"),
        (lambda s: _x509.check_webhost_certificate(s[1], hostname=HOST, ca=[]),
         "ca was given but holds no certificate: give the PEM bundle of your root CA(s)"),
    ],
    ids=["not-unicode", "nul-password", "password-not-utf8", "open-pfx-with-password", "wrong-password", "pem-not-pfx",
         "other-pem-not-pfx", "thumbprint-type", "neither-pem-nor-der", "x509-info", "foreign-dict", "dict-junk",
         "chain-junk", "ca-junk", "empty-ca"],
)
def test_exact_error_messages(leaf, call, message):
    with pytest.raises(_x509.CertificateError) as caught:
        call(leaf)
    assert str(caught.value) == message


def test_a_damaged_der_certificate_is_named_as_the_certificate(leaf):
    bad = _damaged(leaf, b"\x06\x03\x55\x1d\x0e", b"\x06\x03\x55\x1d\x23")
    assert error_of(_x509.load_certificates, bad, "chain")[1].startswith("the chain is not a valid certificate (")
    assert error_of(_x509.load_certificates, bad)[1].startswith("the certificate is not a valid certificate (")


def test_the_pfx_problem_texts(lab, leaf):
    key, cert = leaf
    _k, other = lab.server("apex02.corp.example", key=pki.rsa_key(2048, slot=744))
    (problem,) = _x509.pfx_info(pki.make_pfx(key, cert, [other], password=PASSWORD), PASSWORD)["pfx_problems"]
    assert problem["message"] == (
        "the PFX holds 2 server certificates ('CN=apex01.corp.example,O=Apex Lab' and 'CN=apex02.corp.example,"
        "O=Apex Lab'); it must hold exactly one certificate with its key plus its CA chain: export only the web host "
        "certificate")
    (problem,) = _x509.pfx_info(pki.make_pfx(key, cert, password=PASSWORD, encryption="aes"), PASSWORD)["pfx_problems"]
    assert problem["message"] == (
        "the PFX is protected with PBES2/AES-256-CBC/PBKDF2-SHA-256, which Windows Server 2016 and older reject with "
        "'The specified network password is not correct'; the win_webhost_cert action re-packs it with legacy "
        "3DES/SHA-1 for such targets (pfx_legacy_encryption)")


# ------------------------------------------------------------------- another seed's survivors (--seed other)


def test_more_exact_texts(lab, leaf):
    _key, cert = leaf
    assert error_of(_x509.load_private_key, pki.pem(cert))[1] == (
        "the private key is a certificate: give the key file (-----BEGIN PRIVATE KEY-----)")
    assert error_of(_x509.load_certificates, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE "
                                             "REQUEST-----\n")[1] == (
        "the certificate has PEM markers but no '-----BEGIN CERTIFICATE-----' block (is it a certificate request or "
        "a key?)")
    assert error_of(_x509.pfx_info, b"\x00\x01 not a pfx at all", PASSWORD)[1] == (
        "the file is not a PKCS#12 (PFX) file: it does not start with an ASN.1 sequence; export the certificate again "
        "as .pfx/.p12 with its private key")
    _k, no_cn = pki.make_cert(None, issuer=lab.intermediate, key=pki.rsa_key(2048, slot=771), sans=[HOST])
    assert check(no_cn)["problems"][0]["message"] == (
        "the certificate has no subject CN; Apex One requires CN=apex01.corp.example")
    _k, other = lab.server("other.example", sans=[HOST], key=pki.rsa_key(2048, slot=772))
    assert check(other)["problems"][0]["message"] == (
        "subject CN 'other.example' is not the host name 'apex01.corp.example'; Apex One requires the CN to be the "
        "name agents use: request a certificate with CN=apex01.corp.example")
    early = check(cert, now=cert.not_valid_before_utc - datetime.timedelta(days=1))
    assert early["problems"][0]["message"] == (
        f"the certificate is not valid before {_x509.format_time(cert.not_valid_before_utc)}")
