"""Neural counterparts of the seed papers' deep methods (PyTorch; install the extra ``neural``).

Importing :mod:`rltheory` never imports torch; importing this package does.

Modules
    :mod:`rltheory.neural.common`: device, seeding, replay buffers, MLPs (spectral norm), config, the training loop
    and its hooks, SAC parts, MBPO's dynamics models and schedule.
    :mod:`rltheory.neural.dsac_t`: DSAC-T (Duan et al., arXiv:2310.05858), with DSAC-v1 and SAC as switches.
    :mod:`rltheory.neural.lipschitz_mbrl`: MBPO with an ensemble or a single model with a Lipschitz-regularised
    value function (Zheng et al., arXiv:2302.01244).
"""
