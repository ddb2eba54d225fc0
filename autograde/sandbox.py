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

When the grader runs as root the sandboxed process runs as an unprivileged host uid of its
own (one per worker slot), so that the process limit counts only its processes; otherwise it
runs as the invoking user mapped to root inside a user namespace (the limits still apply).
"""

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dlcourse.grading import CELL_TIMEOUT_S, GRADING_ENV, NOTEBOOK_TIMEOUT_S

SANDBOX_HOME = "/home/student"
# host uids given to sandboxed processes when grading as root: one per concurrent sandbox
HOST_UID_BASE = 620000


class SandboxUnavailable(RuntimeError):
    """The namespaces or mounts the sandbox needs cannot be made on this machine."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Wall time is enforced by the grader, the rest by Linux."""

    memory_mb: int = 4096          # address space of each process (RLIMIT_AS)
    cpu_seconds: int = 600         # CPU time of each process (RLIMIT_CPU)
    wall_seconds: int = NOTEBOOK_TIMEOUT_S  # the whole notebook, start to end
    cell_seconds: int = CELL_TIMEOUT_S      # one cell (also nbgrader's Execute.timeout)
    processes: int = 64            # processes and threads of the sandbox user (RLIMIT_NPROC)
    file_mb: int = 64              # largest file a process may write (RLIMIT_FSIZE)
    disk_mb: int = 256             # the writable home folder (tmpfs size)
    tmp_mb: int = 256              # /tmp and /dev/shm (tmpfs size each)
    output_kb: int = 16384         # output of the whole notebook (figures included); beyond it the cell is stopped
    open_files: int = 256          # RLIMIT_NOFILE


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
mount --bind "$RUNTIME" "$NEWROOT$RUNTIME"
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


def run_uid(slot: int) -> int:
    """The host uid a sandbox of this worker slot runs as: its own when grading as root (so that
    the process limit counts only its processes), the grader's otherwise."""
    return HOST_UID_BASE + slot if os.geteuid() == 0 else os.geteuid()


def sandbox_argv(command: list[str], *, submission: Path, runtime: Path, newroot: Path, limits: Limits,
                 slot: int = 0, library: Path | None = None) -> list[str]:
    """The argv that runs `command` (an absolute program path and its arguments) in a fresh
    sandbox over a copy of `submission`; `runtime` appears at the same path inside; `library`,
    a sealed copy of the course library, appears where the library is (see readonly_paths)."""
    if os.geteuid() == 0:
        # root sets the sandbox up in fresh mount, PID and network namespaces, then the kernel
        # runs as an unprivileged host uid of its own (so that the process limit is its own)
        uid = run_uid(slot)
        namespace = []
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    else:
        # an ordinary user gets the same through a user namespace in which it is root
        namespace, uid = ["--user", "--map-root-user"], 0
        drop = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    prlimit = ["prlimit", f"--as={limits.memory_mb * 2**20}", f"--cpu={limits.cpu_seconds}",
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


def unavailable_reason() -> str | None:
    """None when a sandbox can be made here, else why not (a sentence for the instructor)."""
    for program in ("unshare", "prlimit", "setpriv", "chroot", "mount"):
        if shutil.which(program) is None and not Path("/usr/sbin", program).exists():
            return f"`{program}` is not installed (util-linux / coreutils)"
    with tempfile.TemporaryDirectory(prefix="dlcourse-probe-") as scratch:
        scratch = Path(scratch)
        for name in ("submission", "run", "root"):
            (scratch / name).mkdir()
        (scratch / "submission" / "probe.txt").write_text("ok\n")
        os.chmod(scratch, 0o755)
        argv = sandbox_argv([sys.executable, "-c", "import pathlib; print(pathlib.Path('probe.txt').read_text())"],
                            submission=scratch / "submission", runtime=scratch / "run", newroot=scratch / "root",
                            limits=Limits())
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/",
                                    env=sandbox_environment({"PWD": SANDBOX_HOME}))
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"the sandbox could not be started ({error})"
        if result.returncode != 0 or "ok" not in result.stdout:
            detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
            return f"user namespaces or mounts are not permitted here ({detail})"
    return None
