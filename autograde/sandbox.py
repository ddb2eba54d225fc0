"""The sandbox a submission's kernel runs in: Linux namespaces through util-linux's `unshare`,
resource limits through `prlimit`. No Docker engine and no set-uid helper are needed.

Inside the sandbox a process sees:
  /usr /bin /lib /etc ...    read-only (the system, Python and the installed course library)
  /home/student              a size-limited tmpfs holding a copy of the submission: the only
                             writable place besides /tmp (the original files stay untouched)
  /tmp, /dev/shm             private, size-limited tmpfs
  RUNTIME (same path)        the kernel's connection file and Unix sockets, nothing else
and nothing else of the host: not the repository (solutions/, other submissions, the
gradebook), not /root, no network (a fresh network namespace has no interface but a loopback
that is down), no other process (a fresh PID namespace whose first process is the kernel:
when it ends, the kernel of Linux kills every process left in the namespace).

When the grader runs as root the sandboxed process runs as an unprivileged host uid that its
grading process holds alone (a lock per uid, see sandbox_uid), so that the process limit counts
only its processes; otherwise it runs as the invoking user mapped to root inside a user
namespace (the limits still apply).

Everything a submission starts shares one budget of memory, of tasks and of CPU (one core): a
control group per sandbox (SandboxGroup), cgroup v2 where the grader's group is delegated to
it, v1's `memory`, `pids` and `cpu` controllers where the machine has those; per-process limits (`prlimit`) are the last
layer under it. A sandbox whose processes go past the memory budget is killed and its result
says "memory limit (N GB)".
"""

import ctypes
import errno
import fcntl
import functools
import itertools
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dlcourse.grading import CELL_TIMEOUT_S, GRADING_ENV, LIMIT_FACTOR, LIMIT_FLOOR_S, NOTEBOOK_TIMEOUT_S

SANDBOX_HOME = "/home/student"
# host uids given to sandboxed processes when grading as root: each held by one grading process
# at a time, through a lock file in UID_LOCKS (every grader on the host takes its uids there)
HOST_UID_BASE = 620000
HOST_UIDS = 4096
UID_LOCKS = Path("/run/lock/dlcourse-sandbox-uids") if Path("/run/lock").is_dir() else \
    Path(tempfile.gettempdir()) / "dlcourse-sandbox-uids"


class SandboxUnavailable(RuntimeError):
    """The namespaces or mounts the sandbox needs cannot be made on this machine."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Wall time is enforced by the grader, the rest by Linux."""

    memory_mb: int = 3072          # resident memory of everything the submission starts (control group)
    cpu_seconds: int = 600         # CPU time of each process (RLIMIT_CPU)
    wall_seconds: int = NOTEBOOK_TIMEOUT_S  # the whole notebook, start to end
    cell_seconds: int = CELL_TIMEOUT_S      # one cell (also nbgrader's Execute.timeout)
    processes: int = 64            # processes and threads at once (control group; RLIMIT_NPROC per uid)
    cpus: float = 1.0              # cores the whole sandbox may keep busy (control group; 0: no cap): a
                                   # submission that starts many busy processes slows only itself
    file_mb: int = 64              # largest file a process may write (RLIMIT_FSIZE)
    disk_mb: int = 256             # the writable home folder (tmpfs size)
    tmp_mb: int = 256              # /tmp and /dev/shm (tmpfs size each)
    output_kb: int = 16384         # output of the whole notebook (figures included); beyond it the cell is stopped
    runtime_mb: int = 96           # run/io/, where the kernel's sockets and replies are (a tmpfs, or watched)
    runtime_files: int = 4096      # files and folders in run/io/
    open_files: int = 256          # RLIMIT_NOFILE

    @property
    def address_space_mb(self) -> int:
        """Virtual memory of each process (RLIMIT_AS), the last layer under the control group:
        twice the budget and at least 4 GB, since PyTorch reserves address space it never touches."""
        return max(4096, 2 * self.memory_mb)


