"""The pre-filter (engine.might_matter) never skips a file that has findings: every rule example and fixture."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from initlint.engine import lint_source, might_matter
from initlint.rules import all_rules
from initlint.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EVERY_RULE = Settings(select=frozenset(rule.code for rule in all_rules()))
SOURCES = [(f"{rule.code}-{index}", textwrap.dedent(source)) for rule in all_rules()
           for index, source in enumerate(rule.invalid + rule.valid)]
SOURCES += [(path.name, path.read_text(encoding="utf-8")) for path in sorted(FIXTURES.rglob("*.py"))]


@pytest.mark.parametrize("name,source", SOURCES, ids=[name for name, _ in SOURCES])
def test_the_prefilter_keeps_every_file_with_findings(name, source):
    findings, _ = lint_source(name, source, EVERY_RULE, prefilter=False)
    if [f for f in findings if f.code != "INI999"]:
        assert might_matter(source, EVERY_RULE), f"{name} has findings but the pre-filter would skip it"


def test_the_prefilter_skips_plain_python():
    assert not might_matter("import os\n\ndef main():\n    return os.getcwd()\n", EVERY_RULE)


def test_the_prefilter_skips_a_model_whose_only_init_is_the_constructor():
    source = textwrap.dedent("""
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2, bias=False)

            def __call__(self, x):
                return self.fc(x)
    """)
    assert not might_matter(source, EVERY_RULE)
    assert might_matter(source + "\nnn.init.zeros_(Net().fc.weight)\n", EVERY_RULE)
    assert might_matter(source + "\nNet().fc.weight.zero_()\n", EVERY_RULE)
    assert might_matter(source + "\nNet().fc.weight = None\n", EVERY_RULE)  # a tensor assigned to a parameter


def test_the_prefilter_skips_a_dataset_whose_data_is_not_a_parameter():
    source = textwrap.dedent("""
        import torch

        class Pairs(torch.utils.data.Dataset):
            def __init__(self, data):
                self.data = data

            def __getitem__(self, index):
                return torch.as_tensor(self.data[index])
    """)
    assert not might_matter(source, EVERY_RULE)
    assert might_matter(source + "\nfor p in model.parameters():\n    p.data = p.data * 2\n", EVERY_RULE)
