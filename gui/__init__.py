"""PySide6 widgets over the Qt-free core; one worker adapter turns core events into signals.

    app.py            run_app(argv): QApplication, theme, error funnel, main window
    main_window.py    sidebar, notification banners, the pages; start-up resume offer; geometry
    context.py        what pages share: notifier, workers, settings (INI in the data folder), open project
    workers.py        Task (QThread) and TrainingProcess (QProcess, JSON-line events): start / cancel / shutdown
    jobs.py           the background jobs: plain functions over core, run only on worker threads
    notify.py         the one funnel for errors and notes (+ sys/threading excepthooks) and its banners
    theme.py          light/dark following the system, stylesheet, themed SVG icons
    plots.py          live training curves, redrawn at most 4× a second
    settings_form.py  every TrainConfig field as a widget, explained by its docstring
    chat_widgets.py   bubbles, transcript, sampling settings, model picker
    dialogs.py        the few modal questions, in one place
    widgets.py        page header, cards, stats, busy line, formatting
    pages/            home, model, documents, train, chat, compare
"""