# Runs as root of the new user namespace, before the kernel starts: builds the new root in a
# tmpfs, then chroots into it, drops to the sandbox user and applies the limits.
SETUP_SCRIPT = r"""
set -eu
NEWROOT=$1; SUBMISSION=$2; RUNTIME=$3; DISK_MB=$4; TMP_MB=$5; RUN_UID=$6; READONLY=$7; shift 7
mount --make-rprivate /
mount -t tmpfs -o size=8m,mode=755 sandbox-root "$NEWROOT"
mkdir -p "$NEWROOT/proc" "$NEWROOT/dev" "$NEWROOT/tmp" "$NEWROOT/home/student"
mount -t proc proc "$NEWROOT/proc"
mount -t tmpfs -o size=1m,mode=755 sandbox-dev "$NEWROOT/dev"
for node in null zero full random urandom; do
    touch "$NEWROOT/dev/$node"; mount --bind "/dev/$node" "$NEWROOT/dev/$node"
done
ln -s /proc/self/fd "$NEWROOT/dev/fd"
mkdir "$NEWROOT/dev/shm"
mount -t tmpfs -o "size=${TMP_MB}m,mode=1777,nosuid,nodev" sandbox-shm "$NEWROOT/dev/shm"
mount -t tmpfs -o "size=${TMP_MB}m,mode=1777,nosuid,nodev" sandbox-tmp "$NEWROOT/tmp"
mount -t tmpfs -o "size=${DISK_MB}m,mode=755,nosuid,nodev" sandbox-home "$NEWROOT/home/student"
# after the tmpfs mounts, so that a course kept under /tmp or /home stays visible
# an entry PATH=SOURCE shows SOURCE at PATH (the library with the graded references sealed)
for entry in $READONLY; do
    path=${entry%%=*}; source=${entry#*=}
    [ -e "$source" ] || continue
    if [ -L "$source" ]; then
        mkdir -p "$NEWROOT$(dirname "$path")"; ln -s "$(readlink "$source")" "$NEWROOT$path"; continue
    fi
    mkdir -p "$NEWROOT$path"
    mount --bind "$source" "$NEWROOT$path"
    mount -o remount,bind,ro,nosuid,nodev "$NEWROOT$path"
done
cp -R --no-dereference "$SUBMISSION/." "$NEWROOT/home/student/"
chown -R "$RUN_UID:$RUN_UID" "$NEWROOT/home/student"
mkdir -p "$NEWROOT$RUNTIME"
mount --rbind "$RUNTIME" "$NEWROOT$RUNTIME"  # with run/io's own size-limited tmpfs
cd "$NEWROOT"
# this shell stays PID 1 of the namespace, as root: the student cannot signal it or clear its
# parent-death signal, and when it dies (unshare --kill-child) Linux kills every process in it
chroot "$NEWROOT" "$@"
"""


def package_folder() -> Path:
    """The installed ``dlcourse`` package (an editable install: the checkout's lib/dlcourse)."""
    import dlcourse

    return Path(dlcourse.__file__).resolve().parent


def readonly_paths(library: Path | None = None) -> list[str]:
    """The host paths a sandboxed Python needs: the system, this Python and its packages,
    and the course library (an editable install points into the checkout's lib/). With
    ``library`` (a folder holding a sealed copy of the ``dlcourse`` package, see
    dlcourse.sealing) the sandbox sees that copy where the package is: the real one is not there."""
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
    for extra in (sys.base_prefix, sys.prefix, str(package_folder().parent),
                  str(Path(__file__).resolve().parent / "kernel_side")):
        if not any(extra == p or extra.startswith(p + "/") for p in paths):
            paths.append(extra)
    course = Path(__file__).resolve().parent.parent
    for path in paths + ([str(library)] if library else []):
        if " " in path or "=" in path:
            raise SandboxUnavailable(f"cannot bind {path!r} into the sandbox: the path contains a space or '='")
        if Path(path) in (course, *course.parents) and path not in ("/",):
            raise SandboxUnavailable(f"{path} holds the course (solutions/, the gradebook): it cannot be shown to "
                                     "students' code; install the course library outside it")
    if library is not None:  # last: it covers the package inside a folder bound above
        paths.append(f"{package_folder()}={Path(library) / package_folder().name}")
    return paths


def run_uid() -> int:
    """The host uid this process's sandboxes run as: when grading as root, one that no other
    grading process on the host holds (sandbox_uid), so that the process limit and the tests'
    count of processes are this grader's alone; the grader's own uid otherwise."""
    return sandbox_uid() if os.geteuid() == 0 else os.geteuid()


_held_uid: tuple[int, int] | None = None  # (uid, the open lock file that holds it)


