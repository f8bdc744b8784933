# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: enroll_request
short_description: Plan a renewal in place - the request a server would make, and the replacement it leads to
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - For C(apexone_cert_source=enroll) (the key is born on the server, no PFX) it computes the request spec (subject CN,
    SANs, key length, key provider, exportability, hash, template) that P(apexone.certificates.certreq_inf#filter)
    turns into certreq's INF, finds a pending request in C(certificates.request) of
    M(apexone.certificates.win_server_info) that still matches (it is reused instead of making a new key), decides
    whether the site's certificate is due for renewal, and previews the replacement plan of
    P(apexone.certificates.webhost_plan#filter) for a certificate with the requested names.
  - "The subject CN is O(options.hostname) (the name agents and browsers use). The SANs are that name,
    C(Master_DomainName) of C(ofcscan.ini) (the name agents were installed with) and O(options.names), each once."
  - A pending request is reused only when it was made by this collection for the same name (its friendly name is
    C(apexone.certificates request <CN>)), still has its private key and its saved request file, and reports the same
    names, key length, provider and exportability.
  - The preview plan's new certificate is a placeholder (shown as C((issued certificate))); its blockers and warnings
    are real. The real plan is computed again once the CA has issued the certificate.
  - Runs on the controller; pure computation, no connection.
options:
  _input:
    description: The registered result of M(apexone.certificates.win_server_info).
    type: dict
    required: true
  options:
    description:
      - C(hostname) (required), C(names) (list of extra DNS names and IP addresses), C(key_length) (2048, 3072 or
        4096), C(key_provider) (C(legacy) or C(cng)), C(exportable) (bool), C(template) (AD CS template name or
        null), C(hash_algorithm) (C(sha256), C(sha384), C(sha512)), C(signer) (C(adcs) or C(controller)),
        C(ca_config), C(request_id), C(renew_days) (renew when the served certificate has this many days left or
        fewer; default 30), C(force) (renew even when not due).
    type: dict
    required: true
  desired:
    description: The desired dict the role passes to P(apexone.certificates.webhost_plan#filter), without the certificate's own fields.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan the renewal
  ansible.builtin.set_fact:
    enroll: >-
      {{ apexone_cert_server_info | apexone.certificates.enroll_request(
           {'hostname': 'apex01.corp.example', 'names': ['apexone.corp.example'], 'key_length': 2048},
           {'site_name': none, 'ports': [], 'exportable': true, 'key_provider': 'legacy'}) }}
"""

RETURN = r"""
_value:
  description: The renewal plan.
  type: dict
  contains:
    spec:
      description: The request spec (subject_cn, dns_names, ip_addresses, key_length, key_provider, exportable, friendly_name, hash_algorithm, template).
      type: dict
    reuse_thumbprint:
      description: The pending request (REQUEST store thumbprint) to reuse, or null.
      type: str
    stale:
      description: Pending requests of this collection that do not match, with the reason.
      type: list
      elements: dict
    due:
      description: Whether the site needs a new certificate.
      type: bool
    due_reason:
      description: Why (or why not).
      type: str
    signer:
      description: C(adcs) or C(controller).
      type: str
    plan:
      description: The preview plan (the shape of webhost_plan, with C(preview=true) and C(new_thumbprint=null)).
      type: dict
    lines:
      description: The plan as text lines, the request first.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.module_utils._x509 import CertificateError
from ansible_collections.apexone.certificates.plugins.plugin_utils._enroll import EnrollError, enroll_plan


def enroll_request(server_info, options, desired):
    """The request spec, the pending request to reuse, and the preview plan of a renewal in place."""
    try:
        return enroll_plan(server_info, options, desired)
    except (EnrollError, CertificateError) as exc:
        raise AnsibleFilterError(f"enroll_request: {exc}") from None


class FilterModule:
    def filters(self):
        return {"enroll_request": enroll_request}
