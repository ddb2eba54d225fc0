"""Plausible wrong answers to the exercises of 09-gans, each an edit of the solution's answer
cell (tests/known_mistakes/mistakes.py; see tests/test_known_mistakes.py). At least two per
exercise, including those the assignment's issue names: generator gradients flowing into
the discriminator step, labels swapped, log(1 - D) where the non-saturating loss was asked."""

from known_mistakes.mistakes import edits_of

edit = edits_of("09-gans")

# train_step's first lines, and where it clears each optimiser's gradients
_FAKES = ("    z = pt_gan.sample_latent(len(real), latent_dim, generator=generator, device=real.device)\n"
          "    fake = G(z).detach()")
_CLEAR_D = ("    opt_d.zero_grad()\n    d_loss.backward()", "    d_loss.backward()")
_CLEAR_G = ("    opt_g.zero_grad()\n    g_loss.backward()", "    g_loss.backward()")

MISTAKES = {
    "ex1_optimal_discriminator": {
        "the densities swapped": edit("ex1_optimal_discriminator", ("np.divide(p_data, total", "np.divide(p_g, total")),
        "0/0 left as nan": edit("ex1_optimal_discriminator", (
            "np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)", "p_data / total")),
        "divided by p_g instead of the sum": edit("ex1_optimal_discriminator", (
            "np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)",
            "np.divide(p_data, p_g, out=np.full_like(total, 0.5), where=p_g > 0)")),
    },
    "ex2_discriminator_loss": {
        "labels swapped (reals as 0, fakes as 1)": edit("ex2_discriminator_loss", (
            "F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
            "F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()")),
        "log of the sigmoid computed naively": edit("ex2_discriminator_loss", (
            "F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
            "-torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()")),
        "one mean over reals and fakes together": edit("ex2_discriminator_loss", (
            "F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
            "torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()")),
    },
    "ex3_generator_loss": {
        "log(1 - D) where the non-saturating loss was asked": edit("ex3_generator_loss", (
            "return F.softplus(-fake_logits).mean()", "return -F.softplus(fake_logits).mean()")),
        "non-saturating loss with the wrong sign (log D minimised)": edit("ex3_generator_loss", (
            "return F.softplus(-fake_logits).mean()", "return -F.softplus(-fake_logits).mean()")),
        "saturating loss maximised instead of minimised": edit("ex3_generator_loss", (
            "return -F.softplus(fake_logits).mean()", "return F.softplus(fake_logits).mean()")),
    },
    "ex4_train_step": {
        # both optimisers cleared once, up front: D's backward through the fakes leaves its
        # gradients in G, and G's step adds its own to them
        "generator gradients flowing into the discriminator step": edit(
            "ex4_train_step", _CLEAR_D, _CLEAR_G,
            (_FAKES, "    opt_d.zero_grad()\n    opt_g.zero_grad()\n" + _FAKES.removesuffix(".detach()"))),
        "the discriminator's gradients never cleared": edit("ex4_train_step", _CLEAR_D),
        "discriminator trained on the non-detached fakes with G's step reusing them": edit(
            "ex4_train_step", ("fake = G(z).detach()", "fake = G(z)"), _CLEAR_G),
    },
    "ex5_mode_coverage": {
        "3 std tested on each coordinate instead of the distance": edit("ex5_mode_coverage", (
            "np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)",
            "np.abs(samples[:, None, :] - centres[None, :, :]).max(axis=2)")),
        "a mode hit by any high-quality sample (no 1 % rule)": edit("ex5_mode_coverage", (
            "int(np.sum(100 * counts >= good.sum()))", "int(np.sum(counts > 0))")),
        "share of high quality among the high-quality samples": edit("ex5_mode_coverage", (
            "float(good.mean())", "1.0")),
    },
}
