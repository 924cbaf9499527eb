"""The manifest stage: YAML files in, a ``DesiredFleet`` and diagnostics out (``load.load_fleet``).

Nothing in this package does I/O beyond reading manifest files (and secret files when asked), and
nothing talks to the Agora API.
"""
