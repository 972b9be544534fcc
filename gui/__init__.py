"""PySide6 widgets over the Qt-free core; one worker adapter turns core events into signals."""
