# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: enroll_issued_check
short_description: Check a certificate a CA issued for a server's pending request, before it is accepted
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Runs on the controller, before M(apexone.certificates.win_apexone_cert_accept) installs the certificate onto the
    key made on the server. Every check of P(apexone.certificates.webhost_cert_check#filter) (with the chain; the key
    stays on the server, so there is no key check there), plus these problem codes.
  - C(request_key_mismatch) (error) the certificate's public key is not the request's; C(request_spec_mismatch)
    (error) the request does not ask for the names of the spec (a stale pending request); C(request_cn_mismatch)
    (error) the subject CN is not the one asked for; C(request_names_missing) (error) a DNS name or IP address asked
    for is missing from the SAN; C(request_names_extra) (warning) the CA added names that were not asked for.
  - C(ok) is false when any problem has severity C(error).
options:
  _input:
    description: The issued certificate, PEM (leaf first; further certificates are its chain).
    type: str
    required: true
  request:
    description: The request (PEM, as M(apexone.certificates.win_apexone_cert_request) returns it).
    type: str
    required: true
  spec:
    description: The request spec (C(spec) of P(apexone.certificates.enroll_request#filter)).
    type: dict
    required: true
  hostname:
    description: The name agents and browsers use (the CN).
    type: str
    required: true
  chain:
    description: Intermediate certificates (PEM text or list of PEM texts).
    type: raw
  ca:
    description: PEM bundle of the trusted root CA(s); enables the chain verdicts.
    type: raw
  min_days:
    description: C(expires_soon) is reported when fewer days are left.
    type: int
    default: 30
  now:
    description: Validation time, ISO 8601. Default is the current time.
    type: str
"""

EXAMPLES = r"""
- name: Check the issued certificate
  ansible.builtin.set_fact:
    issued_check: >-
      {{ issued_pem | apexone.certificates.enroll_issued_check(request=request.request, spec=enroll.spec,
           hostname=inventory_hostname, ca=lookup('ansible.builtin.file', 'root.pem')) }}
"""

RETURN = r"""
_value:
  description: The verdict (the fields of webhost_cert_check plus the certificate as PEM).
  type: dict
  contains:
    ok:
      description: False when any problem has severity C(error).
      type: bool
    problems:
      description: "C({code, severity, message}) per problem."
      type: list
      elements: dict
    thumbprint:
      description: SHA-1 thumbprint of the issued certificate, upper-case hex.
      type: str
    certificate_pem:
      description: The leaf, PEM.
      type: str
    chain_pem:
      description: The intermediates, PEM each.
      type: list
      elements: str
    san_dns:
      description: The DNS names of the SAN.
      type: list
      elements: str
    san_ip:
      description: The IP addresses of the SAN.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.module_utils._x509 import CertificateError
from ansible_collections.apexone.certificates.plugins.plugin_utils._enroll import EnrollError, issued_check


def enroll_issued_check(certificate, request=None, spec=None, hostname=None, chain=None, ca=None, min_days=30, now=None):
    """Check an issued certificate against its request and the web host rules."""
    try:
        return issued_check(certificate, request=request, spec=spec, hostname=hostname, chain=chain, ca=ca,
                            min_days=min_days, now=now)
    except (EnrollError, CertificateError) as exc:
        raise AnsibleFilterError(f"enroll_issued_check: {exc}") from None


class FilterModule:
    def filters(self):
        return {"enroll_issued_check": enroll_issued_check}
