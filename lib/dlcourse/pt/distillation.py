"""Knowledge distillation in PyTorch (Hinton, Vinyals & Dean 2015): a student trained on a
teacher's softened predictions.

Legend: N batch, K classes.

    loss = distillation_loss(student(x), teacher(x), y, temperature=4.0, alpha=0.9)
                                                           logits (N, K), (N, K), labels (N,)
"""

import torch.nn.functional as F


def distillation_loss(student_logits, teacher_logits, labels, *, temperature: float = 4.0, alpha: float = 0.9):
    """Knowledge distillation (Hinton, Vinyals & Dean 2015):

        alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, labels)

    student_logits, teacher_logits: (N, K) for K classes; labels: (N,). The KL is summed
    over classes and averaged over the batch (F.kl_div's "batchmean"). The teacher is
    detached: this loss trains the student only.

    Why T^2: the soft term's gradient with respect to a student logit is
    (softmax(student / T) - softmax(teacher / T)) / T, and for T large compared with the
    logits that difference itself shrinks as 1/T, so the gradient scales as 1/T^2.
    Multiplying by T^2 keeps the soft and hard terms' relative weight what ``alpha`` says
    whatever the temperature.
    """
    if student_logits.ndim != 2 or teacher_logits.shape != student_logits.shape:
        raise ValueError(f"student_logits and teacher_logits must both be (N, K), got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")
    if tuple(labels.shape) != (student_logits.shape[0],):
        raise ValueError(f"labels must be ({student_logits.shape[0]},) to match student_logits: "
                         f"{tuple(student_logits.shape)}, got shape {tuple(labels.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    T = float(temperature)
    log_student = F.log_softmax(student_logits / T, dim=1)               # (N, K)
    log_teacher = F.log_softmax(teacher_logits.detach() / T, dim=1)      # (N, K)
    soft = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True) * T * T
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1.0 - alpha) * hard
