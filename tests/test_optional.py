import sys

import pytest

from clustra._optional import import_matplotlib, import_pyplot


@pytest.fixture
def without_matplotlib(monkeypatch):
    for name in ("matplotlib", "matplotlib.pyplot", "matplotlib.collections"):
        monkeypatch.setitem(sys.modules, name, None)


def test_missing_matplotlib_names_the_extra(without_matplotlib):
    with pytest.raises(ImportError, match=r'needs matplotlib.*pip install "clustra\[plot\]"'):
        import_matplotlib("Drawing")
    with pytest.raises(ImportError, match=r"KSelection.plot needs matplotlib"):
        import_pyplot("KSelection.plot")


def test_present_matplotlib_is_returned():
    assert import_matplotlib().__name__ == "matplotlib"
