"""NumPy reference implementations: float64, explicit, written to be read.

Import modules side by side with their twins::

    from dlcourse.np import perceptron as np_perceptron
    from dlcourse.pt import perceptron as pt_perceptron
"""
