"""Live training curves: loss (training and validation), learning rate, tokens per second.

The training loss of one step (a batch of four examples) swings by more than its whole fall: on a 760-step
run of the realistic documents it jumped between 0.3 and 1.8 around step 100 and hid the trend. So it is drawn
faint, under its running average (TensorBoard's smoothing, debiased so the first steps are not pulled to 0),
which reads beside the validation loss.

Points are stored as they arrive and drawn by a timer at most 4 times a
second, so a fast run cannot flood the event loop with repaints. A resumed
run repeats the steps after its checkpoint; points at or beyond a step that
arrives again are dropped first, so the curve never folds back on itself.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QGridLayout, QWidget

from core.events import EvalMetrics, StepMetrics
from gui.theme import Theme, active

REDRAW_MS = 250
SMOOTHING = 0.9
"""Weight of the running average the training loss trend is drawn with: about the last ten steps."""
EMPTY_STEPS = 10  # the step axis of a chart with no points yet: 0…10, whole numbers


class StepAxis(pg.AxisItem):
    """A step axis: whole numbers only. pyqtgraph's own ticks put 0.1…0.9 under an empty chart or a run of
    a few steps (issue #21); a step is never fractional."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing >= 1:
                levels.append((spacing, [v for v in values if float(v).is_integer()]))
        if not levels:  # the range is narrower than a few steps: every whole step in it
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{int(round(v * scale))}" for v in values]


def smoothed(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """The debiased exponential running average of `values`: its first point is the first value, not 0.1 of it."""
    out, average = [], 0.0
    for n, value in enumerate(values, 1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** n))
    return out


class Series:
    def __init__(self) -> None:
        self.x: list[float] = []
        self.y: list[float] = []

    def add(self, x: float, y: float) -> None:
        while self.x and self.x[-1] >= x:  # a resumed run repeats steps after its checkpoint
            self.x.pop()
            self.y.pop()
        self.x.append(x)
        self.y.append(y)

    def clear(self) -> None:
        self.x.clear()
        self.y.clear()


WIDEST_VALUE = "0.0025"
"""The widest value label a chart needs room for (a learning rate; losses and tokens/s are narrower)."""


class TrainingPlots(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        self.series = {name: Series() for name in ("loss", "val_loss", "lr", "speed")}
        self.redraws = 0  # how many times the curves were actually redrawn (tests read this)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(10)
        self.loss_plot = self._plot("Loss", "step")
        self.lr_plot = self._plot("Learning rate", "step")
        self.speed_plot = self._plot("Speed (tokens / s)", "step")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.curves: dict[str, Any] = {
            "loss": self.loss_plot.plot(),  # each step, faint: not in the legend
            "loss_trend": self.loss_plot.plot(name="training"),
            "val_loss": self.loss_plot.plot(name="validation", symbol="o", symbolSize=7),
            "lr": self.lr_plot.plot(),
            "speed": self.speed_plot.plot(),
        }
        grid.addWidget(self.loss_plot, 0, 0, 1, 2)
        grid.addWidget(self.lr_plot, 1, 0)
        grid.addWidget(self.speed_plot, 1, 1)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()
        self.apply_theme(active())

    def _plot(self, title: str, xlabel: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(axisItems={"bottom": StepAxis("bottom")})
        plot.setTitle(title)
        plot.setLabel("bottom", xlabel)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMinimumHeight(130)
        plot.setXRange(0, EMPTY_STEPS, padding=0)
        plot.getAxis("left").setStyle(showValues=False)  # no made-up values on an empty chart
        # A fixed width for the values: an axis sized while empty drew only the labels that fit ("0" but not
        # "0.0010", "800" but not "1100") once values arrived, and clipped the first digit of wide ones.
        axis = plot.getAxis("left")
        axis.setWidth(QFontMetrics(plot.font()).horizontalAdvance(WIDEST_VALUE) + axis.style["tickTextOffset"][0] + 8)
        return plot

    def apply_theme(self, theme: Theme) -> None:
        for plot in (self.loss_plot, self.lr_plot, self.speed_plot):
            plot.setBackground(theme.surface)
            item = plot.getPlotItem()
            item.titleLabel.setText(item.titleLabel.text, color=theme.text, size="10pt")
            for axis in ("left", "bottom"):
                ax = plot.getAxis(axis)
                ax.setPen(pg.mkPen(theme.border))
                ax.setTextPen(pg.mkPen(theme.muted))
        colours = dict(zip(("loss", "val_loss", "lr", "speed"), theme.plot))
        colours["loss_trend"] = colours["loss"]
        for name, curve in self.curves.items():
            if name == "loss":
                faint = pg.mkColor(colours[name])
                faint.setAlpha(70)
                curve.setPen(pg.mkPen(faint, width=1.2))
                continue
            curve.setPen(pg.mkPen(colours[name], width=2.2))
            if name == "val_loss":
                curve.setSymbolBrush(colours[name])
                curve.setSymbolPen(pg.mkPen(theme.surface, width=1.5))
        legend = self.loss_plot.getPlotItem().legend
        if legend is not None:
            legend.setLabelTextColor(theme.muted)

    # Data in ----------------------------------------------------------------------------
    def add_step(self, m: StepMetrics) -> None:
        self.series["loss"].add(m.step, m.loss)
        self.series["lr"].add(m.step, m.learning_rate)
        self.series["speed"].add(m.step, m.tokens_per_second)
        self._dirty = True

    def add_eval(self, e: EvalMetrics) -> None:
        self.series["val_loss"].add(e.step, e.val_loss)
        self._dirty = True

    def load(self, records: Iterable[dict[str, Any]]) -> None:
        """Curves of a run from its metrics.jsonl records."""
        self.clear()
        for r in records:
            if r.get("type") == "step":
                self.series["loss"].add(r["step"], r["loss"])
                self.series["lr"].add(r["step"], r["learning_rate"])
                self.series["speed"].add(r["step"], r["tokens_per_second"])
            elif r.get("type") == "eval":
                self.series["val_loss"].add(r["step"], r["val_loss"])
        self._dirty = True
        self._redraw()

    def clear(self) -> None:
        for s in self.series.values():
            s.clear()
        self._dirty = True

    def points(self, name: str = "loss") -> int:
        """Points drawn on screen for a series (what the user sees, not what is buffered)."""
        x, _ = self.curves[name].getData()
        return 0 if x is None else len(x)

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.redraws += 1
        for name, curve in self.curves.items():
            if name == "loss_trend":
                curve.setData(self.series["loss"].x, smoothed(self.series["loss"].y))
                continue
            s = self.series[name]
            curve.setData(s.x, s.y)
        for plot, names in ((self.loss_plot, ("loss", "val_loss")), (self.lr_plot, ("lr",)),
                            (self.speed_plot, ("speed",))):
            empty = not any(self.series[n].x for n in names)
            plot.getAxis("left").setStyle(showValues=not empty)
            if empty:
                plot.setXRange(0, EMPTY_STEPS, padding=0)
            else:
                plot.enableAutoRange()
