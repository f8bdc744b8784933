# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report
short_description: Assemble the fleet report (report.json) from the servers' records
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Builds the report document (kind C(apexone.certificates.fleet_report), schema version 1, documented in
    docs/report.md; JSON Schema in roles/fleet_report/files/report.schema.json), with one record per server, sorted by
    inventory host name, a summary with counts per status, and the source (slice) it came from.
  - Each entry of the input is a record built by P(apexone.certificates.fleet_report_host#filter), or an inventory
    host name whose record is read from O(hostvars) (variable C(apexone_cert_report_host)). A host without a record
    (it left the play before it was audited) gets a record with status C(unreachable) and problem C(not_audited),
    so every targeted host has its row.
  - Reports of several runs (AWX job slices) are merged with P(apexone.certificates.fleet_report_merge#filter).
options:
  _input:
    description: Records, or inventory host names (typically C(ansible_play_hosts_all)).
    type: list
    elements: raw
    required: true
  hostvars:
    description: C(hostvars), to read the records of the hosts named in the input.
    type: raw
  title:
    description: Title of the report.
    type: str
    default: Apex One web host certificates
  slice:
    description: Identifies this run among several (for example the AWX job id of a job slice); empty for none.
    type: str
  now:
    description: Generation time, ISO 8601 (default the current time); for reproducible reports.
    type: str
"""

EXAMPLES = r"""
- name: Assemble the report of every host of the play
  ansible.builtin.set_fact:
    apexone_cert_report: "{{ ansible_play_hosts_all | apexone.certificates.fleet_report(hostvars=hostvars) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The report (the content of report.json; see docs/report.md).
  type: dict
  contains:
    kind:
      description: Always C(apexone.certificates.fleet_report).
      type: str
    schema_version:
      description: Version of the report schema (1).
      type: int
    summary:
      description: Counts per status and expiry.
      type: dict
    hosts:
      description: One record per server.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._report import ReportError, build_report


def fleet_report(data, hostvars=None, title=None, slice=None, now=None):
    """The fleet report document."""
    try:
        return build_report(data, hostvars=hostvars, title=title, slice_id=slice, now=now)
    except ReportError as exc:
        raise AnsibleFilterError(f"fleet_report: {exc}") from None


class FilterModule:
    def filters(self):
        return {"fleet_report": fleet_report}
