"""KL schedules: how the KL term's weight, or the capacity it is held at, moves in a run.

Three schedules (TrainConfig.kl_schedule), each a pure function of the optimiser step:

- warmup: the weight ramps linearly from 0 to 1 over `warmup_epochs`, then stays at 1
  (0 epochs: 1 from the start, a constant β).
- cyclical (Fu et al., "Cyclical Annealing Schedule", NAACL 2019): the run is cut into
  `cycles` equal cycles; in each the weight ramps linearly from 0 to 1 over the first
  `cycle_ramp` share of the cycle and stays at 1 for the rest, so the code is rebuilt
  several times with the decoder's help (against KL vanishing).
- capacity (Burgess et al., "Understanding disentangling in β-VAE", 2018): the weight
  stays 1 and the loss holds the KL at a capacity C instead, β·|KL − C|, with C growing
  linearly from 0 to `c_max` nats over `capacity_epochs` (0: the whole run). The
  AnnealedVAE is this objective with its own weight γ.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.core.config import TrainConfig


@dataclass(frozen=True)
class Schedule:
    """The schedule of one run, in optimiser steps."""

    kind: str  # one of config.KL_SCHEDULES
    steps_per_epoch: int
    steps_total: int
    config: TrainConfig

    def factor(self, step: int) -> float:
        """The KL weight's factor in [0, 1] at `step` (0 for the first step)."""
        c = self.config
        if self.kind == "warmup":
            ramp = c.warmup_epochs * self.steps_per_epoch
            return min(1.0, step / ramp) if ramp > 0 else 1.0
        if self.kind == "cyclical":
            period = self.steps_total / c.cycles
            return min(1.0, (step % period) / period / c.cycle_ramp)
        return 1.0

    def capacity(self, step: int) -> float | None:
        """C in nats at `step` for the capacity schedule, else None."""
        if self.kind != "capacity":
            return None
        c = self.config
        ramp = c.capacity_epochs * self.steps_per_epoch or self.steps_total
        return c.c_max * min(1.0, step / ramp)
