"""Plausible wrong answers to the exercises of 09-gans, each an edit of the solution's answer
cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py). At least two per
exercise, including those the assignment's issue names: generator gradients flowing into
the discriminator step, labels swapped, log(1 - D) where the non-saturating loss was asked.
Every one is tagged visible, with the words the failing visible check says about it."""

from known_mistakes.mistakes import edits_of, visible

edit = edits_of("09-gans")

# Exercise 1's division, Exercise 2's loss line, Exercise 3's loss lines
_D_STAR = "np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)"
_L_D = ("real_term = real_label * F.softplus(-real_logits) + (1 - real_label) * F.softplus(real_logits)\n"
        "    fake_term = F.softplus(fake_logits)\n"
        "    return real_term.mean() + fake_term.mean()")
_NON_SATURATING = "return F.softplus(-fake_logits).mean()"
_SATURATING = "return -F.softplus(fake_logits).mean()"
# train_gan's rounds, and its snapshot rule
_ROUND = ("    for rounds in range(1, config.steps + 1):\n"
          "        real = real_sampler(config.batch_size).to(device)\n")
_SNAP = "rounds % config.snapshot_every == 0 and rounds < config.steps"
# train_step's first lines, and where it clears each optimiser's gradients
_FAKES = ("    z = pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device)\n"
          "    fake = G(z).detach()")
_CLEAR_D = ("    opt_d.zero_grad()\n    d_loss.backward()", "    d_loss.backward()")
_CLEAR_G = ("    opt_g.zero_grad()\n    g_loss.backward()", "    g_loss.backward()")
# mode_coverage's test of quality and its rule for a hit
_GOOD = "good = distances.min(axis=1) <= 3 * std"
_HIT = "int(np.sum(100 * counts >= good.sum()))"

