"""Plausible wrong answers to the exercises of 08-representations, as whole answer cells (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: PCA without centring, a reversal that does not negate, prototypes averaged over
the wrong axis, distillation without the T^2 factor."""

_PCA = '''
def pca(X, k):
    X = np.asarray(X, dtype=float)
    mean = X.mean(axis=0)
    _, S, Vt = np.linalg.svd(CENTRED, full_matrices=False)
    components = COMPONENTS
    explained_variance = VARIANCE
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    return components * signs[:, None], mean, explained_variance
'''


def _pca(centred="X - mean", components="Vt[:k]", variance="S[:k] ** 2 / (len(X) - 1)"):
    return _PCA.replace("CENTRED", centred).replace("COMPONENTS", components).replace("VARIANCE", variance)


_ANGLES = '''
def principal_angles(A, B):
    BODY
'''


def _angles(body):
    return _ANGLES.replace("BODY", body)


_EPISODE = '''
def episode(labels, n_way, k_shot, n_query, *, generator=None, classes=None):
    labels = torch.as_tensor(labels)
    pool = torch.unique(labels) if classes is None else torch.as_tensor(classes)
    chosen = CHOSEN
    support, query = [], []
    for c in chosen:
        members = torch.nonzero(labels == c).flatten()
        picked = PICKED
        support.append(picked[:k_shot])
        query.append(picked[k_shot:])
    return torch.stack(support), torch.stack(query), chosen
'''


def _episode(chosen="pool[torch.randperm(len(pool), generator=generator)[:n_way]]",
             picked="members[torch.randperm(len(members), generator=generator)[:k_shot + n_query]]"):
    return _EPISODE.replace("CHOSEN", chosen).replace("PICKED", picked)


_PROTO = '''
def prototypical_loss(support, query):
    n_way, n_query, E = query.shape
    targets = TARGETS
    prototypes = PROTOTYPES
    flat = query.reshape(n_way * n_query, E)
    logits = LOGITS
    loss = F.cross_entropy(logits, targets)
    accuracy = (logits.argmax(dim=1) == targets).float().mean().item()
    return loss, accuracy
'''


def _proto(targets="torch.arange(n_way, device=query.device).repeat_interleave(n_query)",
           prototypes="support.mean(dim=1)",
           logits="-((flat[:, None, :] - prototypes[None, :, :]) ** 2).sum(dim=2)"):
    return _PROTO.replace("TARGETS", targets).replace("PROTOTYPES", prototypes).replace("LOGITS", logits)


_REVERSAL = '''
class GradientReversalFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return FORWARD

    @staticmethod
    def backward(ctx, grad_output):
        return BACKWARD, None
'''


def _reversal(forward="x.view_as(x)", backward="-ctx.scale * grad_output"):
    return _REVERSAL.replace("FORWARD", forward).replace("BACKWARD", backward)


_DISTILL = '''
def distillation_loss(student_logits, teacher_logits, labels, *, temperature=4.0, alpha=0.9):
    T = temperature
    soft = SOFT
    hard = F.cross_entropy(student_logits, labels)
    return COMBINED
'''


def _distill(soft='F.kl_div(F.log_softmax(student_logits / T, dim=1), F.softmax(teacher_logits / T, dim=1), '
                  'reduction="batchmean")',
             combined="alpha * T ** 2 * soft + (1 - alpha) * hard"):
    return _DISTILL.replace("SOFT", soft).replace("COMBINED", combined)


MISTAKES = {
    "ex1_pca": {
        "PCA without centring": _pca(centred="X"),
        "columns of Vt taken as the directions": _pca(components="Vt[:, :k].T"),
        "variance divided by N instead of N - 1": _pca(variance="S[:k] ** 2 / len(X)"),
        "singular values taken as variances": _pca(variance="S[:k]"),
    },
    "ex2_principal_angles": {
        "bases not orthonormalised": _angles('''cosines = np.linalg.svd(np.asarray(A, float) @ np.asarray(B, float).T, compute_uv=False)
    return np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))'''),
        "angles between matching rows, not subspaces": _angles('''A, B = np.asarray(A, float), np.asarray(B, float)
    n = min(len(A), len(B))
    cosines = np.abs(np.sum(A[:n] * B[:n], axis=1)) / (np.linalg.norm(A[:n], axis=1) * np.linalg.norm(B[:n], axis=1))
    return np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))'''),
        "degrees instead of radians": _angles('''Qa, _ = np.linalg.qr(np.asarray(A, dtype=float).T)
    Qb, _ = np.linalg.qr(np.asarray(B, dtype=float).T)
    cosines = np.linalg.svd(Qa.T @ Qb, compute_uv=False)
    return np.sort(np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0))))'''),
    },
    "ex3_episode": {
        "examples drawn with replacement": _episode(
            picked="members[torch.randint(len(members), (k_shot + n_query,), generator=generator)]"),
        "always the first n_way classes": _episode(chosen="pool[:n_way]"),
        "always the first examples of each class": _episode(picked="members[:k_shot + n_query]"),
    },
    "ex4_prototypical_loss": {
        "prototypes averaged over the wrong axis (the classes)": _proto(prototypes="support.mean(dim=0)"),
        "distances not negated": _proto(logits="((flat[:, None, :] - prototypes[None, :, :]) ** 2).sum(dim=2)"),
        "targets tiled instead of repeated": _proto(targets="torch.arange(n_way, device=query.device).repeat(n_query)"),
        "distances not squared": _proto(logits="-torch.cdist(flat, prototypes)"),
    },
    "ex5_gradient_reversal": {
        "reversal that does not negate": _reversal(backward="ctx.scale * grad_output"),
        "scale ignored": _reversal(backward="-grad_output"),
        "negated in the forward pass too": _reversal(forward="-x"),
    },
    "ex6_distillation": {
        "distillation without the T^2 factor": _distill(combined="alpha * soft + (1 - alpha) * hard"),
        "temperature on the teacher only": _distill(
            soft='F.kl_div(F.log_softmax(student_logits, dim=1), F.softmax(teacher_logits / T, dim=1), '
                 'reduction="batchmean")'),
        "KL averaged over classes too (reduction='mean')": _distill(
            soft='F.kl_div(F.log_softmax(student_logits / T, dim=1), F.softmax(teacher_logits / T, dim=1), '
                 'reduction="mean")'),
        "alpha on the wrong term": _distill(combined="(1 - alpha) * T ** 2 * soft + alpha * hard"),
    },
}
