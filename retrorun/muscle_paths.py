"""Muscle paths: the generalized forces a path tension applies, and polynomial fits.

``applied_generalized_forces`` is what the fast SO solver uses at every frame: the
generalized force of a unit tension in each muscle's path, as OpenSim applies it.

The rest fits every muscle's path length as a polynomial of the mobilities it spans,
per model and trial range, in the spirit of OpenSim's PolynomialPathFitter (OpenSim
4.5) and of the polynomial path models of van den Bogert et al. 2011 (Procedia IUTAM 2:
297-316) and Falisse et al. 2019 (J R Soc Interface 16: 20190402): lengths and their
gradients sampled from the OpenSim model at poses around the trial's own (its frames,
each coordinate moved by a margin), fitted by least squares; moment arms are the
polynomials' analytic derivatives. Each fit is checked against OpenSim at held-out
poses before it is used. Measured on the gait2392-lineage models (Hamner, gait2392,
the demo), whose conditional path points make moment arms jump, fits miss by 2-6 mm,
so the solver does not use them there (tools/benchmark_fast_so.py).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import opensim as osim

# Total polynomial degree; at 5 the Hamner fit (up to 4 spanned mobilities, 126 terms)
# and its check take about 1 s of CPU.
DEGREE = 5
# Sampled poses per polynomial term of the largest fit (least squares wants several).
SAMPLES_PER_TERM = 4
# Range margin around the trial's own coordinate range, as a share of that range
# and at least 0.05 rad (or m): the fit is used inside it only.
MARGIN_SHARE, MARGIN_MIN = 0.1, 0.05


@dataclass
class PathFit:
    """Polynomial path lengths of ``muscles`` over q (state order)."""
    muscles: list[str]
    mobilities: list[np.ndarray]   # per muscle: the q indices it spans
    exponents: list[np.ndarray]    # per muscle: (terms, spanned) monomial exponents
    coefficients: list[np.ndarray]  # per muscle: (terms,)
    low: np.ndarray                # (n_q,) box around the fitted poses (scaling)
    high: np.ndarray
    q_trial: np.ndarray            # the trial poses it was fitted around, and how far
    margin: np.ndarray

    def _scaled(self, q: np.ndarray) -> np.ndarray:
        return (2 * q - (self.high + self.low)) / np.where(self.high > self.low, self.high - self.low, 1.0)

    def lengths(self, q: np.ndarray) -> np.ndarray:
        """(poses, n_q) -> (poses, muscles) path lengths (m)."""
        z = self._scaled(np.atleast_2d(q))
        out = np.zeros((len(z), len(self.muscles)))
        for m, (span, exps, coef) in enumerate(zip(self.mobilities, self.exponents, self.coefficients)):
            out[:, m] = _monomials(z[:, span], exps) @ coef
        return out

    def gradients(self, q: np.ndarray) -> np.ndarray:
        """(poses, n_q) -> (poses, muscles, n_q) dL/dq."""
        q = np.atleast_2d(q)
        z = self._scaled(q)
        dz_dq = 2.0 / np.where(self.high > self.low, self.high - self.low, 1.0)
        out = np.zeros((len(q), len(self.muscles), q.shape[1]))
        for m, (span, exps, coef) in enumerate(zip(self.mobilities, self.exponents, self.coefficients)):
            for k, mobility in enumerate(span):
                out[:, m, mobility] = _monomial_derivatives(z[:, span], exps, k) @ coef * dz_dq[mobility]
        return out


def exponents(n_vars: int, degree: int = DEGREE) -> np.ndarray:
    rows = [e for e in itertools.product(range(degree + 1), repeat=n_vars) if sum(e) <= degree]
    return np.array(rows, dtype=int).reshape(len(rows), n_vars)


def _powers(z: np.ndarray, degree: int) -> np.ndarray:
    """(poses, vars) -> (poses, vars, degree + 1) of z^e."""
    return z[:, :, None] ** np.arange(degree + 1)


def _monomials(z: np.ndarray, exps: np.ndarray) -> np.ndarray:
    powers = _powers(z, int(exps.max(initial=0)))
    columns = np.arange(z.shape[1])
    return np.prod(powers[:, columns, exps], axis=2)  # (poses, terms)


def _monomial_derivatives(z: np.ndarray, exps: np.ndarray, k: int) -> np.ndarray:
    lowered = exps.copy()
    lowered[:, k] = np.maximum(exps[:, k] - 1, 0)
    return _monomials(z, lowered) * exps[:, k]


def path_lengths(model: osim.Model, state: osim.State, muscles: list[osim.Muscle], poses: np.ndarray) -> np.ndarray:
    """OpenSim's path lengths (poses x muscles) at q poses (no assembly: each pose as given)."""
    out = np.zeros((len(poses), len(muscles)))
    for p, q in enumerate(poses):
        state.setQ(osim.Vector.createFromMat(q))
        model.realizePosition(state)
        out[p] = [m.getLength(state) for m in muscles]
    return out


