"""The hostile suite: attacks on a real mock process, each measured from outside.

Every test here is marked ``hostile``. The long attacks are also marked ``hostile_full`` and
run only with ``--hostile-full`` (``nox -s hostile``); CI runs the quick half as part of the
ordinary suite. At the end of the run each attack's effect is printed as one table and
written to ``build/hostile.json``. The hooks live in ``tests/conftest.py`` (pytest reads
command-line options only from the top-level conftest).
"""
