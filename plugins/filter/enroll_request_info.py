# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: enroll_request_info
short_description: Read the PKCS#10 request a server made (certreq), for the controller's signing step
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Reads the request M(apexone.certificates.win_apexone_cert_request) returns (certreq writes
    C(-----BEGIN NEW CERTIFICATE REQUEST-----)), verifies its signature and returns it as standard
    C(-----BEGIN CERTIFICATE REQUEST-----) PEM with what it asks for. No key material is involved.
options:
  _input:
    description: The request, PEM.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The request for the signing step
  ansible.builtin.set_fact:
    apexone_cert_request_pem: "{{ (request_result.request | apexone.certificates.enroll_request_info).pem }}"
"""

RETURN = r"""
_value:
  description: The request.
  type: dict
  contains:
    pem:
      description: The request as standard PEM.
      type: str
    subject:
      description: The subject, RFC 4514.
      type: str
    subject_cn:
      description: The subject CN.
      type: str
    dns_names:
      description: The DNS names of the requested SAN.
      type: list
      elements: str
    ip_addresses:
      description: The IP addresses of the requested SAN.
      type: list
      elements: str
    key_size:
      description: Size of the public key in bits.
      type: int
    public_key_sha256:
      description: SHA-256 of the public key (SubjectPublicKeyInfo), upper-case hex.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._enroll import EnrollError, request_info


def enroll_request_info(request):
    """The request as standard PEM, and what it asks for."""
    try:
        return request_info(request)
    except EnrollError as exc:
        raise AnsibleFilterError(f"enroll_request_info: {exc}") from None


class FilterModule:
    def filters(self):
        return {"enroll_request_info": enroll_request_info}
