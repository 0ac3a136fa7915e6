"""``python -m ontime_cli``: the same entry point as the ``ontime`` console script."""

from ontime_cli.main import main

main()
