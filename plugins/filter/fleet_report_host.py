# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report_host
short_description: Build one server's record of the fleet report from what the audit gathered
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Turns the results of the audit for one server (its M(apexone.certificates.tls_probe) entries, the
    P(apexone.certificates.webhost_cert_check#filter) verdict of the served certificate, the thumbprint it should
    serve, the WinRM outcome and the plan) into one record of the fleet report (docs/report.md, schema version 1).
  - Only the fields listed here reach the record; any string equal to a value of O(redact) is masked as C(********).
  - "The record's C(status): C(unreachable) when no endpoint served a certificate, else C(error) when a problem has
    severity C(error), else C(warning) when one has severity C(warning), else C(ok)."
  - "Problem codes added here (besides those of webhost_cert_check and tls_probe): C(unreachable) (error),
    C(thumbprint_mismatch) (warning: the served certificate is not the expected one), C(endpoints_differ) (warning:
    two endpoints of the server serve different certificates), C(endpoint_unreachable) (info: one endpoint did not
    answer while another did), C(expected_unreadable) (warning), C(check_failed) (error: the served certificate could
    not be checked), C(winrm_unreachable) and C(winrm_failed) (warning), C(server_warning) (warning: a warning of
    M(apexone.certificates.win_server_info), such as the agent-authentication certificate nearing expiry). The
    blockers and warnings of the plan are added with their own codes."
  - Used by the apexone.certificates.fleet_report role; see P(apexone.certificates.fleet_report#filter).
options:
  _input:
    description:
      - "A dictionary with the keys C(host) (inventory host name, required), C(hostname) (the name agents use),
        C(probes) (this host's tls_probe entries, in the order of its endpoints), C(served_check) (webhost_cert_check
        verdict of the served certificate; without it the probe's own verdict is used), C(chain_checked) (true when
        a CA bundle was given to that check), C(expected) (C({thumbprint, source, error})), C(winrm)
        (C({enabled, status, message, warnings}), status one of C(ok), C(failed), C(unreachable), C(skipped)) and
        C(plan) (the output of the P(apexone.certificates.webhost_plan#filter) filter; omit it while no plan is made)."
    type: dict
    required: true
  redact:
    description: Secret values (passwords) to mask wherever they appear in the record. Values shorter than 4 characters are ignored.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Build this host's record
  ansible.builtin.set_fact:
    apexone_cert_report_host: "{{ inputs | apexone.certificates.fleet_report_host(redact=[apexone_cert_pfx_password]) }}"
  vars:
    inputs:
      host: "{{ inventory_hostname }}"
      hostname: "{{ apexone_cert_hostname }}"
      probes: "{{ probe.probes | selectattr('label', 'equalto', inventory_hostname) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The host record (see docs/report.md, C(hosts[]) of report.json).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._report import ReportError, build_host_record

_KEYS = ("host", "hostname", "probes", "served_check", "chain_checked", "expected", "winrm", "plan")


def fleet_report_host(data, redact=None):
    """One host's report record."""
    if not isinstance(data, dict):
        raise AnsibleFilterError(f"fleet_report_host: the input must be a dictionary, not {type(data).__name__}")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise AnsibleFilterError(f"fleet_report_host: unknown key(s) {', '.join(unknown)} (known: {', '.join(_KEYS)})")
    try:
        return build_host_record(**{key: data.get(key) for key in _KEYS}, redact=redact or [])
    except ReportError as exc:
        raise AnsibleFilterError(f"fleet_report_host: {exc}") from None


class FilterModule:
    def filters(self):
        return {"fleet_report_host": fleet_report_host}
