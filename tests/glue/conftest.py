"""The GLUE program's tests share one way to get their offline data and tiny models.

`assets` writes the demo assets once per test module: every task, 16 training and 8 dev
examples, unless the module asks for other ones with `ASSETS = {...}` (the arguments of
`write_demo_assets`: a module that counts rows or tokens keeps its own sizes).
"""

from __future__ import annotations

import pytest

from timing_trainer.glue.demo_assets import write_demo_assets

DEFAULT_ASSETS = {"train_size": 16, "dev_size": 8}


@pytest.fixture(scope="module")
def assets(request, tmp_path_factory):
    options = {**DEFAULT_ASSETS, **getattr(request.module, "ASSETS", {})}
    return write_demo_assets(tmp_path_factory.mktemp("assets"), **options)
