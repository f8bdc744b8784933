"""Opening a PFX without RSA key validation gives the verdicts load_pkcs12 gives; nothing degrades silently."""

import os
import subprocess
import sys

import pki
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.apexone.certificates.plugins.action import win_webhost_cert
from ansible_collections.apexone.certificates.plugins.module_utils import _x509

HOST = "apex01.corp.example"
PASSWORD = "S3cret-Pfx-Pw!"


def outcome(data, password):
    try:
        return _x509.pfx_info(data, password)
    except _x509.CertificateError as exc:
        return f"{type(exc).__name__}: {exc}"


def variants(lab_pki, server):
    key, cert = server
    other_key = pki.rsa_key(2048, slot=600)
    ec_key = pki.ec_key()
    _ek, ec_cert = lab_pki.server(HOST, key=ec_key)
    legacy = pki.make_pfx(key, cert, lab_pki.chain, password=PASSWORD)
    tampered_mac = bytearray(legacy)
    digest = _x509._parse_pfx(legacy)["_mac"]["digest"]
    tampered_mac[legacy.rindex(digest)] ^= 0x01
    tampered_bag = bytearray(legacy)
    tampered_bag[len(legacy) // 2] ^= 0x01
    sha512_mac = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(1000)
                  .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA512())
                  .build(PASSWORD.encode()))
    return {
        "legacy 3DES": (legacy, PASSWORD),
        "AES-256": (pki.make_pfx(key, cert, lab_pki.chain, password=PASSWORD, encryption="aes"), PASSWORD),
        "SHA-512 MAC": (pkcs12.serialize_key_and_certificates(b"fn", key, cert, lab_pki.chain, sha512_mac), PASSWORD),
        "no password": (pki.make_pfx(key, cert, lab_pki.chain, password=None), None),
        "empty password given": (pki.make_pfx(key, cert, lab_pki.chain, password=None), ""),
        "EC key": (pki.make_pfx(ec_key, ec_cert, lab_pki.chain, password=PASSWORD), PASSWORD),
        "no friendly name": (pki.make_pfx(key, cert, lab_pki.chain, password=PASSWORD, friendly_name=None), PASSWORD),
        "leaf only": (pki.make_pfx(key, cert, [], password=PASSWORD), PASSWORD),
        "wrong password": (legacy, "not-the-password"),
        "password missing": (legacy, None),
        "tampered MAC": (bytes(tampered_mac), PASSWORD),
        "tampered bag": (bytes(tampered_bag), PASSWORD),
        "key of another certificate": (
            pkcs12.serialize_key_and_certificates(b"x", other_key, None, [cert], pki.pfx_encryption(PASSWORD)),
            PASSWORD),
        "two keys": (pkcs12.serialize_key_and_certificates(b"a", key, cert, None, pki.pfx_encryption(PASSWORD))
                     [:0] + _two_key_pfx(key, cert, other_key), PASSWORD),
        "certificates only": (
            pkcs12.serialize_key_and_certificates(None, None, None, [cert, *lab_pki.chain],
                                                  pki.pfx_encryption(PASSWORD)), PASSWORD),
        "key only": (pkcs12.serialize_key_and_certificates(None, key, None, None, pki.pfx_encryption(PASSWORD)),
                     PASSWORD),
        "leaf twice": (pkcs12.serialize_key_and_certificates(b"d", key, cert, [cert], pki.pfx_encryption(PASSWORD)),
                       PASSWORD),
    }


def _two_key_pfx(key, cert, other_key):
    """A PFX with two key bags (asn1crypto assembles what cryptography will not write)."""
    from asn1crypto import pkcs12 as a12

    one = a12.Pfx.load(pkcs12.serialize_key_and_certificates(b"a", key, cert, None, serialization.NoEncryption()))
    two = a12.Pfx.load(pkcs12.serialize_key_and_certificates(b"b", other_key, None, None, serialization.NoEncryption()))
    safes = [ci for p in (one, two) for ci in a12.AuthenticatedSafe.load(p["auth_safe"]["content"].native)]
    return a12.Pfx({"version": "v3", "auth_safe": {"content_type": "data",
                                                   "content": a12.AuthenticatedSafe(safes).dump()}}).dump()