def sandbox_uid() -> int:
    """A uid of HOST_UID_BASE + 0..HOST_UIDS-1 that this process holds alone until it ends: the
    first whose lock file (UID_LOCKS/<uid>) no other process has locked. The lock goes with the
    process however it ends (a killed grader frees its uid); processes left running as the uid by
    a grader that was killed are killed before the uid is used again."""
    global _held_uid
    if _held_uid is not None and _held_uid[1] >= 0:
        return _held_uid[0]
    UID_LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = os.lstat(UID_LOCKS)
    if not stat.S_ISDIR(folder.st_mode) or folder.st_uid != 0 or stat.S_IMODE(folder.st_mode) != 0o700:
        raise SandboxUnavailable(f"{UID_LOCKS} must be a folder of root's with mode 700 (someone else made it?): "
                                 "remove it and grade again")
    for uid in range(HOST_UID_BASE, HOST_UID_BASE + HOST_UIDS):
        handle = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(handle)
            if error.errno in (errno.EWOULDBLOCK, errno.EACCES):
                continue
            raise
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        kill_processes(uid_processes({uid}))
        _held_uid = (uid, handle)
        return uid
    raise SandboxUnavailable(f"all {HOST_UIDS} sandbox uids are held by other grading processes on this host")


def uid_holders() -> dict[int, int]:
    """{sandbox uid: pid of the grading process holding it} for the uids held now."""
    held = {}
    for path in UID_LOCKS.glob("[0-9]*") if UID_LOCKS.is_dir() else ():
        try:
            handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)  # nobody holds it
        except OSError:
            try:
                held[int(path.name)] = int(os.pread(handle, 32, 0) or b"0")
            except ValueError:
                held[int(path.name)] = 0
        finally:
            os.close(handle)
    return held


def uid_processes(uids: set[int]) -> list[int]:
    """Pids of the processes running as one of ``uids`` (zombies left out: they run nothing)."""
    return [pid for pid, _, _ in uid_process_table(uids)]


