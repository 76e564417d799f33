"""Muscle paths: the generalized forces a path tension applies, as OpenSim applies them.

The fast SO solver takes its muscle moment arms from here, from OpenSim, at every
frame. Polynomial path fits (as OpenSim's PolynomialPathFitter since 4.5; van den
Bogert et al. 2011, Procedia IUTAM 2: 297-316; Falisse et al. 2019, J R Soc Interface
16: 20190402) were built and measured here and removed, because on the models this
workflow runs they are neither accurate enough nor cheaper:
- the gait2392-lineage models (gait2392, Hamner, the demo) have conditional path
  points (e.g. the gastrocnemii at the femoral condyles) whose moment arms jump; a
  degree-5 fit missed OpenSim's moment arms by 2.4 mm on gait2392 (lat_gas_r, 131 %
  of that moment arm's range over the held-out poses) and 2.6 mm on Hamner, against
  0.8 mm on smooth demo muscles (soleus, tibialis anterior, gluteus maximus);
- fitting and checking cost 1.3 s CPU on gait2392's 92 muscles, while OpenSim's own
  path forces cost 0.5 ms per frame (37 ms for its 73-frame window): the fit pays
  only beyond about 2500 frames, and only for muscles without such points.
"""

from __future__ import annotations

import numpy as np
import opensim as osim


class AppliedPathForces:
    """Generalized forces (muscles x n_u) of a unit tension in each muscle's path, as
    OpenSim applies it (GeometryPath::addInEquivalentForces, then J^T): what SO's
    constraint matrix is built from. Equal to -dL/dq where the path is a true
    shortest path; where moving path points or wrapping make OpenSim's applied force
    differ from it (seen on the Rajagopal et al. 2016 gastrocnemius), this is OpenSim's.

    Made once per model, called per pose: the paths and the force buffers are kept,
    because creating them per muscle cost more than the path forces themselves (0.3 of
    1 ms per frame on 92 muscles). The buffers are never cleared (SWIG exposes no
    clear for body forces): each muscle's force is the change of the running total,
    exact up to rounding of that total (about 1e-15 m)."""

    def __init__(self, model: osim.Model, muscles: list[osim.Muscle]):
        self.model, self.matter = model, model.getMatterSubsystem()
        self.paths = [muscle.getGeometryPath() for muscle in muscles]
        self.n_bodies = model.getBodySet().getSize() + 1  # and ground

    def __call__(self, state: osim.State) -> np.ndarray:
        """The state must be realized to Position."""
        body_forces = osim.VectorOfSpatialVec(self.n_bodies, osim.SpatialVec(osim.Vec3(0), osim.Vec3(0)))
        mobility_forces = osim.Vector(state.getNU(), 0.0)
        total = osim.Vector()
        running = np.zeros((len(self.paths) + 1, state.getNU()))
        for m, path in enumerate(self.paths):
            path.addInEquivalentForces(state, 1.0, body_forces, mobility_forces)
            self.matter.multiplyBySystemJacobianTranspose(state, body_forces, total)
            running[m + 1] = total.to_numpy() + mobility_forces.to_numpy()
        return np.diff(running, axis=0)


def applied_generalized_forces(model: osim.Model, state: osim.State, muscles: list[osim.Muscle]) -> np.ndarray:
    """AppliedPathForces at one pose (the state realized to Position)."""
    return AppliedPathForces(model, muscles)(state)
