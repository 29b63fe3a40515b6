import base64
import re

import pytest

import clustra
from clustra.report import build_report
from clustra.report.builder import report_context

XSS = "<script>alert(1)</script>"


def _images(html):
    return re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)


def test_data_derived_strings_are_escaped(hostile_html):
    html = hostile_html
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>y</b>" not in html and "&lt;b&gt;y&lt;/b&gt;" in html
    assert "<i>key</i>" not in html
    assert "<script" not in html.lower()  # the report has no script of its own either


def test_source_file_name_is_escaped(tmp_path, hostile_frame):
    path = tmp_path / "<img src=x onerror=alert(2)>.csv"
    hostile_frame.to_csv(path, index=False)
    html = build_report(clustra.run(path, k=3))
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;.csv" in html


def test_self_contained(hostile_html):
    html = hostile_html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "@import" not in html
    images = _images(html)
    assert len(images) == html.count("<img")
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")


def test_report_sections(hostile_result, hostile_html):
    html = hostile_html
    for section in ("summary", "algorithm", "metrics", "figures", "profiles", "preprocessing",
                    "data"):
        assert f'<section id="{section}">' in html
    titles = re.findall(r"<h3>([^<]+)</h3>\n<img", html)
    assert titles == ["Clusters in 2-D", "Cluster sizes", "Cluster profiles",
                      "Silhouette diagram", "Choosing k"]
    assert f"clustra {clustra.__version__}" in html
    assert "StandardScaler" in html  # preprocessing steps are listed
    assert hostile_result.choices[0].reason.split()[0] in html


def test_single_cluster_figure_says_why(hostile_frame):
    with pytest.warns(UserWarning, match="single cluster"):  # DBSCAN says so, and run passes it on
        result = clustra.run(hostile_frame, algorithm="dbscan", eps=50.0, min_samples=3)
    assert any("single cluster" in message for message in result.warnings)
    context = report_context(result)
    silhouette = next(f for f in context["figures"] if f.title == "Silhouette diagram")
    assert silhouette.png is None and "at least 2 clusters" in silhouette.missing
    assert "Not drawn: A silhouette diagram needs at least 2 clusters" in build_report(result)


def test_to_html_writes_file(tmp_path, hostile_result):
    path = hostile_result.to_html(tmp_path / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_read_note_and_notices_are_in_the_report_escaped(tmp_path, hostile_frame):
    frame = hostile_frame.copy()
    frame[XSS] = frame[XSS].astype(object)
    frame.loc[7, XSS] = "<b>oops</b>"  # a stray text cell: a notice quoting it
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False, sep=";")
    result = clustra.run(path, k=3)
    html = build_report(result)
    assert "sep=&#39;;&#39;" in html and "(sniffed;" in html
    assert any("&lt;b&gt;oops&lt;/b&gt;" in html and "oops" in message
               for message in result.warnings)
    assert "<b>oops</b>" not in html
