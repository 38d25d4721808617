"""The examples in docstrings are run, so they stay true."""

import doctest
import importlib

import pytest

MODULES = ["gisportal.crs", "parcels.values", "parcels.signals", "parcels.importing", "parcels.measurements",
           "subdivision.engine", "subdivision.permits.geometry", "subdivision.permits.sketch", "subdivision.sla",
           "layers.tiles.grid"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples left: take it off the list"
    assert result.failed == 0
