"""Late-delivery feature repository: Feast declarations, the feature contract and pure transforms.

Feast imports each module here as a top-level module (``feast apply`` runs with this folder
on ``sys.path``), so modules import each other by bare name.
"""
