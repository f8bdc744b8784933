# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report_html
short_description: Render the fleet report as one self-contained HTML page
version_added: 0.1.0
author: apexone.certificates maintainers (@apexone-certificates)
description:
  - Renders a report (from P(apexone.certificates.fleet_report#filter) or
    P(apexone.certificates.fleet_report_merge#filter)) with a Jinja template, in a sandbox with autoescaping on, so
    that every value from a certificate or a server (a subject CN such as C(<script>)) is escaped.
  - The template shipped in the apexone.certificates.fleet_report role (templates/report.html.j2) makes a page
    without external assets (inline CSS, JS and SVG), with a summary per status, an expiry timeline chart, and a sortable,
    filterable table with one row per server.
  - The template receives one variable, C(view), with every value precomputed (see plugins/plugin_utils/_report.py,
    C(html_view)).
options:
  _input:
    description: The report.
    type: dict
    required: true
  template:
    description: The Jinja template text, for example read with the C(ansible.builtin.file) lookup.
    type: str
    required: true
  timeline_days:
    description: The expiry chart has one bar per 30 days up to this many days, then one for everything later.
    type: int
    default: 360
"""

EXAMPLES = r"""
- name: Write the HTML report
  ansible.builtin.copy:
    content: "{{ apexone_cert_report | apexone.certificates.fleet_report_html(lookup('ansible.builtin.file', 'report.html.j2')) }}"
    dest: /srv/reports/report.html
    mode: "0644"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: The HTML page.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apexone.certificates.plugins.plugin_utils._report import ReportError, render_html


def fleet_report_html(data, template=None, timeline_days=360):
    """The report as HTML."""
    try:
        return render_html(data, template, timeline_days=int(timeline_days))
    except (ReportError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"fleet_report_html: {exc}") from None


class FilterModule:
    def filters(self):
        return {"fleet_report_html": fleet_report_html}
