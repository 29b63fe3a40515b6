import importlib
import subprocess
import sys

import pytest

import clustra


def test_version_is_exposed():
    assert isinstance(clustra.__version__, str) and clustra.__version__.count(".") >= 1


@pytest.mark.parametrize("modules", ["clustra", "clustra.metrics, clustra.selection, clustra.plot"])
def test_import_is_light(modules):
    # Importing clustra must not drag in numba, scikit-learn, pandas or
    # matplotlib; nor must its subpackages, whose names load on first use too.
    code = (
        f"import sys, {modules}; "
        "heavy = [m for m in ('numba', 'sklearn', 'pandas', 'matplotlib') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NotThere'"):
        clustra.NotThere  # noqa: B018


@pytest.mark.parametrize("package", ["clustra", "clustra.metrics", "clustra.selection",
                                     "clustra.plot"])
def test_every_public_name_resolves_once(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert vars(module)[name] is value  # cached: the next lookup is a plain attribute
        assert name in dir(module)
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nope'"):
        module.nope  # noqa: B018


def test_thread_limit_nests_and_restores():
    outer = clustra.get_num_threads()
    with clustra.thread_limit(1):
        assert clustra.get_num_threads() == 1
        with clustra.thread_limit(None):
            assert clustra.get_num_threads() == outer
        assert clustra.get_num_threads() == 1
    assert clustra.get_num_threads() == outer


def test_thread_limit_as_decorator():
    @clustra.thread_limit(1)
    def inside():
        return clustra.get_num_threads()

    assert inside() == 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_thread_limit_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="positive integer"):
        clustra.thread_limit(bad)


def test_set_num_threads_round_trip():
    try:
        clustra.set_num_threads(1)
        assert clustra.get_num_threads() == 1
    finally:
        clustra.set_num_threads(None)
