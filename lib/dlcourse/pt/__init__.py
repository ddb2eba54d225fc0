"""PyTorch twins of ``dlcourse.np``: same file names, function names, argument order and
weight layouts; and modules with no NumPy reference (training, gan, autoencoder,
domain_adaptation, few_shot, distillation). Library code allocates like its inputs (device
and dtype) and never picks a device itself: the notebook does, once, with
``dlcourse.runtime.default_device()``.
"""
