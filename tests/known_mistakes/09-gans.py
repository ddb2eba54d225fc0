"""Plausible wrong answers to the exercises of 09-gans, as whole answer cells (see
tests/test_known_mistakes.py). At least two per exercise, including those the assignment's
issue names: generator gradients flowing into the discriminator step, labels swapped,
log(1 - D) where the non-saturating loss was asked."""

_OPTIMAL = '''
def optimal_discriminator(p_data, p_g):
    p_data, p_g = np.asarray(p_data, dtype=float), np.asarray(p_g, dtype=float)
    return RESULT
'''


def _optimal(result):
    return _OPTIMAL.replace("RESULT", result)


_GENERATOR = '''
def generator_loss(fake_logits, *, saturating=False):
    if saturating:
        return SATURATING
    return NON_SATURATING
'''


def _generator(saturating="-F.softplus(fake_logits).mean()", non_saturating="F.softplus(-fake_logits).mean()"):
    return _GENERATOR.replace("NON_SATURATING", non_saturating).replace("SATURATING", saturating)


_STEP = '''
def train_step(G, D, real, *, opt_g, opt_d, latent_dim, saturating=False, generator=None):
    ZERO_BOTH
    z = pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device)
    fake = FAKE
    d_loss = pt_gan.discriminator_loss(D(real), D(fake))
    ZERO_D
    d_loss.backward()
    opt_d.step()
    z = pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device)
    g_loss = pt_gan.generator_loss(D(G(z)), saturating=saturating)
    ZERO_G
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
'''


def _step(fake="G(z).detach()", zero_both="pass", zero_d="opt_d.zero_grad()", zero_g="opt_g.zero_grad()"):
    return (_STEP.replace("ZERO_BOTH", zero_both).replace("FAKE", fake).replace("ZERO_D", zero_d)
            .replace("ZERO_G", zero_g))


_COVERAGE = '''
def mode_coverage(samples, *, modes=8, radius=2.0, std=0.02):
    samples = check.as_numpy(samples).astype(float)
    angles = 2 * np.pi * np.arange(modes) / modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    distances = DISTANCES
    nearest = distances.argmin(axis=1)
    good = distances.min(axis=1) <= 3 * std
    if not good.any():
        return 0, 0.0
    counts = np.bincount(nearest[good], minlength=modes)
    return HIT, SHARE
'''


def _coverage(distances="np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)",
              hit="int(np.sum(100 * counts >= good.sum()))", share="float(good.mean())"):
    return _COVERAGE.replace("DISTANCES", distances).replace("HIT", hit).replace("SHARE", share)


MISTAKES = {
    "ex1_optimal_discriminator": {
        "the densities swapped": _optimal("np.divide(p_g, p_data + p_g, out=np.full_like(p_data, 0.5), where=p_data + p_g > 0)"),
        "0/0 left as nan": _optimal("p_data / (p_data + p_g)"),
        "divided by p_g instead of the sum": _optimal("np.divide(p_data, p_g, out=np.full_like(p_data, 0.5), where=p_g > 0)"),
    },
    "ex2_discriminator_loss": {
        "labels swapped (reals as 0, fakes as 1)": '''
def discriminator_loss(real_logits, fake_logits):
    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()
''',
        "log of the sigmoid computed naively": '''
def discriminator_loss(real_logits, fake_logits):
    return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()
''',
        "one mean over reals and fakes together": '''
def discriminator_loss(real_logits, fake_logits):
    return torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()
''',
    },
    "ex3_generator_loss": {
        "log(1 - D) where the non-saturating loss was asked": _generator(non_saturating="-F.softplus(fake_logits).mean()"),
        "non-saturating loss with the wrong sign (log D minimised)": _generator(
            non_saturating="-F.softplus(-fake_logits).mean()"),
        "saturating loss maximised instead of minimised": _generator(saturating="F.softplus(fake_logits).mean()"),
    },
    "ex4_train_step": {
        "generator gradients flowing into the discriminator step": _step(
            fake="G(z)", zero_both="opt_d.zero_grad(); opt_g.zero_grad()", zero_d="pass", zero_g="pass"),
        "the discriminator's gradients never cleared": _step(zero_d="pass"),
        "discriminator trained on the non-detached fakes with G's step reusing them": _step(
            fake="G(z)", zero_g="pass"),
    },
    "ex5_mode_coverage": {
        "3 std tested on each coordinate instead of the distance": _coverage(
            distances="np.abs(samples[:, None, :] - centres[None, :, :]).max(axis=2)"),
        "a mode hit by any high-quality sample (no 1 % rule)": _coverage(hit="int(np.sum(counts > 0))"),
        "share of high quality among the high-quality samples": _coverage(share="1.0"),
    },
}
