# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: safe_file_name
short_description: A name (usually the inventory host name) that can be used as a file name, or an error
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Returns the input unchanged when it is a safe file name, letters, digits, C(.), C(-) and C(_) only, starting
    with a letter or digit, without C(..) and not a Windows device name; fails otherwise.
  - Used wherever an inventory host name becomes part of a path (run record copies, reports), so that a host named
    C(../../x/owned) cannot write outside the folder.
options:
  _input:
    description: The name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Keep a copy of the run record for the reports
  ansible.builtin.copy:
    content: "{{ apexone_cert_run | to_nice_json }}"
    dest: "{{ apexone_cert_run_record_dir }}/{{ inventory_hostname | apexone.certificates.safe_file_name }}.json"
    mode: "0600"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The same name.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._run_record import RunRecordError
from ansible_collections.apexone.certificates.plugins.plugin_utils._run_record import safe_file_name as _safe


def safe_file_name(name):
    """The name, if it is a safe file name."""
    try:
        return _safe(name)
    except RunRecordError as exc:
        raise AnsibleFilterError(f"safe_file_name: {exc}") from None


class FilterModule:
    def filters(self):
        return {"safe_file_name": safe_file_name}
