"""`runpython-imports-models`: RunPython uses models imported from the app instead of `apps.get_model`."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from ...model import Severity
from .. import register
from ..base import Hit, OperationContext, Rule


def _model_globals(func: Any) -> list[str]:
    """Names of model classes a function takes from its module instead of ``apps``."""
    try:
        from django.db.models import Model
    except ImportError:  # pragma: no cover
        return []
    code = getattr(func, "__code__", None)
    module_globals = getattr(func, "__globals__", None)
    if code is None or module_globals is None:
        return []
    names: set[str] = set(code.co_names)
    stack = [c for c in code.co_consts if inspect.iscode(c)]
    while stack:  # nested functions / comprehensions
        nested = stack.pop()
        names.update(nested.co_names)
        stack.extend(c for c in nested.co_consts if inspect.iscode(c))
    found = []
    for name in sorted(names):
        value = module_globals.get(name)
        if (
            inspect.isclass(value)
            and issubclass(value, Model)
            or inspect.ismodule(value)
            and getattr(value, "__name__", "").endswith(".models")
        ):
            found.append(name)
    return found


@register
class RunPythonImportsModels(Rule):
    id = "runpython-imports-models"
    severity = Severity.CARE
    category = "data"
    summary = "RunPython uses models imported from the app instead of `apps.get_model`."
    why = (
        "The imported model is today's code, not the schema at this point of the history: "
        "the migration breaks (or writes wrong columns) as soon as the model changes later."
    )
    safe_alternative = (
        "Use the historical model: `def forwards(apps, schema_editor): Order = "
        'apps.get_model("shop", "Order")`, and never import app models in migrations.'
    )
    bad = """\
from project.shop.models import Order

def backfill(apps, schema_editor):
    Order.objects.update(currency="EUR")
"""
    good = """\
def backfill(apps, schema_editor):
    Order = apps.get_model("shop", "Order")
    Order.objects.filter(currency__isnull=True).update(currency="EUR")
"""

    def check_operation(self, ctx: OperationContext) -> Iterable[Hit]:
        op = ctx.django_operation
        if ctx.operation.type != "RunPython" or op is None:
            return
        for func in (getattr(op, "code", None), getattr(op, "reverse_code", None)):
            names = _model_globals(func) if func is not None else []
            if names:
                yield Hit(
                    message=f"{getattr(func, '__name__', 'RunPython code')} uses imported "
                    f"model(s) {', '.join(names)} instead of apps.get_model()."
                )
