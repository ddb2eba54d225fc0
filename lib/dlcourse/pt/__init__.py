"""PyTorch twins of ``dlcourse.np``: same file names, function names, argument order and
weight layouts. Library code allocates like its inputs (device and dtype) and never picks
a device itself: the notebook does, once, with ``dlcourse.runtime.default_device()``.
"""
