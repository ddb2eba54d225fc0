"""A busy neighbour: how much a submission that keeps many processes spinning slows the one
graded beside it, with each sandbox's CPU share and without it.

Two sandboxed kernels, as two grading workers would have them: the neighbour forks 48
processes that spin for as long as the measurement lasts; the submission runs a fixed
single-threaded NumPy workload (what a quick-mode notebook does), timed. Four runs in this one
process: the workload alone; beside the neighbour held to one core (the station's default);
beside the neighbour in a CPU group of its own without a cap (the group's weight alone); and
with both sandboxes' processes moved out of their CPU groups into the grader's, which is where
every sandbox ran before the CPU share (control group v1 only: in v2 a process's CPU group is
its memory group).

    python benchmarks/bench_neighbour.py
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograde import sandbox  # noqa: E402
from autograde.kernel import Kernel  # noqa: E402

WORKLOAD = """import time, numpy as np
rng = np.random.default_rng(0)
a = rng.standard_normal((300, 300))
started = time.perf_counter()
for _ in range(3000):
    a = np.tanh(a @ a.T / 300)
print(time.perf_counter() - started)
"""
SPIN = """import os, time
for _ in range(48):
    if os.fork() == 0:
        while True:
            pass
"""


def kernel(folder: Path, cpus: float) -> Kernel:
    started = Kernel(folder, limits=sandbox.Limits(cpus=cpus), use_sandbox=True)
    started.start()
    return started


def timed(submission: Kernel) -> float:
    outputs, error = submission.execute(WORKLOAD, seconds=600)
    if error:
        sys.exit(f"the workload failed: {error}")
    return float(outputs[0]["text"])


def leave_cpu_group(sandboxed: Kernel) -> None:
    """Move a sandbox's processes into the grader's own CPU group (v1), as before the CPU share."""
    procs = sandbox.control_groups().cpu / "cgroup.procs"
    for pid in sandboxed.group.tasks():
        try:
            procs.write_text(str(pid))
        except OSError:  # gone meanwhile
            pass


def main() -> int:
    problem = sandbox.unavailable_reason()
    if problem or sandbox.control_groups().cpu is None:
        sys.exit(f"no sandbox with a CPU share here: {problem or 'no cpu controller'}")
    runs = [("the neighbour held to one core", 1.0), ("the neighbour in its own CPU group, no cap", 0)]
    if sandbox.control_groups().version == 1:
        runs.append(("both sandboxes in the grader's CPU group (before)", None))
    with tempfile.TemporaryDirectory(prefix="bench-neighbour-") as scratch:
        folder = Path(scratch)
        os.chmod(folder, 0o755)
        submission = kernel(folder, cpus=1.0)
        try:
            timed(submission)  # warm: NumPy's first call
            alone = timed(submission)
            seconds = {}
            for label, cpus in runs:
                neighbour = kernel(folder, cpus=cpus or 0)
                try:
                    neighbour.execute(SPIN, seconds=30)
                    time.sleep(1)
                    if cpus is None:
                        leave_cpu_group(neighbour)
                        leave_cpu_group(submission)
                    seconds[label] = timed(submission)
                finally:
                    neighbour.close()
        finally:
            submission.close()
    print(f"on {os.cpu_count()} cores; the workload alone: {alone:.2f} s")
    for label, _ in runs:
        print(f"beside 48 spinning processes, {label}: {seconds[label]:.2f} s "
              f"({seconds[label] / alone:.2f}x alone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
