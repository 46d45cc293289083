"""Latent Explorer: train a VAE / β-VAE and see what it learned.

`explorer.core` is plain PyTorch + NumPy (no Qt): datasets, the model, the training
loop, checkpoints, latent planes and metrics. `explorer.ui` is the Qt desktop app on
top of it, and `explorer.cli` the headless front end.
"""

__version__ = "0.1.0"

import logging as _logging

# A library stays quiet until a front end asks for a log file (explorer.logs).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
