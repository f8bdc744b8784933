"""Every problem code and every bad input of the controller-side certificate checks, on real certificates."""

import base64
import datetime

import pki
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

HOST = "apex01.corp.example"
PASSWORD = "S3cret-Pfx-Pw!"


def codes(result):
    return [p["code"] for p in result["problems"]]


def check(cert, **kwargs):
    kwargs.setdefault("hostname", HOST)
    return _x509.check_webhost_certificate(cert, **kwargs)


# ----------------------------------------------------------------------------------------------- names


def test_good_certificate_has_no_problem(lab_pki, server):
    key, cert = server
    result = check(cert, chain=[lab_pki.intermediate.cert], ca=[lab_pki.root.cert], key=key)
    assert result["ok"] is True
    assert result["problems"] == []
    assert result["thumbprint"] == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert result["subject_cn"] == HOST
    assert 360 <= result["days_left"] <= 366


@pytest.mark.parametrize(
    ("cn", "sans", "hostname", "expected"),
    [
        ("other.corp.example", [HOST], HOST, ["cn_mismatch"]),
        (None, [HOST], HOST, ["cn_mismatch"]),
        (HOST, ["other.corp.example"], HOST, ["hostname_not_in_san"]),
        (HOST, [], HOST, ["hostname_not_in_san"]),
        (HOST, ["*.corp.example"], HOST, []),
        (HOST, [HOST], "APEX01.Corp.Example.", []),
        ("apex01", ["apex01"], "apex01", []),
        ("apex01", ["apex01"], HOST, ["cn_mismatch", "hostname_not_in_san"]),
        ("a.b.corp.example", ["*.corp.example"], "a.b.corp.example", ["hostname_not_in_san"]),
        ("corp.example", ["*.corp.example"], "corp.example", ["hostname_not_in_san"]),
        (HOST, ["ap*.corp.example"], HOST, ["hostname_not_in_san"]),
        ("x.example", ["*.example"], "x.example", ["hostname_not_in_san"]),
        ("10.0.0.5", ["10.0.0.5"], "10.0.0.5", []),
        ("10.0.0.5", ["10.0.0.6"], "10.0.0.5", ["hostname_not_in_san"]),
    ],
)
def test_name_matching(lab_pki, cn, sans, hostname, expected):
    _key, cert = lab_pki.server(cn, sans=sans, key=pki.rsa_key(2048, slot=501))
    assert codes(check(cert, hostname=hostname)) == expected


def test_cn_mismatch_message_names_both(lab_pki):
    _key, cert = lab_pki.server("other.corp.example", sans=[HOST], key=pki.rsa_key(2048, slot=501))
    (problem,) = check(cert)["problems"]
    assert problem["severity"] == "error"
    assert "other.corp.example" in problem["message"] and HOST in problem["message"]


def test_dns_name_matches_rules():
    assert _x509.dns_name_matches("*.corp.example", "a.corp.example")
    assert _x509.dns_name_matches("A.CORP.example.", "a.corp.example")
    assert not _x509.dns_name_matches("*.corp.example", "corp.example")
    assert not _x509.dns_name_matches("*.*.example", "a.b.example")
    assert not _x509.dns_name_matches("a.*.example", "a.b.example")
    assert not _x509.dns_name_matches("*.corp.example", "10.0.0.1")
    assert not _x509.dns_name_matches("", "a")


@pytest.mark.parametrize("bad", ["", "   ", None, "host name", "bad_$.example", 5])
def test_invalid_hostname_is_an_error(server, bad):
    with pytest.raises(_x509.CertificateError, match="hostname"):
        check(server[1], hostname=bad)


# -------------------------------------------------------------------------------------------- validity


def test_expired(lab_pki):
    _key, cert = lab_pki.server(
        HOST, key=pki.rsa_key(2048, slot=502), not_before=pki.NOW - 400 * pki.DAY, not_after=pki.NOW - 10 * pki.DAY
    )
    result = check(cert, chain=[lab_pki.intermediate.cert], ca=[lab_pki.root.cert])
    # The chain itself is fine: only the date problem is reported, not chain_untrusted.
    assert codes(result) == ["expired"]
    assert result["days_left"] < 0 and result["ok"] is False


def test_not_yet_valid(lab_pki):
    _key, cert = lab_pki.server(
        HOST, key=pki.rsa_key(2048, slot=502), not_before=pki.NOW + 10 * pki.DAY, not_after=pki.NOW + 400 * pki.DAY
    )
    assert codes(check(cert, chain=[lab_pki.intermediate.cert], ca=[lab_pki.root.cert])) == ["not_yet_valid"]


