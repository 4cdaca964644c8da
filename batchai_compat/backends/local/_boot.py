"""Start a ``batchai_compat`` module as ``__main__`` without running the package's ``__init__``.

``python _boot.py MODULE ARGS...`` behaves like ``python -m MODULE ARGS...`` but first installs a
light stand-in for the top-level package: ``import batchai_compat`` normally imports the client,
msrest and requests (~0.3 s), which every job would pay twice (supervisor and launcher). The
stand-in executes the real ``__init__`` the first time one of its attributes is used, so nothing
behaves differently - it is only later.
"""

import importlib
import os
import runpy
import sys
import types

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    del sys.path[0]  # never let this directory's modules shadow the standard library

PACKAGE_DIR = os.path.dirname(os.path.dirname(_HERE))
# The package is found by this file's location, never through PYTHONPATH: the processes started
# here pass their environment on to jobs, which must not see anything of ours in it. Appended, so
# nothing on the interpreter's own path is shadowed.
if os.path.dirname(PACKAGE_DIR) not in sys.path:
    sys.path.append(os.path.dirname(PACKAGE_DIR))


def _install_lazy_package() -> None:
    if "batchai_compat" in sys.modules:
        return
    init = os.path.join(PACKAGE_DIR, "__init__.py")
    package = types.ModuleType("batchai_compat")
    package.__path__ = [PACKAGE_DIR]
    package.__file__ = init
    package.__package__ = "batchai_compat"

    def load_real(name: str) -> object:
        if os.path.exists(os.path.join(PACKAGE_DIR, name + ".py")) or os.path.isdir(os.path.join(PACKAGE_DIR, name)):
            return importlib.import_module(f"batchai_compat.{name}")  # a submodule: no need for __init__
        del package.__dict__["__getattr__"]
        with open(init, encoding="utf-8") as fh:
            exec(compile(fh.read(), init, "exec"), package.__dict__)  # noqa: S102 (our own __init__)
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    package.__getattr__ = load_real  # type: ignore[attr-defined,method-assign]
    sys.modules["batchai_compat"] = package


def main() -> None:
    module = sys.argv[1]
    sys.argv = [module] + sys.argv[2:]
    _install_lazy_package()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
