"""One module per exercise (`exNN_<topic>.py`); importing this package registers all of them."""
import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("ex"):
        importlib.import_module(f"{__name__}.{_info.name}")
