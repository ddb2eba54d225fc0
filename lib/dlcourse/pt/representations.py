"""Learned representations in PyTorch: autoencoders, few-shot episodes, gradient reversal
and distillation.

Legend: N batch, D input features, C code size, E embedding size, K classes, k components.

    components, mean, variance = pca(X, k)                 twin of dlcourse.np.representations.pca
    model = Autoencoder(784, [256, 64], 16, output_activation=nn.Sigmoid).to(device)
    losses = train_autoencoder(model, X_train, epochs=10, noise={"kind": "mask", "level": 0.3})
    x_noisy = corrupt(x, kind="gaussian", level=0.5)       a denoising autoencoder's input
    features = grad_reverse(features, scale=lam)           identity forward, -lam * gradient backward
    support, query, classes = episode(labels, 5, 1, 15)    indices (5, 1), (5, 15), labels (5,)
    loss, accuracy = prototypical_loss(f(x[support]), f(x[query]))  (n_way, k_shot, E), (n_way, n_query, E)
    loss = distillation_loss(student(x), teacher(x), y, temperature=4.0, alpha=0.9)

Weights follow torch.nn: ``nn.Linear(n_in, n_out).weight`` is (n_out, n_in). Library
code allocates like its inputs; random draws use ``generator`` (None: torch's global one)
on the generator's own device and are then moved, so a seeded CPU generator gives the same
draws whatever device the data are on.
"""

import math
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from dlcourse import runtime

CORRUPTIONS = ("mask", "gaussian")


def pca(X, k):
    """Torch twin of np.representations.pca: (components: (k, D), mean: (D,),
    explained_variance: (k,)) of X: (N, D), on X's device and in X's dtype.

    The same centring, SVD, sign convention (each component's largest-|.| entry
    positive) and variance S**2 / (N - 1) as the NumPy reference.
    """
    if not isinstance(X, torch.Tensor) or X.ndim != 2:
        raise ValueError(f"X must be a tensor (N, D), got shape {tuple(getattr(X, 'shape', ()))}")
    N, D = X.shape
    if N < 2:
        raise ValueError(f"X must hold at least 2 samples to have a variance, got shape {tuple(X.shape)}")
    if isinstance(k, bool) or not isinstance(k, Integral) or not 1 <= k <= min(N, D):
        raise ValueError(f"k must be an int with 1 <= k <= min(N, D) = {min(N, D)} for X: {tuple(X.shape)}, "
                         f"got {k!r}")
    if not X.is_floating_point():
        X = X.to(torch.get_default_dtype())
    mean = X.mean(dim=0)                                                # (D,)
    _, S, Vt = torch.linalg.svd(X - mean, full_matrices=False)          # S: (min(N, D),), Vt: (min(N, D), D)
    k = int(k)
    components = Vt[:k]                                                 # (k, D)
    rows = torch.arange(k, device=X.device)
    largest = components[rows, components.abs().argmax(dim=1)]         # (k,)
    components = components * torch.where(largest < 0, -1.0, 1.0).to(X.dtype)[:, None]
    return components, mean, S[:k] ** 2 / (N - 1)


# ---------------------------------------------------------------- autoencoders


def _make(layer):
    """A module from a class (nn.ReLU) or an instance (nn.LeakyReLU(0.1))."""
    return layer if isinstance(layer, nn.Module) else layer()


class Autoencoder(nn.Module):
    """x (N, D) -> encoder -> code z (N, C) -> decoder -> reconstruction (N, D).

    The encoder is Linear layers n_in -> hidden[0] -> ... -> n_code with ``activation``
    after each hidden layer and none after the code; the decoder mirrors it, n_code ->
    hidden[-1] -> ... -> n_in, with ``activation`` after each hidden layer and
    ``output_activation`` (for instance nn.Sigmoid for pixels in [0, 1]) at the end, if
    given. ``hidden=[]`` and ``activation=None`` is the linear autoencoder, which at its
    optimum spans the same subspace as PCA's top n_code components.

    ``tied=True``: the decoder reuses the encoder's weights transposed (decoder layer j
    computes F.linear(h, W.T, b), W the weight of the mirrored encoder layer) and has only
    its own biases, about half the parameters. Inputs of any shape (N, ...) with
    prod(...) = n_in, such as MNIST's (N, 1, 28, 28), are flattened to (N, D).
    """

    def __init__(self, n_in: int, hidden: list[int], n_code: int, *, activation=nn.ReLU, tied: bool = False,
                 output_activation=None):
        super().__init__()
        widths = [n_in, *hidden, n_code]
        if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"n_in, hidden and n_code must be positive ints, got {n_in}, {hidden}, {n_code}")
        if hidden and activation is None:
            raise ValueError("activation=None is only for the linear autoencoder (hidden=[]): stacked linear "
                             "layers without activations are one linear map")
        self.n_in, self.n_code, self.tied = n_in, n_code, tied
        encoder: list[nn.Module] = []
        for j, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            encoder.append(nn.Linear(a, b))
            if j < len(hidden):
                encoder.append(_make(activation))
        self.encoder = nn.Sequential(*encoder)
        back = widths[::-1]                                   # n_code, hidden reversed, n_in
        if tied:
            # decoder layer j maps back[j] -> back[j + 1] with its own bias (back[j + 1],)
            self.decoder_biases = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in back[1:])
            self.decoder_activations = nn.ModuleList(_make(activation) for _ in hidden)
        else:
            decoder: list[nn.Module] = []
            for j, (a, b) in enumerate(zip(back[:-1], back[1:])):
                decoder.append(nn.Linear(a, b))
                if j < len(hidden):
                    decoder.append(_make(activation))
            self.decoder = nn.Sequential(*decoder)
        self.output_activation = _make(output_activation) if output_activation is not None else None

    def _flatten(self, x):
        x = x.reshape(len(x), -1)                             # (N, D)
        if x.shape[1] != self.n_in:
            raise ValueError(f"x must be (N, {self.n_in}) or reshape to it, such as (N, 1, 28, 28) for "
                             f"n_in = 784; got {x.shape[1]} features per sample")
        return x

    def encode(self, x):
        """x: (N, D) or (N, ...) -> code z: (N, C)."""
        return self.encoder(self._flatten(x))

    def decode(self, z):
        """z: (N, C) -> reconstruction (N, D), flat."""
        if z.ndim != 2 or z.shape[1] != self.n_code:
            raise ValueError(f"z must be (N, {self.n_code}), got shape {tuple(z.shape)}")
        if self.tied:
            linears = [m for m in self.encoder if isinstance(m, nn.Linear)][::-1]
            h = z
            for j, (layer, bias) in enumerate(zip(linears, self.decoder_biases)):
                h = F.linear(h, layer.weight.t(), bias)       # layer.weight: (out, in), so W.T maps out -> in
                if j < len(self.decoder_activations):
                    h = self.decoder_activations[j](h)
        else:
            h = self.decoder(z)
        return self.output_activation(h) if self.output_activation is not None else h

    def forward(self, x):
        """x: (N, D) or (N, ...) -> reconstruction (N, D), flat."""
        return self.decode(self.encode(x))