def test_expires_soon_is_a_warning(lab_pki):
    _key, cert = lab_pki.server(HOST, key=pki.rsa_key(2048, slot=502), not_after=pki.NOW + 10 * pki.DAY)
    result = check(cert, min_days=30)
    assert codes(result) == ["expires_soon"]
    assert result["problems"][0]["severity"] == "warning"
    assert result["ok"] is True
    assert codes(check(cert, min_days=5)) == []


def test_now_moves_the_validation_time(server):
    _key, cert = server
    later = (pki.NOW + 2000 * pki.DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert codes(check(cert, now=later)) == ["expired"]
    assert codes(check(cert, now=pki.NOW + 2000 * pki.DAY)) == ["expired"]


def test_bad_now_is_an_error(server):
    with pytest.raises(_x509.CertificateError, match="ISO 8601"):
        check(server[1], now="next tuesday")


# ------------------------------------------------------------------------------------------------ keys


def test_key_mismatch_pem(server):
    _key, cert = server
    assert codes(check(cert, key=pki.rsa_key(2048, slot=503))) == ["key_mismatch"]


def test_no_private_key(server):
    assert codes(check(server[1], has_private_key=False)) == ["no_private_key"]
    assert codes(check(server[1], has_private_key=None)) == []


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (lambda: pki.rsa_key(1024, slot=504), ["weak_key"]),
        (lambda: pki.ec_key(ec.SECP192R1()), ["weak_key"]),
        (lambda: pki.ec_key(ec.SECP256R1()), []),
        (lambda: pki.rsa_key(2048, slot=504), []),
    ],
)
def test_weak_key(lab_pki, key, expected):
    _key, cert = lab_pki.server(HOST, key=key())
    assert codes(check(cert)) == expected


# ------------------------------------------------------------------------------------ signature and use


@pytest.mark.parametrize("algorithm", [hashes.SHA1(), hashes.MD5()])
def test_weak_signature_on_leaf(lab_pki, algorithm):
    _key, cert = lab_pki.server(HOST, key=pki.rsa_key(2048, slot=505), hash_algorithm=algorithm)
    result = check(cert)
    assert codes(result) == ["weak_signature"]
    assert algorithm.name.upper() in result["problems"][0]["message"]


def test_weak_signature_on_intermediate(lab_pki):
    weak_ca = pki.make_ca("Weak Issuing CA", parent=lab_pki.root, key=pki.rsa_key(2048, slot=506))
    # Re-sign the intermediate with SHA-1 by issuing a server cert from a CA whose own cert is SHA-1 signed.
    _key, weak_ca_cert = pki.make_cert(
        None, issuer=lab_pki.root, key=weak_ca.key, hash_algorithm=hashes.SHA1(), eku=None, is_ca=True
    )
    _key, leaf = pki.make_cert(HOST, issuer=weak_ca, key=pki.rsa_key(2048, slot=507))
    result = check(leaf, chain=[weak_ca_cert])
    assert "weak_signature" in codes(result)
    assert "chain certificate" in result["problems"][0]["message"]


