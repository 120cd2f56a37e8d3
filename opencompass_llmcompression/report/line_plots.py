"""Plots of lines of score against BPC: the paper's four (its Figure 1) and those anchored on a
run's corpora, as a grid of panels that reads at the width a page shows it (two panels a row).

Each panel: the line (red) and its 95% prediction band, both kept on the 0-100 scale; the
models that make the line (grey dots, each named; those the line leaves out hollow); each
model of the run in its own colour at the line's prediction with its interval (a hollow
circle, or a triangle at the scale's end where the line is past it) and at its measured score
(a star), named. Names are placed by ``plot_labels`` so that none covers another or a point.
One legend for the figure, below the panels.
"""

import math
import textwrap
from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

from ..core.atomic_files import atomic_write
from .paper_fits import LEVEL, SCALE, Line, Placement
from .plot_labels import Label, place_labels

PANEL_INCHES = (4.6, 3.9)  # width, height of one panel
DPI = 110  # two panels a row: about 1000 pixels wide


@dataclass
class Panel:
    """One line's panel: ``title`` names its area and corpus; ``hollow``: models of the table
    the line leaves out, ``(name, bpc, score in %)``."""

    line: Line
    title: str
    xlabel: str
    placed: Sequence[Placement]
    hollow: Sequence[Tuple[str, float, float]] = ()


def colours_of(placed: Sequence[Placement]) -> Dict[str, object]:
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(p.model for p in placed))
    return {m: plt.get_cmap('tab10')(i % 10) for i, m in enumerate(models)}


def draw_panel(ax, panel: Panel, colours: Dict[str, object]):
    """Draws ``panel`` on ``ax``; returns the names to place (the run's models first), the
    points and the error bars they must not cover (``plot_labels.place_labels``'s arguments)."""
    import numpy as np

    li, ours = panel.line, panel.placed
    xs = [p[1] for p in li.points] + [h[1] for h in panel.hollow] + [p.bpc for p in ours]
    low, high = min(xs), max(xs)
    pad = 0.06 * (high - low or 0.1)
    grid = np.linspace(low - pad, high + pad, 80)
    bands = np.clip([li.predict(x) for x in grid], *SCALE)
    ax.fill_between(grid, bands[:, 1], bands[:, 2], color='tab:red', alpha=0.12, linewidth=0)
    ax.plot(grid, bands[:, 0], color='tab:red', linewidth=1)
    ax.scatter([p[1] for p in li.points], [p[2] for p in li.points], color='grey', s=16, zorder=3)
    if panel.hollow:
        ax.scatter(
            [h[1] for h in panel.hollow],
            [h[2] for h in panel.hollow],
            facecolors='none',
            edgecolors='grey',
            s=16,
            zorder=3,
        )
    labels, obstacles, bars = [], [], []
    for p in ours:
        colour = colours[p.model]
        marker = ('v' if p.line_value < 0 else '^') if p.past_scale else 'o'
        ax.errorbar(
            [p.bpc],
            [p.predicted],
            yerr=[[p.predicted - p.low], [p.high - p.predicted]],
            fmt=marker,
            mfc='none',
            color=colour,
            capsize=3,
            zorder=4,
        )
        obstacles.append((p.bpc, p.predicted))
        bars.append((p.bpc, p.low, p.high))
        at = p.predicted
        if p.measured is not None:
            ax.scatter([p.bpc], [p.measured], color=colour, marker='*', s=90, zorder=5)
            obstacles.append((p.bpc, p.measured))
            at = p.measured
        labels.append(Label(p.bpc, at, p.model, colour, fontsize=8.5))
    labels += [
        Label(x, y, name, 'dimgrey', fontsize=7) for name, x, y in list(li.points) + list(panel.hollow)
    ]
    ax.set_title('\n'.join(textwrap.fill(part, 50) for part in panel.title.split('\n')), fontsize=10)
    ax.set_xlabel(panel.xlabel, fontsize=9)
    ax.set_ylabel('score (%)', fontsize=9)
    ax.tick_params(labelsize=8)
    ax.set_xlim(low - pad, high + pad)
    bottom, top = ax.get_ylim()
    ax.set_ylim(max(bottom, SCALE[0] - 3), min(top, SCALE[1] + 3))
    return labels, obstacles, bars


def lines_figure(panels: Sequence[Panel], anchors_name: str):
    """The figure of ``panels``, two a row (one alone), names placed, legend below;
    ``anchors_name`` is what the legend calls the grey dots."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    count = max(1, len(panels))
    columns = 1 if count == 1 else 2
    rows = math.ceil(count / columns)
    legend_inches = 0.55
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(PANEL_INCHES[0] * columns, PANEL_INCHES[1] * rows + legend_inches),
        dpi=DPI,
        squeeze=False,
    )
    axes = list(axes.flat)
    colours = colours_of([p for panel in panels for p in panel.placed])
    drawn = [(ax, *draw_panel(ax, panel, colours)) for ax, panel in zip(axes, panels)]
    for ax in axes[len(panels) :]:
        ax.axis('off')
    handles = [
        Patch(color='tab:red', alpha=0.25, label=f'the line and its {LEVEL:.0%} prediction interval'),
        Line2D([], [], color='grey', marker='o', linestyle='', label=anchors_name),
    ]
    if any(panel.hollow for panel in panels):
        handles.append(
            Line2D([], [], color='grey', marker='o', mfc='none', linestyle='', label='left out of the fit')
        )
    placed = [p for panel in panels for p in panel.placed]
    if placed:
        handles.append(
            Line2D(
                [],
                [],
                color='black',
                marker='o',
                mfc='none',
                linestyle='',
                label='predicted, with its interval',
            )
        )
    if any(p.measured is not None for p in placed):
        handles.append(
            Line2D([], [], color='black', marker='*', markersize=9, linestyle='', label='measured')
        )
    figure.legend(handles=handles, loc='lower center', ncol=min(3, len(handles)), fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, legend_inches / figure.get_figheight(), 1, 1))
    for ax, labels, obstacles, bars in drawn:
        ax.set_autoscale_on(False)
        place_labels(ax, labels, obstacles, bars)
    return figure


def save(figure, path: str) -> None:
    """Writes ``figure`` to ``path`` as PNG, whole or not at all, and closes it."""
    import matplotlib.pyplot as plt

    with atomic_write(path, 'wb') as f:
        figure.savefig(f, format='png', dpi=DPI)
    plt.close(figure)
