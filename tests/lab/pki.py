"""Build real test PKI material with cryptography: CAs, server certificates, keys, PFX files.

Shared by the unit tests, the lab generator (make demo) and the benchmarks. Nothing here is checked in as
binary: every certificate is generated when needed. RSA keys are cached per size within a process because
generating them dominates test time; a test that needs a distinct key asks for a new one with ``fresh=True``.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import os
import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


# A folder that keeps the cached keys across processes (set by hack/mutation.py: each mutant runs in a fresh fork,
# which would otherwise generate every key again). Unset, keys live only as long as the process.
KEY_CACHE_DIR = os.environ.get("APEXONE_TEST_KEY_CACHE")


@functools.lru_cache(maxsize=None)
def _cached_rsa(size: int, slot: int):
    if not KEY_CACHE_DIR:
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    path = os.path.join(KEY_CACHE_DIR, f"rsa-{size}-{slot}.pem")
    try:
        with open(path, "rb") as handle:
            return serialization.load_pem_private_key(handle.read(), None, unsafe_skip_rsa_key_validation=True)
    except FileNotFoundError:
        pass
    key = rsa.generate_private_key(public_exponent=65537, key_size=size)
    os.makedirs(KEY_CACHE_DIR, exist_ok=True)
    temporary = f"{path}.{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.replace(temporary, path)
    return key


def rsa_key(size: int = 2048, slot: int = 0, fresh: bool = False):
    """An RSA key; the same (size, slot) gives the same key within a process unless fresh."""
    if fresh:
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    return _cached_rsa(size, slot)


def ec_key(curve=None):
    return ec.generate_private_key(curve or ec.SECP256R1())


def _name(cn: str | None, org: str = "Apex Lab") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


class Issuer:
    """A CA: its key and certificate; issues certificates."""

    def __init__(self, key, cert: x509.Certificate):
        self.key = key
        self.cert = cert

    @property
    def pem(self) -> str:
        return pem(self.cert)


def make_ca(
    cn: str,
    parent: Issuer | None = None,
    key=None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    hash_algorithm=None,
    path_length: int | None = None,
) -> Issuer:
    """A root CA (parent None) or an intermediate, RFC 5280-conformant so path validation accepts it."""
    key = key or rsa_key(2048, slot=hash(cn) % 1000 + 100)
    subject = _name(cn)
    issuer_name = parent.cert.subject if parent else subject
    signer = parent.key if parent else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - 365 * DAY)
        .not_valid_after(not_after or NOW + 3650 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if parent:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()), critical=False
        )
    return Issuer(key, builder.sign(signer, hash_algorithm or hashes.SHA256()))


def make_cert(
    cn: str | None,
    issuer: Issuer | None = None,
    key=None,
    sans: t.Sequence[str] | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    hash_algorithm=None,
    eku: t.Sequence | None = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
    is_ca: bool = False,
) -> tuple[t.Any, x509.Certificate]:
    """A server certificate; ``sans`` default is [cn]; an entry that parses as an IP becomes an iPAddress.

    Returns (key, certificate). issuer None makes it self-signed.
    """
    key = key or rsa_key()
    subject = _name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - 30 * DAY)
        .not_valid_after(not_after or NOW + 365 * DAY)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    names = list(sans) if sans is not None else ([cn] if cn else [])
    if names:
        general = []
        for name in names:
            try:
                general.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                general.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    signer = issuer.key if issuer else key
    if hash_algorithm is not None and hash_algorithm.name in LEGACY_SIGNATURE_OIDS:
        return key, _sign_legacy(builder.sign(signer, hashes.SHA256()), signer, hash_algorithm)
    return key, builder.sign(signer, hash_algorithm or hashes.SHA256())


# cryptography no longer signs certificates with MD5/SHA-1; the tests still need such certificates, so the
# TBS structure is re-labelled with asn1crypto and signed with the raw RSA primitive.
LEGACY_SIGNATURE_OIDS = {"sha1": "sha1_rsa", "md5": "md5_rsa"}


def _sign_legacy(cert: x509.Certificate, signer, hash_algorithm) -> x509.Certificate:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.asymmetric import padding

    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    algorithm = asn1_x509.SignedDigestAlgorithm({"algorithm": LEGACY_SIGNATURE_OIDS[hash_algorithm.name]})
    tbs = parsed["tbs_certificate"]
    tbs["signature"] = algorithm
    tbs_der = tbs.dump(force=True)
    signature = signer.sign(tbs_der, padding.PKCS1v15(), hash_algorithm)
    rebuilt = asn1_x509.Certificate(
        {"tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der), "signature_algorithm": algorithm,
         "signature_value": signature}
    )
    return x509.load_der_x509_certificate(rebuilt.dump())


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key, password: bytes | None = None) -> str:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def make_pfx(
    key,
    cert: x509.Certificate | None,
    chain: t.Sequence[x509.Certificate] = (),
    password: str | None = "lab-password",
    friendly_name: str | None = "Apex One web host",
    encryption: str = "legacy",
) -> bytes:
    """A PFX. encryption: 'aes' (OpenSSL 3 default, PBES2/AES-256), 'legacy' (3DES/SHA-1), 'none'."""
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode() if friendly_name else None,
        key,
        cert,
        list(chain) or None,
        pfx_encryption(password, encryption),
    )


def pfx_encryption(password: str | None, encryption: str = "legacy"):
    """The serialization encryption for a PFX: 'aes', 'legacy' (3DES/SHA-1) or 'none'."""
    pw = password.encode() if password else None
    if encryption == "none" or not pw:
        return serialization.NoEncryption()
    if encryption == "aes":
        algorithm, mac = pkcs12.PBES.PBESv2SHA256AndAES256CBC, hashes.SHA256()
    else:
        algorithm, mac = pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, hashes.SHA1()
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(algorithm)
        .hmac_hash(mac)
        .build(pw)
    )


class LabPki:
    """The lab hierarchy: root -> intermediate -> servers, plus an unrelated 'rogue' root."""

    def __init__(self):
        self.root = make_ca("Apex Lab Root CA", key=rsa_key(2048, slot=1))
        self.intermediate = make_ca("Apex Lab Issuing CA", parent=self.root, key=rsa_key(2048, slot=2), path_length=0)
        self.rogue_root = make_ca("Rogue Root CA", key=rsa_key(2048, slot=3))

    def server(self, cn: str, **kwargs):
        kwargs.setdefault("issuer", self.intermediate)
        return make_cert(cn, **kwargs)

    @property
    def chain(self) -> list[x509.Certificate]:
        return [self.intermediate.cert, self.root.cert]