def test_no_server_auth_eku(lab_pki):
    _key, cert = lab_pki.server(HOST, key=pki.rsa_key(2048, slot=508), eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    assert codes(check(cert)) == ["no_server_auth_eku"]
    _key, no_eku = lab_pki.server(HOST, key=pki.rsa_key(2048, slot=508), eku=None)
    assert codes(check(no_eku)) == []


def test_is_ca(lab_pki):
    _key, cert = lab_pki.server(HOST, key=pki.rsa_key(2048, slot=509), is_ca=True)
    assert codes(check(cert)) == ["is_ca"]


def test_self_signed():
    _key, cert = pki.make_cert(HOST, issuer=None, key=pki.rsa_key(2048, slot=510))
    assert codes(check(cert)) == ["self_signed"]


# ------------------------------------------------------------------------------------------------ chain


def test_no_chain_verdict_without_ca(lab_pki, server):
    assert codes(check(server[1])) == []


def test_chain_incomplete_missing_intermediate(lab_pki, server):
    result = check(server[1], chain=[], ca=[lab_pki.root.cert])
    assert codes(result) == ["chain_incomplete"]
    assert "Apex Lab Issuing CA" in result["problems"][0]["message"]


def test_chain_incomplete_intermediate_only_in_bundle(lab_pki, server):
    result = check(server[1], chain=[], ca=[lab_pki.root.cert, lab_pki.intermediate.cert])
    assert codes(result) == ["chain_incomplete"]
    assert "only in the CA bundle" in result["problems"][0]["message"]


def test_chain_untrusted_other_root(lab_pki):
    _key, cert = pki.make_cert(HOST, issuer=lab_pki.rogue_root, key=pki.rsa_key(2048, slot=511))
    result = check(cert, chain=[lab_pki.rogue_root.cert], ca=[lab_pki.root.cert])
    assert codes(result) == ["chain_untrusted"]
    assert "Rogue Root CA" in result["problems"][0]["message"]


def test_chain_untrusted_expired_intermediate(lab_pki):
    old = pki.make_ca(
        "Old Issuing CA",
        parent=lab_pki.root,
        key=pki.rsa_key(2048, slot=512),
        not_before=pki.NOW - 800 * pki.DAY,
        not_after=pki.NOW - 1 * pki.DAY,
    )
    _key, cert = pki.make_cert(
        HOST, issuer=old, key=pki.rsa_key(2048, slot=513), not_before=pki.NOW - 300 * pki.DAY
    )
    result = check(cert, chain=[old.cert], ca=[lab_pki.root.cert])
    assert codes(result) == ["chain_untrusted"]


def test_empty_ca_bundle_is_an_error(server):
    with pytest.raises(_x509.CertificateError, match="holds no certificate"):
        check(server[1], ca=[])


# -------------------------------------------------------------------------------------------------- PFX


def test_pfx_info_fields(lab_pki, server):
    key, cert = server
    data = pki.make_pfx(key, cert, lab_pki.chain, password=PASSWORD, friendly_name="Apex One 2026")
    info = _x509.pfx_info(data, PASSWORD)
    assert info["thumbprint"] == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert info["subject_cn"] == HOST
    assert info["san_dns"] == [HOST]
    assert info["key_type"] == "RSA" and info["key_size"] == 2048
    assert info["has_private_key"] is True and info["key_matches_certificate"] is True
    assert info["friendly_name"] == "Apex One 2026"
    assert len(info["chain_pem"]) == 2
    assert info["encryption"] == "PBE-SHA1-3DES" and info["mac_algorithm"] == "SHA-1"
    assert info["pfx_problems"] == []
    assert info["not_after"].endswith("Z")
    assert "PRIVATE" not in repr(info)


def test_pfx_leaf_is_the_certificate_with_the_key_not_the_first(lab_pki, server):
    key, cert = server
    # The leaf is stored last, after the CA certificates.
    data = pkcs12.serialize_key_and_certificates(
        None, key, None, [lab_pki.root.cert, lab_pki.intermediate.cert, cert],
        pki.pfx_encryption(PASSWORD),
    )
    info = _x509.pfx_info(data, PASSWORD)
    assert info["subject_cn"] == HOST
    assert info["key_matches_certificate"] is True


def test_modern_pfx_encryption_warning(lab_pki, server):
    key, cert = server
    info = _x509.pfx_info(pki.make_pfx(key, cert, lab_pki.chain, password=PASSWORD, encryption="aes"), PASSWORD)
    assert info["encryption"].startswith("PBES2/AES-256-CBC")
    assert info["mac_algorithm"] == "SHA-256"
    assert [p["code"] for p in info["pfx_problems"]] == ["modern_pfx_encryption"]
    result = _x509.check_from_input(info, hostname=HOST, ca=lab_pki.root.pem)
    assert codes(result) == ["modern_pfx_encryption"] and result["ok"] is True


def test_repack_legacy_keeps_certificate_key_and_name(lab_pki, server):
    key, cert = server
    modern = pki.make_pfx(key, cert, lab_pki.chain, password=PASSWORD, encryption="aes", friendly_name="FN")
    legacy = _x509.repack_pfx_legacy(modern, PASSWORD)
    info = _x509.pfx_info(legacy, PASSWORD)
    assert info["encryption"] == "PBE-SHA1-3DES"
    assert info["certificate_encryption"] == "PBE-SHA1-3DES"
    assert info["mac_algorithm"] == "SHA-1"
    assert info["thumbprint"] == _x509.thumbprint(cert)
    assert info["key_matches_certificate"] and info["friendly_name"] == "FN"
    assert len(info["chain_pem"]) == 2
    assert info["pfx_problems"] == []


def test_pfx_without_key(lab_pki, server):
    data = pkcs12.serialize_key_and_certificates(
        b"n", None, None, [server[1]], pki.pfx_encryption(PASSWORD)
    )
    info = _x509.pfx_info(data, PASSWORD)
    assert info["has_private_key"] is False
    assert codes(_x509.check_from_input(info, hostname=HOST)) == ["no_private_key"]


def test_pfx_key_mismatch(server):
    # cryptography refuses to pair a certificate with a foreign key, so the certificate goes in as a bag of its own.
    data = pkcs12.serialize_key_and_certificates(
        None, pki.rsa_key(2048, slot=514), None, [server[1]], pki.pfx_encryption(PASSWORD)
    )
    info = _x509.pfx_info(data, PASSWORD)
    assert info["key_matches_certificate"] is False
    assert codes(_x509.check_from_input(info, hostname=HOST)) == ["key_mismatch"]


def test_pfx_duplicate_leaf(server):
    key, cert = server
    data = pki.make_pfx(key, cert, [cert], password=PASSWORD)
    info = _x509.pfx_info(data, PASSWORD)
    assert [p["code"] for p in info["pfx_problems"]] == ["duplicate_leaf"]
    assert codes(_x509.check_from_input(info, hostname=HOST)) == ["duplicate_leaf"]


def test_pfx_empty_and_no_password_are_both_accepted(server):
    key, cert = server
    data = pki.make_pfx(key, cert, password=None)
    assert _x509.pfx_info(data, None)["has_private_key"] is True
    assert _x509.pfx_info(data, "")["has_private_key"] is True


# ------------------------------------------------------------------------------------------ bad inputs


def _pfx(server):
    return pki.make_pfx(server[0], server[1], password=PASSWORD)


@pytest.mark.parametrize(
    ("make", "password", "error", "message"),
    [
        (_pfx, "wrong-password", _x509.PfxPasswordError, "the password is wrong"),
        (_pfx, None, _x509.PfxPasswordError, "is password-protected: give its password"),
        (lambda s: b"", PASSWORD, _x509.CertificateError, "the PFX file is empty"),
        (lambda s: "", PASSWORD, _x509.CertificateError, "the PFX file is empty"),
        (lambda s: None, PASSWORD, _x509.CertificateError, "no PFX file was given"),
        (lambda s: b"\x00\x01 not a pfx at all", PASSWORD, _x509.CertificateError, "not a PKCS#12 (PFX) file"),
        (lambda s: _pfx(s)[: len(_pfx(s)) // 2], PASSWORD, _x509.CertificateError, "truncated or corrupt"),
        (lambda s: pki.pem(s[1]).encode(), PASSWORD, _x509.CertificateError, "is PEM text (-----BEGIN ...), not a PFX"),
        (lambda s: pki.key_pem(s[0]).encode(), PASSWORD, _x509.CertificateError, "not a PFX"),
        (lambda s: base64.b64encode(_pfx(s)), PASSWORD, _x509.CertificateError, "base64 text of a PFX"),
        (lambda s: base64.encodebytes(_pfx(s)), PASSWORD, _x509.CertificateError, "base64 text of a PFX"),
        (lambda s: s[1].public_bytes(pki.serialization.Encoding.DER), PASSWORD, _x509.CertificateError,
         "truncated or corrupt"),
        (lambda s: pkcs12.serialize_key_and_certificates(
            b"k", s[0], None, None, pki.pfx_encryption(PASSWORD)),
         PASSWORD, _x509.CertificateError, "holds a private key but no certificate"),
    ],
)
def test_bad_pfx_inputs(server, make, password, error, message):
    with pytest.raises(error) as caught:
        _x509.pfx_info(make(server), password)
    assert message in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert "wrong-password" not in str(caught.value)


def test_pfx_with_only_ca_certificates(lab_pki):
    data = pkcs12.serialize_key_and_certificates(
        None, None, None, [lab_pki.root.cert], pki.pfx_encryption(PASSWORD)
    )
    with pytest.raises(_x509.CertificateError, match="only CA certificates"):
        _x509.pfx_info(data, PASSWORD)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda s: "", "the certificate is empty"),
        (lambda s: pki.key_pem(s[0]), "is a private key, not a certificate"),
        (lambda s: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "no '-----BEGIN"),
        (lambda s: pki.pem(s[1]).replace("M", "A", 40), "is not a valid certificate"),
        (lambda s: base64.b64encode(s[1].public_bytes(pki.serialization.Encoding.DER)), "base64 text without PEM"),
        (lambda s: b"\x30\x03\x02\x01\x01", "binary but not a DER certificate"),
        (lambda s: "hello world", "neither PEM"),
        (_pfx, "PKCS#12 (PFX) file, not a certificate"),
        (lambda s: 42, "must be text or bytes"),
    ],
)
def test_bad_certificate_inputs(server, make, message):
    with pytest.raises(_x509.CertificateError) as caught:
        _x509.load_certificates(make(server))
    assert message in str(caught.value)


