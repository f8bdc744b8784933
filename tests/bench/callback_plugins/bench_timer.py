# Benchmark helper: records the wall time of every task of a play (tests/bench only, not shipped as a plugin).
"""Callback plugin used only by the benchmarks (tests/bench/run.py).

Writes one JSON document to the file named by ``APEXONE_BENCH_TIMER_OUT``: the wall time of each task, from its
start until the next task starts (or the play ends), in the order the tasks ran, and for each task the times (since
the task started) at which its results arrived, per host (``hosts``) and per loop item (``items``) (the benchmark checks with them that the
cost per host or item stays the same along a run).
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_timer
type: aggregate
short_description: Wall time per task, written to a JSON file (benchmarks only)
description:
  - Records when each task starts and writes the per-task wall times to the file in APEXONE_BENCH_TIMER_OUT.
author: apexone.certificates maintainers (@apexone-certificates)
requirements:
  - enable it with ANSIBLE_CALLBACKS_ENABLED=bench_timer
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._tasks: list[dict] = []
        self._current: dict | None = None

    def _close(self) -> None:
        if self._current is not None:
            self._current["seconds"] = round(time.monotonic() - self._current.pop("started"), 4)
            self._tasks.append(self._current)
            self._current = None

    def _start(self, task) -> None:
        self._close()
        self._current = {"task": task.get_name(), "started": time.monotonic(), "hosts": [], "items": []}

    def _stamp(self, kind: str) -> None:
        if self._current is not None:
            self._current[kind].append(round(time.monotonic() - self._current["started"], 4))

    def _host_result(self, *_args, **_kwargs) -> None:
        self._stamp("hosts")

    def _item_result(self, *_args, **_kwargs) -> None:
        self._stamp("items")

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = v2_runner_on_unreachable = _host_result
    v2_runner_item_on_ok = v2_runner_item_on_failed = v2_runner_item_on_skipped = _item_result

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("APEXONE_BENCH_TIMER_OUT")
        if path:
            with open(path, "w") as handle:
                json.dump(self._tasks, handle)
