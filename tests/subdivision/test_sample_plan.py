import pytest
import shapely
import shapely.affinity

from subdivision.engine import ExistingParcel, PlanContext, PlanFeature, validate
from subdivision.sample_plan import sample_plan


@pytest.mark.parametrize("width, length, angle", [(233, 239, 0), (200, 320, 30), (140, 150, -12)])
def test_sample_plans_cover_the_parent_and_pass_every_rule(width, length, angle):
    parent = shapely.affinity.rotate(shapely.box(500000, 2700000, 500000 + width, 2700000 + length), angle)
    features = sample_plan(parent)
    # Rotated frames lose float slivers along the edges: far under the 0.5 m² gap tolerance.
    assert sum(f["geometry"].area for f in features) == pytest.approx(parent.area, abs=0.1)
    assert all(parent.buffer(1e-6).covers(f["geometry"]) for f in features)
    context = PlanContext(
        features=tuple(PlanFeature(f["kind"], f["lot_no"], f["geometry"], f["stated_area"], f["land_use"], i)
                       for i, f in enumerate(features)),
        parents=(ExistingParcel("P", parent, "active"),),
    )
    report = validate(context)
    assert [f.code for f in report.findings] == []
    assert report.summary["public_share_pct"] >= 33.33


def test_a_parcel_too_narrow_or_not_rectangular_is_refused():
    with pytest.raises(ValueError, match="wide"):
        sample_plan(shapely.box(0, 0, 50, 300))
    with pytest.raises(ValueError, match="rectangular"):
        sample_plan(shapely.Polygon([(0, 0), (300, 0), (0, 300)]))