def test_der_certificate_loads(server):
    der = server[1].public_bytes(pki.serialization.Encoding.DER)
    assert _x509.load_certificates(der)[0] == server[1]


def test_bad_private_key_inputs(server):
    encrypted = pki.key_pem(server[0], password=b"keypw")
    with pytest.raises(_x509.CertificateError, match="is encrypted: give its password"):
        _x509.load_private_key(encrypted)
    with pytest.raises(_x509.PfxPasswordError, match="key password is wrong"):
        _x509.load_private_key(encrypted, "nope")
    with pytest.raises(_x509.CertificateError, match="is not encrypted"):
        _x509.load_private_key(pki.key_pem(server[0]), "unneeded")
    with pytest.raises(_x509.CertificateError, match="is a certificate"):
        _x509.load_private_key(pki.pem(server[1]))
    assert _x509.load_private_key(encrypted, "keypw").key_size == 2048


# ------------------------------------------------------------------------------------ filter-level input


def test_check_from_input_pem_with_chain_and_key(lab_pki, server):
    key, cert = server
    bundle = pki.pem(cert) + lab_pki.intermediate.pem
    result = _x509.check_from_input(bundle, hostname=HOST, ca=lab_pki.root.pem, key=pki.key_pem(key))
    assert result["ok"] and result["problems"] == []
    result = _x509.check_from_input(pki.pem(cert), hostname=HOST, ca=lab_pki.root.pem)
    assert codes(result) == ["chain_incomplete"]
    result = _x509.check_from_input(pki.pem(cert), hostname=HOST, ca=[lab_pki.root.pem], chain=lab_pki.intermediate.pem)
    assert codes(result) == []