def test_fast_and_full_load_agree_on_every_variant(lab_pki, server, monkeypatch):
    """Each variant through the fast path and through load_pkcs12 (the fast path off): the same result."""
    seen = {}
    for name, (data, password) in variants(lab_pki, server).items():
        monkeypatch.setattr(_x509, "_FAST_PFX", True)
        fast = outcome(data, password)
        monkeypatch.setattr(_x509, "_FAST_PFX", False)
        full = outcome(data, password)
        assert fast == full, name
        seen[name] = fast
    # The variants are what their names say (so the comparison covers each kind of result).
    assert seen["legacy 3DES"]["encryption"] == "PBE-SHA1-3DES" and seen["legacy 3DES"]["pfx_problems"] == []
    assert seen["AES-256"]["encryption"] == "PBES2/AES-256-CBC/PBKDF2-SHA-256"
    assert seen["SHA-512 MAC"]["mac_algorithm"] == "SHA-512"
    assert seen["no password"]["encryption"] == "none"
    assert seen["EC key"]["key_type"] == "EC" and seen["EC key"]["key_matches_certificate"] is True
    assert seen["wrong password"].startswith("PfxPasswordError: could not decrypt the PFX: the password is wrong")
    assert seen["password missing"] == (
        "PfxPasswordError: the PFX is password-protected: give its password (apexone_cert_pfx_password)")
    assert seen["tampered MAC"].startswith("PfxPasswordError: could not decrypt the PFX")
    assert seen["tampered bag"].startswith(("PfxPasswordError", "CertificateError"))
    assert [p["code"] for p in seen["key of another certificate"]["pfx_problems"]] == ["key_mismatch"]
    assert [p["code"] for p in seen["two keys"]["pfx_problems"]] == ["duplicate_leaf"]
    assert seen["certificates only"]["has_private_key"] is False
    assert seen["key only"].startswith("CertificateError: the PFX holds a private key but no certificate")
    assert [p["code"] for p in seen["leaf twice"]["pfx_problems"]] == ["duplicate_leaf"]


def test_fast_path_skips_rsa_validation_and_still_proves_the_key(lab_pki, server, monkeypatch):
    """The fast path is taken for the usual PFX (load_pkcs12 never runs on the whole file) and compares keys."""
    key, cert = server
    whole = pki.make_pfx(key, cert, lab_pki.chain, password=PASSWORD)
    calls = []
    real = pkcs12.load_pkcs12
    monkeypatch.setattr(_x509.pkcs12, "load_pkcs12", lambda data, pw: calls.append(data) or real(data, pw))
    key_loads = []
    real_key = serialization.load_der_private_key
    monkeypatch.setattr(_x509.serialization, "load_der_private_key",
                        lambda data, pw, **kw: key_loads.append(kw) or real_key(data, pw, **kw))
    contents = _x509.load_pfx(whole, PASSWORD)
    assert whole not in calls and len(calls) == 1  # only the copy without key bags
    assert key_loads == [{"unsafe_skip_rsa_key_validation": True}]
    assert contents.key is not None and contents.problems == []
    mismatch = pkcs12.serialize_key_and_certificates(b"x", pki.rsa_key(2048, slot=601), None, [cert],
                                                     pki.pfx_encryption(PASSWORD))
    assert [p["code"] for p in _x509.load_pfx(mismatch, PASSWORD).problems] == ["key_mismatch"]


def test_pkcs12_kdf_matches_the_mac_cryptography_writes(lab_pki, server):
    key, cert = server
    for encryption in ("legacy", "aes"):
        parsed = _x509._parse_pfx(pki.make_pfx(key, cert, lab_pki.chain, password=PASSWORD, encryption=encryption))
        assert _x509._pfx_mac_verifies(parsed, PASSWORD.encode()) is True
        assert _x509._pfx_mac_verifies(parsed, b"other") is False


