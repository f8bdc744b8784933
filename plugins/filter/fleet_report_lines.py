# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report_lines
short_description: One line per server of a fleet report, for the play output
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - "A header, then one line per server: status, inventory host name, served thumbprint, whether it is the
    expected one (C(yes), C(NO), C(-) when no expected certificate is known), days until it expires, problem codes
    (C(info) ones left out); then one line of counts per status."
options:
  _input:
    description: The report.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Print the summary
  ansible.builtin.debug:
    msg: "{{ apexone_cert_report | apexone.certificates.fleet_report_lines }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The lines.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._report import ReportError, summary_lines


def fleet_report_lines(data):
    """One line per host."""
    try:
        return summary_lines(data)
    except ReportError as exc:
        raise AnsibleFilterError(f"fleet_report_lines: {exc}") from None


class FilterModule:
    def filters(self):
        return {"fleet_report_lines": fleet_report_lines}
