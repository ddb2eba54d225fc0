"""The judge's own interpreter: an IPython shell in the grading worker, where the instructor's
set-up and test cells run and no student code ever has. The names of the student's answers are
bound here to stand-ins that call into the kernel (autograde/kernel_calls.py).
"""

import os
import signal

from dlcourse.grading import JUDGE_ENV, failure_message, hidden_lines

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
    """Run instructor code in the judge; returns None or how the failure reads (the grading model's
    failure_message: 'Name: message', or the wording for an exception without one; no traceback: a
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
    hidden = not message and failed_in_hidden_part(shell, source, error)
    return failure_message(type(error).__name__, message, hidden=hidden)


def failed_in_hidden_part(shell, source: str, error: BaseException) -> bool:
    """Whether ``error``, raised by the cell ``source`` run in ``shell``, comes from a line of
    the cell's hidden-test regions: a frame of the cell's own code (its module level, or a
    function it defines) stands on such a line. The cell's code is told by the file name
    IPython compiled it under, that of its module-level frame (run with the shell's globals);
    line numbers are read in the cell as IPython transformed it (comments, the markers
    included, stay in place)."""
    try:
        lines = hidden_lines(shell.transform_cell(source))
    except Exception:  # noqa: BLE001 (a cell IPython cannot transform failed before it ran)
        return False
    frames, tb = [], error.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    cell = next((frame.f_code.co_filename for frame, _ in frames
                 if frame.f_code.co_name == "<module>" and frame.f_globals is shell.user_global_ns), None)
    return cell is not None and any(frame.f_code.co_filename == cell and line in lines for frame, line in frames)



def bind_answers(shell, calls, names: list[str]):
    """Point the judge's names for the student's answers at the kernel's current ones."""
    found = calls.request("describe", names)
    for name in names:
        if name in found:
            shell.user_ns[name] = found[name]
        else:
            shell.user_ns.pop(name, None)

