"""sigprop.validation: trained torch networks that test the equilibrium layer.

Installed as the subpackage ``sigprop.validation`` (the folder ``validation/``
of the repository). It needs the ``validation`` extra (torch).
"""