# ------------------------------------------------------------------------------- no silent degradation


def test_without_asn1crypto_pfx_info_fails_naming_what_to_install(lab_pki, server, monkeypatch):
    monkeypatch.setattr(_x509, "HAS_ASN1CRYPTO", False)
    data = pki.make_pfx(*server, lab_pki.chain, password=PASSWORD)
    with pytest.raises(_x509.CertificateError) as caught:
        _x509.pfx_info(data, PASSWORD)
    assert str(caught.value) == (
        "the Python library 'asn1crypto' is required on the Ansible controller to read a PFX's encryption (Windows "
        "Server 2016 and older cannot import AES-protected PFX files): pip install asn1crypto, or pip install -r the "
        "collection's requirements.txt")
    with pytest.raises(_x509.CertificateError, match="pip install asn1crypto"):
        _x509.read_pfx_envelope(data)


def test_asn1crypto_really_missing_is_detected(tmp_path):
    """With asn1crypto not importable, the module knows it (and does not fake an envelope)."""
    blocker = tmp_path / "asn1crypto"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('asn1crypto hidden by the test')\n")
    code = ("from ansible_collections.apexone.certificates.plugins.module_utils import _x509 as x\n"
            "print(x.HAS_ASN1CRYPTO)\n"
            "try:\n    x.read_pfx_envelope(b'0')\nexcept x.CertificateError as e:\n    print(e)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    first, second = proc.stdout.splitlines()
    assert first == "False"
    assert second.startswith("the Python library 'asn1crypto' is required on the Ansible controller")


@pytest.mark.parametrize(
    ("encryption", "build", "expected"),
    [
        (None, 14393, True),  # unknown encryption, Server 2016: re-pack
        ("", None, True),
        ("1.2.840.113549.1.5.99", 14393, True),  # an algorithm this collection does not know
        ("PBES2/AES-256-CBC/PBKDF2-SHA-256", 14393, True),
        ("PBES2/AES-256-CBC/PBKDF2-SHA-256", None, True),
        ("PBE-SHA1-3DES", 14393, False),
        ("PBE-SHA1-RC2-40", 9600, False),
        ("none", 14393, False),
        (None, 17763, False),  # Server 2019 reads every PFX this collection can produce
        ("PBES2/AES-256-CBC/PBKDF2-SHA-256", 20348, False),
    ],
)
def test_unknown_encryption_is_one_old_windows_cannot_read(encryption, build, expected):
    assert _x509.windows_cannot_import(encryption, build) is expected
    assert win_webhost_cert.needs_legacy_pfx("auto", encryption, build) is expected


def test_aes_certificate_bags_alone_make_a_repack(lab_pki, server):
    assert win_webhost_cert.needs_legacy_pfx("auto", "PBE-SHA1-3DES", 14393, "PBES2/AES-256-CBC/PBKDF2-SHA-256")
    assert not win_webhost_cert.needs_legacy_pfx("auto", "PBE-SHA1-3DES", 14393, "PBE-SHA1-3DES")


def test_chain_verdicts_without_path_validation_fail_naming_what_to_install(lab_pki, server, monkeypatch):
    """cryptography older than 45 has no ExtensionPolicy: no guessed trust verdict, an error saying what to do."""
    monkeypatch.setattr(_x509, "x509_verification", None)
    with pytest.raises(_x509.CertificateError) as caught:
        _x509.check_webhost_certificate(server[1], hostname=HOST, chain=[lab_pki.intermediate.cert],
                                        ca=[lab_pki.root.cert])
    assert str(caught.value) == (
        "the chain verdicts (a CA bundle was given) need path validation from cryptography >= 45 on the Ansible "
        "controller: pip install 'cryptography>=45', or pip install -r the collection's requirements.txt")
    assert _x509.check_webhost_certificate(server[1], hostname=HOST)["ok"] is True  # without a bundle: no verdict
