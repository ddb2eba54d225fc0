"""dlcourse: the helper library of the deep-learning course.

``dlcourse.np`` holds NumPy reference implementations (float64, explicit forward/backward),
``dlcourse.pt`` their PyTorch twins (same names and argument order, device-following);
``validate`` holds the argument checks the two share. ``runtime`` picks the device, seeds
and sizes the compute budget; ``check`` holds the helpers that exercises and tests use to
compare answers; ``data``, ``plot`` and ``widgets`` serve the notebooks.
"""

__version__ = "0.1.0"
