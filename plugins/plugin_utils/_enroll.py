# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Renewal in place (issue #16): the request a server makes, and the check of what the CA issued for it.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.

Pure Python, no Ansible imports, no I/O. The key is born on the server (``certreq -new``, machine key set); the
controller decides what is asked for (:func:`request_spec`, turned into INF text by ``_certreq.build_inf``), whether a
pending request on the server still matches (:func:`find_pending`), what the replacement would change before a
certificate exists (:func:`enroll_plan`, a preview of the planner's plan) and whether the certificate a CA issued
may be accepted onto the pending key (:func:`issued_check`): the web host checks of ``_x509`` plus the public key
of the request and the names asked for.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import typing as t

from ansible_collections.apexone.certificates.plugins.module_utils._apexone_files import enrich_server_info
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import (
    SEVERITY_ERROR,
    SEVERITY_WARNING,
    CertificateError,
    certificate_pem,
    check_webhost_certificate,
    load_certificates,
    normalize_hostname,
    thumbprint,
)
from ansible_collections.apexone.certificates.plugins.plugin_utils import _planner

KEY_LENGTHS = (2048, 3072, 4096)
KEY_PROVIDERS = ("legacy", "cng")
HASH_ALGORITHMS = ("sha256", "sha384", "sha512")
SIGNERS = ("adcs", "controller")
# The friendly name of a pending request this collection made: only such a request is ever reused.
REQUEST_FRIENDLY_PREFIX = "apexone.certificates request"
# What the preview plan shows where the issued certificate's values will be.
ISSUED = "(issued certificate)"
_DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class EnrollError(ValueError):
    """The enrolment options or facts are not usable; the message says what to fix."""


def _name_kind(name: t.Any) -> tuple[str, str]:
    """('ip', text) or ('dns', lower-case IDNA name) of a name to request, else raise."""
    text = str(name or "").strip()
    try:
        return "ip", str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    wildcard = text.startswith("*.")
    try:
        host = normalize_hostname(text[2:] if wildcard else text)
    except CertificateError as exc:
        raise EnrollError(f"'{text[:100]}' is not a DNS name or IP address to request: {exc}") from None
    if not all(_DNS_LABEL.fullmatch(label) for label in host.split(".")):
        raise EnrollError(f"'{text[:100]}' is not a DNS name or IP address to request")
    return "dns", ("*." + host) if wildcard else host


def _bool(value: t.Any, name: str) -> bool:
    """The planner's reading of a boolean, with no default here (an unset value is an error)."""
    try:
        if value is None or value == "":
            raise _planner.PlanError(f"{name} must be true or false, not {value!r}")
        return _planner._bool(value, name, False)  # pylint: disable=protected-access
    except _planner.PlanError as exc:
        raise EnrollError(str(exc)) from None


def request_spec(server_info: t.Any, options: t.Any) -> dict[str, t.Any]:
    """The request spec of the team contract: what the server asks its CA for.

    ``options``: ``hostname`` (the name agents and browsers use: the subject CN), ``names`` (extra DNS names and IP
    addresses), ``key_length``, ``key_provider``, ``exportable``, ``template``, ``hash_algorithm``. The SANs are the
    host name, Master_DomainName of ofcscan.ini (the name agents were installed with, as the planner reads it) and
    the extra names, each once, in that order.
    """
    if not isinstance(options, dict):
        raise EnrollError("the enrolment options must be a dict (hostname, names, key_length, ...)")
    kind, cn = _name_kind(options.get("hostname"))
    if kind == "dns" and cn.startswith("*."):
        raise EnrollError(f"the host name '{cn}' is a wildcard: the subject CN must be the name agents use")
    names: list[tuple[str, str]] = [(kind, cn)]
    master = None
    if isinstance(server_info, dict) and isinstance(server_info.get("ofcscan_ini"), dict):
        master = (enrich_server_info(server_info).get("ofcscan_ini") or {}).get("master_domain_name")
    if master:
        try:
            names.append(_name_kind(master))
        except EnrollError as exc:
            raise EnrollError(f"Master_DomainName of ofcscan.ini cannot be requested: {exc}") from None
    extra = options.get("names") or []
    if isinstance(extra, str) or not isinstance(extra, (list, tuple)):
        raise EnrollError(f"names must be a list of DNS names and IP addresses, not {extra!r}")
    names += [_name_kind(n) for n in extra]
    seen: set[tuple[str, str]] = set()
    unique = [n for n in names if not (n in seen or seen.add(n))]
    try:
        key_length = int(options.get("key_length") or 2048)
    except (TypeError, ValueError):
        raise EnrollError(f"key_length must be one of {KEY_LENGTHS}, not {options.get('key_length')!r}") from None
    if key_length not in KEY_LENGTHS:
        raise EnrollError(f"key_length must be one of {', '.join(map(str, KEY_LENGTHS))}, not {key_length}")
    provider = str(options.get("key_provider") or "legacy")
    if provider not in KEY_PROVIDERS:
        raise EnrollError(f"key_provider must be legacy or cng, not {provider!r}")
    digest = str(options.get("hash_algorithm") or "sha256").lower()
    if digest not in HASH_ALGORITHMS:
        raise EnrollError(f"hash_algorithm must be one of {', '.join(HASH_ALGORITHMS)}, not {digest!r}")
    template = str(options.get("template") or "").strip() or None
    if template is not None and not re.fullmatch(r"[A-Za-z0-9 ._-]{1,64}", template):
        raise EnrollError(f"template {template[:80]!r} is not a certificate template name")
    return {
        "subject_cn": cn,
        "dns_names": [v for k, v in unique if k == "dns"],
        "ip_addresses": [v for k, v in unique if k == "ip"],
        "key_length": key_length,
        "key_provider": provider,
        "exportable": _bool(options.get("exportable", True), "exportable"),
        "friendly_name": f"{REQUEST_FRIENDLY_PREFIX} {cn}",
        "hash_algorithm": digest,
        "template": template,
    }


def _norm(value: t.Any) -> str:
    return re.sub(r"[^0-9A-Fa-f]", "", str(value or "")).upper()


def _mismatch(entry: dict, spec: dict) -> str | None:
    """Why a REQUEST store entry does not match the spec, None when it does (only what the entry reports)."""
    if str(entry.get("friendly_name") or "") != spec["friendly_name"]:
        return "not made by this collection for this name"
    if not entry.get("has_private_key"):
        return "its private key is gone"
    if not entry.get("request_file"):
        return "its saved request file is gone"
    if str(entry.get("subject_cn") or "").lower() != spec["subject_cn"]:
        return f"subject CN {entry.get('subject_cn')!r}, not {spec['subject_cn']!r}"
    dns = entry.get("dns_names")
    if dns and sorted(str(n).lower() for n in dns) != sorted(spec["dns_names"]):
        return f"names {', '.join(map(str, dns))}, not {', '.join(spec['dns_names'])}"
    size = entry.get("key_size") or (entry.get("private_key") or {}).get("key_size")
    if size and int(size) != spec["key_length"]:
        return f"a {size}-bit key, not {spec['key_length']}"
    private = entry.get("private_key") or {}
    provider = private.get("provider_type")
    if provider and {"csp": "legacy", "cng": "cng"}.get(str(provider).lower(), str(provider).lower()) != spec["key_provider"]:
        return f"key provider {provider}, not {spec['key_provider']}"
    if private.get("exportable") is not None and bool(private["exportable"]) != spec["exportable"]:
        return "key exportability differs"
    if entry.get("days_left") is not None and int(entry["days_left"]) < 1:
        return "its placeholder certificate has expired"
    return None


def find_pending(server_info: t.Any, spec: dict) -> dict[str, t.Any]:
    """The pending request of ``certificates.request`` to reuse (the newest that matches), and why others do not."""
    entries = ((server_info or {}).get("certificates") or {}).get("request") or [] if isinstance(server_info, dict) else []
    if not isinstance(entries, list):
        raise EnrollError("certificates.request of win_server_info is not a list: gather the facts again")
    matching, others = [], []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        why = _mismatch(entry, spec)
        if why is None:
            matching.append(entry)
        elif str(entry.get("friendly_name") or "").startswith(REQUEST_FRIENDLY_PREFIX):
            others.append({"thumbprint": _norm(entry.get("thumbprint")), "reason": why})
    matching.sort(key=lambda e: str(e.get("not_before") or ""), reverse=True)
    reuse = _norm(matching[0].get("thumbprint")) if matching else None
    return {"reuse_thumbprint": reuse or None, "stale": others}


def _placeholder(spec: dict) -> str:
    """A throw-away certificate with the requested names, so the planner can preview the replacement (never used)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec["subject_cn"])])
    now = datetime.datetime.now(datetime.timezone.utc)
    sans = [x509.DNSName(n) for n in spec["dns_names"]] + [x509.IPAddress(ipaddress.ip_address(i)) for i in spec["ip_addresses"]]
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False).sign(key, hashes.SHA256()))
    return certificate_pem(cert)


def _served(facts: dict, site_name: t.Any, ports: t.Any) -> list[str]:
    sites = _planner._apex_sites(facts, {"site_name": site_name})  # pylint: disable=protected-access
    wanted = [int(p) for p in ports or []]
    records = _planner._http_sys_records(facts)  # pylint: disable=protected-access
    bindings = _planner._https_bindings(sites[:1], wanted)  # pylint: disable=protected-access
    return sorted({_planner._served_thumbprint(b, records) for b in bindings} - {""})  # pylint: disable=protected-access


def renewal_due(server_info: dict, spec: dict, desired: dict, renew_days: int, force: bool = False) -> dict[str, t.Any]:
    """Whether the site needs a new certificate: ``{due, reason}``.

    Not due only when every https binding of the Apex One site serves one certificate that is in LocalMachine\\My with
    its key, is not self-signed, has the requested CN and every requested name, and has more than ``renew_days``
    days left.
    """
    if force:
        return {"due": True, "reason": "renewal forced (apexone_cert_enroll_force)"}
    served = _served(server_info, desired.get("site_name"), desired.get("ports"))
    if len(served) != 1:
        return {"due": True, "reason": f"the site serves {len(served) or 'no'} certificate(s): {', '.join(served)}"}
    my = ((server_info.get("certificates") or {}).get("my")) or []
    cert = next((c for c in my if _norm(c.get("thumbprint")) == served[0]), None)
    if cert is None or not cert.get("has_private_key"):
        return {"due": True, "reason": f"the served certificate {served[0]} is not in LocalMachine\\My with its key"}
    if cert.get("self_signed"):
        return {"due": True, "reason": f"the served certificate {served[0]} is self-signed"}
    if str(cert.get("subject_cn") or "").lower() != spec["subject_cn"]:
        return {"due": True, "reason": f"the served certificate's CN is {cert.get('subject_cn')!r}, not {spec['subject_cn']!r}"}
    missing = sorted(set(spec["dns_names"]) - {str(n).lower() for n in cert.get("dns_names") or []})
    if missing:
        return {"due": True, "reason": f"the served certificate does not name {', '.join(missing)}"}
    days = cert.get("days_left")
    if days is None or int(days) <= int(renew_days):
        return {"due": True, "reason": f"the served certificate {served[0]} has {days} days left (renewal at {renew_days})"}
    return {"due": False, "thumbprint": served[0],
            "reason": f"the served certificate {served[0]} has {days} days left (renewal at {renew_days} or fewer)"}


def enroll_plan(server_info: t.Any, options: t.Any, desired: t.Any) -> dict[str, t.Any]:
    """What a renewal in place would do on one server, before any certificate exists (the ``enroll_request`` filter).

    Returns ``{spec, reuse_thumbprint, stale, due, due_reason, plan, lines}``: ``plan`` is the planner's plan for a
    certificate with the requested names (a placeholder; its thumbprint shows as "(issued certificate)"), with its
    blockers and warnings; the real plan is computed again once the CA has issued the certificate.
    """
    if not isinstance(desired, dict):
        raise EnrollError("desired must be the dict the role passes to webhost_plan")
    try:
        _planner._validate_facts(server_info)  # pylint: disable=protected-access
    except _planner.PlanError as exc:
        raise EnrollError(str(exc)) from None
    spec = request_spec(server_info, options)
    facts = enrich_server_info(server_info)
    pending = find_pending(server_info, spec)
    pem = _placeholder(spec)
    placeholder = thumbprint(load_certificates(pem)[0])
    preview = dict(desired, thumbprint=placeholder, subject_cn=spec["subject_cn"], san_dns=spec["dns_names"],
                   san_ip=spec["ip_addresses"], certificate_pem=pem, pfx_encryption=None,
                   friendly_name=desired.get("friendly_name") or f"Apex One web host {ISSUED}")
    try:
        plan = _planner.plan(server_info, preview)
    except _planner.PlanError as exc:
        raise EnrollError(str(exc)) from None
    try:
        renew_days = int(options.get("renew_days", 30))
    except (TypeError, ValueError):
        raise EnrollError(f"renew_days must be a whole number of days, not {options.get('renew_days')!r}") from None
    due = renewal_due(facts, spec, desired, renew_days, _bool(options.get("force", False), "force"))
    hidden = [placeholder] + [f["sha256_after"][:16] for f in plan["files"]]

    def shown(text: str) -> str:
        for value in hidden:
            text = text.replace(value, ISSUED)
        return text

    signer = str(options.get("signer") or "adcs")
    if signer not in SIGNERS:
        raise EnrollError(f"signer must be adcs or controller, not {signer!r}")
    names = ", ".join(spec["dns_names"] + spec["ip_addresses"])
    request = (f"request: reuse pending request {pending['reuse_thumbprint']}" if pending["reuse_thumbprint"]
               else "request: new key and request on the server (certreq -new -machine)")
    lines = [
        f"{request}: CN={spec['subject_cn']}, SAN {names}, RSA {spec['key_length']} "
        f"{spec['key_provider']} {'exportable' if spec['exportable'] else 'not exportable'}, {spec['hash_algorithm']}"
        + (f", template {spec['template']}" if spec["template"] else ""),
        ("sign: AD CS " + (str(options.get("ca_config") or "(apexone_cert_enroll_ca_config not set)"))
         + (f", retrieve request id {options['request_id']}" if options.get("request_id") else "")
         if signer == "adcs" else "sign: on the controller (apexone_cert_enroll_sign_tasks)"),
        "check: the issued certificate on the controller (web host checks, the request's key, the names asked for)",
        "accept: certreq -accept -machine onto the pending key, then the replacement below",
    ] + [f"stale pending request {s['thumbprint']}: {s['reason']}" for s in pending["stale"]]
    if not due["due"]:
        lines = [f"compliant: not due: {due['reason']}"]
    else:
        lines += [f"due: {due['reason']}"] + [shown(line) for line in plan["lines"]]
    preview_plan = dict(
        plan,
        compliant=not due["due"],
        new_thumbprint=None,
        binding_changes=[dict(c, new_thumbprint=None) for c in plan["binding_changes"]],
        lines=lines,
        preview=True,
    )
    return {"spec": spec, "reuse_thumbprint": pending["reuse_thumbprint"], "stale": pending["stale"],
            "due": due["due"], "due_reason": due["reason"], "signer": signer, "plan": preview_plan, "lines": lines}


# ------------------------------------------------------------------------------------------ the request
def load_request(data: t.Any) -> t.Any:
    """The PKCS#10 request certreq wrote (PEM, 'NEW CERTIFICATE REQUEST' or 'CERTIFICATE REQUEST'), else raise."""
    from cryptography import x509

    text = data.decode("ascii", "replace") if isinstance(data, bytes) else str(data or "")
    match = re.search(r"-----BEGIN (NEW )?CERTIFICATE REQUEST-----(.*?)-----END (NEW )?CERTIFICATE REQUEST-----",
                      text, re.S)
    if not match:
        raise EnrollError("the request is not a PEM PKCS#10 request (-----BEGIN NEW CERTIFICATE REQUEST-----)")
    body = re.sub(r"\s+", "\n", match.group(2).strip())
    try:
        csr = x509.load_pem_x509_csr(
            f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n".encode())
    except ValueError as exc:
        raise EnrollError(f"the request cannot be read: {exc}") from None
    if not csr.is_signature_valid:
        raise EnrollError("the request's signature does not verify: it was altered after certreq made it")
    return csr


def _csr_names(csr: t.Any) -> tuple[list[str], list[str], list[str]]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cns = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return cns, [], []
    return cns, [n.lower() for n in san.get_values_for_type(x509.DNSName)], [str(i) for i in san.get_values_for_type(x509.IPAddress)]


def request_info(data: t.Any) -> dict[str, t.Any]:
    """The request as the sign step gets it (standard 'CERTIFICATE REQUEST' PEM) and what it asks for."""
    from cryptography.hazmat.primitives import serialization

    csr = load_request(data)
    cns, dns, ips = _csr_names(csr)
    public = csr.public_key()
    return {
        "pem": csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        "subject": csr.subject.rfc4514_string(),
        "subject_cn": cns[0] if cns else None,
        "dns_names": dns,
        "ip_addresses": ips,
        "key_size": getattr(public, "key_size", None),
        "public_key_sha256": _public_key_sha256(public),
    }


def _public_key_sha256(public: t.Any) -> str:
    from cryptography.hazmat.primitives import hashes, serialization

    digest = hashes.Hash(hashes.SHA256())
    digest.update(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    return digest.finalize().hex().upper()


def _problem(code: str, severity: str, message: str) -> dict[str, str]:
    return {"code": code, "severity": severity, "message": message}


def issued_check(certificate: t.Any, *, request: t.Any, spec: t.Any, hostname: t.Any, chain: t.Any = None,
                 ca: t.Any = None, min_days: t.Any = 30, now: t.Any = None) -> dict[str, t.Any]:
    """The check of an issued certificate before ``certreq -accept`` (the ``enroll_issued_check`` filter).

    The web host checks of ``_x509.check_webhost_certificate`` (the key stays on the server: no key check there),
    plus these problem codes (all errors but the last): ``request_key_mismatch`` the certificate's public key is not
    the request's (it cannot be accepted onto the pending key); ``request_spec_mismatch`` the request does not ask
    for what the spec says (a pending request that no longer matches); ``request_cn_mismatch`` the subject CN is not
    the one asked for; ``request_names_missing`` a DNS name or IP address asked for is not in the SAN;
    ``request_names_extra`` (warning) the CA added names that were not asked for.
    """
    if not isinstance(spec, dict) or not spec.get("subject_cn"):
        raise EnrollError("spec must be the request spec of the enroll_request filter")
    certs = load_certificates(certificate, "issued certificate")
    leaf = certs[0]
    extra_chain: list = []
    for item in ([chain] if isinstance(chain, str) else list(chain or [])):
        if item:
            extra_chain += load_certificates(item, "chain")
    chain_certs: list = []
    for cert in certs[1:] + extra_chain:  # each once, never the leaf (certreq's chain file and a PEM file may overlap)
        if thumbprint(cert) not in {thumbprint(c) for c in [leaf, *chain_certs]}:
            chain_certs.append(cert)
    anchors = None
    if ca not in (None, "", []):
        anchors = []
        for item in ([ca] if isinstance(ca, str) else list(ca)):
            anchors += load_certificates(item, "CA bundle")
    result = check_webhost_certificate(leaf, hostname=hostname, chain=chain_certs, ca=anchors, min_days=min_days, now=now)
    problems = result["problems"]
    csr = load_request(request)
    if _public_key_sha256(csr.public_key()) != _public_key_sha256(leaf.public_key()):
        problems.append(_problem(
            "request_key_mismatch", SEVERITY_ERROR,
            "the issued certificate's public key is not the request's: it cannot be accepted onto the key made on the "
            "server (did the CA sign another request?); sign the request this run made"))
    cns, csr_dns, csr_ips = _csr_names(csr)
    if [c.lower() for c in cns] != [spec["subject_cn"]] or sorted(csr_dns) != sorted(spec["dns_names"]) or \
            sorted(csr_ips) != sorted(spec.get("ip_addresses") or []):
        problems.append(_problem(
            "request_spec_mismatch", SEVERITY_ERROR,
            f"the request asks for CN={', '.join(cns) or '-'} SAN {', '.join(csr_dns + csr_ips) or '-'}, not what this "
            f"run wants (CN={spec['subject_cn']} SAN {', '.join(spec['dns_names'] + list(spec.get('ip_addresses') or []))})"
            "; remove the stale pending request and run again"))
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    issued_cns = [str(a.value).lower() for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if spec["subject_cn"] not in issued_cns:
        problems.append(_problem(
            "request_cn_mismatch", SEVERITY_ERROR,
            f"the issued certificate's subject CN is {', '.join(issued_cns) or 'missing'}, not {spec['subject_cn']} as "
            "requested (a template that builds the subject from Active Directory? use one that takes it from the request)"))
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        issued_dns = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
        issued_ips = {str(i) for i in san.get_values_for_type(x509.IPAddress)}
    except x509.ExtensionNotFound:
        issued_dns, issued_ips = set(), set()
    asked_dns, asked_ips = set(spec["dns_names"]), set(spec.get("ip_addresses") or [])
    missing = sorted(asked_dns - issued_dns) + sorted(asked_ips - issued_ips)
    if missing:
        problems.append(_problem(
            "request_names_missing", SEVERITY_ERROR,
            f"the issued certificate does not name {', '.join(missing)}, which the request asked for (the CA or its "
            "template dropped them: allow SANs from the request)"))
    added = sorted(issued_dns - asked_dns) + sorted(issued_ips - asked_ips)
    if added:
        problems.append(_problem(
            "request_names_extra", SEVERITY_WARNING,
            f"the CA added names that were not asked for: {', '.join(added)}"))
    result["ok"] = not any(p["severity"] == SEVERITY_ERROR for p in problems)
    result["certificate_pem"] = certificate_pem(leaf)
    result["chain_pem"] = [certificate_pem(c) for c in chain_certs]
    result["san_dns"] = sorted(issued_dns)
    result["san_ip"] = sorted(issued_ips)
    return result
