import numpy as np
import shapely

from parcels.measurements import ring_measures


def test_ring_measures_are_shapely_area_and_length_of_single_rings_far_from_the_origin():
    rng = np.random.default_rng(7)
    centres = rng.uniform([300_000, 4_000_000], [700_000, 5_000_000], size=(200, 2))
    rings = [shapely.Polygon(shapely.buffer(shapely.Point(c), rng.uniform(5, 60), quad_segs=int(rng.integers(1, 9)))
                             .exterior.coords) for c in centres]
    rings += [shapely.MultiPolygon([shapely.box(0, 0, 3, 4)]), shapely.Polygon([(0, 0), (10, 0), (0, 10), (0, 0)])]
    geoms = np.array(rings, dtype=object)
    xy, index = shapely.get_coordinates(geoms, return_index=True)
    area, perimeter = ring_measures(xy, index, len(geoms))
    np.testing.assert_allclose(area, shapely.area(geoms), rtol=1e-12)
    np.testing.assert_allclose(perimeter, shapely.length(geoms), rtol=1e-12)
    assert area[-1] == 50 and perimeter[-2] == 14


def test_ring_measures_of_geometries_without_coordinates_are_zero():
    geoms = np.array([shapely.box(0, 0, 2, 2), None, shapely.Polygon(), shapely.box(5, 5, 6, 8)], dtype=object)
    xy, index = shapely.get_coordinates(geoms, return_index=True)
    area, perimeter = ring_measures(xy, index, len(geoms))
    assert area.tolist() == [4, 0, 0, 3] and perimeter.tolist() == [8, 0, 0, 8]
    assert [a.tolist() for a in ring_measures(np.zeros((0, 2)), np.zeros(0, dtype=int), 2)] == [[0, 0], [0, 0]]
