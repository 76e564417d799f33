"""Strength follows body size: static_optimization.strength_scaling in the SO model."""

import pytest
from conftest import shared

VAS_LAT_N = 1871.0  # vas_lat_r in FullBodyModel_Hamner2010_v2_0.osim


@pytest.fixture(scope="module")
def hamner():
    import opensim

    path = shared("hamner-run", "FullBodyModel_Hamner2010_v2_0.osim")
    return path, opensim.Model(str(path))


def test_the_laws_scale_force_by_mass_and_by_mass_times_height(hamner):
    from retrorun.strength import model_mass_kg, strength_factors

    _, model = hamner
    m0 = model_mass_kg(model)
    assert 70 < m0 < 80  # the generic model's total mass, the reference

    def factor(law, **subject):
        return strength_factors(
            law=law,
            generic_model=model,
            scaled_model=model,
            reference_height_m=1.8,
            **({"mass_kg": None, "height_m": None} | subject),
        )["vas_lat_r"]

    assert factor("none", mass_kg=2 * m0) == 1.0
    assert factor("mass", mass_kg=2 * m0) == pytest.approx(2 ** (2 / 3))  # geometric similarity
    assert factor("mass", mass_kg=m0) == pytest.approx(1.0)  # the model's own mass keeps its strength
    # volume ~ m h, over an unchanged optimal fibre length (same model: l / l0 = 1)
    assert factor("mass_height", mass_kg=1.5 * m0, height_m=1.9) == pytest.approx(1.5 * 1.9 / 1.8)


def test_the_so_model_carries_the_scaled_strength(tmp_path, hamner):
    import opensim

    from retrorun import opensim_tools
    from retrorun.strength import model_mass_kg

    path, model = hamner
    out = tmp_path / "so_model.osim"
    opensim_tools.prepare_so_model(
        model_path=str(path),
        out_model=str(out),
        max_isometric_force_scale=3.0,
        residual_optimal_force=100.0,
        reserve_optimal_force=1.0,
        unmuscled_optimal_force=100.0,
        strength_scaling="mass",
        generic_model_path=str(path),
        mass_kg=2 * model_mass_kg(model),
    )
    prepared = opensim.Model(str(out))  # held: a muscle of a freed model is a dangling pointer
    assert prepared.getMuscles().get("vas_lat_r").getMaxIsometricForce() == pytest.approx(VAS_LAT_N * 2 ** (2 / 3) * 3)


def test_mass_height_without_a_height_says_what_to_fill(hamner):
    from retrorun.errors import ConfigError
    from retrorun.strength import strength_factors

    _, model = hamner
    with pytest.raises(ConfigError, match="height_m") as err:
        strength_factors(
            law="mass_height",
            generic_model=model,
            scaled_model=model,
            mass_kg=70.0,
            height_m=None,
            reference_height_m=1.8,
            subject="S07",
        )
    assert "S07" in str(err.value)
