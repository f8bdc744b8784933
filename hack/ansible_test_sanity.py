"""Run ``ansible-test sanity --local`` on the installed collection, offline-friendly.

ansible-test bootstraps pip in its virtual environments with a script it downloads from a CI host that
is not reachable from every controller. We place a stand-in in its cache: it bootstraps pip with the
standard library's ``ensurepip`` and then installs the requested packages from the configured index.

Tests skipped here (and why) are listed in SKIPPED; everything else runs.
Usage: ansible_test_sanity.py INSTALLED_COLLECTION_DIR
"""

import os
import subprocess
import sys
import tempfile

# Sanity tests that cannot run on a Linux controller without PowerShell; the PowerShell side is covered by
# tests/unit/powershell (tree-sitter parse, $spec vs documentation, footguns) instead.
# validate-modules does run on the .ps1 modules: it asks "pwsh" for each module's argument spec, and here a
# stand-in (tests/unit/powershell/pwsh_argspec_shim.py) answers with the $spec read from the parse tree.
SKIPPED = {
    "pslint": "needs pwsh and PSScriptAnalyzer (no PowerShell on this controller)",
}

GET_PIP = '''"""Stand-in for the get-pip bootstrap script ansible-test downloads (written by hack/ansible_test_sanity.py)."""
import ensurepip
import os
import subprocess
import sys
import tempfile

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at an empty file; the site configuration holds the index and CA bundle.
os.environ.pop("PIP_CONFIG_FILE", None)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
'''


def pip_version() -> str:
    from ansible_test._internal.python_requirements import get_venv_packages

    class _Python:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"

    return get_venv_packages(_Python())["pip"]


def link_dependencies(collection_dir: str) -> None:
    """Make the collections ours depends on (ansible.windows: its SCManager C# util) visible to ansible-test.

    ansible-test looks for other collections only in the ansible_collections folder that holds the tested one; the
    Makefile installs them in another (ANSIBLE_COLLECTIONS_PATH), so link each namespace that is missing here.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(collection_dir)))
    for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
        other = os.path.join(path, "ansible_collections")
        if not path or not os.path.isdir(other) or os.path.abspath(other) == root:
            continue
        for namespace in sorted(os.listdir(other)):
            target = os.path.join(root, namespace)
            if not os.path.exists(target):
                os.symlink(os.path.join(other, namespace), target)


def main(collection_dir: str) -> int:
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, f"get_pip_{pip_version().replace('.', '_')}.py"), "w") as handle:
        handle.write(GET_PIP)
    # ansible-test lists a collection's files with git; an installed collection has no repository, so give it one.
    if not os.path.isdir(os.path.join(collection_dir, ".git")):
        subprocess.check_call(["git", "init", "-q"], cwd=collection_dir)
    subprocess.check_call(["git", "add", "-A"], cwd=collection_dir)
    link_dependencies(collection_dir)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name, why in SKIPPED.items():
        print(f"ansible-test sanity: skipping {name}: {why}")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-test"), "sanity", "--local", "--python", python,
           "--color", "no", *[arg for name in SKIPPED for arg in ("--skip-test", name)]]
    print("+ " + " ".join(cmd), flush=True)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shim = os.path.join(repo, "tests", "unit", "powershell", "pwsh_argspec_shim.py")
    with tempfile.TemporaryDirectory(prefix="pwsh-shim-") as shim_dir:
        with open(os.path.join(shim_dir, "pwsh"), "w") as handle:
            handle.write(f'#!/bin/sh\nexec "{sys.executable}" "{shim}" "$@"\n')
        os.chmod(os.path.join(shim_dir, "pwsh"), 0o755)
        env = dict(os.environ, PATH=shim_dir + os.pathsep + os.environ.get("PATH", ""))
        return subprocess.call(cmd, cwd=collection_dir, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
