# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""X.509 / PKCS#12 parsing and the web host certificate checks.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
Do not use it from outside the collection.

Pure Python on ``cryptography`` (and ``asn1crypto`` for the PKCS#12 envelope); no Ansible imports, so the
same code serves the controller plugins (lookup, filters, action plugin) and the ``tls_probe`` module.
Every bad input raises ``CertificateError`` (or a subclass) with a message that says what is wrong and
what to do; a password or key never appears in a message.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import hashlib
import hmac
import ipaddress
import math
import re
import typing as t

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # handled by the calling plugin, which reports it as a clear error
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

try:
    from cryptography.x509 import verification as x509_verification
except ImportError:  # cryptography < 43: no path validation, reported when a CA bundle is given
    x509_verification = None

try:
    from asn1crypto import pkcs12 as asn1_pkcs12

    HAS_ASN1CRYPTO = True
except ImportError:
    HAS_ASN1CRYPTO = False

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PEM_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
# Characters pasted along with a thumbprint from the Windows certificate dialog or a web page.
_THUMBPRINT_NOISE_RE = re.compile(r"[\s:\u200b-\u200f\u202a-\u202e\u2060\ufeff]")

SEVERITY_ERROR = "error"
SEVERITY_WARNING = "warning"

# Stable problem codes (documented in the webhost_cert_check filter).
PROBLEM_CODES = (
    "cn_mismatch",
    "hostname_not_in_san",
    "expired",
    "not_yet_valid",
    "expires_soon",
    "no_private_key",
    "key_mismatch",
    "duplicate_leaf",
    "weak_key",
    "weak_signature",
    "no_server_auth_eku",
    "is_ca",
    "self_signed",
    "chain_incomplete",
    "chain_untrusted",
    "modern_pfx_encryption",
)

# Encryption algorithms Windows Server 2016 / Windows 10 before 1709 cannot read in a PFX.
_MODERN_PFX_ALGORITHMS = ("PBES2",)
_WEAK_HASHES = ("md5", "sha1", "md2")
# Open PFX files without RSA key validation where their shape allows (see _load_pfx_fast); tests turn it off
# to compare both paths.
_FAST_PFX = True


class CertificateError(Exception):
    """A certificate, key or PFX could not be used; the message says why and what to do."""


class PfxPasswordError(CertificateError):
    """The PFX is well formed but could not be decrypted with the password given."""


def require_libraries() -> None:
    """Raise CertificateError when cryptography is missing (plugins import this module without it)."""
    if not HAS_CRYPTOGRAPHY:
        raise CertificateError(
            "the Python library 'cryptography' (>= 45) is required on the Ansible controller: "
            f"pip install cryptography ({CRYPTOGRAPHY_IMPORT_ERROR})"
        )


def _to_bytes(data: t.Any, what: str) -> bytes:
    if data is None:
        raise CertificateError(f"no {what} was given (the value is empty)")
    if isinstance(data, str):
        try:
            # surrogateescape gives back the bytes of a binary file read as text (Ansible's file lookup does that).
            data = data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise CertificateError(f"the {what} is text with characters that are not valid Unicode ({exc.reason})") from exc
    if not isinstance(data, (bytes, bytearray)):
        raise CertificateError(f"the {what} must be text or bytes, not {type(data).__name__}")
    if not bytes(data).strip():
        raise CertificateError(f"the {what} is empty")
    return bytes(data)


def _password_bytes(password: t.Any) -> bytes | None:
    if password is None:
        return None
    if isinstance(password, bytes):
        value = password
    else:
        try:
            value = str(password).encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise PfxPasswordError("the password holds characters that are not valid Unicode") from exc
    if b"\x00" in value:
        # cryptography aborts (a Rust panic, not an exception) on a NUL in a PKCS#12 password.
        raise PfxPasswordError("the password holds a NUL character, which no PFX password can: check the variable")
    return value


def format_time(value: datetime.datetime) -> str:
    """ISO 8601 UTC with a Z, as every date in this collection's results."""
    return value.astimezone(datetime.timezone.utc).strftime(ISO_FORMAT)


def _utc(value: datetime.datetime | str | None) -> datetime.datetime:
    if value is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CertificateError(
                f"now={value!r} is not an ISO 8601 date/time (example: 2027-01-31T12:00:00Z)"
            ) from exc
    if not isinstance(value, datetime.datetime):
        raise CertificateError(f"now must be an ISO 8601 string or a datetime, not {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


# ---------------------------------------------------------------------------------------------------------
# Thumbprints and names


@functools.lru_cache(maxsize=4096)
def thumbprint(cert: x509.Certificate) -> str:
    """SHA-1 fingerprint in upper-case hex, the form Windows' certificate store shows."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - an identifier, not a signature


def normalize_thumbprint(value: t.Any) -> str:
    """Upper-case a thumbprint and strip spaces, colons and invisible characters pasted from a dialog."""
    if not isinstance(value, str):
        raise CertificateError(f"a thumbprint must be a string, not {type(value).__name__}")
    cleaned = _THUMBPRINT_NOISE_RE.sub("", value).upper()
    if not re.fullmatch(r"[0-9A-F]{40}", cleaned):
        raise CertificateError(
            f"{value!r} is not a certificate thumbprint: expected 40 hexadecimal characters (SHA-1), "
            f"got {len(cleaned)} characters after removing spaces"
        )
    return cleaned


def normalize_hostname(hostname: t.Any) -> str:
    """Lower-case, strip one trailing dot, IDNA-encode; raise on an empty or malformed name."""
    if not isinstance(hostname, str) or not hostname.strip():
        raise CertificateError(
            "hostname is required: give the name agents and browsers use to reach the Apex One server"
        )
    name = hostname.strip()
    if name.endswith("."):
        name = name[:-1]
    try:
        return str(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        pass
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise CertificateError(f"hostname {hostname!r} is not a valid DNS name ({exc})") from exc
    name = name.lower()
    if not re.fullmatch(r"[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*", name):
        raise CertificateError(
            f"hostname {hostname!r} is not a valid DNS name (letters, digits, hyphens and dots only)"
        )
    return name


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def dns_name_matches(pattern: str, hostname: str) -> bool:
    """RFC 6125 matching as browsers do it: case-insensitive, a wildcard only as the whole left-most label.

    ``hostname`` must already be normalised. A wildcard never matches the bare parent domain, more than one
    label, a partial label (``f*.example.com``) or a public-suffix-like one-label parent (``*.com``).
    """
    if not isinstance(pattern, str) or not isinstance(hostname, str):
        return False
    pattern = pattern.strip().lower().rstrip(".")
    if not pattern:
        return False
    if "*" not in pattern:
        return pattern == hostname
    if not pattern.startswith("*.") or "*" in pattern[2:]:
        return False
    parent = pattern[2:]
    if "." not in parent or _is_ip(hostname):
        return False
    label, _dot, rest = hostname.partition(".")
    return bool(label) and rest == parent


def _common_names(cert: x509.Certificate) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def _basic_constraints_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issuer equals subject and the certificate's own key verifies its signature."""
    if cert.issuer != cert.subject:
        return False
    return _issued_by(cert, cert)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # cryptography refuses MD5/SHA-1 signatures here; such a certificate still links to its issuer, and
        # its weak signature is reported on its own (weak_signature).
        return _verify_legacy_signature(cert, issuer)


def _verify_legacy_signature(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    public_key = issuer.public_key()
    try:
        algorithm = cert.signature_hash_algorithm
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
        return True
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False


def _same_public_key(cert: x509.Certificate, key: t.Any) -> bool:
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    try:
        return cert.public_key().public_bytes(enc, fmt) == key.public_key().public_bytes(enc, fmt)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def _key_description(public_key: t.Any) -> tuple[str, int | None]:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", public_key.key_size
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC", public_key.key_size
    if isinstance(public_key, dsa.DSAPublicKey):
        return "DSA", public_key.key_size
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(public_key).__name__, None


def _signature_hash_name(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if algorithm is not None else None


# ---------------------------------------------------------------------------------------------------------
# Loading


def ensure_parsable(cert: x509.Certificate, what: str = "the certificate") -> x509.Certificate:
    """Parse now every part of ``cert`` the checks read; CertificateError instead of a late ValueError.

    cryptography parses a certificate lazily: a damaged name, extension or key only fails when it is read.
    """
    try:
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        list(cert.extensions)
        format_time(cert.not_valid_before_utc)
        format_time(cert.not_valid_after_utc)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise CertificateError(
            f"{what} is not a valid certificate ({_short(exc)}); check that the file was not cut or edited"
        ) from exc
    try:
        cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateError(
            f"{what} has a public key this controller cannot read ({_short(exc)}); Apex One needs an RSA or EC key"
        ) from exc
    return cert


def load_certificates(data: t.Any, what: str = "certificate") -> list[x509.Certificate]:
    """Load one or more certificates from PEM (leaf first) or one from DER; clear errors for everything else."""
    require_libraries()
    raw = _to_bytes(data, what)
    stripped = raw.strip()
    if b"-----BEGIN" in stripped:
        blocks = PEM_CERT_RE.findall(stripped)
        if not blocks:
            if b"PRIVATE KEY-----" in stripped:
                raise CertificateError(
                    f"the {what} is a private key, not a certificate: give the certificate (-----BEGIN CERTIFICATE-----)"
                )
            if b"-----BEGIN PKCS12-----" in stripped:
                raise CertificateError(f"the {what} is a PKCS#12 bundle: use the pfx_info lookup for PFX files")
            raise CertificateError(
                f"the {what} has PEM markers but no '-----BEGIN CERTIFICATE-----' block "
                "(is it a certificate request or a key?)"
            )
        certs = []
        for index, block in enumerate(blocks, start=1):
            try:
                certs.append(x509.load_pem_x509_certificate(block))
            except (ValueError, x509.InvalidVersion) as exc:
                raise CertificateError(
                    f"PEM block {index} of the {what} is not a valid certificate ({exc}); "
                    "check that the file was not cut or edited"
                ) from exc
            ensure_parsable(certs[-1], f"PEM block {index} of the {what}")
        return certs
    if stripped[:1] == b"\x30":
        try:
            return [ensure_parsable(x509.load_der_x509_certificate(raw), f"the {what}")]
        except (ValueError, x509.InvalidVersion) as exc:
            if _looks_like_pfx(raw):
                raise CertificateError(
                    f"the {what} is a PKCS#12 (PFX) file, not a certificate: use the pfx_info lookup"
                ) from exc
            raise CertificateError(
                f"the {what} is binary but not a DER certificate ({exc}); export it again as .cer (DER or Base64)"
            ) from exc
    if _base64_decodes_to_der(stripped):
        raise CertificateError(
            f"the {what} is base64 text without PEM markers: wrap it in '-----BEGIN CERTIFICATE-----' / "
            "'-----END CERTIFICATE-----' lines, or decode it to DER"
        )
    raise CertificateError(
        f"the {what} is neither PEM (-----BEGIN CERTIFICATE-----) nor DER: export the certificate "
        "again as .cer / .pem"
    )


def load_private_key(data: t.Any, password: t.Any = None) -> t.Any:
    """Load a PEM or DER private key; raise CertificateError with a clear reason."""
    require_libraries()
    raw = _to_bytes(data, "private key")
    pw = _password_bytes(password)
    if b"-----BEGIN CERTIFICATE-----" in raw and b"PRIVATE KEY-----" not in raw:
        raise CertificateError("the private key is a certificate: give the key file (-----BEGIN PRIVATE KEY-----)")
    loader = serialization.load_pem_private_key if b"-----BEGIN" in raw else serialization.load_der_private_key
    try:
        return loader(raw, password=pw or None)
    except TypeError as exc:
        if pw:
            raise CertificateError("the private key is not encrypted: do not give a key password") from exc
        raise CertificateError("the private key is encrypted: give its password (key_password)") from exc
    except ValueError as exc:
        if pw:
            raise PfxPasswordError(
                "the private key could not be decrypted: the key password is wrong, or the key is corrupt"
            ) from exc
        raise CertificateError(
            "the private key could not be read: expected an unencrypted or encrypted PEM/DER private key"
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise CertificateError(f"the private key uses an algorithm this controller cannot read ({exc})") from exc


def _looks_like_pfx(raw: bytes) -> bool:
    if not HAS_ASN1CRYPTO:
        return False
    try:
        pfx = asn1_pkcs12.Pfx.load(raw, strict=True)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in ("data", "signed_data")
    except (ValueError, TypeError, KeyError):
        return False


def _base64_decodes_to_der(text: bytes) -> bool:
    compact = re.sub(rb"\s+", b"", text)
    if len(compact) < 16 or not re.fullmatch(rb"[A-Za-z0-9+/=_-]+", compact):
        return False
    try:
        # base64url (RFC 4648 section 5) spells + and / as - and _; a text may hold only one of them.
        urlsafe = b"-" in compact or b"_" in compact
        decoded = base64.b64decode(compact + b"=" * (-len(compact) % 4), altchars=b"-_" if urlsafe else None)
    except (binascii.Error, ValueError):
        return False
    return decoded[:1] == b"\x30"


def _algorithm_name(algorithm: t.Any) -> str:
    """Name a PKCS#12 PBE algorithm as people know it: PBES2/AES-256-CBC, PBE-SHA1-3DES, PBE-SHA1-RC2-40."""
    name = algorithm["algorithm"].native
    if name == "pbes2":
        params = algorithm["parameters"]
        cipher = params["encryption_scheme"]["algorithm"].native
        prf = "hmac_with_sha1"
        kdf = params["key_derivation_func"]
        if kdf["algorithm"].native == "pbkdf2":
            prf = kdf["parameters"]["prf"]["algorithm"].native
        cipher_names = {
            "aes128_cbc": "AES-128-CBC",
            "aes192_cbc": "AES-192-CBC",
            "aes256_cbc": "AES-256-CBC",
            "tripledes_3key": "3DES-CBC",
        }
        prf_name = prf.replace("hmac_with_", "").upper().replace("SHA", "SHA-")
        return f"PBES2/{cipher_names.get(cipher, cipher)}/PBKDF2-{prf_name}"
    legacy = {
        "pkcs12_sha1_tripledes_3key": "PBE-SHA1-3DES",
        "pkcs12_sha1_tripledes_2key": "PBE-SHA1-2DES",
        "pkcs12_sha1_rc2_40": "PBE-SHA1-RC2-40",
        "pkcs12_sha1_rc2_128": "PBE-SHA1-RC2-128",
        "pkcs12_sha1_rc4_128": "PBE-SHA1-RC4-128",
        "pkcs12_sha1_rc4_40": "PBE-SHA1-RC4-40",
    }
    return legacy.get(name, str(name))


def require_pfx_libraries() -> None:
    """Raise CertificateError when a library needed to read a PFX is missing, naming what to install.

    Reading how a PFX is protected (its encryption decides whether Windows Server 2016 and older can import it)
    needs asn1crypto; without it no PFX is read at all rather than judged with the encryption unknown.
    """
    require_libraries()
    if not HAS_ASN1CRYPTO:
        raise CertificateError(
            "the Python library 'asn1crypto' is required on the Ansible controller to read a PFX's encryption "
            "(Windows Server 2016 and older cannot import AES-protected PFX files): pip install asn1crypto, or "
            "pip install -r the collection's requirements.txt"
        )


# Digests of the PKCS#12 integrity MAC this module verifies itself (RFC 7292 appendix B); any other MAC (for
# example PBMAC1, RFC 9579) is left to cryptography's full load.
_MAC_HASHES = {"sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


def _parse_pfx(raw: bytes) -> dict[str, t.Any]:
    """The PKCS#12 envelope: how it is protected, its MAC, its key bags and its other contents.

    Raises CertificateError when the bytes are not a PKCS#12 structure.
    """
    require_pfx_libraries()
    try:
        pfx = asn1_pkcs12.Pfx.load(raw, strict=True)
        if pfx["version"].native != "v3":
            raise ValueError("PKCS#12 version is not 3")
        auth_safe = pfx["auth_safe"]
        if auth_safe["content_type"].native != "data":
            raise ValueError("public-key integrity mode is not supported")
        content = auth_safe["content"].native
        safe = asn1_pkcs12.AuthenticatedSafe.load(content)
        key_encryption = None
        cert_encryption = "none"
        key_bags: list[tuple[bytes, bool]] = []
        others = []  # the content infos without their key bags: what holds the certificates
        for content_info in safe:
            kind = content_info["content_type"].native
            if kind == "encrypted_data":
                algo = content_info["content"]["encrypted_content_info"]["content_encryption_algorithm"]
                cert_encryption = _algorithm_name(algo)
                others.append(content_info)
            elif kind == "data":
                kept = []
                for bag in asn1_pkcs12.SafeContents.load(content_info["content"].native):
                    bag_id = bag["bag_id"].native
                    if bag_id == "pkcs8_shrouded_key_bag":
                        key_bags.append((bag["bag_value"].untag().dump(), True))
                        key_encryption = _algorithm_name(bag["bag_value"]["encryption_algorithm"])
                    elif bag_id == "key_bag":
                        key_bags.append((bag["bag_value"].untag().dump(), False))
                        key_encryption = key_encryption or "none"
                    else:
                        kept.append(bag)
                if kept:
                    others.append(asn1_pkcs12.ContentInfo(
                        {"content_type": "data", "content": asn1_pkcs12.SafeContents(kept).dump()}
                    ))
            else:
                others.append(content_info)
        mac = None
        mac_params = None
        if pfx["mac_data"].native is not None:
            mac_data = pfx["mac_data"]
            digest_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
            mac = str(digest_name).upper().replace("SHA", "SHA-")
            mac_params = {
                "hash": _MAC_HASHES.get(digest_name),
                "digest": mac_data["mac"]["digest"].native,
                "salt": mac_data["mac_salt"].native,
                "iterations": mac_data["iterations"].native,
            }
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CertificateError(
            f"the file is not a valid PKCS#12 (PFX) file: it is truncated or corrupt ({_short(exc)}); "
            "copy or export it again"
        ) from exc
    return {
        "encryption": key_encryption or cert_encryption,
        "certificate_encryption": cert_encryption,
        "mac_algorithm": mac,
        "key_bags": len(key_bags),
        "_content": content,
        "_mac": mac_params,
        "_key_bags": key_bags,
        "_others": others,
    }


def read_pfx_envelope(raw: bytes) -> dict[str, t.Any]:
    """Read how a PFX is protected (without the password) from its ASN.1 structure.

    Returns ``encryption`` (of the private key bag), ``certificate_encryption`` (of the certificate bags;
    ``none`` when not encrypted), ``mac_algorithm`` and ``key_bags`` (how many private keys the PFX holds).
    Raises CertificateError when the bytes are not a PKCS#12 structure, or when asn1crypto is missing (the
    encryption is never returned as unknown).
    """
    parsed = _parse_pfx(raw)
    return {k: v for k, v in parsed.items() if not k.startswith("_")}


def _pkcs12_kdf(hash_name: str, password: bytes, salt: bytes, id_byte: int, iterations: int, size: int) -> bytes:
    """The PKCS#12 key derivation (RFC 7292 appendix B.2), for the integrity MAC; ``password`` is BMPString bytes."""
    new_hash = getattr(hashlib, hash_name)
    u = new_hash().digest_size
    v = new_hash().block_size
    d = bytes([id_byte]) * v

    def fill(data: bytes) -> bytes:  # the data repeated to a whole number of v-byte blocks
        if not data:
            return b""
        size = v * math.ceil(len(data) / v)
        return (data * (size // len(data) + 1))[:size]

    i = fill(salt) + fill(password)
    out = b""
    while len(out) < size:
        a = new_hash(d + i).digest()
        for _round in range(iterations - 1):
            a = new_hash(a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big") + 1
        mask = (1 << (v * 8)) - 1
        i = b"".join(
            ((int.from_bytes(i[j : j + v], "big") + b) & mask).to_bytes(v, "big") for j in range(0, len(i), v)
        )
    return out[:size]


def _pfx_mac_password(password: bytes | None) -> bytes:
    if password is None:
        return b""
    return password.decode("utf-8").encode("utf-16-be") + b"\x00\x00"


def _pfx_mac_verifies(parsed: dict[str, t.Any], password: bytes | None) -> bool:
    params = parsed["_mac"]
    size = getattr(hashlib, params["hash"])().digest_size
    key = _pkcs12_kdf(params["hash"], _pfx_mac_password(password), params["salt"], 3, params["iterations"], size)
    expected = hmac.new(key, parsed["_content"], params["hash"]).digest()
    return hmac.compare_digest(expected, params["digest"])


class _Bundle:
    """What pkcs12.load_pkcs12 returns, for the fast path (``cert`` is chosen later by the private key)."""

    def __init__(self, key, additional_certs):
        self.key = key
        self.cert = None
        self.additional_certs = additional_certs


def _load_pfx_fast(raw: bytes, parsed: dict[str, t.Any], attempts: list[bytes | None]) -> t.Any:
    """Open a PFX like pkcs12.load_pkcs12, without validating the RSA key (the costly part of every load).

    The MAC is verified with the password, each key bag is decrypted and loaded with
    ``unsafe_skip_rsa_key_validation=True`` (the key only has to match the certificate here: it never signs on the
    controller, and the comparison of public keys proves the match), and the certificate bags are decrypted by
    cryptography itself from a copy of the PFX without its key bags. Returns None for any PFX outside this
    common shape (no MAC, an unknown MAC, a wrong password, an unreadable bag): the caller then uses
    load_pkcs12, so verdicts and error messages are the same on both paths.
    """
    params = parsed["_mac"]
    if not _FAST_PFX or params is None or params["hash"] is None:
        return None
    try:
        password = next((pw for pw in attempts if _pfx_mac_verifies(parsed, pw)), False)
        if password is False:
            return None
        key = None
        for der, encrypted in parsed["_key_bags"]:
            loaded = serialization.load_der_private_key(
                der, password if encrypted else None, unsafe_skip_rsa_key_validation=True
            )
            key = key if key is not None else loaded
        certs = []
        if parsed["_others"]:
            rest = asn1_pkcs12.Pfx({
                "version": "v3",
                "auth_safe": {
                    "content_type": "data",
                    "content": asn1_pkcs12.AuthenticatedSafe(parsed["_others"]).dump(),
                },
            }).dump()
            bundle = pkcs12.load_pkcs12(rest, password)
            if bundle.key is not None:  # a key hidden in an encrypted bag: not the common shape
                return None
            certs = ([bundle.cert] if bundle.cert is not None else []) + list(bundle.additional_certs)
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeError):
        return None
    return _Bundle(key, certs)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def decode_pfx_text(data: t.Any) -> bytes:
    """The PFX from its base64 text (an AWX credential injects file content as text); a clear error otherwise."""
    raw = _to_bytes(data, "base64 PFX")
    compact = re.sub(rb"\s+", b"", raw)
    if compact.startswith(b"-----BEGIN"):
        raise CertificateError("the base64 PFX is PEM text: give the base64 of the binary PFX file (base64 -w0 cert.pfx)")
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CertificateError(
            "the base64 PFX is not valid base64: give the output of 'base64 -w0 cert.pfx' (or certutil -encode)"
        ) from exc
    if decoded[:1] != b"\x30":
        raise CertificateError("the base64 PFX does not decode to a PKCS#12 (PFX) file")
    return decoded


def is_modern_pfx_encryption(encryption: str | None) -> bool:
    """True for PBES2 (AES) protection, which Windows Server 2016 and older cannot import."""
    return bool(encryption) and encryption.startswith(_MODERN_PFX_ALGORITHMS)


# What Windows Server 2016 and older import: the PKCS#12 PBE algorithms of RFC 7292 and no protection at all.
_LEGACY_PFX_ENCRYPTIONS = frozenset({
    "none", "PBE-SHA1-3DES", "PBE-SHA1-2DES", "PBE-SHA1-RC2-40", "PBE-SHA1-RC2-128", "PBE-SHA1-RC4-40",
    "PBE-SHA1-RC4-128",
})

# Windows Server 2019 (build 17763) is the first server release that imports PBES2/AES-protected PFX files.
FIRST_BUILD_WITH_AES_PFX = 17763


def windows_cannot_import(encryption: str | None, build: int | None) -> bool:
    """Whether a PFX so protected must be re-packed for this Windows build.

    An unknown build is taken as an old one; an unknown or unrecognised encryption (None, empty, a name not in
    the legacy list) as one old Windows cannot read: re-packing a PFX Windows could have read costs nothing,
    sending one it cannot read fails on the server with "The specified network password is not correct".
    """
    old_windows = build is None or build < FIRST_BUILD_WITH_AES_PFX
    return old_windows and (not encryption or encryption not in _LEGACY_PFX_ENCRYPTIONS)


class PfxContents:
    """What a PFX holds, with the leaf chosen by its private key."""

    def __init__(self, certificate, chain, key, friendly_name, envelope, problems):
        self.certificate = certificate
        self.chain = chain
        self.key = key
        self.friendly_name = friendly_name
        self.envelope = envelope
        self.problems = problems


def _problem(code: str, severity: str, message: str) -> dict[str, str]:
    return {"code": code, "severity": severity, "message": message}


def _check_pfx_bytes(raw: bytes) -> None:
    stripped = raw.strip()
    if stripped.startswith(b"-----BEGIN"):
        if b"CERTIFICATE-----" in stripped or b"PRIVATE KEY-----" in stripped:
            raise CertificateError(
                "the file is PEM text (-----BEGIN ...), not a PFX: give the certificate and key as "
                "PEM (cert_path/key_path), or convert with 'openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.pfx'"
            )
        raise CertificateError("the file is PEM text, not a binary PKCS#12 (PFX) file")
    if raw[:1] != b"\x30":
        if _base64_decodes_to_der(stripped):
            raise CertificateError(
                "the file is base64 text of a PFX, not the binary PFX (a common download or copy mistake): "
                "decode it first ('base64 -d cert.txt > cert.pfx' or 'certutil -decode cert.txt cert.pfx')"
            )
        raise CertificateError(
            "the file is not a PKCS#12 (PFX) file: it does not start with an ASN.1 sequence; "
            "export the certificate again as .pfx/.p12 with its private key"
        )


def _opens_without_password(raw: bytes) -> bool:
    for attempt in (None, b""):
        try:
            pkcs12.load_pkcs12(raw, attempt)
            return True
        except (ValueError, UnsupportedAlgorithm):
            continue
    return False


def _other_leaves(leaf: x509.Certificate, certs: t.Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Certificates besides ``leaf`` that are end-entity certificates, not part of a chain.

    A chain certificate is a CA (basicConstraints), self-signed (an old v1 root has no extensions) or the issuer
    of another certificate of the PFX.
    """
    others = []
    for cert in certs:
        if cert is leaf or thumbprint(cert) == thumbprint(leaf):
            continue
        if _basic_constraints_ca(cert) or is_self_signed(cert):
            continue
        if any(other is not cert and _issued_by(other, cert) for other in [leaf, *certs]):
            continue
        others.append(cert)
    return others


def load_pfx(data: t.Any, password: t.Any = None) -> PfxContents:
    """Load a PFX: pick the leaf whose public key matches the private key; report PFX-level problems."""
    require_libraries()
    raw = _to_bytes(data, "PFX file")
    _check_pfx_bytes(raw)
    parsed = _parse_pfx(raw)
    envelope = {k: v for k, v in parsed.items() if not k.startswith("_")}
    pw = _password_bytes(password)
    try:
        (pw or b"").decode("utf-8")
    except UnicodeDecodeError as exc:  # cryptography fails with a TypeError of its own on such a password
        raise PfxPasswordError("the PFX password is not valid UTF-8 text: check the variable that holds it") from exc
    # Windows writes "no password" PFX files with an empty password, OpenSSL with none: try both.
    attempts = [pw] if pw else [None, b""]
    bundle = _load_pfx_fast(raw, parsed, attempts)
    for attempt in attempts if bundle is None else ():
        try:
            bundle = pkcs12.load_pkcs12(raw, attempt)
            break
        except ValueError:
            continue
        except UnsupportedAlgorithm as exc:
            raise CertificateError(
                f"the PFX uses an algorithm this controller's cryptography library cannot read ({exc})"
            ) from exc
    if bundle is None:
        if pw:
            if _opens_without_password(raw):
                raise PfxPasswordError(
                    "the PFX is not password-protected but a password was given: leave apexone_cert_pfx_password "
                    "empty"
                )
            raise PfxPasswordError(
                "could not decrypt the PFX: the password is wrong or the file is damaged (check "
                "apexone_cert_pfx_password / the vault value, PFX passwords are case-sensitive; if the password is "
                "right, copy the file again)"
            )
        raise PfxPasswordError("the PFX is password-protected: give its password (apexone_cert_pfx_password)")

    entries = []
    if bundle.cert is not None:
        entries.append(bundle.cert)
    entries.extend(bundle.additional_certs)
    for entry in entries:
        ensure_parsable(entry.certificate, "a certificate in the PFX")
    key = bundle.key
    if not entries:
        if key is not None:
            raise CertificateError(
                "the PFX holds a private key but no certificate: export it again with the certificate "
                "(Export-PfxCertificate / 'openssl pkcs12 -export -in cert.pem -inkey key.pem')"
            )
        raise CertificateError("the PFX holds no certificate and no key: export it again")

    problems = []
    key_bags = envelope.get("key_bags") or 0
    if key_bags > 1:
        problems.append(
            _problem(
                "duplicate_leaf",
                SEVERITY_ERROR,
                f"the PFX holds {key_bags} private keys; it must hold exactly one certificate with its key "
                "plus its chain: export only the web host certificate",
            )
        )

    leaf_entry = None
    if key is not None:
        matching = [e for e in entries if _same_public_key(e.certificate, key)]
        if not matching:
            problems.append(
                _problem(
                    "key_mismatch",
                    SEVERITY_ERROR,
                    "the private key in the PFX belongs to none of its certificates: export the PFX again from "
                    "the machine that holds the certificate's key",
                )
            )
        else:
            leaf_entry = matching[0]
            distinct = {thumbprint(e.certificate) for e in matching}
            if len(matching) > 1:
                what = "the same certificate twice" if len(distinct) == 1 else f"{len(distinct)} certificates"
                problems.append(
                    _problem(
                        "duplicate_leaf",
                        SEVERITY_ERROR,
                        f"the PFX holds {what} for its one private key: export it again with one leaf certificate",
                    )
                )
    if leaf_entry is None:
        end_entities = [e for e in entries if not _basic_constraints_ca(e.certificate)]
        if not end_entities and key is None:
            names = ", ".join(e.certificate.subject.rfc4514_string() for e in entries)
            raise CertificateError(
                f"the PFX holds only CA certificates ({names}) and no server certificate: export the web host "
                "certificate with its private key instead"
            )
        leaf_entry = (end_entities or entries)[0]
    leaf = leaf_entry.certificate
    others = _other_leaves(leaf, [e.certificate for e in entries])
    if others and not any(p["code"] == "duplicate_leaf" for p in problems):
        names = ", ".join(f"'{c.subject.rfc4514_string()}'" for c in others)
        problems.append(
            _problem(
                "duplicate_leaf",
                SEVERITY_ERROR,
                f"the PFX holds {len(others) + 1} server certificates ('{leaf.subject.rfc4514_string()}' and {names}); "
                "it must hold exactly one certificate with its key plus its CA chain: export only the web host "
                "certificate",
            )
        )
    leaf_print = thumbprint(leaf)
    chain = []
    seen = {leaf_print}
    for entry in entries:
        print_ = thumbprint(entry.certificate)
        if print_ not in seen:
            seen.add(print_)
            chain.append(entry.certificate)
    if is_modern_pfx_encryption(envelope.get("encryption")) or is_modern_pfx_encryption(
        envelope.get("certificate_encryption")
    ):
        problems.append(
            _problem(
                "modern_pfx_encryption",
                SEVERITY_WARNING,
                f"the PFX is protected with {envelope.get('encryption')}, which Windows Server 2016 and older reject "
                "with 'The specified network password is not correct'; the win_webhost_cert action re-packs it with "
                "legacy 3DES/SHA-1 for such targets (pfx_legacy_encryption)",
            )
        )
    friendly = leaf_entry.friendly_name.decode("utf-8", "replace") if leaf_entry.friendly_name else None
    return PfxContents(leaf, chain, key, friendly, envelope, problems)


# ---------------------------------------------------------------------------------------------------------
# Describing


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def describe_certificate(
    cert: x509.Certificate,
    chain: t.Sequence[x509.Certificate] = (),
    has_private_key: bool = False,
    friendly_name: str | None = None,
) -> dict[str, t.Any]:
    """The fields of the pfx_info lookup and x509_info filter, as plain JSON-able values (no key material)."""
    san = _san(cert)
    key_type, key_size = _key_description(cert.public_key())
    cns = _common_names(cert)
    try:
        eku = [oid.dotted_string for oid in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    except x509.ExtensionNotFound:
        eku = []
    return {
        "certificate_pem": certificate_pem(cert),
        "chain_pem": [certificate_pem(c) for c in chain],
        "thumbprint": thumbprint(cert),
        "sha256_fingerprint": cert.fingerprint(hashes.SHA256()).hex().upper(),
        "serial_number": format(cert.serial_number, "X"),
        "subject": cert.subject.rfc4514_string(),
        "subject_cn": cns[0] if cns else None,
        "issuer": cert.issuer.rfc4514_string(),
        "san_dns": san.get_values_for_type(x509.DNSName) if san else [],
        "san_ip": [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] if san else [],
        "not_before": format_time(cert.not_valid_before_utc),
        "not_after": format_time(cert.not_valid_after_utc),
        "key_type": key_type,
        "key_size": key_size,
        "signature_hash": _signature_hash_name(cert),
        "extended_key_usage": eku,
        "is_ca": _basic_constraints_ca(cert),
        "self_signed": is_self_signed(cert),
        "has_private_key": bool(has_private_key),
        "friendly_name": friendly_name,
    }


def pfx_info(data: t.Any, password: t.Any = None) -> dict[str, t.Any]:
    """Describe a PFX: certificate fields plus ``encryption``, ``mac_algorithm`` and ``pfx_problems``."""
    contents = load_pfx(data, password)
    info = describe_certificate(
        contents.certificate, contents.chain, contents.key is not None, contents.friendly_name
    )
    info["encryption"] = contents.envelope.get("encryption")
    info["certificate_encryption"] = contents.envelope.get("certificate_encryption")
    info["mac_algorithm"] = contents.envelope.get("mac_algorithm")
    info["key_matches_certificate"] = contents.key is not None and _same_public_key(contents.certificate, contents.key)
    info["pfx_problems"] = contents.problems
    return info


def repack_pfx_legacy(data: t.Any, password: t.Any, friendly_name: str | None = None) -> bytes:
    """Re-pack a PFX in memory with legacy protection (PBE-SHA1-3DES, SHA-1 MAC) for Windows Server 2016 and older.

    The same password protects the new PFX. Nothing is written to disk.
    """
    contents = load_pfx(data, password)
    if contents.key is None:
        raise CertificateError("the PFX has no private key: there is nothing to re-pack for an IIS binding")
    pw = _password_bytes(password) or b""
    builder = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2000)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 - the MAC Windows Server 2016 can verify
    )
    encryption = builder.build(pw) if pw else serialization.NoEncryption()
    name = friendly_name if friendly_name is not None else contents.friendly_name
    return pkcs12.serialize_key_and_certificates(
        name.encode("utf-8") if name else None,
        contents.key,
        contents.certificate,
        contents.chain or None,
        encryption,
    )


# ---------------------------------------------------------------------------------------------------------
# Checks


def _load_bundle(value: t.Any, what: str) -> list[x509.Certificate]:
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, (list, tuple)):
        certs: list[x509.Certificate] = []
        for item in value:
            certs.extend(_load_bundle(item, what))
        return certs
    if isinstance(value, x509.Certificate):
        return [value]
    return load_certificates(value, what)


def _build_path(leaf: x509.Certificate, pool: list[x509.Certificate]) -> list[x509.Certificate]:
    path = [leaf]
    seen = {thumbprint(leaf)}
    current = leaf
    while not is_self_signed(current):
        issuer = next((c for c in pool if thumbprint(c) not in seen and _issued_by(current, c)), None)
        if issuer is None:
            break
        path.append(issuer)
        seen.add(thumbprint(issuer))
        current = issuer
    return path


def _name(cert_or_name: t.Any) -> str:
    name = cert_or_name.subject if isinstance(cert_or_name, x509.Certificate) else cert_or_name
    return name.rfc4514_string()


def _bundle_roots(anchors: t.Sequence[x509.Certificate], limit: int = 5) -> str:
    """The certificates of the CA bundle, named for a message: all of a small bundle, the first few of a big one."""
    names = [f"'{_name(c)}'" for c in anchors]
    if len(names) == 1:
        return f"one certificate, {names[0]}"
    shown = ", ".join(names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{len(names)} certificates: {shown}{more}"


def _organisation(name: x509.Name) -> set[tuple[str, str]]:
    """What says which PKI a CA belongs to: its organisation (O) and its Active Directory domain (DC...)."""
    orgs = {("O", str(a.value).strip().lower()) for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)}
    domain = ".".join(str(a.value).strip().lower() for a in name.get_attributes_for_oid(NameOID.DOMAIN_COMPONENT))
    return orgs | ({("DC", domain)} if domain else set())


def _may_be_missing_intermediate(issuer: x509.Name, anchors: t.Sequence[x509.Certificate]) -> bool:
    """Whether ``issuer`` (not in the PFX, not in the bundle) may be an intermediate under a root of the bundle.

    True when it names the organisation or AD domain of a bundle certificate, or names neither (nothing tells
    then); False when it belongs to an organisation none of the bundle's CAs belongs to: another CA.
    """
    own = _organisation(issuer)
    if not own:
        return True
    return any(own & _organisation(anchor.subject) for anchor in anchors)


# What cryptography's verifier says, in the words of someone fixing a certificate (the verifier's text follows).
_VERIFIER_GLOSSES = (
    ("Forbidden signature algorithm", "its signature uses an algorithm path validation refuses (MD5/SHA-1): "
     "re-issue it with SHA-256"),
    ("not valid at validation time", "it is expired or not yet valid at the validation time"),
    ("basicConstraints.cA must be asserted", "it is not a CA certificate (basicConstraints CA:FALSE or missing), "
     "so it cannot issue certificates"),
    ("path length", "the path is longer than a CA's basicConstraints pathLenConstraint allows"),
    ("EKU", "its Extended Key Usage does not allow TLS server authentication"),
    ("name constraint", "a CA's name constraints do not allow this certificate's names"),
    ("signature", "a signature in the path does not verify"),
    ("keyCertSign", "its Key Usage does not allow signing certificates"),
    ("no interior errors", "no issuer of it is in the chain or the CA bundle"),
    ("missing required extension", "it lacks an extension its role requires"),
    ("invalid extension", "one of its extensions is not as its role requires"),
)
# Extensions the verifier names by OID.
_EXTENSION_NAMES = {
    "2.5.29.14": "Subject Key Identifier",
    "2.5.29.15": "Key Usage",
    "2.5.29.17": "Subject Alternative Name",
    "2.5.29.19": "Basic Constraints",
    "2.5.29.30": "Name Constraints",
    "2.5.29.32": "Certificate Policies",
    "2.5.29.35": "Authority Key Identifier",
    "2.5.29.37": "Extended Key Usage",
}
_PROCESSING_RE = re.compile(r"\s*\(encountered processing <Certificate\(subject=<Name\((.*?)\)>, \.\.\.\)>\)")


def _gloss(reason: str) -> str:
    plain = next((plain for needle, plain in _VERIFIER_GLOSSES if needle.lower() in reason.lower()), "")
    oid = re.search(r"invalid extension: ([0-9.]+)", reason)
    if plain and oid and oid.group(1) in _EXTENSION_NAMES:
        plain += f" ({oid.group(1)} is {_EXTENSION_NAMES[oid.group(1)]})"
    return plain


def _verifier_reason(exc: BaseException) -> str:
    """The verifier's own words, whole (its first line), without the repr of the certificate it names."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # Rust's debug form of an algorithm identifier, reduced to the algorithm's name (RsaWithSha1).
    return re.sub(r"AlgorithmIdentifier \{.*?params: (\w+)\(.*?\) \}", r"\1", text)


def _verification_builder(anchors: t.Sequence[x509.Certificate], when: datetime.datetime, ee_policy: t.Any) -> t.Any:
    builder = x509_verification.PolicyBuilder().store(x509_verification.Store(list(anchors))).time(when)
    return builder.extension_policies(ca_policy=x509_verification.ExtensionPolicy.webpki_defaults_ca(),
                                      ee_policy=ee_policy)


def _verify_path(leaf, intermediates, anchors, when) -> str | None:
    """Path validation with cryptography's verifier; None when it validates, else the verifier's reason."""
    # Name and end-entity rules are checked (and reported) separately; this verdict is about the issuing path.
    builder = _verification_builder(
        anchors, when,
        x509_verification.ExtensionPolicy.permit_all().require_present(
            x509.SubjectAlternativeName, x509_verification.Criticality.AGNOSTIC, None
        ),
    )
    san = _san(leaf)
    subject = None
    if san is not None:
        # A name the leaf covers, so only the issuing path decides: a wildcard is not a name, one label under it is.
        names = [("wildcard" + n[1:] if n.startswith("*.") else n) for n in san.get_values_for_type(x509.DNSName)]
        names = [n for n in names if "*" not in n]
        ips = san.get_values_for_type(x509.IPAddress)
        if names:
            subject = x509_verification.DNSName(names[0])
        elif ips:
            subject = x509_verification.IPAddress(ips[0])
    try:
        if subject is not None:
            builder.build_server_verifier(subject).verify(leaf, list(intermediates))
        else:
            builder.build_client_verifier().verify(leaf, list(intermediates))
    except x509_verification.VerificationError as exc:
        return _verifier_reason(exc)
    except ValueError as exc:
        return _verifier_reason(exc)
    return None


def _where_path_stops(path: list[x509.Certificate], anchors, when, reason: str) -> tuple[x509.Certificate, str]:
    """The certificate of ``path`` (leaf first) where validation stops, and the verifier's reason there.

    The verifier names a certificate in some of its messages; otherwise each CA certificate of the path is
    validated on its own against the bundle, top first, under the CA rules: the highest one that fails is where
    the path stops. When every CA certificate validates, the path stops at the leaf.
    """
    named = _PROCESSING_RE.search(reason)
    if named:
        for cert in path:
            if _name(cert) == named.group(1):
                return cert, _PROCESSING_RE.sub("", reason)
    for index in range(len(path) - 1, 0, -1):
        builder = _verification_builder(anchors, when, x509_verification.ExtensionPolicy.webpki_defaults_ca())
        try:
            builder.build_client_verifier().verify(path[index], path[index + 1 :])
        except x509_verification.VerificationError as exc:
            return path[index], _PROCESSING_RE.sub("", _verifier_reason(exc))
        except ValueError:
            continue
    return path[0], reason


def _path_report(path, anchors, when, reason: str) -> str:
    """'the path stops at <certificate>: <why> (cryptography: <verifier's words>)'."""
    where, why = _where_path_stops(path, anchors, when, reason)
    who = "the certificate itself" if where is path[0] else f"'{_name(where)}'"
    plain = _gloss(why)
    if "no interior errors" in why and is_self_signed(where):
        plain = "it is a root CA, and the CA bundle does not hold it"
    return f"path validation stops at {who}: " + (f"{plain} (cryptography: {why})" if plain else why)


def _chain_problems(
    cert: x509.Certificate,
    chain: t.Sequence[x509.Certificate],
    anchors: t.Sequence[x509.Certificate],
    when: datetime.datetime,
) -> list[dict[str, str]]:
    """chain_incomplete / chain_untrusted for ``cert`` with its ``chain`` against the CA bundle ``anchors``.

    chain_untrusted when the chain leads to a CA the bundle does not hold (a root outside the bundle, or an
    intermediate of another organisation whose issuer is not in the bundle), or when path validation fails;
    chain_incomplete only where an intermediate may be missing (the chain stops at the leaf, or at a CA whose
    issuer may be an intermediate of the bundle's PKI) or sits only in the bundle.
    """
    if x509_verification is None or not hasattr(x509_verification, "ExtensionPolicy"):
        # No trust verdict rather than a guessed one: the check that cannot run says what to install.
        raise CertificateError(
            "the chain verdicts (a CA bundle was given) need path validation from cryptography >= 45 on the Ansible "
            "controller: pip install 'cryptography>=45', or pip install -r the collection's requirements.txt"
        )
    problems: list[dict[str, str]] = []
    intermediates = list(chain)
    path = _build_path(cert, intermediates)
    top = path[-1]
    roots = _bundle_roots(anchors)
    fix_bundle = "apexone_cert_ca_bundle_path"
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    # The leaf's own dates are reported as expired/not_yet_valid; judge the issuing path inside its validity.
    path_time = when if not_before <= when <= not_after else not_before + (not_after - not_before) / 2

    def path_reason() -> str | None:
        reason = _verify_path(cert, intermediates, anchors, when)
        if reason is not None and path_time is not when:
            reason = _verify_path(cert, intermediates, anchors, path_time)
        return reason

    def report(reason: str) -> str:
        return _path_report(path, anchors, path_time, reason)

    if is_self_signed(top):
        if not any(_same_certificate(top, anchor) for anchor in anchors):
            reason = path_reason()
            if reason is None:  # the verifier found another path to a root of the bundle (cross-signed CA)
                return problems
            problems.append(_problem(
                "chain_untrusted", SEVERITY_ERROR,
                f"the chain leads to the root CA '{_name(top)}', which is not in the CA bundle (the bundle holds "
                f"{roots}); adding intermediates cannot fix this: use a certificate issued under a root of the "
                f"bundle, or, if agents and browsers trust '{_name(top)}', add it to the CA bundle ({fix_bundle})"
                + f"; {report(reason)}",
            ))
            return problems
    else:
        in_bundle = next((c for c in anchors if _issued_by(top, c)), None)
        if in_bundle is None:
            reason = path_reason()
            if reason is None:  # the verifier found another path to a root of the bundle (cross-signed CA)
                return problems
            issuer = _name(top.issuer)
            namesakes = [c for c in anchors if c.subject == top.issuer]
            if namesakes:
                problems.append(_problem(
                    "chain_untrusted", SEVERITY_ERROR,
                    f"'{_name(top)}' was issued by a CA named '{issuer}', but the CA bundle's '{issuer}' has another "
                    "key and did not sign it (a CA re-installed with a new key, or another CA with the same name): "
                    f"put the CA certificate that issued it in the CA bundle ({fix_bundle}) or the PFX, or use a "
                    f"certificate issued by the bundle's '{issuer}'; {report(reason)}",
                ))
            elif top is cert or _may_be_missing_intermediate(top.issuer, anchors):
                where = "the certificate itself" if top is cert else f"intermediate '{_name(top)}'"
                problems.append(_problem(
                    "chain_incomplete", SEVERITY_ERROR,
                    f"the chain stops at {where}: its issuer '{issuer}' is neither in the PFX/chain nor in the CA "
                    f"bundle (which holds {roots}). If '{issuer}' is an intermediate CA, add it (and any CA above it "
                    "up to the root) to the PFX: export with 'Include all certificates in the certification path'; "
                    f"if it is a root CA that agents and browsers trust, add it to the CA bundle ({fix_bundle}); "
                    + report(reason),
                ))
            else:
                problems.append(_problem(
                    "chain_untrusted", SEVERITY_ERROR,
                    f"the chain leads to '{issuer}' (the issuer of '{_name(top)}'), a CA of another organisation "
                    f"that is not in the CA bundle (which holds {roots}): the certificate was issued by another CA, "
                    "and adding intermediates to the PFX cannot fix this. Use a certificate issued under a root of "
                    f"the bundle, or, if agents and browsers trust '{issuer}', add that root to the CA bundle "
                    f"({fix_bundle}); {report(reason)}",
                ))
            return problems
        if not is_self_signed(in_bundle):
            problems.append(_problem(
                "chain_incomplete", SEVERITY_ERROR,
                f"intermediate '{_name(in_bundle)}' is only in the CA bundle: include it in the PFX so the server "
                "can send it to agents and browsers (export with 'Include all certificates in the certification "
                "path')",
            ))
    reason = path_reason()
    if reason is not None:
        problems.append(_problem(
            "chain_untrusted", SEVERITY_ERROR,
            f"the chain does not validate against the CA bundle: {report(reason)}; re-issue or replace the "
            "certificate named there (or give the CA bundle the agents really trust)",
        ))
    return problems


def _same_certificate(a: x509.Certificate, b: x509.Certificate) -> bool:
    """The same CA: identical, or the same subject and key (a root re-issued with new dates)."""
    if thumbprint(a) == thumbprint(b):
        return True
    fmt, enc = serialization.PublicFormat.SubjectPublicKeyInfo, serialization.Encoding.DER
    return a.subject == b.subject and a.public_key().public_bytes(enc, fmt) == b.public_key().public_bytes(enc, fmt)


def check_webhost_certificate(
    cert: x509.Certificate,
    *,
    hostname: t.Any,
    chain: t.Sequence[x509.Certificate] = (),
    ca: t.Sequence[x509.Certificate] | None = None,
    key: t.Any = None,
    has_private_key: bool | None = None,
    min_days: int = 30,
    now: t.Any = None,
    pfx_problems: t.Sequence[dict[str, str]] = (),
    check_names: bool = True,
) -> dict[str, t.Any]:
    """Run every web host certificate check; return ``{ok, problems, thumbprint, subject_cn, not_after, days_left}``.

    ``check_names=False`` skips the CN/SAN checks (``hostname`` may then be None): for a caller that does not
    know which server the certificate is for.

    ``key`` is a loaded private key (key_mismatch when it does not match); ``has_private_key=False`` reports
    no_private_key (a PFX without its key); ``None`` means "not known" (a public certificate alone).
    ``ca`` enables the chain verdicts; without it no trust verdict is given.
    """
    require_libraries()
    host = normalize_hostname(hostname) if check_names or hostname else None
    when = _utc(now)
    try:
        min_days = int(min_days)
    except (TypeError, ValueError) as exc:
        raise CertificateError(f"min_days must be a whole number of days, not {min_days!r}") from exc
    problems: list[dict[str, str]] = []

    def add(code: str, severity: str, message: str) -> None:
        problems.append(_problem(code, severity, message))

    # Names: the KB requires the subject CN to be the host name; browsers and agents use the SAN.
    cns = _common_names(cert)
    if not check_names:
        pass
    elif not cns:
        add("cn_mismatch", SEVERITY_ERROR, f"the certificate has no subject CN; Apex One requires CN={host}")
    elif not any(cn.strip().lower().rstrip(".") == host for cn in cns):
        add(
            "cn_mismatch",
            SEVERITY_ERROR,
            f"subject CN '{cns[0]}' is not the host name '{host}'; Apex One requires the CN to be the name "
            "agents use: request a certificate with CN=" + host,
        )
    san = _san(cert)
    if not check_names:
        pass
    elif san is None:
        add(
            "hostname_not_in_san",
            SEVERITY_ERROR,
            f"the certificate has no Subject Alternative Name; browsers require '{host}' in the SAN",
        )
    else:
        if _is_ip(host):
            matched = any(str(ip) == host for ip in san.get_values_for_type(x509.IPAddress))
        else:
            matched = any(dns_name_matches(name, host) for name in san.get_values_for_type(x509.DNSName))
        if not matched:
            listed = ", ".join(san.get_values_for_type(x509.DNSName)) or "no DNS names"
            add(
                "hostname_not_in_san",
                SEVERITY_ERROR,
                f"'{host}' is not covered by the Subject Alternative Name ({listed})",
            )

    # Validity.
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    days_left = math.floor((not_after - when).total_seconds() / 86400)
    if when > not_after:
        add("expired", SEVERITY_ERROR, f"the certificate expired on {format_time(not_after)} ({-days_left} days ago)")
    elif when < not_before:
        add("not_yet_valid", SEVERITY_ERROR, f"the certificate is not valid before {format_time(not_before)}")
    elif days_left < min_days:
        add(
            "expires_soon",
            SEVERITY_WARNING,
            f"the certificate expires on {format_time(not_after)}, in {days_left} days (threshold {min_days})",
        )

    # Key.
    if key is not None:
        if not _same_public_key(cert, key):
            add("key_mismatch", SEVERITY_ERROR, "the private key does not belong to the certificate")
    elif has_private_key is False:
        add(
            "no_private_key",
            SEVERITY_ERROR,
            "the PFX has no private key: IIS cannot serve it; export it again with 'Yes, export the private key'",
        )
    for extra in pfx_problems:
        if not any(p["code"] == extra["code"] and p["message"] == extra["message"] for p in problems):
            problems.append(dict(extra))

    key_type, key_size = _key_description(cert.public_key())
    if (key_type == "RSA" and (key_size or 0) < 2048) or (key_type == "EC" and (key_size or 0) < 256) or (
        key_type == "DSA"
    ):
        add("weak_key", SEVERITY_ERROR, f"{key_type} {key_size}-bit key is too weak: use RSA 2048+ or EC P-256+")

    for index, item in enumerate([cert, *chain]):
        if index and is_self_signed(item):
            continue  # a root's own signature is not checked by anyone
        hash_name = _signature_hash_name(item)
        if hash_name in _WEAK_HASHES:
            who = "the certificate" if index == 0 else f"chain certificate '{item.subject.rfc4514_string()}'"
            add("weak_signature", SEVERITY_ERROR, f"{who} is signed with {hash_name.upper()}: re-issue with SHA-256")

    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.SERVER_AUTH not in usages and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in usages:
            add(
                "no_server_auth_eku",
                SEVERITY_ERROR,
                "the Extended Key Usage lacks Server Authentication (1.3.6.1.5.5.7.3.1): use a web server template",
            )
    except x509.ExtensionNotFound:
        pass

    if _basic_constraints_ca(cert):
        add(
            "is_ca",
            SEVERITY_ERROR,
            "the certificate is a CA certificate (basicConstraints CA:TRUE), not a server certificate",
        )
    self_signed = is_self_signed(cert)
    if self_signed:
        add(
            "self_signed",
            SEVERITY_ERROR,
            "the certificate is self-signed: the point of the replacement is a certificate your CA signed",
        )

    # Chain verdicts need the CA bundle.
    if ca is not None:
        anchors = list(ca)
        if not anchors:
            raise CertificateError("ca was given but holds no certificate: give the PEM bundle of your root CA(s)")
        problems.extend(_chain_problems(cert, chain, anchors, when))

    return {
        "ok": not any(p["severity"] == SEVERITY_ERROR for p in problems),
        "problems": problems,
        "thumbprint": thumbprint(cert),
        "subject_cn": cns[0] if cns else None,
        "not_after": format_time(not_after),
        "days_left": days_left,
        "hostname": host,
    }


def check_from_input(
    value: t.Any,
    *,
    hostname: t.Any,
    chain: t.Any = None,
    ca: t.Any = None,
    key: t.Any = None,
    key_password: t.Any = None,
    min_days: t.Any = 30,
    now: t.Any = None,
    check_names: bool = True,
) -> dict[str, t.Any]:
    """The webhost_cert_check filter: ``value`` is PEM text (leaf first) or a pfx_info dict."""
    require_libraries()
    has_key = None
    pfx_problems: list[dict[str, str]] = []
    if isinstance(value, dict):
        if "certificate_pem" not in value:
            raise CertificateError(
                "the input is a dict without 'certificate_pem': pass the result of the pfx_info lookup, or PEM text"
            )
        certs = load_certificates(value["certificate_pem"], "certificate")
        chain_certs = _load_bundle(value.get("chain_pem") or [], "chain")
        has_key = bool(value.get("has_private_key"))
        pfx_problems = list(value.get("pfx_problems") or [])
    else:
        certs = load_certificates(value, "certificate")
        chain_certs = certs[1:]
    chain_certs = chain_certs + _load_bundle(chain, "chain")
    ca_certs = _load_bundle(ca, "CA bundle") if ca not in (None, "", []) else None
    private_key = load_private_key(key, key_password) if key not in (None, "") else None
    return check_webhost_certificate(
        certs[0],
        hostname=hostname,
        chain=chain_certs,
        ca=ca_certs,
        key=private_key,
        has_private_key=has_key,
        min_days=min_days,
        now=now,
        pfx_problems=pfx_problems,
        check_names=check_names,
    )


def x509_info(value: t.Any) -> dict[str, t.Any]:
    """The x509_info filter: describe PEM/DER text (leaf first; further certificates become chain_pem)."""
    certs = load_certificates(value, "certificate")
    return describe_certificate(certs[0], certs[1:])
