# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""certreq.exe on the controller side: the INF text of a request, and what certreq's answer to a submission means.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.

The server side runs ``certreq.exe`` and returns its raw results (issue 16, contract in the team plan); the
decisions are made here:

* :func:`build_inf` turns a request spec (computed by the planner) into the INF text ``certreq -new`` reads. Every
  section, key and value it writes is one Microsoft's certreq documentation names (tests/reference/certreq_inf.json
  holds them with the source; a unit test checks the builder against it). A spec value that cannot be written into
  an INF without changing its meaning (quotes, line breaks, ``%``, a name that is not a host name) is refused with
  :class:`CertreqError`, never escaped.
* :func:`submit_result` classifies what ``win_apexone_cert_submit`` returned (exit code, output text, the
  certificate file certreq wrote, if any) as ``issued``, ``pending``, ``denied`` or ``failed``, with the CA's
  RequestId.

Pure Python (cryptography reads the chain file), no Ansible imports, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import typing as t

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    HAS_CRYPTOGRAPHY = True
except ImportError:  # only the chain file needs it; reported as a clear error when there is one to read
    HAS_CRYPTOGRAPHY = False

# Key storage providers (certreq documentation, ProviderName/ProviderType; the SChannel provider is type 12,
# PROV_RSA_SCHANNEL). ``cng``: the Software Key Storage Provider has no CryptoAPI provider type.
PROVIDERS = {
    "legacy": ("Microsoft RSA SChannel Cryptographic Provider", 12),
    "cng": ("Microsoft Software Key Storage Provider", None),
}
KEY_LENGTHS = (2048, 3072, 4096)
HASH_ALGORITHMS = ("sha256", "sha384", "sha512")
# TLS server: digital signature (0x80) and key encipherment (0x20) (RFC 5280 4.2.1.3 for an RSA key-transport
# server); EKU server authentication 1.3.6.1.5.5.7.3.1. The hexadecimal form of KeyUsage and the number of KeySpec
# (AT_KEYEXCHANGE = 1) are the ones certreq's reference uses in its examples; every certreq version reads them.
KEY_USAGE = "0xa0"
KEY_SPEC_KEYEXCHANGE = "1"
OID_SAN = "2.5.29.17"
OID_EKU = "2.5.29.37"
OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1"

SPEC_KEYS = ("subject_cn", "dns_names", "ip_addresses", "key_length", "key_provider", "exportable", "friendly_name",
             "hash_algorithm", "template")
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})*\.?")  # fullmatch: '$' would let a final line break through
# Text values go between double quotes in the INF; these characters would end the value, start a string
# substitution (%name%) or break the line, and the INF travels as ASCII (the module refuses anything else).
_UNSAFE_TEXT = re.compile(r"[^\x20-\x7e]|[\"%]")
_TEMPLATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")


class CertreqError(Exception):
    """A request spec that cannot be written as an INF, or a result that cannot be read."""


