"""The version diff (subdivision.diff): pure, over small shapes in metres."""

import pytest
import shapely
from shapely import box

from subdivision.diff import FeatureState, FindingState, diff_versions


def lot(no, geom, index=0, area_m2=None):
    return FeatureState(kind="lot", lot_no=no, index=index, geom=geom, area_m2=area_m2)


def other(kind, geom, index=0):
    return FeatureState(kind=kind, lot_no=None, index=index, geom=geom)


def finding(code, *features, location=None, severity="error"):
    return FindingState(code=code, severity=severity, features=tuple(features), message_en=code, message_ar=code,
                        location=location)


ROW = [lot("1", box(0, 0, 20, 30), 0), lot("2", box(20, 0, 40, 30), 1), lot("3", box(40, 0, 60, 30), 2)]
ROAD = other("road", box(0, 30, 60, 46), 3)


def test_identical_versions_have_no_changes():
    d = diff_versions(ROW + [ROAD], ROW + [ROAD], [finding("GAP", "1")], [finding("GAP", "1")])
    assert (d.lots_unchanged, d.other_unchanged, d.findings_still) == (3, 1, 1)
    assert not (d.lots_added or d.lots_removed or d.lots_reshaped or d.other_changed or d.findings_new)
    assert not d.changed


def test_lots_added_and_removed_by_number():
    after = [ROW[0], ROW[1], lot("4", box(40, 0, 60, 30), 2)]
    d = diff_versions(ROW, after, [], [])
    assert [f.lot_no for f in d.lots_removed] == ["3"] and [f.lot_no for f in d.lots_added] == ["4"]
    assert d.lots_unchanged == 2 and d.changed


def test_a_reshaped_lot_has_its_areas_and_the_changed_area_as_geometry():
    after = [lot("1", box(0, 0, 21, 30), 0), lot("2", box(21, 0, 40, 30), 1), ROW[2]]
    d = diff_versions(ROW, after, [], [])
    assert [c.before.lot_no for c in d.lots_reshaped] == ["1", "2"] and d.lots_unchanged == 1
    one = d.lots_reshaped[0]
    assert (one.before.measured_area_m2, one.after.measured_area_m2) == (600.0, 630.0)
    assert one.changed_area_m2 == pytest.approx(30.0)
    assert one.changed.equals(box(20, 0, 21, 30))


def test_the_stated_area_column_is_what_before_and_after_report():
    d = diff_versions([lot("1", box(0, 0, 20, 30), area_m2=600.004)], [lot("1", box(0, 0, 20, 31), area_m2=620.0)],
                      [], [])
    assert (d.lots_reshaped[0].before.measured_area_m2, d.lots_reshaped[0].after.measured_area_m2) == (600.004, 620)


@pytest.mark.parametrize("shift_m, reshaped", [(0.00001, False), (0.0001, False), (0.001, True), (1.0, True)])
def test_the_reshape_tolerance_is_on_the_symmetric_difference_area(shift_m, reshaped):
    # a 20 × 30 m lot moved sideways by s: symmetric difference 2 × 30 × s m²; 0.01 m² is s = 0.000167 m
    moved = shapely.affinity.translate(ROW[0].geom, xoff=shift_m)
    d = diff_versions([ROW[0]], [lot("1", moved)], [], [])
    assert bool(d.lots_reshaped) is reshaped and d.lots_unchanged == (0 if reshaped else 1)


def test_the_tolerance_can_be_set():
    moved = lot("1", shapely.affinity.translate(ROW[0].geom, xoff=0.1))  # 6 m² changed
    assert diff_versions([ROW[0]], [moved], [], [], tolerance_m2=10).lots_unchanged == 1
    assert len(diff_versions([ROW[0]], [moved], [], [], tolerance_m2=5).lots_reshaped) == 1


def test_a_renumbered_lot_is_removed_and_added_and_numbers_are_trimmed():
    d = diff_versions([lot("1", box(0, 0, 20, 30))], [lot("7", box(0, 0, 20, 30))], [], [])
    assert [f.lot_no for f in d.lots_removed] == ["1"] and [f.lot_no for f in d.lots_added] == ["7"]
    same = diff_versions([lot("3", box(0, 0, 20, 30))], [lot(" 3 ", box(0, 0, 20, 30))], [], [])
    assert same.lots_unchanged == 1 and not same.changed


