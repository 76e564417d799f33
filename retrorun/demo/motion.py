"""Motion synthesis: joint angles, the designed ground reaction force (GRF), and the
whole-body motion that makes them consistent.

Joint angles are smooth periodic (Fourier) curves through published forward-running
design values; backward running is the forward pattern reversed in time (Grasso et al.
1998, J Neurophysiol 80:1868), played at its own stride frequency with its own joint
ranges and contact time. Neither pattern is time-warped: a warp that squeezes the
forward stance into the shorter backward contact plays the pattern's harmonics up to
1.7 times faster (19 % of the ankle's acceleration power above 12 Hz backward vs 0.7 %
forward), a spectrum no published backward-running data support. The pelvis is
placed so that the whole-body centre of mass (COM) follows a designed trajectory that
is ballistic in flight, and the GRF is the whole-body equation of motion,
F = m (a_com - g), applied under the stance foot. Inverse dynamics on the true
coordinates and this GRF therefore leaves no residual force at the pelvis.
"""

from __future__ import annotations

import functools

import numpy as np

from .design import GRAVITY_M_S2, SIDES

# Vertical force over stance (fraction u). Forward: rearfoot strike, an impact peak of
# about 1.5-2 BW then an active peak of about 2.4 BW (Cavanagh & Lafortune 1980,
# J Biomech 13:397; Munro, Miller & Fuglevand 1987, J Biomech 20:147). The force leaves
# the plate with a finite slope, as measured forces do (Hamner, Seth & Delp 2010,
# J Biomech 43:2709, subject 2 at 3.96 m/s: 13-26 BW/s over the last 33 ms of contact):
# the active pulse sin(pi u)^(3 - 2u) falls at 21 BW/s over its last 33 ms at the mean
# forward timing (sin^2 fell at 11 BW/s with zero slope at toe-off, so a 20 N
# threshold met it 8-9 ms early) and keeps the active peak at 2.3 BW. Backward:
# forefoot landing without an impact peak (Threlkeld et al. 1989, JOSPT 11:56) and a
# flatter, parabolic pulse, so that its peak at 3 m/s is similar to the forward one
# despite the shorter contact: Roos, Barton & van Deursen 2012 (J Biomech 45:1656)
# measured 2.4 +- 0.2 BW backward vs 2.3 +- 0.3 BW forward at the knee-moment peak.
# With the mean timing the peaks are 2.34 (forward) and 2.40 BW (backward).
IMPACT_AMPLITUDE = {"forward": 0.6, "backward": 0.0}  # relative to the active pulse's peak
IMPACT_SHARE_OF_STANCE = 0.2
# Fore-aft force: a braking then propelling pulse of zero net impulse, its size a share
# of the vertical force (the GRF leans with the leg: peak braking about 0.3-0.5 BW at
# 3-4 m/s, Munro et al. 1987).
HORIZONTAL_FORCE_RATIO = 0.25

# Forward-running joint angles (degrees; knee in flexion, ankle in dorsiflexion) at
# stride phases (0 = contact of that leg; toe-off at about 0.37), after the running
# kinematics reviewed by Novacheck 1998 (Gait Posture 7:77): knee about 15-20 deg at contact, 40-45 deg peak in stance,
# 90-110 deg peak in swing; hip from about -10 deg (toe-off) to about +35 deg (late
# swing); ankle about 0-5 deg dorsiflexion at rearfoot contact, about 20 deg peak
# dorsiflexion in stance, about -20 deg plantarflexion at toe-off.
FORWARD_KEYFRAMES_DEG = {
    "hip_flexion": [(0.00, 32), (0.12, 21), (0.25, 4), (0.37, -13), (0.50, 3), (0.70, 30), (0.85, 36), (0.95, 35)],
    "knee_flexion": [(0.00, 18), (0.13, 43), (0.28, 26), (0.37, 20), (0.55, 75), (0.68, 100), (0.85, 40), (0.95, 14)],
    "ankle_dorsiflexion": [(0.00, 3), (0.16, 20), (0.30, 6), (0.37, -20), (0.47, -14), (0.65, 0), (0.85, 5), (0.95, 3)],
}
FOURIER_HARMONICS = 8
# Trunk: a slight forward lean, oscillating twice per stride (Novacheck 1998).
PELVIS_TILT_DEG = (-5.0, 2.0)  # (mean, amplitude); negative = forward lean
# Backward runners lean further forward over the forefoot: the extra lean (deg) is a
# design value, set so that the true peak knee extension moment backward is about
# 20 % below the forward one at matched speed, as Roos et al. 2012 (J Biomech 45:1656)
# measured (157 +- 54 vs 124 +- 51 N m); no published trunk angle for backward running
# at matched speed was found.
BACKWARD_EXTRA_LEAN_DEG = {"forward": 0.0, "backward": -1.5}
LUMBAR_EXTENSION_DEG = (-5.0, 2.0)
# ------------------------------------------------------------------------ kinematics