def uid_process_table(uids: set[int]) -> list[tuple[int, int, str]]:
    """(pid, uid, name) of the processes running as one of ``uids``, zombies left out."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        uid = int(fields.get("Uid", "-1").split()[0])
        if uid in uids and not fields.get("State", "").strip().startswith("Z"):
            found.append((int(status.parent.name), uid, fields.get("Name", "?").strip()))
    return found


def kill_processes(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# ------------------------------------------------------------------ one control group per sandbox

CGROUP_MOUNTS = Path("/proc/self/mountinfo")
CGROUP_MEMBERSHIP = Path("/proc/self/cgroup")
GROUP_PREFIX = "dlcourse-sandbox-"
CPU_PERIOD_US = 100_000


@dataclass(frozen=True)
class ControlGroups:
    """Where this grading process can make a control group per sandbox: ``memory``, ``pids`` and
    ``cpu`` are the folders the groups go in (the same folder under cgroup v2), None where that
    controller cannot be used."""

    version: int
    memory: Path | None
    pids: Path | None
    cpu: Path | None = None

    def describe(self) -> str:
        kinds = [name for name, folder in (("memory", self.memory), ("tasks", self.pids), ("CPU", self.cpu))
                 if folder]
        return f"control groups v{self.version} ({', '.join(kinds)}) under {self.memory or self.pids}"

    @property
    def parents(self) -> list[Path]:
        return list(dict.fromkeys(f for f in (self.memory, self.pids, self.cpu) if f is not None))


def _cgroup_mounts() -> list[tuple[str, Path, str, set[str]]]:
    """(hierarchy root, mount point, filesystem type, options) of each cgroup mount."""
    mounts = []
    for line in CGROUP_MOUNTS.read_text().splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) >= 5 and tail and tail[0] in ("cgroup", "cgroup2"):
            options = set(tail[2].split(",")) if len(tail) > 2 else set()
            mounts.append((fields[3], Path(fields[4].replace("\040", " ")), tail[0], options))
    return mounts


def _usable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK) and os.access(folder / "cgroup.procs", os.W_OK)


@functools.cache
def control_groups() -> ControlGroups | None:
    """What this process may use, found once: cgroup v2 where its own group offers the memory and
    pids controllers and it may make groups there (root, or a group delegated to it), else v1's
    memory and pids hierarchies where its own group in them is writable; None where neither."""
    try:
        memberships = [line.split(":", 2) for line in CGROUP_MEMBERSHIP.read_text().splitlines()]
        mounts = _cgroup_mounts()
    except OSError:
        return None

    def folder_of(root: str, mount_point: Path, path: str) -> Path:
        relative = os.path.relpath(path, root) if path.startswith(root) else path.lstrip("/")
        return (mount_point / relative).resolve() if relative != "." else mount_point

    unified = next((p for h, c, p in memberships if h == "0" and c == ""), None)
    for root, mount_point, kind, _ in mounts:
        if kind == "cgroup2" and unified is not None:
            folder = folder_of(root, mount_point, unified)
            parent = _v2_parent(folder)
            if parent is not None:
                offered = [word.lstrip("+") for word in (parent / "cgroup.subtree_control").read_text().split()]
                return ControlGroups(2, parent, parent, parent if "cpu" in offered else None)
    found = {}
    for _, controllers, path in memberships:
        for controller in ("memory", "pids", "cpu"):
            if controller in controllers.split(","):
                for root, mount_point, kind, options in mounts:
                    if kind == "cgroup" and controller in options:
                        folder = folder_of(root, mount_point, path)
                        if _usable(folder):
                            found[controller] = folder
    if "memory" in found:
        return ControlGroups(1, found["memory"], found.get("pids"), found.get("cpu"))
    return None


def _v2_parent(folder: Path) -> Path | None:
    """The cgroup v2 folder this process's sandbox groups go in: its own group when that already
    hands memory and pids to its children (the root group), else the parent of a leaf
    ``dlcourse-grader-*`` group the coordinator moved itself into (prepare_delegated_group)."""
    def offers(group: Path) -> bool:
        try:
            given = {word.lstrip("+") for word in (group / "cgroup.subtree_control").read_text().split()}
            return {"memory", "pids"} <= given
        except OSError:
            return False

    for candidate in (folder, folder.parent if folder.name.startswith("dlcourse-grader-") else None):
        if candidate is not None and offers(candidate) and _usable(candidate):
            return candidate
    return None


def prepare_delegated_group() -> str | None:
    """cgroup v2, a group delegated to the grader (systemd-run --scope -p Delegate=yes): move this
    process into a leaf ``dlcourse-grader-PID`` of its group and hand memory and pids to the
    group's children, so that sandboxes can be made beside it. Returns why not, or None. v1 and
    a group that already offers them need nothing."""
    if control_groups() is not None:
        return None
    try:
        unified = next((line.split(":", 2)[2] for line in CGROUP_MEMBERSHIP.read_text().splitlines()
                        if line.startswith("0::")), None)
        mount = next((m for m in _cgroup_mounts() if m[2] == "cgroup2"), None)
    except OSError as error:
        return f"the control groups could not be read ({error})"
    if mount is None or unified is None:
        return "this machine has no cgroup v2 hierarchy, and its v1 memory hierarchy is not writable by you"
    own = mount[1] / unified.lstrip("/")
    try:
        offered = set((own / "cgroup.controllers").read_text().split())
    except OSError as error:
        return f"your control group {own} cannot be read ({error})"
    if not {"memory", "pids"} <= offered:
        return f"your control group {own} is not given the memory and pids controllers"
    leaf = own / f"dlcourse-grader-{os.getpid()}"
    try:
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
        try:  # the CPU share too where the group has it (a machine may not let it be handed down)
            (own / "cgroup.subtree_control").write_text("+memory +pids" + (" +cpu" if "cpu" in offered else ""))
        except OSError:
            (own / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError as error:  # e.g. EBUSY: other processes share the group; put things back
        try:
            (own / "cgroup.procs").write_text(str(os.getpid()))
            leaf.rmdir()
        except OSError:
            pass
        return f"your control group {own} could not be handed to sandboxes ({error.strerror or error})"
    control_groups.cache_clear()
    return None if control_groups() is not None else f"{own} is still not usable after delegation"


_group_numbers = itertools.count()


class SandboxGroup:
    """The control group(s) of one sandbox: its memory budget and its number of tasks. Made before
    the sandbox starts; the sandbox's first process joins them (``join``, by the process itself,
    so nothing it starts runs outside); ``remove`` kills whatever is left and removes them."""

    def __init__(self, groups: ControlGroups, limits: Limits):
        self.groups, self.limits = groups, limits
        self.name = f"{GROUP_PREFIX}{os.getpid()}-{process_start(os.getpid())}-{next(_group_numbers)}"
        self.folders = [parent / self.name for parent in groups.parents]
        try:
            for folder in self.folders:
                folder.mkdir()
            budget = limits.memory_mb * 2**20
            if groups.version == 2:
                self._write(groups.memory, "memory.max", budget)
                self._write(groups.memory, "memory.swap.max", 0, optional=True)
                self._write(groups.memory, "memory.oom.group", 1, optional=True)  # one process over: all go
                self._write(groups.memory, "pids.max", limits.processes)
                if groups.cpu is not None:
                    quota = int(limits.cpus * CPU_PERIOD_US) if limits.cpus > 0 else "max"
                    self._write(groups.cpu, "cpu.max", f"{quota} {CPU_PERIOD_US}")
            else:
                self._write(groups.memory, "memory.limit_in_bytes", budget)
                self._write(groups.memory, "memory.memsw.limit_in_bytes", budget, optional=True)  # no swap either
                if groups.pids is not None:
                    self._write(groups.pids, "pids.max", limits.processes)
                if groups.cpu is not None:  # every sandbox the same weight, and at most `cpus` cores
                    self._write(groups.cpu, "cpu.cfs_period_us", CPU_PERIOD_US)
                    quota = int(limits.cpus * CPU_PERIOD_US) if limits.cpus > 0 else -1
                    self._write(groups.cpu, "cpu.cfs_quota_us", quota)
        except OSError as error:
            self.remove()
            raise SandboxUnavailable(f"the sandbox's control group could not be made ({error})") from error

    def _write(self, parent: Path, name: str, value, optional: bool = False) -> None:
        path = parent / self.name / name
        if optional and not path.exists():
            return
        path.write_text(str(value))

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its pid into to join (every controller's)."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def join(self, pid: int = 0) -> None:
        for path in self.procs_files:
            with open(path, "w") as handle:
                handle.write(str(pid or os.getpid()))

    def _counter(self, file: str, key: str) -> int:
        try:
            text = (self.groups.memory / self.name / file).read_text()
        except OSError:
            return 0
        return next((int(line.split()[1]) for line in text.splitlines() if line.startswith(key + " ")), 0)

    def tasks_refused(self) -> int:
        """How many times a new process or thread was refused at the task limit (pids.events)."""
        folder = self.groups.pids if self.groups.version == 1 else self.groups.memory
        try:
            text = (folder / self.name / "pids.events").read_text()
        except (OSError, TypeError):
            return 0
        return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("max ")), 0)

    def memory_exceeded(self) -> bool:
        """Whether the kernel's OOM killer struck inside the group (its budget was reached)."""
        return self._counter("memory.events" if self.groups.version == 2 else "memory.oom_control", "oom_kill") > 0

    def cpu_periods(self, key: str = "nr_periods") -> int:
        """cpu.stat's count ``key``: the quota periods the group ran in (nr_periods: none without a
        quota), or those it was held back at its quota in (nr_throttled)."""
        if self.groups.cpu is None:
            return 0
        try:
            text = (self.groups.cpu / self.name / "cpu.stat").read_text()
        except OSError:
            return 0
        return next((int(line.split()[1]) for line in text.splitlines() if line.startswith(key + " ")), 0)

    def peak_mb(self) -> float | None:
        """The most memory the group held at once (v1; v2 kernels from 5.19)."""
        name = "memory.peak" if self.groups.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.groups.memory / self.name / name).read_text()) / 2**20
        except (OSError, ValueError):
            return None

    def tasks(self) -> list[int]:
        pids = set()
        for folder in self.folders:
            try:
                pids.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(pids)

    def remove(self, seconds: float = 10) -> bool:
        """Kill every task left in the group and remove it; False when it could not be removed in time."""
        return remove_group(self.folders, seconds)


