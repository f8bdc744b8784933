"""Coverage-guided fuzz target (atheris / libFuzzer) for the parsers the controller runs on untrusted input.

Run by ``make fuzz`` (not by ``make test``), after the hypothesis properties with the ``fuzz`` profile:

    python tests/fuzz/fuzz_controller_parsers.py -max_total_time=60 [corpus folder]

The first byte of each input picks the parser, the rest is its input. Allowed outcomes: a result, or the parser's
own error class (CertificateError, PlanError, ReportError, EndpointError; ValueError for the Service.ini /
apricot_config editor, whose documented error it is). Anything else is a crash and libFuzzer stops with the input
that caused it (written as crash-<hash> in the current folder). The corpus starts from real certificates, keys,
PFX files, server facts, Service.ini / apricot_config files and a report, so the mutations reach deep code.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(REPO, ".build", "src")
for folder in (SRC, os.path.join(REPO, "tests", "lab"), os.path.join(REPO, "tests", "double")):
    if folder not in sys.path:
        sys.path.insert(0, folder)
if not os.path.exists(os.path.join(SRC, "ansible_collections", "apexone", "certificates")):
    os.makedirs(os.path.join(SRC, "ansible_collections", "apexone"), exist_ok=True)
    os.symlink(REPO, os.path.join(SRC, "ansible_collections", "apexone", "certificates"))

import atheris  # noqa: E402  (make fuzz installs it; it is not a requirement of make test)

with atheris.instrument_imports():
    from ansible_collections.apexone.certificates.plugins.module_utils import _apexone_files as files
    from ansible_collections.apexone.certificates.plugins.module_utils import _tls_probe as tp
    from ansible_collections.apexone.certificates.plugins.module_utils import _x509
    from ansible_collections.apexone.certificates.plugins.plugin_utils import _report as rp
    from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, plan

DESIRED = {"thumbprint": "A" * 40, "subject_cn": "apex01.corp.example", "friendly_name": "Apex One 2026",
           "ports": [], "key_readers": []}


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _json(data: bytes):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def fuzz_one(data: bytes) -> None:
    if not data:
        return
    target, body = data[0] % 9, data[1:]
    split = body.find(b"\n")
    head, rest = (body[:split], body[split + 1:]) if split >= 0 else (b"", body)
    try:
        if target == 0:
            _x509.load_certificates(body if data[0] & 0x10 else _text(body))
        elif target == 1:
            _x509.load_private_key(rest, _text(head) or None)
        elif target == 2:
            _x509.pfx_info(rest, _text(head) or None)
        elif target == 3:
            _x509.read_pfx_envelope(body)
        elif target == 4:
            text = _text(body)
            for call in (_x509.normalize_hostname, _x509.normalize_thumbprint):
                try:
                    call(text)
                except _x509.CertificateError:
                    pass
            _x509.dns_name_matches(_text(head), text)
        elif target == 5:
            try:
                files.get_ini_values(rest, ["HTTPS_CERT", "HTTPS_CERT_FRIENDLY_NAME"])
                files.set_ini_values(rest, {"HTTPS_CERT": _text(head) or "x", "HTTPS_CERT_FRIENDLY_NAME": "Apex 2026"})
                files.get_apricot_cert(rest)
                files.set_apricot_cert(rest, "apex01.corp.example", _text(head) or "x")
            except ValueError:
                pass
        elif target == 6:
            facts = _json(body)
            if facts is not None:
                plan(facts, DESIRED)
        elif target == 7:
            items = _json(body)
            if items is not None:
                tp.parse_endpoints(items, invalid="report")
        else:
            report = _json(body)
            if report is not None:
                rp.summary_lines(report)
                rp.merge_reports([report])
    except (_x509.CertificateError, PlanError, rp.ReportError, tp.EndpointError):
        pass


def write_corpus(folder: str) -> None:
    """Seeds, each prefixed with the byte of its parser."""
    import pki
    import winsim
    from cryptography.hazmat.primitives import serialization

    lab = pki.LabPki()
    key = pki.rsa_key(2048, slot=970)
    _key, cert = lab.server("apex01.corp.example", key=key)
    pem = pki.pem(cert).encode()
    der = cert.public_bytes(serialization.Encoding.DER)
    state = winsim.new_state(cert, hostname="apex01.corp.example")
    facts = winsim.ApexOneServer(state).call("apexone.certificates.win_server_info", {})
    record = rp.build_host_record("apex01", probes=[], plan={"compliant": True, "actions": []})
    seeds = {
        "cert-pem": bytes([0]) + pem + lab.intermediate.pem.encode(),
        "cert-der": bytes([0x10]) + der,
        "key": bytes([1]) + b"\n" + pki.key_pem(key).encode(),
        "pfx": bytes([2]) + b"lab-password\n" + pki.make_pfx(key, cert, [lab.intermediate.cert]),
        "pfx-aes": bytes([2]) + b"lab-password\n" + pki.make_pfx(key, cert, encryption="aes"),
        "envelope": bytes([3]) + pki.make_pfx(key, cert),
        "names": bytes([4]) + b"*.corp.example\nAPEX01.Corp.Example.",
        "ini": bytes([5]) + b"Apex One 2026\n" + winsim.get_file(state, winsim.SERVICE_INI),
        "apricot": bytes([5]) + b"Apex One 2026\n" + winsim.get_file(state, winsim.APRICOT),
        "facts": bytes([6]) + json.dumps(facts).encode(),
        "endpoints": bytes([7]) + json.dumps(["apex01.corp.example:4343", {"host": "::1", "port": 443}]).encode(),
        "report": bytes([8]) + json.dumps(rp.build_report([record], now="2027-01-01T00:00:00Z")).encode(),
    }
    for name, seed in seeds.items():
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(seed)


def main() -> None:
    args = list(sys.argv)
    if not any(os.path.isdir(a) for a in args[1:]):
        corpus = tempfile.mkdtemp(prefix="apexone-fuzz-corpus-")
        write_corpus(corpus)
        args.append(corpus)
    atheris.Setup(args, fuzz_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