def _fourier_coefficients(keyframes: list[tuple[float, float]], harmonics: int) -> np.ndarray:
    """Fourier coefficients of the periodic cubic spline through the keyframes."""
    from scipy.interpolate import CubicSpline

    phases = np.array([p for p, _ in keyframes] + [keyframes[0][0] + 1.0])
    values = np.array([v for _, v in keyframes] + [keyframes[0][1]], dtype=float)
    grid = np.arange(512) / 512
    spline = CubicSpline(phases, values, bc_type="periodic")
    return np.fft.rfft(spline(grid))[: harmonics + 1] / 512


def _fourier_eval(coefficients: np.ndarray, phase: np.ndarray) -> np.ndarray:
    k = np.arange(len(coefficients))
    terms = np.exp(2j * np.pi * np.outer(phase, k)) * coefficients
    return terms[:, 0].real + 2 * terms[:, 1:].real.sum(axis=1)


# built on first use, not at import: the spline needs SciPy (0.5 s to import), and every
# Snakemake invocation of the demo imports this module to name the truth's files
@functools.cache
def _forward_series() -> dict[str, np.ndarray]:
    return {name: _fourier_coefficients(frames, FOURIER_HARMONICS) for name, frames in FORWARD_KEYFRAMES_DEG.items()}


def prepare_tables() -> None:
    """Import OpenSim and build the forward pattern's series now (with SciPy's splines):
    in a process that forks workers, once for all of them (retrorun/demo/study.py)."""
    _osim()
    _forward_series()


FORWARD_DUTY = 0.37  # toe-off phase of the keyframes


def leg_angles_deg(phase: np.ndarray, *, pattern: str, range_scale: float = 1.0) -> dict[str, np.ndarray]:
    """Hip flexion, knee flexion and ankle dorsiflexion (degrees) of one leg at stride
    phases (0 = that leg's contact), the keyframes played at a uniform rate. Backward =
    the forward pattern reversed in time: backward contact is forward toe-off (hip
    extended, ankle plantarflexed: a forefoot landing, Threlkeld et al. 1989, JOSPT
    11:56), and its shorter stance (Cavagna et al. 2012) ends before the pattern reaches
    forward contact. The contact time decides where in the pattern the foot leaves the
    ground, not how fast the pattern plays."""
    phase = np.mod(np.asarray(phase, dtype=float), 1.0)
    if pattern == "forward":
        canonical = phase
    elif pattern == "backward":
        canonical = FORWARD_DUTY - phase
    else:
        raise ValueError(f"pattern must be 'forward' or 'backward', got {pattern!r}")
    angles = {name: _fourier_eval(series, np.mod(canonical, 1.0)) for name, series in _forward_series().items()}
    if range_scale != 1.0:  # about each curve's stride mean, so the posture stays
        means = {name: float(series[0].real) for name, series in _forward_series().items()}
        angles = {name: means[name] + range_scale * (value - means[name]) for name, value in angles.items()}
    return angles


def coordinate_trajectories(time_s: np.ndarray, design: dict, *, first_contact_s: float) -> dict[str, np.ndarray]:
    """Joint coordinates (radians) of both legs and the trunk; right contact at ``first_contact_s``."""
    stride_hz = design["stride_frequency_hz"]
    phase_r = (np.asarray(time_s) - first_contact_s) * stride_hz
    coords = {}
    for side, phase in (("r", phase_r), ("l", phase_r - 0.5)):
        angles = leg_angles_deg(phase, pattern=design["pattern"], range_scale=design["range_scale"])
        coords[f"hip_flexion_{side}"] = np.radians(angles["hip_flexion"])
        # OpenSim knee_angle is negative in flexion (gait2392 family)
        coords[f"knee_angle_{side}"] = -np.radians(angles["knee_flexion"])
        coords[f"ankle_angle_{side}"] = np.radians(angles["ankle_dorsiflexion"])
    twice = np.sin(4 * np.pi * phase_r)
    lean = PELVIS_TILT_DEG[0] + BACKWARD_EXTRA_LEAN_DEG[design["pattern"]]
    coords["pelvis_tilt"] = np.radians(lean + PELVIS_TILT_DEG[1] * twice)
    coords["lumbar_extension"] = np.radians(LUMBAR_EXTENSION_DEG[0] - LUMBAR_EXTENSION_DEG[1] * twice)
    return coords