def test_check_from_input_rejects_a_foreign_dict():
    with pytest.raises(_x509.CertificateError, match="without 'certificate_pem'"):
        _x509.check_from_input({"thumbprint": "AB"}, hostname=HOST)


def test_min_days_must_be_a_number(server):
    with pytest.raises(_x509.CertificateError, match="min_days"):
        check(server[1], min_days="soon")


# ------------------------------------------------------------------------------------------- thumbprints


@pytest.mark.parametrize(
    "pasted",
    [
        "3c 5d 1a 9f 0e 8b 7c 6d 5e 4f 3a 2b 1c 0d 9e 8f 7a 6b 5c 4d",
        "\u200e3c5d1a9f0e8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
        "3C:5D:1A:9F:0E:8B:7C:6D:5E:4F:3A:2B:1C:0D:9E:8F:7A:6B:5C:4D\n",
    ],
)
def test_normalize_thumbprint(pasted):
    assert _x509.normalize_thumbprint(pasted) == "3C5D1A9F0E8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D"


@pytest.mark.parametrize("bad", ["", "XYZ", "3C5D", None, "3C5D1A9F0E8B7C6D5E4F3A2B1C0D9E8F7A6B5C4DFF"])
def test_normalize_thumbprint_rejects(bad):
    with pytest.raises(_x509.CertificateError, match="thumbprint"):
        _x509.normalize_thumbprint(bad)


def test_format_time_is_utc_z():
    value = datetime.datetime(2027, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert _x509.format_time(value) == "2027-01-02T01:04:05Z"


def test_decode_pfx_text(server):
    data = _pfx(server)
    assert _x509.decode_pfx_text(base64.encodebytes(data)) == data
    assert _x509.decode_pfx_text(base64.b64encode(data).decode()) == data
    with pytest.raises(_x509.CertificateError, match="not valid base64"):
        _x509.decode_pfx_text("%%% not base64")
    with pytest.raises(_x509.CertificateError, match="is PEM text"):
        _x509.decode_pfx_text(pki.pem(server[1]))
    with pytest.raises(_x509.CertificateError, match="does not decode to a PKCS#12"):
        _x509.decode_pfx_text(base64.b64encode(b"hello world"))
