"""TuneDesk core: everything the app does, with no Qt.

The GUI and the `tunedesk` CLI are two thin faces over the functions here
(see ../shared/ARCHITECTURE.md). Heavy libraries (torch, transformers) are
imported inside the modules that need them so that `import core` stays cheap.
"""

__version__ = "0.1.0"
