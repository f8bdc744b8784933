# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: webhost_health
short_description: The KA-0010488 health verdict of an Apex One server's web host certificate
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - From facts gathered by M(apexone.certificates.win_server_info) after a replacement, checks what Trend Micro lists
    in KA-0010488 for the web host certificate, plus what the site serves.
  - C(in_my) the certificate is in LocalMachine\My with its private key; C(trusted_people_same_thumbprint) the Trusted
    People store holds the same thumbprint; C(not_disallowed) it is not in the Untrusted Certificates store;
    C(master_running) the Apex One master service runs; C(binding_serves_new) every https binding of the Apex One site
    serves it (from the http.sys record, so a revert by the Smart Protection Server shows).
  - Runs on the controller; pure computation.
options:
  _input:
    description: The registered result of M(apexone.certificates.win_server_info).
    type: dict
    required: true
  thumbprint:
    description: Thumbprint of the certificate that should be in place.
    type: str
    required: true
  site_name:
    description: The Apex One IIS site (default the site(s) win_server_info found).
    type: str
  ports:
    description: Only check the https bindings on these ports.
    type: list
    elements: int
  master_expected:
    description: Whether the master service must run (false when it did not run before the change either).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Health verdict
  ansible.builtin.set_fact:
    verdict: "{{ server_info_after | apexone.certificates.webhost_health(new_cert.thumbprint) }}"
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    ok:
      description: True when every check passed.
      type: bool
    checks:
      description: Each check with C(code), C(ok) and C(message).
      type: list
      elements: dict
    failed:
      description: Codes of the checks that failed.
      type: list
      elements: str
    thumbprint:
      description: The thumbprint checked (normalised).
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._planner import PlanError, health


def webhost_health(server_info, thumbprint, site_name=None, ports=None, master_expected=True):
    """The KA-0010488 health verdict for one server."""
    try:
        return health(server_info, thumbprint, site_name=site_name, ports=ports, master_expected=master_expected)
    except PlanError as exc:
        raise AnsibleFilterError(f"webhost_health: {exc}") from None


class FilterModule:
    def filters(self):
        return {"webhost_health": webhost_health}
