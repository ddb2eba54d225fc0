"""A warm kernel factory: one per grading worker, so that each submission's kernel starts with
Python, ipykernel, NumPy, PyTorch, Matplotlib and the course library already imported.

Run by a worker (as root, for the sandbox) as `python -P autograde/kernel_factory_server.py
MODULE ...`, it imports the modules, prints "ready", then for each request line (JSON) forks a
child that makes the sandbox itself: new mount, PID, network, IPC and UTS namespaces
(unshare(2)), the same mounts as autograde/sandbox.py's script, then chroot, resource limits,
an unprivileged uid, and the kernel (in the process: PID 1 of the new namespace). It answers
with the kernel's host pid. The import work (about two seconds a submission) is done once per
worker instead of once per submission: this is what amortising start-up means here.

Forking a process that has imported torch is safe as long as it has run no parallel work
yet (no OpenMP threads): the factory only imports.
"""

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x4000000, 0x8000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
libc = ctypes.CDLL(None, use_errno=True)


def check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def child(request):
    """In the forked child: new namespaces, then a grandchild that is PID 1 of the new PID
    namespace and becomes the kernel. The child waits for it and leaves its exit status in
    the runtime folder, where the worker reads why a kernel ended."""
    check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    for procs in request.get("cgroups", []):  # the sandbox's memory and task budget, before anything runs
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    if request["sandbox"]:
        check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    runtime = request["runtime"]
    pid = os.fork()
    if pid == 0:
        try:
            kernel(request)
        except BaseException as error:  # noqa: BLE001 (reported through the log, then gone)
            with open(os.path.join(runtime, "kernel.log"), "a") as log:
                log.write(f"sandbox set-up failed: {type(error).__name__}: {error}\n")
        os._exit(70)
    with open(os.path.join(runtime, "kernel.pid"), "w") as handle:
        handle.write(str(pid))
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(os.path.join(runtime, "kernel.exit"), "w") as handle:
        handle.write(str(code))
    os._exit(0)


def kernel(request):
    log = os.open(os.path.join(request["runtime"], "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if not request["sandbox"]:  # --no-sandbox: a warm kernel in a copy of the submission, nothing more
        os.chdir(request["home"])
        start_kernel(request)
    # this process is PID 1 of the new namespace and stays root: the student cannot signal it
    # or clear its parent-death signal, and when it dies Linux kills the whole namespace
    check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    # the mounts (the same script as the unshare path, minus its final command)
    subprocess.run(["/bin/sh", "-c", request["script"], "sandbox-setup", *request["script_args"], "/bin/true"],
                   check=True, stdout=log, stderr=log, env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
    pid = os.fork()
    if pid == 0:
        try:
            sandboxed_kernel(request)
        finally:
            os._exit(70)
    while True:  # an init: reap everything, leave with the kernel's status
        try:
            finished, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if finished == pid:
            os._exit(min(255, abs(os.waitstatus_to_exitcode(status))) if os.waitstatus_to_exitcode(status) >= 0
                     else 128 - os.waitstatus_to_exitcode(status))


def sandboxed_kernel(request):
    os.closerange(3, 65536)  # nothing of the factory's (its pipes, a directory) crosses the chroot
    os.chroot(request["newroot"])
    os.chdir(request["home"])
    limits = request["limits"]
    for name, value in (("RLIMIT_AS", limits["address_space_mb"] * 2**20), ("RLIMIT_CPU", limits["cpu_seconds"]),
                        ("RLIMIT_NPROC", limits["processes"]), ("RLIMIT_FSIZE", limits["file_mb"] * 2**20),
                        ("RLIMIT_NOFILE", limits["open_files"]), ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))
    uid = request["uid"]
    if os.geteuid() == 0 and uid != 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
    check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")  # setuid cleared it
    start_kernel(request)


def start_kernel(request):
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=sys.argv[1:])
    os._exit(0)


def main():
    for module in sys.argv[1:]:
        __import__(module)
    # a kernel imports the library's references from the sealed copy it is shown, so none may be
    # in the memory it forks from
    from dlcourse.sealing import REFERENCE_PACKAGES

    preloaded = sorted(m for m in sys.modules if m.startswith(REFERENCE_PACKAGES))
    if preloaded:
        print(f"refused: the preloaded modules import graded references ({', '.join(preloaded)})", flush=True)
        sys.exit(1)
    signal.signal(signal.SIGCHLD, lambda *_: reap())
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                child(request)
            except BaseException as error:  # noqa: BLE001
                with open(os.path.join(request["runtime"], "kernel.log"), "a") as log:
                    log.write(f"sandbox could not be made: {type(error).__name__}: {error}\n")
            os._exit(71)
        print(json.dumps({"pid": pid}), flush=True)


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


if __name__ == "__main__":
    main()
