"""The library's naming conventions, over every module at once: a name in both dlcourse.np.X
and dlcourse.pt.X is a twin (assert_torch_twin); no other public name means two things; pt
takes the checks it shares with np from dlcourse.validate, never np's private helpers; every
np and pt module docstring opens with a symbol legend; randomness is keyword-only (rng in np,
generator in pt); and no np or pt function takes ten or more parameters (the settings of a
trainer or an attack go in one dataclass)."""

import ast
import importlib
import inspect
import pkgutil
from collections import defaultdict

import pytest
from conftest import assert_torch_twin

import dlcourse
import dlcourse.np
import dlcourse.pt


def _modules(package):
    return {info.name: importlib.import_module(f"{package.__name__}.{info.name}")
            for info in pkgutil.iter_modules(package.__path__)}


NP, PT = _modules(dlcourse.np), _modules(dlcourse.pt)


def _own_callables(module):
    """The public functions and classes a module defines itself (not those it imports)."""
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == module.__name__}


TWINS = [(module, name) for module in sorted(NP.keys() & PT.keys())
         for name in sorted(_own_callables(NP[module]).keys() & vars(PT[module]).keys())]


@pytest.mark.parametrize(("module", "name"), TWINS)
def test_every_name_in_both_np_and_pt_is_a_twin(module, name):
    assert_torch_twin(NP[module], PT[module], name)


def test_no_public_name_means_two_things():
    defined = defaultdict(list)
    for info in pkgutil.walk_packages(dlcourse.__path__, "dlcourse."):
        if not info.name.endswith("__main__"):
            module = importlib.import_module(info.name)
            for name in _own_callables(module):
                defined[name].append(module.__name__)
    twin_pairs = {(f"dlcourse.np.{m}", f"dlcourse.pt.{m}") for m in NP.keys() & PT.keys()}
    clashes = {name: where for name, where in defined.items()
               if len(where) > 1 and not (len(where) == 2 and tuple(sorted(where)) in twin_pairs)}
    assert not clashes, f"one name, several meanings (rename one): {clashes}"


@pytest.mark.parametrize("module", sorted(PT))
def test_pt_imports_no_private_name_from_np(module):
    tree = ast.parse(inspect.getsource(PT[module]))
    private = [f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and (node.module or "").startswith("dlcourse.np") for alias in node.names if alias.name.startswith("_")]
    assert not private, f"dlcourse.pt.{module} imports {private}: shared checks belong in dlcourse.validate"


@pytest.mark.parametrize("module", [f"np.{m}" for m in sorted(NP)] + [f"pt.{m}" for m in sorted(PT)])
def test_every_module_docstring_has_a_symbol_legend(module):
    package, name = module.split(".")
    doc = ({"np": NP, "pt": PT}[package][name]).__doc__ or ""
    assert "Legend:" in doc, f"dlcourse.{module}'s docstring has no symbol legend (Legend: N batch, ...)"


def _functions(modules):
    for module in modules.values():
        for name, value in _own_callables(module).items():
            if inspect.isclass(value):
                if "__dataclass_fields__" in vars(value):  # a configuration: its fields are the point
                    continue
                yield from ((f"{module.__name__}.{name}.{k}", f) for k, f in vars(value).items()
                            if inspect.isfunction(f) and not k.startswith("_"))
            else:
                yield f"{module.__name__}.{name}", value


def test_randomness_is_passed_keyword_only():
    positional = [name for modules, word in ((NP, "rng"), (PT, "generator")) for name, fn in _functions(modules)
                  if word in inspect.signature(fn).parameters
                  and inspect.signature(fn).parameters[word].kind != inspect.Parameter.KEYWORD_ONLY]
    assert not positional, f"rng / generator must be keyword-only: {positional}"


def test_no_function_takes_ten_or_more_parameters():
    long = {name: len(inspect.signature(fn).parameters) for name, fn in [*_functions(NP), *_functions(PT)]
            if len(inspect.signature(fn).parameters) >= 10}
    assert not long, f"put the settings in one @dataclass passed explicitly: {long}"
