"""`make bench-patches` measures every speed patch, unpatched then patched, on the model."""

import pytest

from bench.patches import BATCH, main
from tests.servers import MODEL


def test_each_patch_gets_a_line_with_both_figures(capsys):
    assert main(["--model", str(MODEL), "--texts", str(BATCH)]) == 0
    header, *rows = capsys.readouterr().out.strip().splitlines()
    assert header.split()[-2:] == ["Rasa", "patched"]
    names = [row.split(":")[0] for row in rows]
    assert names == ["graph_runner", "graph_runner", "parse_ahead", "nlu_cache",
                     "action_validation"]  # fmt: skip
    for row in rows:
        rasa, patched = (float(value) for value in row.split()[-2:])
        assert rasa > 0 and patched > 0


def test_fewer_texts_than_a_batch_are_refused():
    with pytest.raises(SystemExit) as refused:
        main(["--texts", str(BATCH - 1)])
    assert refused.value.code == 2
