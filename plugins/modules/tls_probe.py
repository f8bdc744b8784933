#!/usr/bin/python
# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_probe
short_description: Read and judge the certificate chains that TLS endpoints serve, many at once
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Connects from the controller to each endpoint, completes a TLS handshake with SNI and reads the
    certificate chain the server sends, then judges it with the same checks as the
    P(apexone.certificates.webhost_cert_check#filter) filter (host name in CN and SAN, validity, key, signature,
    and, with O(ca_bundle) or O(ca_path), whether the served chain validates).
  - Probes many endpoints concurrently (at most O(concurrency) at a time). Every endpoint gets one entry in
    RV(probes), in the order given. An endpoint that does not resolve, refuses, times out, or does not speak TLS
    gets an entry with RV(probes[].error) set; it never fails the task or the other endpoints. The task fails only
    for bad arguments.
  - Read-only; it sends nothing but a TLS handshake. Run it once for the whole play on the controller, with
    C(run_once=true) and C(delegate_to=localhost) (see the examples).
  - How the chain is read. The handshake is Python's C(ssl) (OpenSSL) without verification, so an expired,
    self-signed or wrongly named certificate is still read; the verdict is given afterwards. The served chain comes
    from C(SSLSocket.get_unverified_chain) (Python 3.13 and later) or, on Python 3.10 to 3.12, from the same
    OpenSSL call behind the private C(SSLSocket._sslobj.get_unverified_chain). If neither exists only the leaf is
    read (RV(probes[].chain_source=leaf_only)) and no chain verdict is given.
  - To show what legacy servers serve, the probe offers every protocol version the controller's OpenSSL allows
    (down to TLS 1.0 where permitted) at security level 0; a server that negotiates less than TLS 1.2 gets the
    warning C(tls_legacy_version).
options:
  endpoints:
    description:
      - The endpoints to probe.
      - A string C(host:port), C([ipv6]:port), or C(host) alone, which is probed on every port of O(default_ports).
      - Or a dictionary with the keys C(host) (required), C(port), C(server_name) (sent as SNI and the name the
        certificate must carry; default the host), C(label) (returned unchanged in RV(probes[].label), for
        example the inventory host name the endpoint belongs to) and C(expected_addresses) (a list of IP addresses
        or host names; the endpoint must be answered from one of their addresses, else the error
        C(unexpected_address), because the probe reached another server than the one meant).
    type: list
    elements: raw
    required: true
  invalid_endpoints:
    description:
      - What to do with a malformed entry of O(endpoints) (empty host, port out of range, unknown key...).
      - V(fail) fails the task, naming every bad entry.
      - V(report) probes the others and returns the bad entry with RV(probes[].error_code=invalid) (and its
        C(label)), so that one host's typo does not stop a fleet-wide run; the audit playbook uses it.
    type: str
    choices: [fail, report]
    default: fail
  default_ports:
    description:
      - Ports probed for an endpoint given without a port, in this order. The Apex One web console listens on
        4343 (virtual site C(OfficeScan)) or 443 (under the Default Web Site).
    type: list
    elements: int
    default: [4343, 443]
  timeout:
    description:
      - Seconds allowed per endpoint for the TCP connection and the whole TLS handshake together. A port that
        accepts the connection and never answers ends at this deadline.
      - Name resolution is not included; it uses the system resolver and its own timeout.
    type: float
    default: 10
  concurrency:
    description:
      - How many endpoints are probed at the same time (threads). From 1 to 1000.
      - In the worst case (every endpoint hangs) the task takes about (number of endpoints / O(concurrency)) x
        O(timeout) seconds.
    type: int
    default: 50
  ca_bundle:
    description:
      - PEM text of the trusted root CA certificate(s). Enables the chain verdict (RV(probes[].chain_valid) and the
        problems C(chain_incomplete) and C(chain_untrusted)).
      - Mutually exclusive with O(ca_path).
    type: str
  ca_path:
    description:
      - Path on the controller of a PEM file with the trusted root CA certificate(s); as O(ca_bundle).
    type: path
  min_days:
    description: A certificate with fewer days left gets the C(expires_soon) warning.
    type: int
    default: 30