def remove_group(folders: list[Path], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    for folder in folders:
        while folder.exists():
            try:
                kill_processes(int(p) for p in (folder / "cgroup.procs").read_text().split())
                folder.rmdir()
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
    return True


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot): with its pid, names it even after the pid is reused."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def group_owner_alive(folder: Path) -> bool:
    """Whether the grading process that made sandbox group ``folder`` still runs (pid and start time)."""
    parts = folder.name.removeprefix(GROUP_PREFIX).split("-")
    try:
        if len(parts) == 2:  # pid-N: a grader from before start times were in the name (upgrades)
            return process_start(int(parts[0])) is not None
        return process_start(int(parts[0])) == int(parts[1])
    except (ValueError, IndexError):
        return True  # not a name of ours: leave it


def sandbox_groups(owners: set[int] | None = None) -> list[Path]:
    """The sandbox groups on this machine made by the grading processes ``owners`` (pids; every
    grader's when None), in every hierarchy this process can see."""
    groups = control_groups()
    if groups is None:
        return []
    found = []
    for parent in groups.parents:
        for folder in parent.glob(GROUP_PREFIX + "*"):
            try:
                owner = int(folder.name.removeprefix(GROUP_PREFIX).split("-")[0])
            except ValueError:
                continue
            if owners is None or owner in owners:
                found.append(folder)
    return found


