"""The judge's own interpreter: an IPython shell in the grading worker, where the instructor's
set-up and test cells run and no student code ever has. The names of the student's answers are
bound here to stand-ins that call into the kernel (autograde/kernel_calls.py).
"""

import os
import signal

from dlcourse.grading import JUDGE_ENV

from .kernel import KernelLost

_shell = None


def judge_shell():
    """One IPython shell per worker process, reset for every notebook (imports stay cached)."""
    global _shell
    if _shell is None:
        os.environ.setdefault("MPLBACKEND", "Agg")
        os.environ.update(JUDGE_ENV)
        import torch
        from IPython.core.interactiveshell import InteractiveShell

        torch.set_num_threads(1)
        _shell = InteractiveShell.instance()
    return _shell


class JudgeTimeout(Exception):
    """A test ran too long in the judge itself (e.g. on an absurd symbolic answer)."""


def run_in_judge(shell, source: str, seconds: float | None = None):
    """Run instructor code in the judge; returns None or 'Name: message' (no traceback: a
    traceback would show the hidden test's lines). With `seconds`, a timer stops a test that
    runs too long here (main thread only: Python delivers signals there)."""
    import threading

    from IPython.utils.capture import capture_output

    timed = seconds is not None and threading.current_thread() is threading.main_thread()
    if timed:
        def expire(*_):
            raise JudgeTimeout(f"the test ran past {seconds:.0f} s in the grader")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with capture_output():
            result = shell.run_cell(source, store_history=False, silent=True)
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    error = result.error_before_exec or result.error_in_exec
    if error is None:
        return None
    if isinstance(error, KernelLost):
        raise error
    message = str(error).strip()
    return f"{type(error).__name__}: {message}" if message else f"{type(error).__name__} (a hidden check failed)"



def bind_answers(shell, calls, names: list[str]):
    """Point the judge's names for the student's answers at the kernel's current ones."""
    found = calls.request("describe", names)
    for name in names:
        if name in found:
            shell.user_ns[name] = found[name]
        else:
            shell.user_ns.pop(name, None)

