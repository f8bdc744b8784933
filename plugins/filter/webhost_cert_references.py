# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webhost_cert_references
short_description: What still uses a certificate on an Apex One server, by thumbprint
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Lists every reference to a certificate that the facts of M(apexone.certificates.win_server_info) and the given
    run records show; the role removes an old certificate (C(apexone_cert_remove_old=unused)) only when the list is
    empty.
  - IIS https bindings of every site and http.sys records that serve it, C(OfcIPCer.dat), C(Service.ini) and
    C(apricot_config) naming it (its friendly name, or its subject CN when it has none), and run records that a
    rollback would restore it from (any status but C(rolled_back)).
  - Runs on the controller; pure computation.
options:
  _input:
    description: The registered result of M(apexone.certificates.win_server_info).
    type: dict
    required: true
  thumbprint:
    description: The certificate's thumbprint.
    type: str
    required: true
  run_records:
    description: Run records written by the role (the last one of the host at least).
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: What still uses the old certificate
  ansible.builtin.debug:
    msg: "{{ server_info | apexone.certificates.webhost_cert_references(old_thumbprint, [run_record]) }}"
"""

RETURN = r"""
_value:
  description: One line per reference; empty when nothing uses the certificate.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, certificate_references


def webhost_cert_references(server_info, thumbprint, run_records=None):
    """Everything that still uses the certificate."""
    try:
        return certificate_references(server_info, thumbprint, run_records or [])
    except PlanError as exc:
        raise AnsibleFilterError(f"webhost_cert_references: {exc}") from None


class FilterModule:
    def filters(self):
        return {"webhost_cert_references": webhost_cert_references}
