"""Grading functions that fail the way a grading worker can, for the station's worker tests
(module-level, so that a spawned worker can import them)."""

import os
import time

from autograde import station


def grade_or_die(submission: station.Submission) -> dict:
    """A worker that dies on the student named 'crash', hangs on 'hang', and grades every other
    submission at once (score = the index in its name)."""
    if submission.student == "crash":
        os._exit(9)
    if submission.student == "hang":
        time.sleep(3600)
    time.sleep(0.2)
    return {"student": submission.student, "assignment": submission.assignment, "fingerprint": "f",
            "notebooks": {}, "reasons": [], "seconds": 0.2, "worker": os.getpid()}
