"""setuptools hook (the project's metadata is all in pyproject.toml).

setuptools builds a wheel from ``build/lib``, which it fills but never empties: a module
removed from ``generated/`` since the last build would still be packaged. ``build_py``
starts from an empty folder instead, so a wheel holds what the tree holds now.
"""

import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class FreshBuildPy(build_py):  # type: ignore[misc]
    def run(self) -> None:
        if not self.editable_mode:
            shutil.rmtree(self.build_lib, ignore_errors=True)
        super().run()


setup(cmdclass={"build_py": FreshBuildPy})
