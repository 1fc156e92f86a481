"""covtool-badge: a third-party covtool reporter.

When a report is ready it writes ``coverage-badge.svg`` — the total coverage as a small
badge, green at or above the threshold, red below — into the artifacts, where a README or
Prow's Spyglass can show it. It implements two hooks and imports only covtool's public API.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from covtool import Parser, Report, Run, hookimpl, views

_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" \
aria-label="{label}: {value}">
<rect width="{left}" height="20" fill="#555"/>
<rect x="{left}" width="{right}" height="20" fill="{colour}"/>
<g fill="#fff" font-family="DejaVu Sans,Verdana,sans-serif" font-size="11">
<text x="6" y="14">{label}</text><text x="{text_x}" y="14">{value}</text>
</g>
</svg>
"""


@hookimpl
def covtool_addoption(parser: Parser) -> None:
    """Declare the badge's file name and label."""
    parser.addoption("badge_name", default="coverage-badge.svg", help="File name of the badge.")
    parser.addoption("badge_label", default="coverage", help="Text on the badge's left side.")


@hookimpl
def covtool_report_ready(report: Report, run: Run) -> None:
    """Write the badge of the report's total into the artifacts directory."""
    value = views.format_percent(report.profile.totals())
    threshold = report.threshold or 0.0
    percent = report.profile.totals().percent
    colour = "#4c1" if percent is not None and percent >= threshold else "#e05d44"
    label = run.config.get("badge_label")
    left, right = 10 + 7 * len(label), 10 + 7 * len(value)
    svg = _SVG.format(
        width=left + right,
        left=left,
        right=right,
        text_x=left + 5,
        label=escape(label),
        value=escape(value),
        colour=colour,
    )
    path = Path(run.config.get("artifacts")) / run.config.get("badge_name")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg)
    run.outcome(f"wrote {path} ({value})")