def acceleration_power_share_above(design: dict, *, frequency_hz: float, strides: int = 8, rate_hz: float = 2000.0):
    """Per leg coordinate (hip, knee, ankle, right side): the share of its angular
    acceleration's power above ``frequency_hz``, over whole strides of the design. The
    measure of how much of a motion a low-pass filter at that frequency removes from the
    accelerations inverse dynamics needs."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    n = int(round(strides * stride_s * rate_hz))
    time_s = np.arange(n) * strides * stride_s / n  # whole strides: periodic, no leakage
    coords = coordinate_trajectories(time_s, design, first_contact_s=0.0)
    frequency = np.fft.rfftfreq(n, d=time_s[1])
    shares = {}
    for name in ("hip_flexion_r", "knee_angle_r", "ankle_angle_r"):
        power = np.abs(np.fft.rfft(coords[name]) * (2 * np.pi * frequency) ** 2) ** 2
        shares[name] = float(power[frequency > frequency_hz].sum() / power.sum())
    return shares


# -------------------------------------------------------------- centre of mass and GRF


def stance_phase(time_s: np.ndarray, design: dict, *, first_contact_s: float, side: str) -> np.ndarray:
    """Fraction of stance (0..1) of one foot, NaN when that foot is off the ground."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    offset = 0.0 if side == "r" else 0.5 * stride_s
    since_contact = np.mod(np.asarray(time_s) - first_contact_s - offset, stride_s)
    fraction = since_contact / design["contact_time_s"]
    return np.where(fraction < 1.0, fraction, np.nan)


def _vertical_shape(u: np.ndarray, pattern: str) -> np.ndarray:
    """Unnormalised vertical force over stance fraction u (0 outside stance)."""
    u = np.nan_to_num(u, nan=-1.0)
    inside = (u >= 0) & (u < 1)
    clipped = np.clip(u, 0, 1)
    pulse = np.sin(np.pi * clipped) ** (3 - 2 * clipped) if pattern == "forward" else 4 * clipped * (1 - clipped)
    active = np.where(inside, pulse, 0.0)
    impact_u = u / IMPACT_SHARE_OF_STANCE
    impact = np.where(inside & (impact_u < 1), np.sin(np.pi * np.clip(impact_u, 0, 1)) ** 2, 0.0)
    return active + IMPACT_AMPLITUDE[pattern] * impact


# every design_forces call needs these two numbers of its pattern, and a 200 000-point
# quadrature per call was a quarter of a subject's synthesis
@functools.cache
def _shape_integrals(pattern: str) -> tuple[float, float]:
    """(mean of the vertical shape over stance, mean of shape * cos(pi u)) by fine quadrature."""
    u = (np.arange(200000) + 0.5) / 200000
    shape = _vertical_shape(u, pattern)
    return float(shape.mean()), float((shape * np.cos(np.pi * u)).mean())


def design_forces(time_s: np.ndarray, design: dict, *, mass_kg: float, first_contact_s: float) -> dict[str, np.ndarray]:
    """Per-foot GRF (N) of the design: '<side>_fx', '<side>_fy', '<side>_u' (stance fraction).

    Each stance's vertical impulse is m g (step time), so gravity is balanced step by
    step; the fore-aft force brakes then propels with zero net impulse, braking against
    the direction of travel."""
    step_s = 0.5 / design["stride_frequency_hz"]
    mean_shape, mean_cos = _shape_integrals(design["pattern"])
    forces = {}
    for side in SIDES:
        u = stance_phase(time_s, design, first_contact_s=first_contact_s, side=side)
        fy = (
            mass_kg
            * GRAVITY_M_S2
            * step_s
            / design["contact_time_s"]
            * _vertical_shape(u, design["pattern"])
            / mean_shape
        )
        cos_term = np.where(np.isnan(u), 0.0, np.cos(np.pi * np.nan_to_num(u)) - mean_cos / mean_shape)
        forces[f"{side}_fy"] = fy
        forces[f"{side}_fx"] = -design["direction"] * HORIZONTAL_FORCE_RATIO * fy * cos_term
        forces[f"{side}_u"] = u
    return forces