def corrupt(x, *, kind: str = "mask", level: float = 0.3, generator: torch.Generator | None = None):
    """A corrupted copy of x (any shape) for a denoising autoencoder; x is not modified.

    kind="mask": each entry is set to 0 with probability ``level`` (masking noise, Vincent
    et al. 2008), no rescaling. kind="gaussian": x + noise with noise ~ N(0, level^2).
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"kind must be one of {CORRUPTIONS}, got {kind!r}")
    level = float(level)
    if kind == "mask" and not 0.0 <= level <= 1.0:
        raise ValueError(f"level (the probability of zeroing an entry) must be in [0, 1], got {level}")
    if kind == "gaussian" and level < 0:
        raise ValueError(f"level (the noise's standard deviation) must be >= 0, got {level}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    device = generator.device if generator is not None else x.device
    dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    if kind == "mask":
        keep = torch.rand(x.shape, generator=generator, device=device, dtype=dtype).to(x.device) >= level
        return x * keep
    noise = torch.randn(x.shape, generator=generator, device=device, dtype=dtype).to(x.device)
    return x + level * noise


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def train_autoencoder(model: nn.Module, X, *, epochs: int, lr: float = 1e-3, batch_size: int = 128,
                      noise: dict | None = None, generator: torch.Generator | None = None,
                      progress: bool | None = None) -> list[float]:
    """Train ``model`` to reconstruct X: (N, ...) with Adam and the mean squared error.

    Each epoch visits X in shuffled mini-batches, moved to the model's device as they are
    used. With ``noise`` (corrupt's keyword arguments, such as {"kind": "mask", "level":
    0.3}) the model sees corrupt(x) and is scored against the clean x: a denoising
    autoencoder. The target is x flattened to (N, D), which is what Autoencoder returns.
    Returns the mean training loss of each epoch (averaged while the weights change).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    X = torch.as_tensor(X)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must be (N, D) or (N, ...) with N >= 1, got shape {tuple(X.shape)}")
    if noise is not None:
        if not isinstance(noise, dict) or "generator" in noise:
            raise ValueError("noise must be None or a dict of corrupt's keyword arguments (kind, level); "
                             "the generator is train_autoencoder's own")
        corrupt(X[:1], **noise)                               # a bad kind or level fails before training
    device = _model_device(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    bar = runtime.progress(range(epochs), desc="autoencoder", enabled=progress is not False)
    for _ in bar:
        order = torch.randperm(len(X), generator=generator)
        total = 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            x = X[batch].to(device)
            target = x.reshape(len(x), -1)                    # (B, D)
            seen = corrupt(x, **noise, generator=generator) if noise is not None else x
            loss = F.mse_loss(model(seen), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(X))
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"the training loss became {losses[-1]}: lower the learning rate")
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    return losses


# ---------------------------------------------------------------- domain adaptation


class GradientReversalFunction(torch.autograd.Function):
    """Identity on the way forward, gradient times -scale on the way back (Ganin &
    Lempitsky 2015): the layers before it learn to make the domain classifier after it
    fail, while the classifier itself learns to succeed."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)          # a new tensor (a view), so autograd records this step

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.scale * grad_output, None                 # no gradient for scale


def grad_reverse(x, scale: float = 1.0):
    """x unchanged; its gradient multiplied by -scale in backward."""
    return GradientReversalFunction.apply(x, scale)


class GradientReversal(nn.Module):
    """grad_reverse as a layer: nn.Sequential(features, GradientReversal(0.3), domain_head).
    ``scale`` may be changed during training (DANN ramps it from 0 to 1)."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return grad_reverse(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


# ---------------------------------------------------------------- few-shot learning


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
            raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
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


# ---------------------------------------------------------------- distillation


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
