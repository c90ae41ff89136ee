"""One rule, one place: each rule is the only one in a module named after its id, in
the folder of its category, with its docs text and examples beside it; the docs and
the parametrised example tests are generated from there."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from dbgov.analysis.rules import all_rules


def test_each_rule_is_alone_in_a_module_named_after_its_id_in_its_category():
    for rule in all_rules():
        path = Path(sys.modules[rule.__module__].__file__ or "")
        assert path.stem == rule.id.replace("-", "_"), (rule.id, path)
        assert path.parent.name == rule.category, (rule.id, path)
    assert max(Counter(r.__module__ for r in all_rules()).values()) == 1


def test_each_rule_carries_its_docs_text_and_examples():
    for rule in all_rules():
        assert rule.summary and rule.why and rule.safe_alternative, rule.id
        assert rule.bad.strip() and rule.good.strip(), rule.id
        assert rule.bad != rule.good, rule.id
