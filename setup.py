"""The build step: the translators' catalogs compiled into the package.

``locales/<code>/LC_MESSAGES/messages.po`` (at the top of the clone, where translators and
``make update`` work) are compiled with Babel into ``bot/locale/<code>/LC_MESSAGES/messages.mo``
inside the package being built, so a wheel (``python -m build``, ``pip install .``,
``pipx install .``) carries them and ``bot.i18n`` finds them through importlib.resources.
An editable install (``pip install -e .``, as ``make`` does) compiles them into the clone's
``bot/locale`` instead, which ``make compile`` keeps up to date. The .mo files are never
committed. Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def compile_catalogs(source: Path, target: Path) -> list[Path]:
    """Compile every ``source/<code>/LC_MESSAGES/*.po`` into ``target`` (same layout)."""
    written = []
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh, abort_invalid=True)
        with mo.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=True)
        written.append(mo)
    if not written:
        raise SystemExit(f"no catalogs found in {source}: the build needs locales/*/LC_MESSAGES")
    return written


class BuildWithCatalogs(build_py):
    """build_py, then the catalogs compiled into the built package."""

    def run(self) -> None:
        super().run()
        package = HERE / "bot" if self.editable_mode else Path(self.build_lib) / "bot"
        self._catalogs = compile_catalogs(HERE / "locales", package / "locale")

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *map(str, getattr(self, "_catalogs", []))]


setup(cmdclass={"build_py": BuildWithCatalogs})
