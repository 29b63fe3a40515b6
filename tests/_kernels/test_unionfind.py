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


def test_roots_of_members_and_set_labels_by_first_element():
    parent = unionfind.make_sets(6)
    unionfind.union(parent, 5, 1)
    unionfind.union(parent, 3, 4)
    members = np.array([True, True, False, True, False, True])
    np.testing.assert_array_equal(unionfind.roots_of(parent, members), [0, 1, -1, 3, -1, 1])
    # Sets {0}, {1, 5}, {2}, {3, 4}, numbered in the order of their first element.
    np.testing.assert_array_equal(unionfind.set_labels(parent), [0, 1, 2, 3, 3, 1])
