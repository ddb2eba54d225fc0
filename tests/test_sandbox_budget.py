"""The sandbox's budget: memory and tasks of everything a submission starts, together (control
groups), and the host uids a grader holds alone. Small budgets, so that the machine running
the tests is never at risk; the grading batch has a submission past the default budget
(tests/station_corpus.py, ``memory-together``)."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT

if str(ROOT) not in sys.path:  # the grading station is not an installed package
    sys.path.insert(0, str(ROOT))
from autograde import sandbox  # noqa: E402
from autograde.kernel import Kernel, KernelLost  # noqa: E402

needs_groups = pytest.mark.skipif(sandbox.control_groups() is None or sandbox.unavailable_reason() is not None,
                                  reason="this machine gives the grader no control groups or no sandbox")

# n child processes, each holding `megabytes` with every page touched; the kernel waits until each
# says so through a pipe (none is left still allocating), then ends them. One killed on the way
# leaves the kernel waiting: the grader must notice the budget was reached.
HOGS = '''import os, time
read_end, write_end = os.pipe()
children = []
for _ in range({n}):
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        hog = b"x" * ({megabytes} * 2**20)
        os.write(write_end, b"!")
        time.sleep(120)
        os._exit(0)
    children.append(pid)
os.close(write_end)
ready = 0
while ready < {n}:
    got = os.read(read_end, {n})
    if not got:
        break
    ready += len(got)
print("all", ready, "touched their memory")
for pid in children:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
'''


@pytest.fixture
def kernel(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    os.chmod(tmp_path, 0o755)
    made = []

    def start(**limits):
        made.append(Kernel(submission, limits=sandbox.Limits(**limits), use_sandbox=True))
        made[-1].start()
        return made[-1]

    yield start
    for each in made:
        each.close()


@needs_groups
def test_processes_past_the_memory_budget_stop_the_kernel(kernel):
    sandboxed = kernel(memory_mb=384)
    folders = sandboxed.group.folders
    assert all(folder.is_dir() for folder in folders)
    outputs, error = sandboxed.execute(HOGS.format(n=2, megabytes=60), seconds=60)
    assert error is None and "all 2 touched their memory" in outputs[0]["text"], "within its budget, nothing stops"
    # the reason names the memory limit: stopped at the budget, not at the cell's time limit
    with pytest.raises(KernelLost, match=r"memory limit \(384 MB\)"):
        sandboxed.execute(HOGS.format(n=3, megabytes=160), seconds=60)
    leftover = sandboxed.group.tasks()
    sandboxed.close()
    assert not any(folder.exists() for folder in folders), "the sandbox's control group was left behind"
    assert sandbox.uid_processes({sandboxed.run_uid}) == [] or os.geteuid() != 0, leftover
    assert sandboxed.peak_mb is not None and sandboxed.peak_mb <= 384


def test_a_flood_of_output_is_stopped_in_the_kernel_whatever_the_judges_pace(kernel):
    """The kernel caps one execution's output itself (dlcourse_grader_kernel.cap_cell_output,
    which the judge installs at twice its own limit): a cell printing or displaying without
    pause is stopped there, what it writes after is dropped, and the next execution starts
    afresh. The judge's own limit is set far above the cap here, so only the kernel's cap can
    stop the flood: on a loaded machine the judge's interrupt comes late, and what the cell
    printed meanwhile, kept in the kernel (IPython's history holds every byte a cell prints),
    once reached the sandbox's memory limit before the judge's limit acted."""
    if sandbox.unavailable_reason() is not None:
        pytest.skip(f"no sandbox here: {sandbox.unavailable_reason()}")
    sandboxed = kernel(output_kb=1_000_000)
    _, error = sandboxed.execute("import dlcourse_grader_kernel\ndlcourse_grader_kernel.cap_cell_output(100_000)",
                                 seconds=60, silent=True)
    assert error is None, error
    outputs, error = sandboxed.execute("while True:\n    print('x' * 999)", seconds=60)
    assert error is not None and error.startswith("OutputCapped: "), error
    printed = sum(len(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
    assert 100_000 <= printed <= 101_000, printed
    outputs, error = sandboxed.execute("print('the next cell prints')", seconds=60)
    assert error is None and "the next cell prints" in outputs[0]["text"], (outputs, error)
    _, error = sandboxed.execute("from IPython.display import display\n"
                                 "while True:\n    display({'text/plain': 'y' * 999}, raw=True)", seconds=60)
    assert error is not None and error.startswith("OutputCapped: "), error


@needs_groups
def test_tasks_are_counted_for_the_whole_sandbox(kernel):
    sandboxed = kernel(processes=24)
    outputs, error = sandboxed.execute(
        "import subprocess\nstarted = []\ntry:\n    for _ in range(60):\n"
        "        started.append(subprocess.Popen(['sleep', '30']))\nexcept OSError as error:\n"
        "    print('refused after', len(started))\n", seconds=60)
    assert error is None, error
    refused_after = int(outputs[0]["text"].split()[-1])
    assert 0 < refused_after < 24, "the kernel's threads and its children share 24 tasks"
    assert sandboxed.group.tasks_refused() > 0, "refused by the sandbox's group (not only the uid's RLIMIT_NPROC)"


SPINNERS = """import os, time
for _ in range(4):
    if os.fork() == 0:
        end = time.time() + {seconds}
        while time.time() < end:
            pass
        os._exit(0)
start = time.time()
while time.time() - start < {seconds} + 0.5:
    time.sleep(0.1)
"""


def cpu_seconds(pids) -> float:
    """CPU time used so far by ``pids`` (user and system, from /proc; gone processes count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


@needs_groups
@pytest.mark.skipif(sandbox.control_groups() is None or sandbox.control_groups().cpu is None,
                    reason="no cpu controller for the grader here")
def test_busy_processes_get_one_core_in_all(kernel):
    """Four processes spinning for 3 s: held to one core together (what keeps a neighbour's speed)."""
    sandboxed = kernel()
    message_id = sandboxed.client.execute(SPINNERS.format(seconds=3))
    time.sleep(1)
    spinners = [pid for pid in sandboxed.group.tasks()]
    before, window_start = cpu_seconds(spinners), time.monotonic()
    time.sleep(1.5)
    used, window = cpu_seconds(spinners) - before, time.monotonic() - window_start
    assert sandboxed.group.cpu_periods() > 0, "no CPU quota was applied to the sandbox"
    assert used <= 1.25 * window, f"four spinners used {used:.2f} s of CPU in {window:.2f} s: more than one core"
    assert message_id


@pytest.mark.skipif(os.geteuid() != 0, reason="host uids are given to sandboxes only when grading as root")
def test_a_sandbox_uid_is_held_by_one_grader_at_a_time():
    mine = sandbox.sandbox_uid()
    assert sandbox.sandbox_uid() == mine, "a process keeps its uid"
    script = ("import sys, time; sys.path.insert(0, sys.argv[1]); from autograde import sandbox; "
              "print(sandbox.sandbox_uid(), flush=True); time.sleep(30)")
    other = subprocess.Popen([sys.executable, "-c", script, str(ROOT)], stdout=subprocess.PIPE, text=True)
    try:
        theirs = int(other.stdout.readline())
        assert theirs != mine
        holders = sandbox.uid_holders()
        assert holders[mine] == os.getpid() and holders[theirs] == other.pid
    finally:
        other.kill()
        other.wait()
    # another grader (another test) may take the freed uid at once: only this holder must be gone
    assert sandbox.uid_holders().get(theirs) != other.pid, "a grader that ends (even killed) frees its uid"


@pytest.mark.skipif(sandbox.control_groups() is None, reason="no control groups here")
def test_groups_of_a_killed_grader_are_removed(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid now names no process: the group looks like a killed grader's
    parent = sandbox.control_groups().memory
    stale = parent / f"{sandbox.GROUP_PREFIX}{gone.pid}-0-0"  # its start time cannot match a live process
    stale.mkdir()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        (stale / "cgroup.procs").write_text(str(sleeper.pid))
        older = parent / f"{sandbox.GROUP_PREFIX}{os.getpid()}-7"  # a live grader's, named as before start times
        older.mkdir()
        sandbox.remove_stale_groups()
        assert not stale.exists()
        assert older.exists(), "a live grader's group (older name) was taken for stale"
        older.rmdir()
        assert sleeper.wait(timeout=10) == -9, "what the killed grader's sandbox left running is killed"
    finally:
        sleeper.kill()
        if stale.exists():
            sandbox.remove_group([stale])


def fake_cgroup2(tmp_path, monkeypatch, membership: str) -> Path:
    """A tree of plain files standing for a cgroup v2 hierarchy, this process a member of ``membership``."""
    root = tmp_path / "cg"
    root.mkdir()
    mounts = tmp_path / "mountinfo"
    mounts.write_text(f"30 25 0:26 / {root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n")
    member = tmp_path / "cgroup"
    member.write_text(f"0::{membership}\n")
    monkeypatch.setattr(sandbox, "CGROUP_MOUNTS", mounts)
    monkeypatch.setattr(sandbox, "CGROUP_MEMBERSHIP", member)
    sandbox.control_groups.cache_clear()
    return root


def test_cgroup_v2_delegated_to_the_grader(tmp_path, monkeypatch):
    """cgroup v2 (not on the machines the suite runs on): a group delegated to the grader is handed
    to sandboxes (the grader moves into a leaf, the group gives memory and pids to its children),
    and each sandbox's limits are written where v2 keeps them. Plain files stand for cgroupfs."""
    scope = fake_cgroup2(tmp_path, monkeypatch, "/user.slice/grader.scope") / "user.slice" / "grader.scope"
    scope.mkdir(parents=True)
    for name, text in (("cgroup.procs", "1\n"), ("cgroup.controllers", "cpu memory pids\n"),
                       ("cgroup.subtree_control", "")):
        (scope / name).write_text(text)
    try:
        assert sandbox.control_groups() is None, "nothing handed to children yet"
        assert sandbox.memory_budget_reason(delegate=False) is not None
        assert sandbox.memory_budget_reason(delegate=True) is None
        leaf = scope / f"dlcourse-grader-{os.getpid()}"
        assert (leaf / "cgroup.procs").read_text() == str(os.getpid()), "the grader moved into its leaf"
        assert "memory" in (scope / "cgroup.subtree_control").read_text()
        groups = sandbox.control_groups()
        assert groups == sandbox.ControlGroups(2, scope, scope, scope)
        group = sandbox.SandboxGroup(groups, sandbox.Limits(memory_mb=512, processes=32))
        folder = scope / group.name
        assert (folder / "memory.max").read_text() == str(512 * 2**20)
        assert (folder / "pids.max").read_text() == "32"
        assert (folder / "cpu.max").read_text() == "100000 100000"
        (folder / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
        assert group.memory_exceeded()
        assert group.procs_files == [str(folder / "cgroup.procs")]
    finally:
        sandbox.control_groups.cache_clear()


def test_cgroup_v2_not_delegated_says_why(tmp_path, monkeypatch):
    scope = fake_cgroup2(tmp_path, monkeypatch, "/user.slice/session-2.scope") / "user.slice" / "session-2.scope"
    scope.mkdir(parents=True)
    (scope / "cgroup.controllers").write_text("cpu\n")  # memory and pids not given to this group
    try:
        reason = sandbox.memory_budget_reason(delegate=True)
        assert "is not given the memory and pids controllers" in reason and "Delegate=yes" in reason
        assert not list(scope.glob("dlcourse-grader-*")), "nothing moved, nothing left"
    finally:
        sandbox.control_groups.cache_clear()


def test_without_control_groups_grade_says_how_to_get_them(monkeypatch):
    monkeypatch.setattr(sandbox, "control_groups", lambda: None)
    monkeypatch.setattr(sandbox, "prepare_delegated_group", lambda: "no cgroup v2 here")
    reason = sandbox.memory_budget_reason()
    assert "no memory limit can be applied" in reason and "Delegate=yes" in reason and "cgroup.procs" in reason


def test_without_user_namespaces_grade_says_how_to_enable_them(tmp_path, monkeypatch):
    setting = tmp_path / "apparmor_restrict_unprivileged_userns"
    setting.write_text("1\n")
    monkeypatch.setattr(sandbox, "USER_NAMESPACE_SETTINGS",
                        {str(setting): ("1", "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")})
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    advice = sandbox.user_namespace_advice()
    assert "disabled" in advice and "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0" in advice
    setting.write_text("0\n")
    assert "disabled" not in sandbox.user_namespace_advice()


@pytest.mark.parametrize(("text", "megabytes"), [("3G", 3072), ("1.5g", 1536), ("1536M", 1536), ("2", 2048)])
def test_memory_sizes(text, megabytes):
    from autograde.cli import memory_size

    assert memory_size(text) == megabytes


@pytest.mark.parametrize("text", ["lots", "100M"])
def test_memory_sizes_refused(text):
    import argparse

    from autograde.cli import memory_size

    with pytest.raises(argparse.ArgumentTypeError, match="256M|3G"):
        memory_size(text)


def test_limits_as_grade_prints_them():
    lines = sandbox.describe(sandbox.Limits(memory_mb=2048))
    groups = sandbox.control_groups()
    if groups is not None and groups.pids is not None and groups.cpu is not None:
        assert any("2 GB of memory, 64 tasks and 1 core(s) per submission" in line for line in lines), lines
    assert any("at most 300 s" in line for line in lines)
    assert Path(sandbox.UID_LOCKS).name == "dlcourse-sandbox-uids"


# writes what it can into the kernel's runtime folder: a 200 MB file, then a chain of 3,000 folders
FLOOD_RUNTIME = '''import os
io = os.path.join(os.environ["DLCOURSE_GRADER_RUNTIME"], "io")
written = 0
try:  # files of 32 MB each, under the per-file limit: the folder's own size is what stops them
    for part in range(10):
        with open(os.path.join(io, f"flood-{part}.bin"), "wb") as handle:
            for _ in range(32):
                handle.write(b"x" * 2**20)
                handle.flush()
                written += 1
except OSError as error:
    print("stopped:", error.strerror)
for part in range(10):
    if os.path.exists(os.path.join(io, f"flood-{part}.bin")):
        os.remove(os.path.join(io, f"flood-{part}.bin"))
os.chdir(io)
for _ in range(3000):
    os.mkdir("d")
    os.chdir("d")
print("written", written, "MB and 3000 folders")
'''


def mounts_under(folder: Path) -> list[str]:
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4].startswith(str(folder))]


@needs_groups
@pytest.mark.skipif(os.geteuid() != 0, reason="the runtime folder's tmpfs is mounted by a root grader")
def test_the_runtime_folder_has_a_size_and_goes_however_deep(kernel):
    sandboxed = kernel()
    assert sandboxed.io_mounted and mounts_under(sandboxed.io) == [str(sandboxed.io)]
    outputs, error = sandboxed.execute(FLOOD_RUNTIME, seconds=120)
    text = "".join(o.get("text", "") for o in outputs)
    assert error is None, error
    assert "stopped: No space left on device" in text and "3000 folders" in text
    assert int(text.split("written ")[1].split()[0]) <= sandboxed.limits.runtime_mb
    scratch = sandboxed.scratch
    sandboxed.close()
    assert not scratch.exists() and mounts_under(scratch) == []


@needs_groups
def test_without_a_tmpfs_the_runtime_folder_is_watched(kernel, monkeypatch):
    monkeypatch.setattr(sandbox, "mount_runtime", lambda *args: False)
    sandboxed = kernel(runtime_mb=32)
    assert not sandboxed.io_mounted
    with pytest.raises(KernelLost, match="wrote more than 32 MB to its runtime folder"):
        sandboxed.execute(FLOOD_RUNTIME.replace("handle.flush()", "handle.flush(); __import__('time').sleep(0.02)"),
                          seconds=120)


def test_what_a_killed_grader_left_cannot_stop_the_next(tmp_path):
    """A folder chain too deep for shutil.rmtree (RecursionError) and for any path (ENAMETOOLONG),
    in the scratch folder of a grader that is gone: removed, with its tmpfs where there is one."""
    from autograde.kernel import remove_stale_scratch

    gone = subprocess.Popen(["true"])
    gone.wait()
    scratch = Path(tempfile.gettempdir()) / f"dlcourse-grade-{gone.pid}-leftover"
    io = scratch / "run" / "io"
    io.mkdir(parents=True)
    if os.geteuid() == 0:
        assert sandbox.mount_runtime(io, sandbox.Limits(), os.geteuid())
    deep = os.open(io, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", dir_fd=deep)
        inner = os.open("d", os.O_RDONLY, dir_fd=deep)
        os.close(deep)
        deep = inner
    os.close(deep)
    (scratch / "run" / "kernel.log").write_text("left\n")
    remove_stale_scratch()
    assert not scratch.exists() and mounts_under(scratch) == []
