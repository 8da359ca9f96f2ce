"""``python -m nswn`` runs the command line."""

from nswn.cli import main

main()