attributes:
  check_mode:
    description: Runs in check mode too (it only reads); the result is the same.
    support: full
  diff_mode:
    description: No diff; nothing changes.
    support: none
  platform:
    description: Runs on the controller (or any POSIX host with Python and cryptography).
    support: full
    platforms: posix
notes:
  - Problem codes are those of P(apexone.certificates.webhost_cert_check#filter), plus C(tls_legacy_version)
    (warning, the server negotiated SSLv3, TLS 1.0 or TLS 1.1), C(chain_not_available) (warning, this Python
    cannot read the served chain) and C(unexpected_address) (error, the endpoint was answered from an address not
    in its C(expected_addresses)).
  - Error codes in RV(probes[].error_code) (stable) are C(invalid) (a malformed entry, with
    O(invalid_endpoints=report)), C(dns) (the name does not resolve), C(refused) (nothing
    listens), C(timeout) (no connection or no completed handshake before O(timeout)), C(unreachable) (other network
    error), C(closed) (the server closed the connection during the handshake), C(not_tls) (the endpoint answered,
    but not with TLS, for example plain HTTP), C(tls_error) (the handshake failed, for example no common protocol
    version), C(bad_certificate) (no certificate, or one that cannot be parsed), C(internal) (a bug; please report it).
  - The certificate chain the server sends is public; no key material is read or returned.
requirements:
  - cryptography >= 43 on the host that runs the module (the controller)
seealso:
  - plugin: apexone.certificates.webhost_cert_check
    plugin_type: filter
  - module: community.crypto.get_certificate
    description: Reads one endpoint's certificate per task.
"""

EXAMPLES = r"""
- name: Probe every Apex One server of the play once, from the controller
  apexone.certificates.tls_probe:
    endpoints: >-
      {{ ansible_play_hosts | map('extract', hostvars, 'apexone_cert_hostname') | list }}
    ca_path: files/corp-root-ca.pem
    timeout: 5
  run_once: true
  delegate_to: localhost
  register: probe

- name: Probe given ports, with SNI and a label to map results back to hosts
  apexone.certificates.tls_probe:
    endpoints:
      - apexone01.corp.example:4343
      - "[2001:db8::10]:443"
      - host: 10.0.0.12
        port: 4343
        server_name: apexone02.corp.example
        label: apexone02
  run_once: true
  delegate_to: localhost
  register: probe

- name: Show what each endpoint serves
  ansible.builtin.debug:
    msg: "{{ item.endpoint }}: {{ item.thumbprint or item.error }}"
  loop: "{{ probe.probes }}"
  loop_control:
    label: "{{ item.endpoint }}"
  run_once: true
"""

RETURN = r"""
probes:
  description: One entry per probed endpoint (an endpoint without a port gives one per default port), in order.
  returned: always
  type: list
  elements: dict
  contains:
    endpoint:
      description: C(host:port) as probed (C([v6]:port) for IPv6).
      type: str
      sample: apexone01.corp.example:4343
    host:
      description: The host connected to (null for an invalid entry).
      type: str
    port:
      description: The port connected to (null for an invalid entry).
      type: int
    server_name:
      description: The name sent as SNI (none for an IP address) and checked against the certificate (normalised);
        null for an invalid entry.
      type: str
    label:
      description: The C(label) given with the endpoint, or null.
      type: str
    ok:
      description: The handshake completed and the served certificate has no problem of severity C(error).
      type: bool
    error:
      description: Why no certificate was read, or null.
      type: str
      sample: "connection refused: nothing listens on port 4343"
    error_code:
      description: Stable code of RV(probes[].error) (see the notes), or null.
      type: str
      sample: refused
    thumbprint:
      description: SHA-1 thumbprint of the served leaf certificate, upper-case hex as Windows shows it.
      type: str
      sample: 3F2A0C5B8E1D4A7F9B6C2E0D1A3B5C7D9E1F2A4B
    subject_cn:
      description: Subject CN of the served leaf.
      type: str
    issuer:
      description: Issuer of the served leaf (RFC 4514).
      type: str
    san_dns:
      description: DNS names in the leaf's Subject Alternative Name.
      type: list
      elements: str
    not_before:
      description: Start of validity of the leaf, ISO 8601 UTC.
      type: str
    not_after:
      description: End of validity of the leaf, ISO 8601 UTC.
      type: str
      sample: "2027-03-31T12:00:00Z"
    days_left:
      description: Whole days until the leaf expires (negative when expired).
      type: int
    tls_version:
      description: Negotiated protocol version.
      type: str
      sample: TLSv1.3
    cipher:
      description: Negotiated cipher suite.
      type: str
    certificate_pem:
      description: The served leaf certificate, PEM.
      type: str
    chain_pem:
      description: The other certificates the server sent, in the order sent, PEM (the same split as
        P(apexone.certificates.pfx_info#lookup)); empty when the server sent only its leaf.
      type: list
      elements: str
    chain_source:
      description: C(served) (the chain as sent) or C(leaf_only) (this Python can read only the leaf).
      type: str
    chain_valid:
      description: The served chain validates against the CA bundle (no C(chain_incomplete), C(chain_untrusted));
        null without O(ca_bundle)/O(ca_path).
      type: bool
    hostname_valid:
      description: The server name is covered by the leaf's Subject Alternative Name (what browsers and agents check).
      type: bool
    peer_address:
      description: The IP address that answered (after name resolution), or null when no connection was made.
      type: str
      sample: 10.0.0.12
    address_valid:
      description: Whether RV(probes[].peer_address) is an address of the endpoint's C(expected_addresses); null
        when none were given.
      type: bool
    problems:
      description: Problems of the served certificate, C({code, severity, message}) (see the notes).
      type: list
      elements: dict
    elapsed_ms:
      description: Milliseconds spent on this endpoint.
      type: int
summary:
  description: Counts over RV(probes).
  returned: always
  type: dict
  contains:
    total:
      description: Endpoints probed.
      type: int
    answered:
      description: Endpoints that served a certificate.
      type: int
    ok:
      description: Endpoints with RV(probes[].ok).
      type: int
    errors:
      description: Endpoints with an error (no certificate read).
      type: int
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.apexone.certificates.plugins.module_utils._tls_probe import (
    HAS_CRYPTOGRAPHY,
    MAX_CONCURRENCY,
    EndpointError,
    load_ca,
    parse_endpoints,
    probe_endpoints,
    summarize,
)
from ansible_collections.apexone.certificates.plugins.module_utils._x509 import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    CertificateError,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            endpoints=dict(type="list", elements="raw", required=True),
            invalid_endpoints=dict(type="str", choices=["fail", "report"], default="fail"),
            default_ports=dict(type="list", elements="int", default=[4343, 443]),
            timeout=dict(type="float", default=10),
            concurrency=dict(type="int", default=50),
            ca_bundle=dict(type="str"),
            ca_path=dict(type="path"),
            min_days=dict(type="int", default=30),
        ),
        mutually_exclusive=[("ca_bundle", "ca_path")],
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(CRYPTOGRAPHY_IMPORT_ERROR))
    params = module.params
    if not params["timeout"] > 0:
        module.fail_json(msg=f"timeout must be a positive number of seconds, not {params['timeout']}")
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        module.fail_json(msg=f"concurrency must be from 1 to {MAX_CONCURRENCY}, not {params['concurrency']}")
    try:
        targets = parse_endpoints(params["endpoints"], params["default_ports"], invalid=params["invalid_endpoints"])
    except EndpointError as exc:
        module.fail_json(msg=f"bad endpoints: {exc}")

    ca = None
    try:
        if params["ca_path"]:
            try:
                with open(params["ca_path"], "rb") as handle:
                    ca = load_ca(handle.read())
            except OSError as exc:
                module.fail_json(msg=f"cannot read ca_path {params['ca_path']}: {exc.strerror or exc}")
        elif params["ca_bundle"]:
            ca = load_ca(params["ca_bundle"])
    except CertificateError as exc:
        module.fail_json(msg=f"bad CA bundle: {exc}")

    try:
        probes = probe_endpoints(
            targets, timeout=params["timeout"], concurrency=params["concurrency"], ca=ca, min_days=params["min_days"]
        )
    except Exception as exc:
        module.fail_json(msg=f"tls_probe failed: {exc}", exception=traceback.format_exc())
    module.exit_json(changed=False, probes=probes, summary=summarize(probes))


if __name__ == "__main__":
    main()
