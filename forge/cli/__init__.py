"""The `forge` command line: one module per command or command group, registered in `app.py`."""