MISTAKES = {
    "ex1_optimal_discriminator": {
        "the densities swapped": visible(
            edit("ex1_optimal_discriminator", ("np.divide(p_data, total", "np.divide(p_g, total")),
            hint="p_data on top"),
        "0/0 left as nan": visible(
            edit("ex1_optimal_discriminator", (_D_STAR, "p_data / total")),
            hint="0/0 gives nan"),
        "divided by p_g instead of the sum": visible(
            edit("ex1_optimal_discriminator", (_D_STAR, "np.divide(p_data, p_g, out=np.full_like(total, 0.5), "
                                                        "where=p_g > 0)")),
            hint="over the sum of both densities"),
        "1/2 wherever p_data is 0, also where only fakes land": visible(
            edit("ex1_optimal_discriminator", ("where=total > 0", "where=p_data > 0")),
            hint="only where both densities are 0 is it 1/2"),
        "an epsilon in the denominator instead of 1/2 where both are 0": visible(
            edit("ex1_optimal_discriminator", (_D_STAR, "p_data / (total + 1e-12)")),
            hint="an epsilon in the denominator gives 0"),
        "a loop over the flattened entries, the result left flat": visible(
            edit("ex1_optimal_discriminator", (
                _D_STAR, "np.array([a / t if t > 0 else 0.5 for a, t in zip(p_data.ravel(), total.ravel())])")),
            hint="the same shape as p_data and p_g"),
    },
    "ex2_discriminator_loss": {
        "labels swapped (reals as 0, fakes as 1)": visible(
            edit("ex2_discriminator_loss", (
                _L_D, "return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()")),
            hint="reals are labelled 1"),
        "log of the sigmoid computed naively": visible(
            edit("ex2_discriminator_loss", (
                _L_D, "return -torch.log(torch.sigmoid(real_logits)).mean()"
                      " - torch.log(1 - torch.sigmoid(fake_logits)).mean()")),
            hint="compute it from the logits"),
        "binary cross-entropy on probabilities, not on logits": visible(
            edit("ex2_discriminator_loss", (
                _L_D, "return F.binary_cross_entropy(torch.sigmoid(real_logits), torch.ones_like(real_logits))"
                      " + F.binary_cross_entropy(torch.sigmoid(fake_logits), torch.zeros_like(fake_logits))")),
            hint="nor BCE on probabilities"),
        "one mean over reals and fakes together": visible(
            edit("ex2_discriminator_loss", (
                _L_D, "return torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()")),
            hint="the mean over the reals plus the mean over the fakes"),
        "labels made as (N,) vectors, so (N, 1) logits fail": visible(
            edit("ex2_discriminator_loss", (
                _L_D, "return F.binary_cross_entropy_with_logits(real_logits, torch.ones(len(real_logits)))"
                      " + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros(len(fake_logits)))")),
            hint="the logits may come as (N,) or (N, 1)"),
        "the fakes' label smoothed too (two-sided)": visible(
            edit("ex2_discriminator_loss", ("fake_term = F.softplus(fake_logits)",
                                            "fake_term = real_label * F.softplus(fake_logits) "
                                            "+ (1 - real_label) * F.softplus(-fake_logits)")),
            hint="only the reals' label is smoothed (one-sided)"),
        "the real term without its (1 - real_label) part": visible(
            edit("ex2_discriminator_loss", ("real_term = real_label * F.softplus(-real_logits) "
                                            "+ (1 - real_label) * F.softplus(real_logits)",
                                            "real_term = real_label * F.softplus(-real_logits)")),
            hint="real_label times -log D plus (1 - real_label) times -log(1 - D)"),
        "real_label and 1 - real_label swapped": visible(
            edit("ex2_discriminator_loss", ("real_term = real_label * F.softplus(-real_logits) "
                                            "+ (1 - real_label) * F.softplus(real_logits)",
                                            "real_term = (1 - real_label) * F.softplus(-real_logits) "
                                            "+ real_label * F.softplus(real_logits)")),
            hint="reals are labelled 1"),
    },
    "ex3_generator_loss": {
        "log(1 - D) where the non-saturating loss was asked": visible(
            edit("ex3_generator_loss", (_NON_SATURATING, "return -F.softplus(fake_logits).mean()")),
            hint="-log D(G(z)) = softplus(-logit)"),
        "non-saturating loss with the wrong sign (log D minimised)": visible(
            edit("ex3_generator_loss", (_NON_SATURATING, "return -F.softplus(-fake_logits).mean()")),
            hint="-log D(G(z)) = softplus(-logit)"),
        "saturating loss maximised instead of minimised": visible(
            edit("ex3_generator_loss", (_SATURATING, "return F.softplus(fake_logits).mean()")),
            hint="negative, and minimised"),
        "both losses from log(sigmoid), which overflows": visible(
            edit("ex3_generator_loss",
                 (_SATURATING, "return torch.log(1 - torch.sigmoid(fake_logits)).mean()"),
                 (_NON_SATURATING, "return -torch.log(torch.sigmoid(fake_logits)).mean()")),
            hint="never log(sigmoid)"),
    },
    "ex4_train_step": {
        # both optimisers cleared once, up front: D's backward through the fakes leaves its
        # gradients in G, and G's step adds its own to them
        "generator gradients flowing into the discriminator step": visible(
            edit("ex4_train_step", _CLEAR_D, _CLEAR_G,
                 (_FAKES, "    opt_d.zero_grad()\n    opt_g.zero_grad()\n" + _FAKES.removesuffix(".detach()"))),
            hint="G's update must use g_loss's gradient only"),
        "the discriminator's gradients never cleared": visible(
            edit("ex4_train_step", _CLEAR_D),
            hint="zero opt_d's gradients right before d_loss.backward()"),
        "discriminator trained on the non-detached fakes with G's step reusing them": visible(
            edit("ex4_train_step", ("fake = G(z).detach()", "fake = G(z)"), _CLEAR_G),
            hint="detach the fakes in D's update"),
        "the generator's update reuses the discriminator's latent batch": visible(
            edit("ex4_train_step", (
                "    z = pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device)\n"
                "    fake_logits = D(G(z))", "    fake_logits = D(G(z))")),
            hint="a FRESH latent batch"),
        "saturating ignored: always the non-saturating loss": visible(
            edit("ex4_train_step", (
                "-F.softplus(fake_logits).mean() if saturating else F.softplus(-fake_logits).mean()",
                "F.softplus(-fake_logits).mean()")),
            hint="log(1 - D(G(z))) when saturating=True"),
    },
    "ex5_train_gan": {
        "one real batch drawn before the loop and used in every round": visible(
            edit("ex5_train_gan", (_ROUND, "    real = real_sampler(config.batch_size).to(device)\n"
                                           "    for rounds in range(1, config.steps + 1):\n")),
            hint="draw a fresh real batch with real_sampler in every round"),
        "a fresh latent batch for every snapshot": visible(
            edit("ex5_train_gan", ("G(z_fixed)", "G(pt_gan.sample_latent(config.snapshot_size, config.latent_dim, "
                                                 "generator=generator, device=device))")),
            hint="every snapshot applies G to the one latent batch drawn at the start"),
        "the last round's snapshot taken twice when steps is a multiple of snapshot_every": visible(
            edit("ex5_train_gan", (_SNAP, "rounds % config.snapshot_every == 0")),
            hint="one after the last round (once)"),
        "no snapshot before the first round": visible(
            edit("ex5_train_gan", ("    if config.snapshot_every is not None:\n        snapshot(0)\n", "")),
            hint="one before the first round"),
        "saturating left at step's default": visible(
            edit("ex5_train_gan", ("latent_dim=config.latent_dim,\n                              "
                                   "saturating=config.saturating, generator=generator)",
                                   "latent_dim=config.latent_dim, generator=generator)")),
            hint="pass opt_g, opt_d, latent_dim, saturating and generator to step"),
        "G and D left in the mode they came in": visible(
            edit("ex5_train_gan", ("    G.train()\n    D.train()\n", "")),
            hint="put G and D in training mode"),
        "only the last round's losses kept": visible(
            edit("ex5_train_gan", ('history["d_loss"].append(float(d_loss))', 'history["d_loss"] = [float(d_loss)]'),
                 ('history["g_loss"].append(float(g_loss))', 'history["g_loss"] = [float(g_loss)]')),
            hint="append the g_loss of every round"),
    },
    "ex6_mode_coverage": {
        "3 std tested on each coordinate instead of the distance": visible(
            edit("ex6_mode_coverage", (
                "np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)",
                "np.abs(samples[:, None, :] - centres[None, :, :]).max(axis=2)")),
            hint="use the Euclidean distance to the centre, not a test on each coordinate"),
        "a mode hit by any high-quality sample (no 1 % rule)": visible(
            edit("ex6_mode_coverage", (_HIT, "int(np.sum(counts > 0))")),
            hint="not by any single sample"),
        "a mode hit only above 1 %, not at 1 %": visible(
            edit("ex6_mode_coverage", (_HIT, "int(np.sum(100 * counts > good.sum()))")),
            hint="at least 1 %"),
        "1 % of all samples instead of the high-quality ones": visible(
            edit("ex6_mode_coverage", (_HIT, "int(np.sum(100 * counts >= len(samples)))")),
            hint="1 % of the high-quality samples"),
        "every sample counted for its nearest mode, high quality or not": visible(
            edit("ex6_mode_coverage", ("np.bincount(nearest[good], minlength=modes)",
                                       "np.bincount(nearest, minlength=modes)")),
            hint="only high-quality samples count"),
        "share of high quality among the high-quality samples": visible(
            edit("ex6_mode_coverage", ("float(good.mean())", "1.0")),
            hint="the share is over ALL samples"),
        "a strict < 3 std: samples on the boundary left out": visible(
            edit("ex6_mode_coverage", (_GOOD, "good = distances.min(axis=1) < 3 * std")),
            hint="at most 3 * std (<=)"),
        "3 std written as 0.06, the default std's": visible(
            edit("ex6_mode_coverage", (_GOOD, "good = distances.min(axis=1) <= 0.06")),
            hint="with the std passed in"),
    },
}
