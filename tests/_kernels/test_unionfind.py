import numpy as np

from clustra._kernels import unionfind


def test_union_find_components_and_smallest_root():
    parent = unionfind.make_sets(6)
    assert unionfind.union(parent, 4, 2)
    assert unionfind.union(parent, 2, 5)
    assert not unionfind.union(parent, 5, 4)
    assert unionfind.union(parent, 1, 0)
    roots = unionfind.flatten(parent)
    np.testing.assert_array_equal(roots, [0, 0, 2, 3, 2, 2])