def remove_stale_groups() -> None:
    """Sandbox groups of grading processes that were killed (their pid is in the name)."""
    for folder in sandbox_groups():
        if not group_owner_alive(folder):
            remove_group([folder], seconds=5)


# ------------------------------------------------------------------ places a sandbox wrote to

MNT_DETACH = 2


def mount_runtime(folder: Path, limits: Limits, uid: int) -> bool:
    """Give ``folder`` (a kernel's run/io/, which the sandbox may write) a tmpfs of its own, with a
    size and a number of files: nothing the kernel writes there lands on the host's disk. Root
    only; False where it cannot be done (the grader then watches the folder, see runtime_usage)."""
    if os.geteuid() != 0:
        return False
    options = (f"size={limits.runtime_mb}m,nr_inodes={limits.runtime_files},mode=700,uid={uid},gid={uid},"
               "nosuid,nodev,noexec")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "dlcourse-runtime", str(folder)],
                          capture_output=True, text=True)
    return made.returncode == 0


def runtime_usage(folder: Path, limits: Limits) -> str | None:
    """None while ``folder`` holds at most the runtime limits, else what it went past. Counts without
    recursion and stops at the first limit passed, so a flood costs the grader little."""
    files, size, pending = 0, 0, [str(folder)]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    files += 1
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        size += entry.stat(follow_symlinks=False).st_blocks * 512
                    if files > limits.runtime_files:
                        return f"more than {limits.runtime_files} files"
                    if size > limits.runtime_mb * 2**20:
                        return f"more than {limits.runtime_mb} MB"
        except OSError:
            continue
    return None


def remove_tree(folder: Path) -> bool:
    """Remove a folder a sandbox could write into, however it was left: any tmpfs mounted in it
    detached first; then without recursion (a chain of thousands of folders costs no stack) and
    through directory descriptors (no path is ever too long), links never followed. Never raises;
    False when something stayed."""
    folder = Path(folder)
    try:
        mounted = [line.split()[4] for line in CGROUP_MOUNTS.read_text().splitlines()]
        libc = ctypes.CDLL(None, use_errno=True)
        for point in sorted((m for m in mounted if m.startswith(f"{folder}/")), key=len, reverse=True):
            libc.umount2(point.encode(), MNT_DETACH)
        if folder.is_symlink() or not folder.is_dir():
            folder.unlink(missing_ok=True)
            return True
        _empty(folder)
        folder.rmdir()
        return True
    except Exception:  # noqa: BLE001 (clean-up must not stop grading: what stays is reported by the caller)
        return not folder.exists()