def applied_generalized_forces(model: osim.Model, state: osim.State, muscles: list[osim.Muscle]) -> np.ndarray:
    """Generalized forces (muscles x n_u) of a unit tension in each muscle's path, as
    OpenSim applies it (GeometryPath::addInEquivalentForces, then J^T): what SO's
    constraint matrix is built from. Equal to -dL/dq where the path is a true
    shortest path; where moving path points or wrapping make OpenSim's applied force
    differ from it (seen on the Rajagopal et al. 2016 gastrocnemius), this is OpenSim's.
    The state must be realized to Position."""
    matter = model.getMatterSubsystem()
    n_bodies = model.getBodySet().getSize() + 1  # and ground
    zero = osim.SpatialVec(osim.Vec3(0), osim.Vec3(0))
    out = np.zeros((len(muscles), state.getNU()))
    mobility_total = osim.Vector()
    for m, muscle in enumerate(muscles):
        body_forces = osim.VectorOfSpatialVec(n_bodies, zero)
        mobility_forces = osim.Vector(state.getNU(), 0.0)
        muscle.getGeometryPath().addInEquivalentForces(state, 1.0, body_forces, mobility_forces)
        matter.multiplyBySystemJacobianTranspose(state, body_forces, mobility_total)
        out[m] = mobility_total.to_numpy() + mobility_forces.to_numpy()
    return out


def length_gradients(model: osim.Model, state: osim.State, muscles: list[osim.Muscle], poses: np.ndarray) -> np.ndarray:
    """dL/dq (poses x muscles x n_q) as OpenSim's applied path forces give it, at q poses."""
    out = np.zeros((len(poses), len(muscles), poses.shape[1]))
    for p, q in enumerate(poses):
        state.setQ(osim.Vector.createFromMat(q))
        model.realizePosition(state)
        out[p] = -applied_generalized_forces(model, state, muscles)
    return out


def margins(q_trial: np.ndarray, free: np.ndarray) -> np.ndarray:
    """How far around the trial's poses the fit must hold, per mobility: a share of the
    trial's range, at least MARGIN_MIN; zero for mobilities that are not free (locked)."""
    margin = np.maximum(MARGIN_SHARE * np.ptp(q_trial, axis=0), MARGIN_MIN)
    out = np.zeros(q_trial.shape[1])
    out[free] = margin[free]
    return out


def sample_poses(q_trial: np.ndarray, margin: np.ndarray, n: int, *, seed: int) -> np.ndarray:
    """Poses around the trial's: a frame drawn at random, every mobility moved by up to
    its margin (Latin-hypercube offsets, so each mobility's offsets cover it evenly).
    The fit then spends its terms where the trial goes, not on poses it never visits."""
    rng = np.random.default_rng(seed)
    strata = (np.argsort(rng.random((n, q_trial.shape[1])), axis=0) + rng.random((n, q_trial.shape[1]))) / n
    return q_trial[rng.integers(0, len(q_trial), n)] + (2 * strata - 1) * margin


