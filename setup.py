"""Build of the compiled hot loops (plain C, loaded through ctypes); everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pmtwin._cnative",
            ["src/pmtwin/_cnative.c", "src/pmtwin/_cslurm.c"],
            depends=["src/pmtwin/_cshared.h"],
            extra_compile_args=["-O2"],
        )
    ]
)
