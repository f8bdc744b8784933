# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight of a whole fleet in one call: each host's certificate read once and checked.

Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.

One verdict per host, the same as the per-host check of the role gives (the ``pfx_info`` lookup and the
``webhost_cert_check`` filter): both go through ``_x509.load_pfx`` and ``_x509.check_webhost_certificate``.
Each PFX is opened once, without RSA key validation (``_x509.load_pfx``); CA bundles are parsed once per
distinct bundle; with many hosts the work is spread over the controller's cores (a pool of forked processes).
A bad certificate never raises: it is the host's verdict (``ok`` false, its problems).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import typing as t

from ansible_collections.apexone.certificates.plugins.module_utils import _x509

# Below this many hosts one process is faster than starting a pool (measured by tests/bench/run.py: a pool
# costs tens of milliseconds to start, a certificate about 2 ms).
POOL_MIN_HOSTS = 64
UNREADABLE = "unreadable"

_CA_CACHE: dict[str, list] = {}


def unreadable(message: str) -> dict[str, t.Any]:
    """The verdict of a host whose certificate could not be read at all (the message says why and what to do)."""
    return {
        "ok": False,
        "problems": [{"code": UNREADABLE, "severity": _x509.SEVERITY_ERROR, "message": message}],
        "thumbprint": None,
        "subject_cn": None,
        "not_after": None,
        "days_left": None,
    }


def _ca_certificates(text: str | None) -> list | None:
    if text in (None, ""):
        return None
    if text not in _CA_CACHE:
        _CA_CACHE[text] = _x509.load_certificates(text, "CA bundle")
    return _CA_CACHE[text]


def check_host(spec: dict[str, t.Any]) -> dict[str, t.Any]:
    """The verdict for one host.

    ``spec``: ``hostname``, ``min_days``, ``now``, ``ca`` (PEM text or None), ``label`` (the file named in
    messages) and either ``pfx`` (bytes) with ``password`` and ``encoding`` (binary/base64), or ``cert_pem``
    with ``key_pem`` and ``key_password``; or ``error``, a message saying why the certificate could not be read.
    """
    if spec.get("error"):
        return unreadable(spec["error"])
    try:
        ca = _ca_certificates(spec.get("ca"))
        if spec.get("pfx") is not None:
            data = spec["pfx"]
            if spec.get("encoding") == "base64":
                data = _x509.decode_pfx_text(data)
            try:
                contents = _x509.load_pfx(data, spec.get("password"))
            except _x509.CertificateError as exc:
                return unreadable(f"'{spec.get('label')}': {exc}")
            verdict = _x509.check_webhost_certificate(
                contents.certificate,
                hostname=spec.get("hostname"),
                chain=contents.chain,
                ca=ca,
                has_private_key=contents.key is not None,
                min_days=spec.get("min_days", 30),
                now=spec.get("now"),
                pfx_problems=contents.problems,
            )
        else:
            verdict = _x509.check_from_input(
                spec.get("cert_pem"),
                hostname=spec.get("hostname"),
                ca=ca,
                key=spec.get("key_pem"),
                key_password=spec.get("key_password") or None,
                min_days=spec.get("min_days", 30),
                now=spec.get("now"),
            )
    except _x509.CertificateError as exc:
        return unreadable(str(exc))
    return verdict


def _check_chunk(specs: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return [check_host(spec) for spec in specs]


def pool_size(count: int, processes: int | None = None) -> int:
    """How many processes check ``count`` hosts: ``processes`` when given (>0), else every core when it pays."""
    if processes and processes > 0:
        return max(1, min(processes, count))
    if count < POOL_MIN_HOSTS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, count // (POOL_MIN_HOSTS // 2)))


def _collections_root() -> str:
    """The folder that holds ``ansible_collections`` (where this collection was loaded from)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(here)))))


def _worker_main() -> None:
    """A worker process: pickled specs on stdin, pickled verdicts on stdout (see check_fleet)."""
    specs = pickle.load(sys.stdin.buffer)  # noqa: S301 - written by check_fleet, our parent process
    pickle.dump(_check_chunk(specs), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


_WORKER = "from ansible_collections.apexone.certificates.plugins.module_utils._preflight import _worker_main; _worker_main()"


def _start_worker(chunk: list[dict[str, t.Any]]) -> subprocess.Popen | None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_collections_root(),
                                                                    os.environ.get("PYTHONPATH")])))
    try:
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed command
            [sys.executable, "-c", _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env,
        )
        pickle.dump(chunk, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        proc.stdin.close()
    except OSError:
        return None
    return proc


def _finish_worker(proc: subprocess.Popen | None, chunk: list[dict[str, t.Any]]) -> tuple[list[dict], bool]:
    """The worker's verdicts; the chunk checked here instead when the worker did not deliver (same verdicts)."""
    if proc is not None:
        try:
            verdicts = pickle.load(proc.stdout)  # noqa: S301 - our own child process
            if proc.wait(timeout=60) == 0 and isinstance(verdicts, list) and len(verdicts) == len(chunk):
                return verdicts, True
        except (EOFError, pickle.UnpicklingError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return _check_chunk(chunk), False


def check_fleet(specs: t.Sequence[dict[str, t.Any]], processes: int | None = None) -> tuple[list[dict], int]:
    """Verdicts for ``specs`` in their order, and how many processes did the work.

    With more than one process the specs are cut into contiguous parts: this process checks the first while
    fresh Python processes (this interpreter, not forks of a process that may hold locks, as Ansible's workers
    do) check the others. A worker that fails has its part checked here: slower, never a different verdict.
    """
    require = _x509.require_pfx_libraries if any(s.get("pfx") is not None for s in specs) else _x509.require_libraries
    require()  # a missing library is one clear error, not a verdict repeated on every host
    specs = list(specs)
    size = pool_size(len(specs), processes)
    if size <= 1:
        return _check_chunk(specs), 1
    step = -(-len(specs) // size)
    chunks = [specs[i : i + step] for i in range(0, len(specs), step)]
    workers = [_start_worker(chunk) for chunk in chunks[1:]]
    verdicts = _check_chunk(chunks[0])
    used = 1
    for proc, chunk in zip(workers, chunks[1:], strict=True):
        part, delivered = _finish_worker(proc, chunk)
        verdicts.extend(part)
        used += delivered
    return verdicts, used
