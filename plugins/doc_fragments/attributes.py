# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """The attributes the Windows modules of this collection share: full check mode and diff mode, Windows only.

    Use it after ansible.builtin.action_common_attributes (which describes the attributes); a module that differs
    (no diff mode, an action plugin) sets only those attributes itself, which win over the fragment.
    """

    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: windows
"""
