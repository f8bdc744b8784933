# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report_merge
short_description: Merge the fleet reports of several runs (AWX job slices) into one
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Takes the content of several report.json files (each written by the apexone.certificates.fleet_report role,
    for example one per AWX job slice or per C(--limit) run) and returns one report with every server, the summary
    recomputed and the list of sources.
  - A server found in more than one report keeps the record of the most recently generated report.
  - Fails when an input is not a fleet report, or was written with a newer schema version than this collection reads.
  - The playbook apexone.certificates.merge_reports reads the files and writes the merged report.json and report.html.
options:
  _input:
    description: The reports (parsed JSON), in any order.
    type: list
    elements: dict
    required: true
  title:
    description: Title of the merged report (default the title of the first input).
    type: str
  now:
    description: Generation time, ISO 8601 (default the current time).
    type: str
"""

EXAMPLES = r"""
- name: Merge two slices' reports
  ansible.builtin.set_fact:
    merged: >-
      {{ [lookup('ansible.builtin.file', '/reports/slice1/report.json') | from_json,
          lookup('ansible.builtin.file', '/reports/slice2/report.json') | from_json]
         | apexone.certificates.fleet_report_merge }}
"""

RETURN = r"""
_value:
  description: The merged report, in the same schema as each input (see docs/report.md).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._report import ReportError, merge_reports


def fleet_report_merge(data, title=None, now=None):
    """Merge fleet reports."""
    try:
        return merge_reports(data, title=title, now=now)
    except ReportError as exc:
        raise AnsibleFilterError(f"fleet_report_merge: {exc}") from None


class FilterModule:
    def filters(self):
        return {"fleet_report_merge": fleet_report_merge}