# ------------------------------------------------------------------------------------------------ request spec
def _host(value: t.Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 253 or not _HOST.fullmatch(value):
        raise CertreqError(f"{what} {value!r} is not a DNS host name (letters, digits, '-' and '.' labels, an optional "
                           "leading '*.')")
    return value.rstrip(".")


def _text(value: t.Any, what: str, limit: int = 128) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CertreqError(f"{what} must be a non-empty string")
    if len(value) > limit or _UNSAFE_TEXT.search(value):
        raise CertreqError(f"{what} {value!r} cannot be written into a certreq INF: at most {limit} printable ASCII "
                           "characters, no double quote or '%'")
    return value


def check_spec(spec: t.Any) -> dict:
    """The request spec, checked and normalised (names deduplicated, case kept); CertreqError says what is wrong."""
    if not isinstance(spec, dict):
        raise CertreqError(f"the request spec must be a dict, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    missing = [k for k in SPEC_KEYS if k not in spec and k != "template"]
    if unknown or missing:
        raise CertreqError("the request spec " + "; ".join(
            part for part in (f"has unknown keys: {', '.join(unknown)}" if unknown else "",
                              f"lacks: {', '.join(missing)}" if missing else "") if part))
    subject_cn = _host(spec["subject_cn"], "subject_cn")
    for key in ("dns_names", "ip_addresses"):
        if not isinstance(spec[key], list):
            raise CertreqError(f"{key} must be a list")
    dns = []
    for name in [subject_cn, *spec["dns_names"]]:
        name = _host(name, "dns_names entry")
        if name.lower() not in (d.lower() for d in dns):
            dns.append(name)
    ips = []
    for value in spec["ip_addresses"]:
        try:
            address = str(ipaddress.ip_address(str(value)))
        except ValueError:
            raise CertreqError(f"ip_addresses entry {value!r} is not an IPv4 or IPv6 address") from None
        if address not in ips:
            ips.append(address)
    key_length = spec["key_length"]
    if not isinstance(key_length, int) or isinstance(key_length, bool) or key_length not in KEY_LENGTHS:
        raise CertreqError(f"key_length {key_length!r} is not one of {', '.join(map(str, KEY_LENGTHS))}")
    if spec["key_provider"] not in PROVIDERS:
        raise CertreqError(f"key_provider {spec['key_provider']!r} is not one of {', '.join(PROVIDERS)}")
    if not isinstance(spec["exportable"], bool):
        raise CertreqError(f"exportable must be true or false, got {spec['exportable']!r}")
    if spec["hash_algorithm"] not in HASH_ALGORITHMS:
        raise CertreqError(f"hash_algorithm {spec['hash_algorithm']!r} is not one of {', '.join(HASH_ALGORITHMS)}")
    template = spec.get("template")
    if template is not None and (not isinstance(template, str) or not _TEMPLATE.fullmatch(template)):
        raise CertreqError(f"template {template!r} is not a certificate template name (letters, digits, space, '.', "
                           "'_', '-'; at most 64 characters)")
    return {"subject_cn": subject_cn, "dns_names": dns, "ip_addresses": ips, "key_length": key_length,
            "key_provider": spec["key_provider"], "exportable": spec["exportable"],
            "friendly_name": _text(spec["friendly_name"], "friendly_name"),
            "hash_algorithm": spec["hash_algorithm"], "template": template}


def build_inf(spec: t.Any) -> str:
    """The INF text ``certreq -new -machine`` reads for a request spec (CRLF line ends, as Windows writes INFs)."""
    spec = check_spec(spec)
    provider, provider_type = PROVIDERS[spec["key_provider"]]
    lines = [
        "[Version]",
        'Signature = "$Windows NT$"',
        "",
        "[NewRequest]",
        f'Subject = "CN={spec["subject_cn"]}"',
        "KeyAlgorithm = RSA",
        f"KeyLength = {spec['key_length']}",
        f"Exportable = {'TRUE' if spec['exportable'] else 'FALSE'}",
        "MachineKeySet = TRUE",
        f'ProviderName = "{provider}"',
    ]
    if provider_type is not None:
        # A CryptoAPI key for Schannel is a key-exchange key (AT_KEYEXCHANGE); a CNG key has no key spec.
        lines += [f"ProviderType = {provider_type}", f"KeySpec = {KEY_SPEC_KEYEXCHANGE}"]
    lines += [
        f"KeyUsage = {KEY_USAGE}",
        f"HashAlgorithm = {spec['hash_algorithm']}",
        "RequestType = PKCS10",
        "SMIME = FALSE",
        "Silent = TRUE",
        f'FriendlyName = "{spec["friendly_name"]}"',
        "",
        "[Extensions]",
        f'{OID_SAN} = "{{text}}"',
    ]
    names = [f"DNS={n}" for n in spec["dns_names"]] + [f"IPAddress={a}" for a in spec["ip_addresses"]]
    lines += [f'_continue_ = "{name}{"&" if i < len(names) - 1 else ""}"' for i, name in enumerate(names)]
    lines += [f'{OID_EKU} = "{{text}}"', f'_continue_ = "{OID_SERVER_AUTH}"']
    if spec["template"] is not None:
        lines += ["", "[RequestAttributes]", f'CertificateTemplate = "{spec["template"]}"']
    return "\r\n".join(lines) + "\r\n"


# ------------------------------------------------------------------------------------------------ certreq results
# Lines certreq prints (English Windows; Microsoft's certreq documentation and published transcripts, see
# tests/double/README.md): ``RequestId: 12`` then ``RequestId: "12"``, then one disposition line.
_REQUEST_ID = re.compile(r'RequestId:\s*"?(\d+)"?')
_ISSUED = re.compile(r"Certificate retrieved\s*\(Issued\)", re.I)
_PENDING = re.compile(r"Taken Under Submission|Certificate request is pending", re.I)
_DENIED = re.compile(r"\(Denied\)|Denied by Policy Module|Certificate has been denied", re.I)
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")


def _int_or_none(value: t.Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _certificate_text(value: t.Any) -> str | None:
    """The certificate file's text as PEM (LF): with its BEGIN/END lines, or bare base64 of a DER certificate
    (certreq writes base64; the lines are added then); None when there is no certificate in it."""
    if not isinstance(value, str):
        return None
    found = _PEM_CERT.search(value)
    if found is not None:
        return found.group(0).replace("\r\n", "\n") + "\n"
    body = "".join(value.split())
    if not body or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", body):
        return None
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None
    if der[:1] != b"\x30":
        return None
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----"]) + "\n"


def _chain_certificates(value: t.Any, leaf_pem: str) -> list:
    """The certificates of certreq's chain file (PKCS #7, base64 with or without BEGIN/END lines) other than the issued
    one, as PEM texts (LF): the issuer of the certificate first, then its issuer and so on, then any others (a PKCS #7
    holds a set: its order means nothing); [] when there is none. A file that is not a PKCS #7 is an error."""
    if not isinstance(value, str) or not value.strip():
        return []
    if not HAS_CRYPTOGRAPHY:
        raise CertreqError("reading certreq's chain file needs the Python library cryptography on the controller")
    body = "".join(re.sub(r"-----(BEGIN|END) [A-Z0-9 #]+-----", "", value).split())
    try:
        certificates = pkcs7.load_der_pkcs7_certificates(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise CertreqError(f"certreq's chain file is not a PKCS #7 certificate bundle: {exc}") from None
    leaf = x509.load_pem_x509_certificate(leaf_pem.encode())
    others = [c for c in certificates if c != leaf]
    ordered: list = []
    current = leaf
    while True:
        issuer = next((c for c in others if c not in ordered and c.subject == current.issuer and c != current), None)
        if issuer is None:
            break
        ordered.append(issuer)
        current = issuer
    ordered += [c for c in others if c not in ordered]
    return [c.public_bytes(serialization.Encoding.PEM).decode() for c in ordered]


def _disposition_line(output: str, pattern: re.Pattern) -> str:
    for line in output.splitlines():
        if pattern.search(line):
            return line.strip()
    return ""


def submit_result(result: t.Any) -> dict:
    """``{status, request_id, message, certificate, chain}`` of a ``win_apexone_cert_submit`` result.

    ``issued``: a certificate file was written and the exit code is 0 (certreq's output text is localised, so an
    issued certificate is recognised by the file, the English text only confirms it); ``pending``: the CA took the
    request under submission (a RequestId to retrieve later); ``denied``: the CA refused it; ``failed``: anything
    else (certreq could not reach the CA, the template is unknown to the client, ...), with the output in the message.
    ``chain``: the other certificates of certreq's chain file (the CA's chain, PEM), [] unless issued.
    """
    if not isinstance(result, dict):
        raise CertreqError(f"certreq_submit_result expects the registered result of win_apexone_cert_submit, got "
                           f"{type(result).__name__}")
    if result.get("failed"):
        return {"status": "failed", "request_id": _int_or_none(result.get("request_id")), "certificate": None, "chain": [],
                "message": f"win_apexone_cert_submit failed: {result.get('msg') or 'no message'}"}
    if "certreq_output" not in result or "certreq_exit_code" not in result:
        raise CertreqError("certreq_submit_result: the result has no certreq_output/certreq_exit_code (is it the "
                           "registered result of win_apexone_cert_submit?)")
    output = str(result.get("certreq_output") or "")
    code = _int_or_none(result.get("certreq_exit_code"))
    if code is None:  # check mode: nothing was submitted
        return {"status": "failed", "request_id": None, "certificate": None, "chain": [],
                "message": "the request was not submitted (check mode)"}
    found = _REQUEST_ID.search(output)
    request_id = int(found.group(1)) if found else _int_or_none(result.get("request_id"))
    pem = _certificate_text(result.get("certificate"))
    text = " ".join(output.split())
    if code == 0 and pem is not None and not _DENIED.search(output) and not _PENDING.search(output):
        line = _disposition_line(output, _ISSUED) or "certificate written"
        return {"status": "issued", "request_id": request_id, "certificate": pem,
                "chain": _chain_certificates(result.get("certificate_chain"), pem),
                "message": f"issued (RequestId {request_id}): {line}" if request_id is not None else f"issued: {line}"}
    where = f"RequestId {request_id}" if request_id is not None else "no RequestId"
    if _DENIED.search(output):
        return {"status": "denied", "request_id": request_id, "certificate": None, "chain": [],
                "message": f"the CA denied the request ({where}): {_disposition_line(output, _DENIED)}"}
    if _PENDING.search(output):
        return {"status": "pending", "request_id": request_id, "certificate": None, "chain": [],
                "message": f"the request is pending approval by a CA manager ({where}); once it is issued, retrieve it "
                           f"with request_id {request_id}" if request_id is not None else
                           f"the request is pending approval by a CA manager ({where})"}
    if code == 0 and _ISSUED.search(output):
        what = "wrote no certificate file" if not result.get("certificate") else "wrote a file that holds no certificate"
        return {"status": "failed", "request_id": request_id, "certificate": None, "chain": [],
                "message": f"certreq reports the certificate issued ({where}) but {what}: {text}"}
    return {"status": "failed", "request_id": request_id, "certificate": None, "chain": [],
            "message": f"certreq exited with {code} ({where}): {text or 'no output'}"}