def fit(model: osim.Model, state: osim.State, muscles: list[osim.Muscle], spans: list[np.ndarray],
        q_trial: np.ndarray, margin: np.ndarray, *, degree: int | None = None, seed: int = 0) -> PathFit:
    """Fit each muscle's length over its spanned mobilities to OpenSim's lengths and
    length gradients (Hermite least squares: the moment arms are what SO uses, and a
    fit to lengths alone lets their derivatives wander) at poses sampled around the
    trial's (``sample_poses``)."""
    degree = DEGREE if degree is None else degree
    span_sizes = [len(s) for s in spans] or [0]
    terms = len(exponents(max(span_sizes), degree))
    n_poses = int(np.ceil(SAMPLES_PER_TERM * terms / (1 + max(span_sizes))))
    poses = sample_poses(q_trial, margin, n_poses, seed=seed)
    lengths = path_lengths(model, state, muscles, poses)
    gradients = length_gradients(model, state, muscles, poses)
    result = PathFit(muscles=[m.getName() for m in muscles], mobilities=[], exponents=[], coefficients=[],
                     low=q_trial.min(axis=0) - margin, high=q_trial.max(axis=0) + margin, q_trial=q_trial, margin=margin)
    z = result._scaled(poses)
    dq_dz = np.where(result.high > result.low, (result.high - result.low) / 2, 1.0)
    groups: dict[tuple, list[int]] = {}  # muscles spanning the same mobilities share one solve
    for m, span in enumerate(spans):
        groups.setdefault(tuple(int(i) for i in span), []).append(m)
    fitted = {}
    for span, members in groups.items():
        exps = exponents(len(span), degree)
        columns = list(span)
        design = [_monomials(z[:, columns], exps)]
        target = [lengths[:, members]]
        for k, mobility in enumerate(columns):  # dL/dz_k rows
            design.append(_monomial_derivatives(z[:, columns], exps, k))
            target.append(gradients[:, members, mobility] * dq_dz[mobility])
        coefficients, *_ = np.linalg.lstsq(np.vstack(design), np.vstack(target), rcond=None)
        for column, m in enumerate(members):
            fitted[m] = (np.array(span, dtype=int), exps, coefficients[:, column])
    for m in range(len(spans)):
        result.mobilities.append(fitted[m][0])
        result.exponents.append(fitted[m][1])
        result.coefficients.append(fitted[m][2])
    return result


def validate(path_fit: PathFit, model: osim.Model, state: osim.State, muscles: list[osim.Muscle], *, n_poses: int,
             seed: int = 1) -> dict[str, float]:
    """Errors of the fit against OpenSim at held-out poses around the trial's: largest
    length error (mm), largest moment-arm (dL/dq) error (mm or mm/m) over the free
    mobilities (locked ones move nothing), and that error as a share (%) of the same
    moment arm's range over the poses."""
    poses = sample_poses(path_fit.q_trial, path_fit.margin, n_poses, seed=seed)
    exact_lengths = path_lengths(model, state, muscles, poses)
    exact = length_gradients(model, state, muscles, poses)
    error = np.abs(path_fit.gradients(poses) - exact)  # (poses, muscles, n_q)
    error[:, :, path_fit.margin <= 0] = 0.0
    worst = np.unravel_index(np.argmax(error.max(axis=0)), error.shape[1:])
    worst_range = np.ptp(exact[:, worst[0], worst[1]])
    return {"length_max_error_mm": float(np.abs(path_fit.lengths(poses) - exact_lengths).max() * 1000),
            "moment_arm_max_error_mm": float(error.max() * 1000),
            "moment_arm_max_error_share_of_range_pct": float(100 * error.max() / worst_range) if worst_range > 0 else float("inf"),
            "worst_muscle": path_fit.muscles[worst[0]], "worst_mobility": int(worst[1]), "poses": n_poses}
