"""Layouts that hold (issue #21): at the window's minimum size no number, input or chart is cut off or
drawn over another; the Answer settings popup opens inside the window; step axes count whole steps."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QWidget

from gui_support import add_run, home, make_window, tiny_run, window  # noqa: F401 - fixtures

from core import projects
from core.events import StepMetrics
from gui.main_window import MINIMUM_SIZE

LONG_STATS = {"step": "248 / 248", "loss": "12.345", "val": "12.345", "eta": "2 h 46 min", "speed": "12345"}
LONG_ESTIMATE = ("Training fits: it needs about 2.8 GB of the 20.6 GB free (bf16: CPU with bf16 instructions and "
                 "the model fits in RAM); about 1 second per step, 248 steps, and about 2 minutes to prepare: "
                 "roughly 7 minutes in all.")


def rect_in_window(widget: QWidget) -> QRect:
    return QRect(widget.mapTo(widget.window(), QPoint(0, 0)), widget.size())


def at_minimum(window, qtbot) -> None:
    assert window.minimumSize() == MINIMUM_SIZE
    window.resize(MINIMUM_SIZE)
    qtbot.waitUntil(lambda: window.size() == MINIMUM_SIZE)
    for _ in range(3):
        QApplication.processEvents()


def not_clipped(label) -> bool:
    """A one-line label shows its whole text; a wrapping one has the height its lines need."""
    if label.wordWrap():
        return label.height() >= label.heightForWidth(label.width())
    return label.width() >= label.sizeHint().width()


def test_train_page_holds_at_the_minimum_size(window, qtbot, tiny_run):
    project = projects.create_project("Small")
    add_run(project, tiny_run)
    window.ctx.open_project(project)
    window.show_page("train")
    page = window.train_page
    at_minimum(window, qtbot)

    for key, text in LONG_STATS.items():
        page.stats[key].set(text)
    page.estimate_label.setText(LONG_ESTIMATE)
    qtbot.wait(50)
    for key, stat in page.stats.items():
        assert stat.isVisible() and not_clipped(stat.value), f"{key}: {stat.value.text()!r} is cut off"
    for a, b in itertools.combinations(page.stats.values(), 2):
        assert not rect_in_window(a).intersects(rect_in_window(b)), "two numbers drawn over each other"
    assert not_clipped(page.estimate_label) and not_clipped(page.status_label)

    charts = [page.plots.loss_plot, page.plots.lr_plot, page.plots.speed_plot, page.log]
    for chart in charts:
        assert chart.height() >= chart.minimumHeight() and chart.height() >= 60
    for a, b in itertools.combinations(charts, 2):
        assert not rect_in_window(a).intersects(rect_in_window(b)), "charts overlap"

    # Advanced settings: every input lies inside the scrolled panel, none under its scroll bar, and the
    # presets keep their descriptions.
    page.advanced_toggle.setChecked(True)
    qtbot.wait(50)
    viewport = page.form_scroll.viewport()
    for name, widget in page.form.widgets.items():
        right = widget.mapTo(viewport, QPoint(widget.width(), 0)).x()
        assert right <= viewport.width(), f"{name}'s input runs under the scroll bar"
        label = page.form.labels[name]
        assert not_clipped(label), f"{name}'s label is cut off"
    for button in page.preset_buttons.values():
        assert button.labels[1].isVisible() and not_clipped(button.labels[1])


def test_advanced_settings_speak_plainly_with_the_jargon_in_the_tooltip(window):
    form = window.train_page.form
    for name, words in (("lora_alpha", "LoRA alpha"), ("precision", "nf4"), ("compile", "torch.compile")):
        label = form.labels[name].text()
        assert words.lower() not in label.lower() and "lora" not in label.lower()
        assert words in form.labels[name].toolTip() and words in form.widgets[name].toolTip()


def test_chat_compare_and_answer_settings_hold_at_the_minimum_size(window, qtbot, tiny_run):
    project = projects.create_project("Small chat")
    add_run(project, tiny_run)
    window.ctx.open_project(project)
    window.show_page("chat")
    chat = window.chat_page
    at_minimum(window, qtbot)

    # The window's right edge well inside the screen: Qt keeps a popup on the screen by itself, not in the window.
    screen = window.screen().geometry()
    window.move(screen.right() - 300 - window.frameGeometry().width(), screen.top())
    qtbot.wait(50)
    menu = chat.settings_button.menu()
    menu.popup(chat.settings_button.mapToGlobal(QPoint(0, chat.settings_button.height())))
    qtbot.waitUntil(menu.isVisible)
    window_area = QRect(window.mapToGlobal(QPoint(0, 0)), window.size())
    assert window_area.contains(menu.geometry()), "the Answer settings popup runs past the window's edge"
    menu.hide()

    chat.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    compare = chat.compare
    assert compare.prompt.width() >= 300  # the question is readable, not squeezed beside the picker
    for widget in (compare.run_picker, compare.use_documents, compare.run_button, compare.stop_button):
        assert widget.isVisible() and widget.width() >= widget.sizeHint().width()


def test_step_axis_counts_whole_steps(qtbot):
    from gui.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(700, 420)
    plots.show()

    def ticks(plot) -> list[float]:
        low, high = plot.getViewBox().viewRange()[0]
        return [v for _spacing, values in plot.getAxis("bottom").tickValues(low, high, plot.width()) for v in values]

    for plot in (plots.loss_plot, plots.lr_plot, plots.speed_plot):  # empty: 0…10, not 0.1…0.9
        values = ticks(plot)
        assert values and all(float(v).is_integer() for v in values), values
        assert not plot.getAxis("left").style["showValues"]  # and no made-up loss values
    for step in (1, 2, 3):
        plots.add_step(StepMetrics(step, 3, step / 3, 2.0 - step / 10, 1e-3, 500.0, step, 0.0))
    qtbot.waitUntil(lambda: plots.points("loss") == 3)
    qtbot.waitUntil(lambda: plots.loss_plot.getViewBox().viewRange()[0][1] <= 4)
    values = ticks(plots.loss_plot)
    assert values and all(float(v).is_integer() for v in values), values
    assert plots.loss_plot.getAxis("left").style["showValues"]


def test_training_loss_is_drawn_each_step_faint_under_its_running_average(qtbot):
    """A loss per step of four examples swings by more than its whole fall (0.3-1.8 around step 100 of a
    realistic run): the trend line, the one the legend names, must show the fall without the swings."""
    from gui.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(700, 420)
    plots.show()
    losses = [2.0 - step / 50 + (0.8 if step % 2 else -0.8) for step in range(1, 41)]
    for step, loss in enumerate(losses, 1):
        plots.add_step(StepMetrics(step, 40, step / 40, loss, 1e-3, 500.0, step, 0.0))
    qtbot.waitUntil(lambda: plots.points("loss_trend") == 40)
    _, raw = plots.curves["loss"].getData()
    _, trend = plots.curves["loss_trend"].getData()
    assert list(raw) == losses  # every step as it came
    assert trend[0] == losses[0]  # debiased: the first point is the first loss, not a tenth of it

    def largest_swing(ys) -> float:
        return max(abs(b - a) for a, b in zip(ys[10:], ys[11:]))

    assert largest_swing(trend) < 0.25 * largest_swing(raw)
    assert abs(trend[-1] - (2.0 - 40 / 50)) < 0.3  # follows the fall (a ten-step lag), not a swing's end
    legend = plots.loss_plot.getPlotItem().legend
    assert [label.text for _, label in legend.items] == ["training", "validation"]


def test_value_axes_have_room_for_their_widest_label(qtbot):
    """An axis sized while its chart was empty drew only the labels that fitted once values came: "0" for a
    learning rate of 0.001, "800" and "900" but not "1100" tokens/s (seen on the classify Train page)."""
    from PySide6.QtGui import QFontMetrics

    from gui.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(700, 420)
    plots.show()
    qtbot.wait(50)  # drawn empty first, as a new run's page is
    for step in range(1, 21):
        plots.add_step(StepMetrics(step, 20, step / 20, 0.7 - step / 40, 0.0025 * min(1.0, step / 2) * (1 - step / 21),
                                   800.0 + 30 * min(step, 12), step, 0.0))
    qtbot.waitUntil(lambda: plots.points("speed") == 20)
    qtbot.wait(50)
    for plot in (plots.loss_plot, plots.lr_plot, plots.speed_plot):
        axis = plot.getAxis("left")
        low, high = plot.getViewBox().viewRange()[1]
        spacing, values = axis.tickValues(low, high, plot.height())[0]  # the major ticks: always labelled
        labels = axis.tickStrings(values, axis.autoSIPrefixScale, spacing)
        widest = max(QFontMetrics(axis.style["tickFont"] or plot.font()).horizontalAdvance(t) for t in labels)
        assert labels and widest + axis.style["tickTextOffset"][0] <= axis.width(), (labels, axis.width())