def test_a_moved_lot_keeps_its_number_whatever_its_position_in_the_file():
    d = diff_versions(ROW, list(reversed([lot(f.lot_no, f.geom, index=9 - f.index) for f in ROW])), [], [])
    assert d.lots_unchanged == 3 and not d.changed


def test_repeated_lot_numbers_are_paired_by_overlap():
    before = [lot("5", box(0, 0, 20, 30), 0), lot("5", box(100, 0, 120, 30), 1)]
    after = [lot("5", box(100, 0, 121, 30), 0), lot("5", box(0, 0, 20, 30), 1), lot("5", box(300, 0, 320, 30), 2)]
    d = diff_versions(before, after, [], [])
    assert d.lots_unchanged == 1
    assert [(c.before.index, c.after.index) for c in d.lots_reshaped] == [(1, 0)]
    assert [f.index for f in d.lots_added] == [2] and d.lots_removed == []


def test_lot_numbers_sort_numerically_in_the_answer():
    before = [lot(str(n), box(n * 20, 0, n * 20 + 20, 30)) for n in (10, 2, 1)]
    d = diff_versions(before, [], [], [])
    assert [f.lot_no for f in d.lots_removed] == ["1", "2", "10"]


def test_other_features_are_matched_by_overlap_not_by_position():
    roads = [other("road", box(0, 30, 60, 46), 3), other("road", box(60, -100, 76, 46), 4)]
    reordered = [other("road", roads[1].geom, 0), other("road", roads[0].geom, 1)]
    d = diff_versions(roads, reordered, [], [])
    assert d.other_unchanged == 2 and not d.changed


def test_other_features_changed_added_and_removed_with_areas():
    widened = other("road", box(0, 30, 60, 48), 3)  # 16 m → 18 m: 120 m² more
    park = other("open_space", box(-30, 0, 0, 30), 4)
    d = diff_versions(ROW + [ROAD], ROW + [widened, park], [], [])
    assert d.lots_unchanged == 3
    [road] = d.other_changed
    assert (road.before.measured_area_m2, road.after.measured_area_m2) == (960.0, 1080.0)
    assert road.changed_area_m2 == pytest.approx(120.0)
    assert [f.kind for f in d.other_added] == ["open_space"] and d.other_removed == []
    gone = diff_versions(ROW + [ROAD, park], ROW, [], [])
    assert sorted(f.kind for f in gone.other_removed) == ["open_space", "road"]


def test_a_feature_that_changes_kind_is_removed_and_added():
    d = diff_versions([ROAD], [other("open_space", ROAD.geom)], [], [])
    assert [f.kind for f in d.other_removed] == ["road"] and [f.kind for f in d.other_added] == ["open_space"]


def test_an_unnumbered_lot_is_matched_as_another_feature():
    d = diff_versions([lot("", box(0, 0, 20, 30), 5)], [lot(None, box(0, 0, 20, 31), 0)], [], [])
    assert d.lots_added == d.lots_removed == [] and d.lots_unchanged == 0
    assert len(d.other_changed) == 1 and d.other_changed[0].changed_area_m2 == pytest.approx(20.0)


def test_disjoint_features_of_one_kind_are_not_paired():
    d = diff_versions([other("road", box(0, 0, 10, 100))], [other("road", box(50, 0, 60, 100))], [], [])
    assert len(d.other_removed) == len(d.other_added) == 1 and d.other_changed == []


def test_invalid_shapes_are_compared_without_raising():
    bowtie = shapely.Polygon([(0, 0), (20, 30), (20, 0), (0, 30), (0, 0)])
    assert not bowtie.is_valid
    square = box(0, 0, 20, 30)
    d = diff_versions([lot("1", bowtie), other("road", bowtie)], [lot("1", square), other("road", square)], [], [])
    assert len(d.lots_reshaped) == 1 and d.lots_reshaped[0].changed_area_m2 == pytest.approx(300.0)
    assert len(d.other_changed) == 1


# ---- findings ------------------------------------------------------------------------------------

def test_findings_matched_by_code_and_sorted_feature_labels():
    before = [finding("OVERLAP", "2", "1"), finding("MIN_AREA", "3"), finding("MIN_FRONTAGE", "3")]
    after = [finding("OVERLAP", "1", "2"), finding("MIN_AREA", "4"), finding("MIN_FRONTAGE", "3", severity="warning")]
    d = diff_versions([], [], before, after)
    assert d.findings_still == 2
    assert [(f.code, f.features) for f in d.findings_resolved] == [("MIN_AREA", ("3",))]
    assert [(f.code, f.features) for f in d.findings_new] == [("MIN_AREA", ("4",))]