def _empty(folder: Path) -> None:
    """Empty ``folder``: each sub-folder's own sub-folders are moved up into ``folder`` (so the
    tree is never more than two deep while it goes), its files removed, then it is."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    top = os.open(folder, flags)
    moved = itertools.count()
    try:
        while True:
            with os.scandir(top) as entries:
                names = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
            if not names:
                return
            for name, is_folder in names:
                if not is_folder:
                    os.unlink(name, dir_fd=top)
                    continue
                os.chmod(name, 0o700, dir_fd=top)  # a student's chmod 000 folder (a folder: checked above)
                inner = os.open(name, flags, dir_fd=top)
                try:
                    with os.scandir(inner) as entries:
                        for entry in list(entries):
                            if entry.is_dir(follow_symlinks=False):
                                os.rename(entry.name, f".moved-{next(moved)}-{secrets.token_hex(8)}",
                                          src_dir_fd=inner, dst_dir_fd=top)
                            else:
                                os.unlink(entry.name, dir_fd=inner)
                finally:
                    os.close(inner)
                os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)


def orphans() -> list[str]:
    """What sandboxes left behind on this machine: control groups of grading processes that are
    gone (the next grade run removes them), and processes running as a sandbox uid that no
    grading process holds (none should ever be). Empty when all is well; live graders' own
    sandboxes are not counted."""
    left = [f"control group {folder}" for folder in sandbox_groups() if not group_owner_alive(folder)]
    free = set(range(HOST_UID_BASE, HOST_UID_BASE + HOST_UIDS)) - set(uid_holders())
    left += [f"process {pid} running as a sandbox uid no grader holds" for pid in uid_processes(free)]
    return left


def memory_text(megabytes: int) -> str:
    return f"{megabytes / 1024:g} GB" if megabytes % 256 == 0 else f"{megabytes} MB"


def memory_limit_text(limits: Limits) -> str:
    """How a result names the memory budget a submission went past."""
    return f"memory limit ({memory_text(limits.memory_mb)})"


def sandbox_argv(command: list[str], *, submission: Path, runtime: Path, newroot: Path, limits: Limits,
                 library: Path | None = None) -> list[str]:
    """The argv that runs `command` (an absolute program path and its arguments) in a fresh
    sandbox over a copy of `submission`; `runtime` appears at the same path inside; `library`,
    a sealed copy of the course library, appears where the library is (see readonly_paths)."""
    if os.geteuid() == 0:
        # root sets the sandbox up in fresh mount, PID and network namespaces, then the kernel
        # runs as an unprivileged host uid of its own (so that the process limit is its own)
        uid = run_uid()
        namespace = []
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    else:
        # an ordinary user gets the same through a user namespace in which it is root
        namespace, uid = ["--user", "--map-root-user"], 0
        drop = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    prlimit = ["prlimit", f"--as={limits.address_space_mb * 2**20}", f"--cpu={limits.cpu_seconds}",
               f"--nproc={limits.processes}", f"--fsize={limits.file_mb * 2**20}",
               f"--nofile={limits.open_files}", "--core=0", "--"]
    return (["unshare", *namespace, "--mount", "--pid", "--fork", "--net", "--ipc", "--uts",
             "--cgroup", "--kill-child", "--", "/bin/sh", "-c", SETUP_SCRIPT, "sandbox-setup",
             str(newroot), str(submission), str(runtime), str(limits.disk_mb), str(limits.tmp_mb),
             str(uid), " ".join(readonly_paths(library))]
            + ["/usr/bin/env", "-C", SANDBOX_HOME] + drop + prlimit + command)


def sandbox_environment(extra: dict | None = None) -> dict:
    """A clean environment for the sandboxed kernel: nothing of the grader's leaks in."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": SANDBOX_HOME, "USER": "student", "LANG": "C.UTF-8", "TMPDIR": "/tmp",
        "IPYTHONDIR": "/tmp/.ipython", "MPLCONFIGDIR": "/tmp/.matplotlib", "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter",
        "PYTHONPATH": str(Path(__file__).resolve().parent / "kernel_side"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **GRADING_ENV,  # quick mode, headless, no GPU, one thread per worker
    }
    env.update(extra or {})
    return env


