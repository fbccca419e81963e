"""The hostile suite: attacks on a real mock process, each measured from outside.

Every test here is marked ``hostile``. The long attacks are also marked ``hostile_full`` and
run only with ``--hostile-full`` (``nox -s hostile``); CI runs the quick half as part of the
ordinary suite. At the end of the run each attack's effect is printed as one table and
written to ``build/hostile.json``. ``--hostile-against DIR`` runs the same attacks against
another checkout's mock (say, main before a change: its rows are the "before" figures, and
its tests are expected to fail), written to ``build/hostile-against.json``. The hooks live
in ``tests/conftest.py`` (pytest reads command-line options only from the top-level
conftest).
"""
