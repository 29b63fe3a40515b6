"""The self-contained HTML report of a clustering run (Jinja2, autoescaped)."""

from clustra.report.builder import build_report, render_figures, write_report

__all__ = ["build_report", "render_figures", "write_report"]
