"""Light and dark themes that follow the system, plus the icons drawn in the theme's colours.

The system's choice comes from `QStyleHints.colorScheme` and is followed live
(`colorSchemeChanged`). `TUNEDESK_THEME=light|dark` overrides it (screenshots,
and people who want the other one). Fusion is the base style everywhere so the
app looks the same on every OS; a palette and one stylesheet do the rest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from string import Template
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QAbstractButton, QApplication, QStyledItemDelegate, QWidget

from core.paths import resources_dir


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    surface: str
    sidebar: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    accent_soft: str
    input: str
    success: str
    warning: str
    warning_bg: str
    error: str
    error_bg: str
    info_bg: str
    plot: tuple[str, ...]  # series colours: train loss, val loss, lr, tokens/s


LIGHT = Theme("light", window="#f5f6f8", surface="#ffffff", sidebar="#eceef2", text="#1c2028", muted="#5d6470",
              border="#dcdfe5", accent="#4f46e5", accent_text="#ffffff", accent_soft="#e4e3fb", input="#ffffff",
              success="#15803d", warning="#92400e", warning_bg="#fef3c7", error="#b91c1c", error_bg="#fde2e2",
              info_bg="#e3e7fd", plot=("#4f46e5", "#e8590c", "#0d9488", "#c026d3"))
DARK = Theme("dark", window="#16171b", surface="#1f2126", sidebar="#1a1b1f", text="#e5e7eb", muted="#9ca3af",
             border="#30333b", accent="#818cf8", accent_text="#111827", accent_soft="#2c2d4a", input="#26282e",
             success="#4ade80", warning="#fcd34d", warning_bg="#3b2f12", error="#fca5a5", error_bg="#3d1d1f",
             info_bg="#25284a", plot=("#818cf8", "#fb923c", "#2dd4bf", "#e879f9"))

_STYLE = Template("""
QWidget { color: $text; font-size: 10pt; }
QMainWindow, QDialog, #content { background: $window; }
#sidebar { background: $sidebar; border-right: 1px solid $border; }
#appTitle { font-size: 15pt; font-weight: 600; }
#projectBadge { color: $muted; padding: 4px 6px; }
#navButton { text-align: left; padding: 9px 12px; border: none; border-radius: 8px; background: transparent; }
#navButton:hover { background: $accent_soft; }
#navButton:checked { background: $accent_soft; color: $accent; font-weight: 600; }
#navButton:disabled { color: $muted; }
#pageTitle { font-size: 18pt; font-weight: 600; }
#pageSubtitle, .muted, #muted { color: $muted; }
#sectionTitle { font-size: 11pt; font-weight: 600; }
#card { background: $surface; border: 1px solid $border; border-radius: 10px; }
#dropZone { background: $surface; border: 2px dashed $border; border-radius: 10px; color: $muted; }
#dropZone[active="true"] { border-color: $accent; background: $accent_soft; }
QPushButton { background: $surface; border: 1px solid $border; border-radius: 7px; padding: 6px 14px; }
QPushButton:hover { border-color: $accent; }
QPushButton:pressed { background: $accent_soft; }
QPushButton:disabled { color: $muted; background: $window; }
QPushButton[primary="true"] { background: $accent; color: $accent_text; border: 1px solid $accent; font-weight: 600; }
QPushButton[primary="true"]:disabled { background: $border; border-color: $border; color: $muted; }
QPushButton:checked { background: $accent_soft; border-color: $accent; color: $accent; font-weight: 600; }
QToolButton { border: none; border-radius: 6px; padding: 4px; background: transparent; }
QToolButton:hover { background: $accent_soft; }
QLineEdit, QPlainTextEdit, QTextEdit, QSpinBox, QDoubleSpinBox, QComboBox {
    background: $input; border: 1px solid $border; border-radius: 7px; padding: 5px 8px; selection-background-color: $accent;
    selection-color: $accent_text; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {
    border-color: $accent; }
QTableWidget, QTableView, QListWidget, QTreeWidget { background: $surface; border: 1px solid $border; border-radius: 8px;
    alternate-background-color: $window; gridline-color: $border; selection-background-color: $accent_soft;
    selection-color: $text; }
QListWidget::item { padding: 6px 8px; border-radius: 6px; }
QListWidget::item:selected { background: $accent_soft; color: $text; }
QHeaderView::section { background: $surface; color: $muted; border: none; border-bottom: 1px solid $border;
    padding: 6px 8px; font-weight: 600; }
QTabWidget::pane { border: none; }
QTabBar::tab { background: transparent; padding: 7px 16px; border: none; border-bottom: 2px solid transparent; color: $muted; }
QTabBar::tab:selected { color: $accent; border-bottom: 2px solid $accent; font-weight: 600; }
QProgressBar { background: $border; border: none; border-radius: 4px; height: 8px; text-align: center; color: transparent; }
QProgressBar::chunk { background: $accent; border-radius: 4px; }
QScrollArea { border: none; background: transparent; }
QSplitter::handle { background: transparent; }
#banner { border-radius: 8px; border: 1px solid $border; }
#banner[level="error"] { background: $error_bg; border-color: $error; }
#banner[level="warning"] { background: $warning_bg; border-color: $warning; }
#banner[level="info"] { background: $info_bg; border-color: $accent; }
#bannerMessage { font-weight: 600; }
#bannerMark { border-radius: 11px; font-weight: 700; color: $surface; background: $accent; }
#banner[level="error"] #bannerMark { background: $error; }
#banner[level="warning"] #bannerMark { background: $warning; }
#bubbleUser { background: $accent_soft; border-radius: 12px; }
#bubbleAssistant { background: $surface; border: 1px solid $border; border-radius: 12px; }
#bubbleRole { color: $muted; font-size: 9pt; font-weight: 600; }
#stoppedMark { color: $warning; background: $warning_bg; border-radius: 4px; padding: 1px 6px; font-size: 9pt;
    font-weight: 600; }
