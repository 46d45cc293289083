"""The session object on its own: signals fire once per change."""

import numpy as np

from explorer.core.config import ModelConfig
from explorer.core.kinds import build_model
from explorer.ui.state import ModelInfo, Session


def test_new_codes_on_a_pca_plane_redraw_once(qapp):
    s = Session()
    s.set_model(build_model(ModelConfig(latent_dim=4, hidden=(8,))), ModelInfo())
    assert s.plane_choice[0] == "pca"
    counts = {"plane": 0, "codes": 0}
    s.planeChanged.connect(lambda: counts.__setitem__("plane", counts["plane"] + 1))
    s.codesChanged.connect(lambda: counts.__setitem__("codes", counts["codes"] + 1))
    codes = np.random.default_rng(0).normal(size=(100, 4)) * [3, 1, 0.1, 0.1]
    s.set_codes(codes, np.zeros_like(codes))
    assert counts == {"plane": 0, "codes": 1}  # one redraw, on the refitted plane
    assert s.plane.kind == "pca" and abs(s.plane.basis[0, 0]) > 0.99
    s.set_plane("dims", 2, 3)
    assert counts == {"plane": 1, "codes": 1} and s.plane.axis_labels == ("z2", "z3")
