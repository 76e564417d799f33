"""Gait-event timing error on the synthetic generator's own forces: events detected on the
raw vertical force (what retrorun does) and on the force low-passed at filter_hz (what
it did before), against the designed contact times, per condition.

    python tools/event_timing.py [--filter-hz 10] [--threshold-n 20] [--mass-kg 70]

Prints, per condition and method, the mean and largest strike and toe-off errors (ms,
detected minus designed) and the contact time error.
"""

import argparse

import numpy as np

from retrorun import events
from retrorun.demo import design as demo_design
from retrorun.demo import motion as demo_motion
from retrorun.filtering import lowpass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter-hz", type=float, default=10.0)
    parser.add_argument("--threshold-n", type=float, default=20.0)
    parser.add_argument("--mass-kg", type=float, default=70.0)
    args = parser.parse_args()
    cfg = demo_design.resolve_config({})
    rate, first = float(cfg["grf_rate_hz"]), float(cfg["lead_in_s"])
    time_s = np.arange(int(round(float(cfg["trial_duration_s"]) * rate)) + 1) / rate
    for condition, design in cfg["conditions"].items():
        force = demo_motion.design_forces(time_s, design, mass_kg=args.mass_kg, first_contact_s=first)["r_fy"]
        noisy = force + np.where(
            force > 0, np.random.default_rng(1).normal(0, float(cfg["grf_noise_n"]), force.size), 0
        )
        stride_s = 1.0 / design["stride_frequency_hz"]
        for method, signal in (
            ("raw", noisy),
            (f"{args.filter_hz:g} Hz", lowpass(noisy, rate_hz=rate, cutoff_hz=args.filter_hz)),
        ):
            found = events.detect_contacts(time_s, signal, threshold_n=args.threshold_n, min_contact_s=0.05).dropna()
            designed = first + stride_s * np.round((found["strike_s"].to_numpy() - first) / stride_s)
            strike = 1000 * (found["strike_s"].to_numpy() - designed)
            toe_off = 1000 * (found["toe_off_s"].to_numpy() - designed - design["contact_time_s"])
            contact = 1000 * (found["toe_off_s"] - found["strike_s"]).mean() - 1000 * design["contact_time_s"]
            print(
                f"{condition:9s} {method:7s} strike {strike.mean():+6.1f} ms "
                f"(worst {strike[np.argmax(abs(strike))]:+6.1f}), "
                f"toe off {toe_off.mean():+6.1f} ms (worst {toe_off[np.argmax(abs(toe_off))]:+6.1f}), "
                f"contact time {contact:+6.1f} ms ({100 * contact / 1000 / design['contact_time_s']:+.0f} %)"
            )


if __name__ == "__main__":
    main()