#bubbleNote { color: $muted; font-size: 9pt; font-style: italic; }
#bubbleSources { border-top: 1px solid $border; margin-top: 4px; }
#sourcesCaption { color: $muted; font-size: 8pt; font-weight: 600; letter-spacing: 1px; }
#sourceItem { background: $window; border-radius: 6px; }
#sourceItem:hover { background: $accent_soft; }
#sourceTitle { font-size: 9pt; font-weight: 600; }
#sourceSnippet { color: $muted; font-size: 9pt; }
#statValue { font-size: 15pt; font-weight: 600; }
#statLabel { color: $muted; font-size: 9pt; }
#overfitWarning { background: $warning_bg; color: $warning; border-radius: 8px; padding: 8px 12px; }
#statusOk { color: $success; font-weight: 600; }
#statusBad { color: $error; font-weight: 600; }
#skippedNote { color: $error; }
QComboBox::drop-down { border: none; width: 26px; }
QComboBox::down-arrow { image: url("$chevron"); width: 12px; height: 12px; }
QComboBox QAbstractItemView { background: $surface; border: 1px solid $border; selection-background-color: $accent_soft;
    selection-color: $text; outline: none; }
QSpinBox::up-button, QSpinBox::down-button, QDoubleSpinBox::up-button, QDoubleSpinBox::down-button {
    border: none; width: 18px; background: transparent; }
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow { image: url("$chevron_up"); width: 9px; height: 9px; }
QSpinBox::down-arrow, QDoubleSpinBox::down-arrow { image: url("$chevron"); width: 9px; height: 9px; }
QScrollBar:vertical { background: transparent; width: 10px; margin: 2px; }
QScrollBar:horizontal { background: transparent; height: 10px; margin: 2px; }
QScrollBar::handle:vertical { background: $border; border-radius: 3px; min-height: 28px; }
QScrollBar::handle:horizontal { background: $border; border-radius: 3px; min-width: 28px; }
QScrollBar::handle:hover { background: $muted; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; }
QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }
#formArea { background: transparent; }
QToolButton::menu-indicator { image: url("$chevron"); width: 10px; height: 10px; subcontrol-position: right center; }
QToolButton[popupMode="2"] { padding-right: 16px; }
#projectCaption { color: $muted; font-size: 8pt; font-weight: 600; letter-spacing: 1px; }
#projectName { font-weight: 600; }
#presetButton { text-align: left; padding: 0; }
#presetTitle { font-weight: 600; }
QToolTip { background: $surface; color: $text; border: 1px solid $border; padding: 6px; }
""")


class ThemeManager(QObject):
    """Holds the active theme; `changed` tells plots and icons to redraw."""

    changed = Signal(object)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.theme = LIGHT
        app.setStyle("Fusion")
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: self.apply())
        self.apply()

    def system_is_dark(self) -> bool:
        forced = os.environ.get("TUNEDESK_THEME", "").lower()
        if forced in ("light", "dark"):
            return forced == "dark"
        return self.app.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def apply(self) -> None:
        global _active
        self.theme = DARK if self.system_is_dark() else LIGHT
        _active = self.theme
        self.app.setPalette(palette_for(self.theme))
        values = {k: v for k, v in vars(self.theme).items() if isinstance(v, str)}
        values["chevron"] = (resources_dir() / "icons" / "chevron_down.svg").as_posix()
        values["chevron_up"] = (resources_dir() / "icons" / "chevron_up.svg").as_posix()
        self.app.setStyleSheet(_STYLE.substitute(values))
        _icon_cache.clear()
        for widget in self.app.allWidgets():
            if isinstance(widget, QAbstractButton) and widget.property("iconName"):
                widget.setIcon(_button_icon(widget))
        self.changed.emit(self.theme)


def palette_for(t: Theme) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: t.window, QPalette.ColorRole.WindowText: t.text, QPalette.ColorRole.Base: t.input,
        QPalette.ColorRole.AlternateBase: t.window, QPalette.ColorRole.Text: t.text, QPalette.ColorRole.Button: t.surface,
        QPalette.ColorRole.ButtonText: t.text, QPalette.ColorRole.Highlight: t.accent,
        QPalette.ColorRole.HighlightedText: t.accent_text, QPalette.ColorRole.ToolTipBase: t.surface,
        QPalette.ColorRole.ToolTipText: t.text, QPalette.ColorRole.PlaceholderText: t.muted,
        QPalette.ColorRole.Link: t.accent, QPalette.ColorRole.Mid: t.border,
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(t.muted))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(t.muted))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(t.muted))
    return p


_active = LIGHT
_icon_cache: dict[tuple[str, str], QIcon] = {}


def active() -> Theme:
    return _active


def icon(name: str, colour: str | None = None) -> QIcon:
    """resources/icons/<name>.svg drawn in `colour` (the theme's text colour by default)."""
    colour = colour or _active.muted
    key = (name, colour)
    if key not in _icon_cache:
        path = resources_dir() / "icons" / f"{name}.svg"
        svg = path.read_text(encoding="utf-8").replace("#000000", colour) if path.is_file() else ""
        result = QIcon()
        if svg:
            renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
            for size in (16, 20, 24, 32, 48, 64):
                pixmap = QPixmap(size, size)
                pixmap.fill(Qt.GlobalColor.transparent)
                painter = QPainter(pixmap)
                renderer.render(painter)
                painter.end()
                result.addPixmap(pixmap)
        _icon_cache[key] = result
    return _icon_cache[key]


def set_icon(button: QAbstractButton, name: str, size: int = 18) -> None:
    """Give a button a themed icon that follows theme changes."""
    button.setProperty("iconName", name)
    button.setIcon(_button_icon(button))
    button.setIconSize(QSize(size, size))


def _button_icon(button: QAbstractButton) -> QIcon:
    colour = _active.accent_text if button.property("primary") else None
    return icon(str(button.property("iconName")), colour)


def mark_primary(button: QWidget, primary: bool = True) -> None:
    """The one main action of a page, drawn in the accent colour (primary=False: an ordinary button again)."""
    if bool(button.property("primary")) == primary:
        return
    button.setProperty("primary", primary)
    button.style().unpolish(button)
    button.style().polish(button)
    if isinstance(button, QAbstractButton) and button.property("iconName"):
        button.setIcon(_button_icon(button))


class KeepColourDelegate(QStyledItemDelegate):
    """Item views: a selected cell keeps its own text colour (a status in green or red, say).

    The stylesheet's `selection-color` paints every selected cell's text in one colour, so a selected
    "Skipped" row looked like a read one (issue #21). A cell with a foreground of its own keeps it over
    the (soft) selection background; the others follow the stylesheet.
    """

    def initStyleOption(self, option: Any, index: Any) -> None:
        super().initStyleOption(option, index)
        foreground = index.data(Qt.ItemDataRole.ForegroundRole)
        if foreground is not None:
            option.palette.setBrush(QPalette.ColorRole.HighlightedText, foreground)