def unavailable_reason(limits: Limits | None = None, *, delegate: bool = False) -> str | None:
    """None when a sandbox, with its memory budget, can be made here, else why not and what to do
    (a sentence for the instructor). ``delegate``: see memory_budget_reason."""
    for program in ("unshare", "prlimit", "setpriv", "chroot", "mount"):
        if shutil.which(program) is None and not Path("/usr/sbin", program).exists():
            return f"`{program}` is not installed (util-linux / coreutils)"
    budget = memory_budget_reason(delegate)  # said after the namespaces: those are the first thing to fix
    limits = limits or Limits()
    with tempfile.TemporaryDirectory(prefix="dlcourse-probe-") as scratch:
        scratch = Path(scratch)
        for name in ("submission", "run", "root"):
            (scratch / name).mkdir()
        (scratch / "submission" / "probe.txt").write_text("ok\n")
        os.chmod(scratch, 0o755)
        argv = sandbox_argv([sys.executable, "-c", "import pathlib; print(pathlib.Path('probe.txt').read_text())"],
                            submission=scratch / "submission", runtime=scratch / "run", newroot=scratch / "root",
                            limits=limits)
        group = SandboxGroup(control_groups(), limits) if budget is None else None
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/",
                                    env=sandbox_environment({"PWD": SANDBOX_HOME}),
                                    preexec_fn=group.join if group else None)
        except (OSError, subprocess.SubprocessError) as error:
            return f"the sandbox could not be started ({error})"
        finally:
            if group is not None:
                group.remove()
        if result.returncode != 0 or "ok" not in result.stdout:
            detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
            return f"user namespaces or mounts are not permitted here ({detail}){user_namespace_advice()}"
    return budget


# the settings that turn user namespaces off for users: {file: (value when off, how to turn them on)}
USER_NAMESPACE_SETTINGS = {
    "/proc/sys/user/max_user_namespaces": ("0", "sudo sysctl -w user.max_user_namespaces=15000"),
    "/proc/sys/kernel/unprivileged_userns_clone": ("0", "sudo sysctl -w kernel.unprivileged_userns_clone=1"),
    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns":  # Ubuntu 24.04 and later
        ("1", "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
}


def user_namespace_advice() -> str:
    """How to enable user namespaces, where the machine's settings say they are off (not root)."""
    if os.geteuid() == 0:
        return ""
    for path, (off, fix) in USER_NAMESPACE_SETTINGS.items():
        try:
            if Path(path).read_text().strip() == off:
                return (f": user namespaces are disabled for users ({Path(path).name} is {off}); enable them with "
                        f"`{fix}` (add it to /etc/sysctl.d/ to keep it), or grade as root")
        except OSError:
            continue
    return ": check that user namespaces are enabled for users, or grade as root"


def memory_budget_reason(delegate: bool = False) -> str | None:
    """None when each sandbox can have its own memory budget (a control group), else why not and how.
    With ``delegate`` (grade, once, before its workers start) a cgroup v2 group of the grader's own
    is first handed to sandboxes (prepare_delegated_group)."""
    if control_groups() is not None:
        return None
    why = prepare_delegated_group() if delegate else "the grader cannot make control groups here"
    if why is None:
        return None
    scope = "`systemd-run --scope -p Delegate=yes python -m autograde grade ...`" if os.geteuid() == 0 else \
        "`systemd-run --user --scope -p Delegate=yes python -m autograde grade ...`"
    return (f"no memory limit can be applied to a sandbox: {why}. Run the grader in a control group of its own "
            f"with the memory and pids controllers: with systemd, {scope}; with cgroup v1, root makes "
            "/sys/fs/cgroup/{memory,pids}/<you>, gives it to you (chown -R) and moves your shell into it "
            "(echo $$ > .../cgroup.procs)")


def describe(limits: Limits) -> list[str]:
    """What a sandbox is on this machine, as `grade` prints it first."""
    groups = control_groups()
    if os.geteuid() == 0:
        who = f"runs as uid {run_uid()} (held by this grader alone)"
    else:
        who = "runs as you, mapped to root in a user namespace"
    tasks = f", {limits.processes} tasks" if groups and groups.pids else ""
    cores = f" and {limits.cpus:g} core(s)" if groups and groups.cpu else ""
    budget = (f"{memory_text(limits.memory_mb)} of memory{tasks}{cores} per submission, with {groups.describe()}"
              if groups else "no memory budget per submission (no control groups)")
    return [f"sandbox: namespaces (mount, PID, network, IPC, UTS), chroot, read-only system; the kernel {who}",
            f"sandbox: {budget}",
            f"sandbox: per process {memory_text(limits.address_space_mb)} of address space, {limits.cpu_seconds} s "
            f"of CPU, {limits.file_mb} MB files, {limits.open_files} open files; home {limits.disk_mb} MB, "
            f"/tmp {limits.tmp_mb} MB",
            f"time: each cell {LIMIT_FACTOR}x the reference run's, at least {LIMIT_FLOOR_S} s, at most "
            f"{limits.cell_seconds} s; the notebook {limits.wall_seconds} s"]
