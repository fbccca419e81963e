"""A consumer's project, as someone using the kit from their own repository would write it.

`project.py DEST` lays it out in a folder outside this repository (README's second path:
its `my_integration.py` and `test_my_integration.py`; the client-only and fixture checks),
so its tests run against an installed package, never this source tree: `nox -s
install_client` and `nox -s install_testing` run it in fresh virtualenvs,
`tests/test_readme.py` in this one.
"""
