"""``python -m erqi_search`` runs the command line."""

from .cli import main

main(prog_name="erqi-search")
