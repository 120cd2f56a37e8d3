"""Names beside a scatter plot's points, none over another or over a point: a greedy,
deterministic placement, the first free spot of a few around each point, nearest first.

    labels = [Label(x, y, 'Llama-2-7b', 'grey'), ...]      (data coordinates)
    place_labels(ax, labels, obstacles, bars)              after the figure's layout is final

Each name tries eight spots around its point (right, left, above, below, the four corners),
then the same eight further out, ring after ring (``RINGS``); it takes the first spot inside
the axes that overlaps no point (``obstacles`` and the labels' own points, each a square of
``MARKER_PX``), no error bar (``bars``) and no name placed before it. A name placed beyond
the first ring gets a thin line to its point. A name with no free spot takes the spot that
overlaps least. Names are placed in the order given: put the ones that matter most first.
"""

from dataclasses import dataclass
from typing import List, Sequence, Tuple

MARKER_PX = 5.0  # half the side of the square a point occupies, in pixels
GAP_PX = 3.0  # from a point to its name, first ring
RINGS = 12

Box = Tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class Label:
    """A name for the point ``(x, y)`` (data coordinates), in ``colour``."""

    x: float
    y: float
    text: str
    colour: object = 'grey'
    fontsize: float = 8.0


def overlap(a: Box, b: Box) -> float:
    """The area two boxes share (0 when they only touch)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


def spots(px: float, py: float, width: float, height: float, ring: int) -> List[Box]:
    """The eight boxes of a ``width`` x ``height`` name around the point ``(px, py)`` at
    ``ring`` (0: nearest), in the order they are tried."""
    d = MARKER_PX + GAP_PX + ring * (height + 2)
    corners = [
        (px + d, py - height / 2),  # right
        (px - d - width, py - height / 2),  # left
        (px - width / 2, py + d),  # above
        (px - width / 2, py - d - height),  # below
        (px + d * 0.7, py + d * 0.7),  # upper right
        (px + d * 0.7, py - d * 0.7 - height),  # lower right
        (px - d * 0.7 - width, py + d * 0.7),  # upper left
        (px - d * 0.7 - width, py - d * 0.7 - height),  # lower left
    ]
    return [(x, y, x + width, y + height) for x, y in corners]


def place_labels(
    ax,
    labels: Sequence[Label],
    obstacles: Sequence[Tuple[float, float]] = (),
    bars: Sequence[Tuple[float, float, float]] = (),
) -> List[Box]:
    """Writes each of ``labels`` on ``ax`` at its first free spot; returns the boxes taken, in
    pixels, in the order of ``labels``. ``obstacles``: other points, ``bars``: vertical error
    bars ``(x, low, high)``, that no name may cover (data coordinates). Call it once the axes'
    limits and the figure's layout are final: the spots are measured in pixels."""
    figure = ax.figure
    renderer = figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    to_px = ax.transData.transform
    points = [tuple(to_px((x, y))) for x, y in list(obstacles) + [(lb.x, lb.y) for lb in labels]]
    taken: List[Box] = [(x - MARKER_PX, y - MARKER_PX, x + MARKER_PX, y + MARKER_PX) for x, y in points]
    for x, low, high in bars:
        (x0, y0), (_, y1) = to_px((x, low)), to_px((x, high))
        taken.append((x0 - MARKER_PX, y0, x0 + MARKER_PX, y1))
    boxes = []
    for label in labels:
        probe = ax.text(0, 0, label.text, fontsize=label.fontsize)
        extent = probe.get_window_extent(renderer)
        probe.remove()
        px, py = to_px((label.x, label.y))
        best, best_cost, best_ring = None, float('inf'), 0
        for ring in range(RINGS):
            for box in spots(px, py, extent.width, extent.height, ring):
                inside = (
                    frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1
                )
                cost = sum(overlap(box, other) for other in taken) + (0 if inside else 1e9)
                if cost < best_cost:
                    best, best_cost, best_ring = box, cost, ring
                if cost == 0:
                    break
            if best_cost == 0:
                break
        to_data = ax.transData.inverted().transform
        x, y = to_data((best[0], best[1]))
        ax.text(x, y, label.text, fontsize=label.fontsize, color=label.colour, ha='left', va='bottom')
        if best_ring > 0:
            nearest = (min(max(px, best[0]), best[2]), min(max(py, best[1]), best[3]))
            ax.plot(*zip(to_data((px, py)), to_data(nearest)), color=label.colour, linewidth=0.5, alpha=0.6)
        taken.append(best)
        boxes.append(best)
    return boxes