def design_com(
    time_s: np.ndarray, design: dict, *, mass_kg: float, first_contact_s: float, mean_height_m: float
) -> dict[str, np.ndarray]:
    """COM position, velocity, acceleration in X and Y from the designed forces.

    Integrated twice on a fine grid over whole strides; the integration constants make
    velocity and height periodic (mean forward speed ``direction * speed``, mean height
    ``mean_height_m``)."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    n_fine = 4000
    fine = first_contact_s + np.arange(n_fine) * stride_s / n_fine  # one stride, periodic
    forces = design_forces(fine, design, mass_kg=mass_kg, first_contact_s=first_contact_s)
    acc = {
        "x": (forces["r_fx"] + forces["l_fx"]) / mass_kg,
        "y": (forces["r_fy"] + forces["l_fy"]) / mass_kg - GRAVITY_M_S2,
    }
    k = np.fft.rfftfreq(n_fine, d=stride_s / n_fine) * 2 * np.pi
    out = {}
    for axis, a in acc.items():
        spectrum = np.fft.rfft(a)
        velocity_spectrum = np.zeros_like(spectrum)
        position_spectrum = np.zeros_like(spectrum)
        velocity_spectrum[1:] = spectrum[1:] / (1j * k[1:])
        position_spectrum[1:] = spectrum[1:] / (1j * k[1:]) ** 2
        mean_velocity = design["direction"] * design["speed_m_s"] if axis == "x" else 0.0
        t = np.asarray(time_s, dtype=float)
        phase = np.mod(t - first_contact_s, stride_s) / stride_s
        out[f"v{axis}"] = _periodic_eval(velocity_spectrum, phase, n_fine) + mean_velocity
        position = _periodic_eval(position_spectrum, phase, n_fine)
        out[axis] = position + (mean_velocity * (t - first_contact_s) if axis == "x" else mean_height_m)
    forces_t = design_forces(time_s, design, mass_kg=mass_kg, first_contact_s=first_contact_s)
    out["ax"] = (forces_t["r_fx"] + forces_t["l_fx"]) / mass_kg
    out["ay"] = (forces_t["r_fy"] + forces_t["l_fy"]) / mass_kg - GRAVITY_M_S2
    return out


def _periodic_eval(spectrum: np.ndarray, phase: np.ndarray, n: int) -> np.ndarray:
    """Evaluate a real periodic signal given by its rfft at arbitrary phases (0..1).

    The sum over harmonics k of weight_k * spectrum_k * z^k, z = exp(2 pi i phase), by
    Horner's scheme: one multiply-add per harmonic over all phases, where a table of
    z^k (phases x harmonics complex exponentials) cost 50-70 times the CPU; |z| = 1, so
    the two agree to about 1e-13 of the signal's size."""
    weights = np.full(len(spectrum), 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    coefficients = weights * spectrum
    z = np.exp(2j * np.pi * np.asarray(phase, dtype=float))
    total = np.full(len(z), coefficients[-1], dtype=complex)
    for coefficient in coefficients[-2::-1]:
        total = total * z + coefficient
    return total.real / n


# ------------------------------------------------------------------- OpenSim: bodies


# Centre of pressure along the sole, as a share of the heel -> toe-tip line. Forward:
# rearfoot contact, the COP rolls to the forefoot (Cavanagh & Lafortune 1980, J Biomech
# 13:397). Backward: forefoot contact with the ankle plantarflexed (Threlkeld et al.
# 1989, JOSPT 11:56) and forefoot loading through mid-stance: at the knee-moment peak
# the COP lies 12 +- 6 % of the foot length from the toe backward vs 25 +- 11 % forward
# (Roos, Barton & van Deursen 2012, J Biomech 45:1656); it moves towards the heel only
# as the heel lowers late in stance (Sterzing, Frommhold & Rosenbaum 2016, Gait Posture
# 46:135: plantar pressure backward is highest under the forefoot).
COP_PATH = {"forward": (0.0, 0.78), "backward": (0.92, 0.35)}
TOE_TIP_BEYOND_MTP = 0.33  # toe tip beyond the MTP joint, as a share of heel -> MTP


def cop_share(u: np.ndarray, pattern: str) -> np.ndarray:
    """Position of the COP along the sole (0 heel, 1 toe tip) at stance fraction u."""
    start, other = COP_PATH[pattern]
    u = np.clip(np.nan_to_num(u), 0, 1)
    if pattern == "forward":
        return start + (other - start) * np.sin(0.5 * np.pi * u)
    # stays under the forefoot (0.85 of the sole at 57 % of stance), then moves back
    return other + (start - other) * np.cos(0.5 * np.pi * u**2)


def _osim():
    import opensim as osim

    osim.Logger.setLevelString("warn")
    return osim


class PoseProbe:
    """Poses a model from coordinate arrays and reads COM, markers and foot points."""

    def __init__(self, model):
        self.model = model
        self.state = model.initSystem()
        self.coordinates = {c.getName(): c for c in model.getCoordinateSet()}
        self.bodies = {b.getName(): b for b in model.getBodySet()}
        osim = _osim()
        self.heel, self.toe_tip = {}, {}
        for side in SIDES:
            # sole line in the calcaneus frame: heel (calcn origin) to the toe tip
            mtp = model.getJointSet().get(f"mtp_{side}").getParentFrame().findTransformInBaseFrame().p()
            mtp = np.array([mtp.get(i) for i in range(3)])
            self.heel[side] = np.zeros(3)
            self.toe_tip[side] = mtp * (1 + TOE_TIP_BEYOND_MTP)
        self._vec3 = osim.Vec3
        self._vector = osim.Vector
        self._q_index, self._u_index = self._state_indices(osim)

    def _state_indices(self, osim) -> tuple[dict[str, int] | None, dict[str, int] | None]:
        """Where each coordinate's value and speed sit in the state's Q and U vectors,
        found by setting each through the Coordinate on a copy of the state; None when
        writing those vectors directly might not be what Coordinate.setValue does (a
        locked coordinate keeps its value, a clamped one is OpenSim's to pull into range,
        a joint's Q may not be its coordinates). Ten calls through the Coordinate per
        frame cost more than the realization they precede."""
        state = self.state
        n = len(self.coordinates)
        if state.getNQ() != n or state.getNU() != n:
            return None, None
        q_index, u_index = {}, {}
        for name, coordinate in self.coordinates.items():
            if coordinate.getClamped(state) or coordinate.getLocked(state):
                return None, None
            scratch = osim.State(state)
            q_before, u_before = scratch.getQ().to_numpy(), scratch.getU().to_numpy()
            coordinate.setValue(scratch, coordinate.getValue(scratch) + 1.0, False)
            coordinate.setSpeedValue(scratch, coordinate.getSpeedValue(scratch) + 1.0)
            q_changed = np.flatnonzero(scratch.getQ().to_numpy() != q_before)
            u_changed = np.flatnonzero(scratch.getU().to_numpy() != u_before)
            if len(q_changed) != 1 or len(u_changed) != 1:
                return None, None
            q_index[name], u_index[name] = int(q_changed[0]), int(u_changed[0])
        if len(set(q_index.values())) != n or len(set(u_index.values())) != n:
            return None, None
        return q_index, u_index

    def set_pose(self, values: dict[str, float]) -> None:
        if self._q_index is None:
            for name, value in values.items():
                self.coordinates[name].setValue(self.state, float(value), False)
        else:
            q = self.state.getQ().to_numpy()
            for name, value in values.items():
                q[self._q_index[name]] = float(value)
            self.state.setQ(self._vector.createFromMat(q))
        self.model.realizePosition(self.state)

    def poses(self, coords: dict[str, np.ndarray]):
        """Set the pose of each frame of ``coords`` (name -> values per frame) in turn,
        as set_pose would, yielding the frame's index; coordinates not in ``coords``
        keep their current values."""
        n = len(next(iter(coords.values()))) if coords else 0
        if self._q_index is None:
            for i in range(n):
                self.set_pose(_frames(coords, i))
                yield i
            return
        rows = np.tile(self.state.getQ().to_numpy(), (n, 1))
        for name, values in coords.items():
            rows[:, self._q_index[name]] = np.asarray(values, dtype=float)
        for i in range(n):
            self.state.setQ(self._vector.createFromMat(rows[i]))
            self.model.realizePosition(self.state)
            yield i

    def com(self) -> np.ndarray:
        return self.model.calcMassCenterPosition(self.state).to_numpy()

    def sole_point(self, side: str, share: float) -> np.ndarray:
        local = (1 - share) * self.heel[side] + share * self.toe_tip[side]
        return self.bodies[f"calcn_{side}"].findStationLocationInGround(self.state, self._vec3(*local)).to_numpy()

    def central_angular_momentum(self, speeds: dict[str, float]) -> float:
        """Whole-body angular momentum about the COM (z, kg m^2/s) at the current pose."""
        if self._u_index is None:
            for name, coordinate in self.coordinates.items():
                coordinate.setSpeedValue(self.state, float(speeds.get(name, 0.0)))
        else:
            u = np.zeros(len(self._u_index))
            for name, index in self._u_index.items():
                u[index] = float(speeds.get(name, 0.0))
            self.state.setU(self._vector.createFromMat(u))
        self.model.realizeVelocity(self.state)
        return self.model.getMatterSubsystem().calcSystemCentralMomentum(self.state).get(0).get(2)

    def sole_length(self, side: str) -> float:
        return float(np.linalg.norm(self.toe_tip[side] - self.heel[side]))

    def station(self, body: str, local: np.ndarray) -> np.ndarray:
        """A point fixed in ``body`` (body-frame coordinates, m), in ground."""
        location = self._vec3(*(float(v) for v in local))
        return self.bodies[body].findStationLocationInGround(self.state, location).to_numpy()


def balance_angular_momentum(model, design: dict, *, mass_kg: float, iterations: int = 5, n: int = 600) -> dict:
    """Pelvis-tilt correction (Fourier spectrum over one stride) and COP shift along the
    sole (share of the sole) such that dH/dt = moment of the GRF about the COM.

    Solved on one stride: the residual R = dH/dt - M_grf is removed by a pelvis tilt
    with I * theta'' = -R (I = whole-body inertia about the COM), its stride mean
    (the net angular impulse, which no periodic motion can absorb) by moving the COP."""
    stride_s = 1.0 / design["stride_frequency_hz"]
    grid = np.arange(n) * stride_s / n
    omega = 2 * np.pi * np.fft.rfftfreq(n, d=stride_s / n)
    balance = {"tilt_spectrum": np.zeros(n // 2 + 1, dtype=complex), "n": n, "cop_shift": 0.0}
    probe = PoseProbe(model)
    # the designed forces and COM do not depend on the balance: one evaluation serves
    # every iteration (each took as long as the iteration's OpenSim calls)
    designed = _designed_motion(grid, design, mass_kg=mass_kg, first_contact_s=0.0)
    for _ in range(iterations):
        kin = _trial_kinematics(probe, design, grid, first_contact_s=0.0, balance=balance, designed=designed)
        coords = kin["coordinates"]
        rotations = [name for name in coords if name not in ("pelvis_tx", "pelvis_ty")]
        # translations do not change the angular momentum about the COM
        speeds = {name: np.fft.irfft(1j * omega * np.fft.rfft(coords[name]), n) for name in rotations}
        momentum = np.zeros(n)
        for i in probe.poses(coords):
            momentum[i] = probe.central_angular_momentum(_frames(speeds, i))
        probe.set_pose({"pelvis_tilt": coords["pelvis_tilt"][0]})
        inertia = probe.central_angular_momentum({"pelvis_tilt": 1.0})
        rate = np.fft.irfft(1j * omega * np.fft.rfft(momentum), n)
        grf_moment = sum(
            (np.nan_to_num(kin["cop"][s][:, 0]) - kin["com"]["x"]) * kin["forces"][f"{s}_fy"]
            + kin["com"]["y"] * kin["forces"][f"{s}_fx"]
            for s in SIDES
        )
        residual = rate - grf_moment
        balance["cop_shift"] += float(residual.mean()) / (mass_kg * GRAVITY_M_S2) / probe.sole_length("r")
        spectrum = np.fft.rfft(residual - residual.mean())
        spectrum[1:] = -spectrum[1:] / inertia / (1j * omega[1:]) ** 2
        balance["tilt_spectrum"] = balance["tilt_spectrum"] + spectrum
        balance["residual_rms_nm"] = float(np.sqrt(np.mean(residual**2)))
    return balance


def _frames(coords: dict[str, np.ndarray], index: int) -> dict[str, float]:
    return {name: values[index] for name, values in coords.items()}


def trial_kinematics(
    model, design: dict, *, time_s: np.ndarray, mass_kg: float, first_contact_s: float, balance: dict | None = None
) -> dict:
    """True coordinates (pelvis placed so the COM follows the design), per-foot GRF with
    the COP on the stance foot's sole, and the stance sole heights, at ``time_s``.

    ``balance`` (from balance_angular_momentum) adds a pelvis-tilt correction and a COP
    shift along the sole that make the whole-body angular momentum consistent with the
    GRF, so inverse dynamics leaves no residual pelvis moment either."""
    designed = _designed_motion(time_s, design, mass_kg=mass_kg, first_contact_s=first_contact_s)
    return _trial_kinematics(
        PoseProbe(model), design, time_s, first_contact_s=first_contact_s, balance=balance, designed=designed
    )


def _designed_motion(time_s: np.ndarray, design: dict, *, mass_kg: float, first_contact_s: float) -> dict:
    """The parts of trial_kinematics that the balance does not change: the designed
    forces and the designed COM (its mean height still to be set)."""
    return {
        "forces": design_forces(time_s, design, mass_kg=mass_kg, first_contact_s=first_contact_s),
        "com": design_com(time_s, design, mass_kg=mass_kg, first_contact_s=first_contact_s, mean_height_m=0.0),
    }


def _trial_kinematics(
    probe: PoseProbe, design: dict, time_s: np.ndarray, *, first_contact_s: float, balance: dict | None, designed: dict
) -> dict:
    coords = coordinate_trajectories(time_s, design, first_contact_s=first_contact_s)
    stride_s = 1.0 / design["stride_frequency_hz"]
    if balance is not None:
        phase = np.mod(np.asarray(time_s) - first_contact_s, stride_s) / stride_s
        coords["pelvis_tilt"] = coords["pelvis_tilt"] + _periodic_eval(balance["tilt_spectrum"], phase, balance["n"])
    coords["pelvis_tx"] = np.zeros(len(time_s))
    coords["pelvis_ty"] = np.zeros(len(time_s))
    forces = designed["forces"]
    offsets = np.zeros((len(time_s), 3))
    soles = {side: np.full((len(time_s), 3), np.nan) for side in SIDES}
    shift = 0.0 if balance is None else balance["cop_shift"]
    shares = {side: cop_share(forces[f"{side}_u"], design["pattern"]) + shift for side in SIDES}
    for i in probe.poses(coords):
        offsets[i] = probe.com()
        for side in SIDES:
            if not np.isnan(forces[f"{side}_u"][i]):
                soles[side][i] = probe.sole_point(side, shares[side][i])
    # The floor is at y = 0: the COM's mean height is set so the stance sole, averaged
    # over stance, sits on it (the pelvis offset does not depend on pelvis translation).
    com = dict(designed["com"])  # the mean height below is this trial's, the designed COM is shared
    relative_sole = np.concatenate(
        [
            soles[s][~np.isnan(soles[s][:, 1]), 1]
            + com["y"][~np.isnan(soles[s][:, 1])]
            - offsets[~np.isnan(soles[s][:, 1]), 1]
            for s in SIDES
        ]
    )
    mean_height = -float(np.mean(relative_sole))
    com["y"] = com["y"] + mean_height
    coords["pelvis_tx"] = com["x"] - offsets[:, 0]
    coords["pelvis_ty"] = com["y"] - offsets[:, 1]
    result = {"coordinates": coords, "forces": forces, "com": com, "cop": {}, "sole_height_m": {}, "time_s": time_s}
    for side in SIDES:
        # the sole point moves with the pelvis translation
        shifted = soles[side] + np.column_stack([coords["pelvis_tx"], coords["pelvis_ty"], np.zeros(len(time_s))])
        result["sole_height_m"][side] = shifted[:, 1]
        cop = shifted.copy()
        cop[:, 1] = 0.0
        result["cop"][side] = cop
    return result
