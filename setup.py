"""Build hook: the wheel carries docs/protocol.md and its JSON Schema inside the package.

Everything else about the package is in pyproject.toml. An installed helper
points ``serve --help`` and its errors at these copies (protocol_docs.py); docs/
stays the one place they are written.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PROTOCOL_DOCS = ("protocol.md", "protocol.schema.json")


class BuildPyWithProtocolDocs(build_py):
    """``build_py`` that also copies the protocol documents into ``ticktick_signon/docs/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from docs/ where they are
        target = Path(self.build_lib, "ticktick_signon", "docs")
        self.mkpath(str(target))
        for name in PROTOCOL_DOCS:
            self.copy_file(str(Path("docs", name)), str(target / name))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return [*outputs, *(str(Path(self.build_lib, "ticktick_signon", "docs", name)) for name in PROTOCOL_DOCS)]


setup(cmdclass={"build_py": BuildPyWithProtocolDocs})