def test_repeated_findings_count_as_a_multiset():
    d = diff_versions([], [], [finding("OVERLAP", "1", "2")] * 3, [finding("OVERLAP", "1", "2")])
    assert d.findings_still == 1 and len(d.findings_resolved) == 2 and d.findings_new == []


def test_findings_naming_no_feature_are_matched_by_location():
    gap = box(100, 100, 101, 101)
    moved_a_little = shapely.affinity.translate(gap, xoff=0.1)
    far = shapely.affinity.translate(gap, xoff=10)
    d = diff_versions([], [], [finding("GAP", location=gap)], [finding("GAP", location=moved_a_little)])
    assert (d.findings_still, d.findings_resolved, d.findings_new) == (1, [], [])
    d = diff_versions([], [], [finding("GAP", location=gap)], [finding("GAP", location=far)])
    assert d.findings_still == 0 and len(d.findings_resolved) == len(d.findings_new) == 1
    assert d.findings_new[0].location.equals(far)
    # near without touching: 0.1 m apart
    beside = shapely.affinity.translate(gap, xoff=1.1)
    assert diff_versions([], [], [finding("GAP", location=gap)], [finding("GAP", location=beside)]).findings_still == 1
    strict = diff_versions([], [], [finding("GAP", location=gap)], [finding("GAP", location=beside)],
                           location_tolerance_m=0.05)
    assert strict.findings_still == 0


def test_located_findings_pair_with_the_nearest():
    a, b = shapely.Point(0, 0), shapely.Point(0.4, 0)
    d = diff_versions([], [], [finding("GAP", location=a), finding("GAP", location=b)],
                      [finding("GAP", location=shapely.Point(0.41, 0))])
    assert d.findings_still == 1 and [f.location for f in d.findings_resolved] == [a]


def test_findings_without_features_or_location_match_by_code():
    d = diff_versions([], [], [finding("PUBLIC_SHARE"), finding("PUBLIC_SHARE")], [finding("PUBLIC_SHARE")])
    assert d.findings_still == 1 and len(d.findings_resolved) == 1
    d = diff_versions([], [], [finding("PUBLIC_SHARE")], [finding("PUBLIC_SHARE", location=shapely.Point(1, 1))])
    assert d.findings_still == 0 and len(d.findings_new) == 1


def test_a_finding_with_features_never_matches_one_without():
    d = diff_versions([], [], [finding("GAP", "1", location=shapely.Point(0, 0))],
                      [finding("GAP", location=shapely.Point(0, 0))])
    assert d.findings_still == 0 and len(d.findings_resolved) == len(d.findings_new) == 1


@pytest.mark.slow
def test_many_features_and_findings_stay_fast():
    import time

    before = [lot(str(i), box(i * 20, 0, i * 20 + 20, 30), i) for i in range(3000)]
    after = [lot(str(i), box(i * 20, 0, i * 20 + (21 if i % 10 == 0 else 20), 30), i) for i in range(3000)]
    roads = [other("road", box(i * 20, 30, i * 20 + 20, 46), i) for i in range(2000)]
    gaps = [finding("GAP", location=box(i * 5, -2, i * 5 + 1, -1)) for i in range(3000)]
    started = time.perf_counter()
    d = diff_versions(before + roads, after + roads[::-1], gaps, gaps[::-1])
    elapsed = time.perf_counter() - started
    assert len(d.lots_reshaped) == 300 and d.lots_unchanged == 2700
    assert d.other_unchanged == 2000 and d.findings_still == 3000
    assert elapsed < 5, elapsed


def test_floating_point_slivers_are_left_out_of_the_changed_geometry():
    nudged = shapely.Polygon([(1e-7, 0), (21, 0), (21, 30), (0, 30)])  # the west edge off by 0.1 µm at one end
    [change] = diff_versions([ROW[0]], [lot("1", nudged)], [], []).lots_reshaped
    assert shapely.get_num_geometries(shapely.symmetric_difference(ROW[0].geom, nudged)) == 2
    assert change.changed.geom_type == "Polygon" and change.changed.equals(box(20, 0, 21, 30))
    # a real change in two pieces keeps both
    [both] = diff_versions([ROW[0]], [lot("1", box(-1, 0, 21, 30))], [], []).lots_reshaped
    assert shapely.get_num_geometries(both.changed) == 2 and both.changed_area_m2 == pytest.approx(60)
