"""The course's grading station: ``python -m autograde <verb>`` from the repository root.

Verbs: ``release`` (solutions/ -> course/), ``grade`` (autograde/submitted/ -> gradebook),
``feedback`` (HTML per student), ``export`` (grades as CSV) and, for contributors,
``execute`` (re-run a solution notebook in quick mode and store its outputs).
This is the plain sequential station; nbgrader does the work underneath, configured by
``autograde/nbgrader_config.py``.
"""
