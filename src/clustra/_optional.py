"""Optional dependencies, imported on first use with an error that names the extra."""

from __future__ import annotations


def missing_extra(purpose: str, extra: str, package: str) -> ImportError:
    """The ImportError to raise when ``purpose`` needs ``package`` from ``extra``."""
    return ImportError(
        f'{purpose} needs {package}, which is not installed: pip install "clustra[{extra}]" '
        f"(or pip install {package})."
    )


def import_matplotlib(purpose: str = "Plotting"):
    """Import and return ``matplotlib``, or raise an ImportError naming ``clustra[plot]``."""
    try:
        import matplotlib
    except ImportError:
        raise missing_extra(purpose, "plot", "matplotlib") from None
    return matplotlib


def import_pyplot(purpose: str = "Plotting"):
    """Import and return ``matplotlib.pyplot`` (for figures a user asked for interactively)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise missing_extra(purpose, "plot", "matplotlib") from None
    return plt
