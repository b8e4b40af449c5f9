"""The Python package sqlite-upsert: the upsert_into extension, compiled
from ../../ext/upsert.c into the package as upsert.so (.dylib, .dll), and
sqlite_upsert.loadable_path() and load(conn) to load it.

    make package-python        the wheel, into dist/wheels/
    make test-python           that wheel in a fresh venv, and its tests

or by hand, offline, with Debian's python3-setuptools and python3-wheel:

    cd tool/python && /usr/bin/python3 -m pip wheel --no-build-isolation \\
        --no-deps -w ../../dist/wheels .

The extension is a plain SQLite extension, not a Python module: SQLite
finds its entry point, sqlite3_upsert_init, from the file name upsert.*,
and it does not link against Python, so the wheel is tagged py3-none-PLATFORM.
"""
import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:  # no wheel package: setup.py still builds and installs
    bdist_wheel = None

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
SOURCE = os.path.join(TOP, "ext", "upsert.c")

with open(os.path.join(TOP, "VERSION")) as f:
    VERSION = f.read().strip()

if sys.platform == "win32":
    SUFFIX = ".dll"
elif sys.platform == "darwin":
    SUFFIX = ".dylib"
else:
    SUFFIX = ".so"


class build_py_with_extension(build_py):
    """build_py, then the extension compiled into the package, and
    _version.py written there, both in the build directory only."""

    def run(self):
        super().run()
        from distutils.ccompiler import new_compiler
        from distutils.sysconfig import customize_compiler
        pkg = os.path.join(self.build_lib, "sqlite_upsert")
        os.makedirs(pkg, exist_ok=True)
        with open(os.path.join(pkg, "_version.py"), "w") as f:
            f.write("__version__ = %r\n" % VERSION)
        cc = new_compiler()
        customize_compiler(cc)
        tmp = os.path.join(self.build_lib, "..", "temp-sqlite-upsert")
        objs = cc.compile([SOURCE], output_dir=tmp,
                          macros=[("UPSERT_VERSION", '"%s"' % VERSION)],
                          extra_preargs=["-fPIC"] if SUFFIX == ".so" else [])
        extra = ["-dynamiclib"] if SUFFIX == ".dylib" else []
        cc.link_shared_object(objs, os.path.join(pkg, "upsert" + SUFFIX),
                              extra_preargs=extra)


class BinaryDistribution(Distribution):
    """A wheel per platform: it carries a compiled library."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": build_py_with_extension}
if bdist_wheel is not None:
    class bdist_wheel_py3(bdist_wheel):
        """py3-none-PLATFORM: any Python 3 on this platform (the library
        is loaded by SQLite, not imported by Python)."""

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = bdist_wheel_py3

setup(
    name="sqlite-upsert",
    version=VERSION,
    description="upsert_into: bulk upserts in plain SQL, a SQLite extension",
    packages=["sqlite_upsert"],
    python_requires=">=3.8",
    distclass=BinaryDistribution,
    cmdclass=cmdclass,
    zip_safe=False,
)
