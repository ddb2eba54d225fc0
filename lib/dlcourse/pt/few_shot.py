"""Few-shot learning in PyTorch: N-way K-shot episodes and the prototypical-network loss
(Snell et al. 2017).

Legend: N examples in the data set, E embedding size; an episode has n_way classes,
k_shot support and n_query query examples of each.

    support, query, classes = episode(labels, 5, 1, 15)    indices (5, 1), (5, 15), labels (5,)
    loss, accuracy = prototypical_loss(f(x[support]), f(x[query]))  (n_way, k_shot, E), (n_way, n_query, E)

Random draws use ``generator`` (None: torch's global one), a CPU generator: the indices
are drawn on the CPU and then moved to the labels' device, so a seeded generator gives
the same episodes whatever device the data are on.
"""

from numbers import Integral

import torch
import torch.nn.functional as F

from dlcourse import check


def episode(labels, n_way: int, k_shot: int, n_query: int, *, generator: torch.Generator | None = None,
            classes=None):
    """One N-way K-shot episode: ``n_way`` classes drawn without replacement (from
    ``classes`` if given, else from every label present), then ``k_shot + n_query``
    distinct examples of each, the first k_shot the support set, the rest the queries.

    labels: (N,) integer tensor. Returns (support: (n_way, k_shot), query: (n_way,
    n_query), chosen_classes: (n_way,)), indices into labels and the class of each row, on
    labels' device: labels[support[i]] and labels[query[i]] all equal chosen_classes[i],
    so row i is class i of the episode (the target of prototypical_loss).

    Every candidate class must have at least k_shot + n_query examples, so that whether an
    episode can be drawn does not depend on the draw; pass ``classes`` to leave rare
    classes out.
    """
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be a 1-D integer tensor (N,), got shape {tuple(labels.shape)} "
                         f"and dtype {labels.dtype}")
    for name, value, least in (("n_way", n_way, 1), ("k_shot", k_shot, 1), ("n_query", n_query, 0)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
            raise ValueError(f"{name} must be an int >= {least}, got {check.shown(value)}")
    cpu = labels.cpu()
    pool = torch.unique(cpu) if classes is None else torch.as_tensor(classes).reshape(-1).cpu()
    if len(torch.unique(pool)) != len(pool):
        raise ValueError(f"classes lists a class twice: {pool.tolist()}")
    if n_way > len(pool):
        raise ValueError(f"n_way = {n_way} is more than the {len(pool)} classes to choose from")
    need = k_shot + n_query
    members = [(cpu == c).nonzero().squeeze(1) for c in pool]           # each (count,)
    short = [(c, len(m)) for c, m in zip(pool.tolist(), members) if len(m) < need]
    if short:
        shown = ", ".join(f"class {c} has {n}" for c, n in short[:5])
        raise ValueError(f"an episode needs k_shot + n_query = {need} examples of each class, but {shown}"
                         f"{' ...' if len(short) > 5 else ''}; pass classes= to leave them out")
    chosen = torch.randperm(len(pool), generator=generator)[:n_way]     # (n_way,) positions in pool
    picks = torch.stack([members[i][torch.randperm(len(members[i]), generator=generator)[:need]]
                         for i in chosen.tolist()])                     # (n_way, k_shot + n_query)
    picks = picks.to(labels.device)
    return picks[:, :k_shot], picks[:, k_shot:], pool[chosen].to(device=labels.device, dtype=labels.dtype)


def prototypical_loss(support, query):
    """The prototypical-network loss of one episode (Snell et al. 2017).

    support: (n_way, k_shot, E) and query: (n_way, n_query, E) embeddings, row i of both
    from class i. Each class's prototype is the mean of its support embeddings, (n_way,
    E); the logits of a query are minus its squared Euclidean distances to the
    prototypes, (n_way * n_query, n_way); the loss is their cross-entropy with target i
    for the queries of row i. Returns (loss, a scalar tensor; accuracy, a float: the share
    of queries whose nearest prototype is their own class's).
    """
    if support.ndim != 3 or query.ndim != 3 or support.shape[0] != query.shape[0] \
            or support.shape[2] != query.shape[2] or support.shape[1] < 1 or query.shape[1] < 1:
        raise ValueError(f"support must be (n_way, k_shot, E) and query (n_way, n_query, E) with the same n_way "
                         f"and E, k_shot, n_query >= 1; got {tuple(support.shape)} and {tuple(query.shape)}")
    n_way, n_query, E = query.shape
    prototypes = support.mean(dim=1)                                     # (n_way, E)
    q = query.reshape(n_way * n_query, E)                                # (n_way*n_query, E)
    logits = -((q[:, None, :] - prototypes[None, :, :]) ** 2).sum(dim=2)  # (n_way*n_query, n_way)
    targets = torch.arange(n_way, device=query.device).repeat_interleave(n_query)  # (n_way*n_query,)
    loss = F.cross_entropy(logits, targets)
    accuracy = (logits.argmax(dim=1) == targets).float().mean().item()
    return loss, accuracy
