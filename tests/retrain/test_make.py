"""The registry's side of make: reuse the live model, gate a make-train model, say why."""

from __future__ import annotations

import re

from console.tables import TrainedModel
from retrain import make, registry
from retrain.dataset import REVIEWED
from tests.retrain.conftest import model_file, report, write_report
from tests.servers import ROOT


def live(db, settings, tmp_path, content: bytes) -> TrainedModel:
    """A live model trained on the project's current inputs, with its report."""
    config = settings.project / "config.yml"
    with db.session() as session:
        row = registry.register(
            session, settings, model_file(tmp_path, content), created_by="console",
            fingerprints=(
                registry.data_fingerprint(settings.project, config),
                registry.setup_fingerprint(settings.project, config),
            ),
            status="candidate",
        )  # fmt: skip
        registry.save_report(settings, row, report())
        registry.activate(session, settings, row.id, "admin")
        session.expunge(row)
    return row


def test_make_train_reuses_the_live_model_trained_on_todays_inputs(db, settings, tmp_path):
    reviewed = settings.project / REVIEWED
    reviewed.parent.mkdir(parents=True)
    reviewed.write_text("version: '3.1'\n")
    row = live(db, settings, tmp_path, b"retrained in the console")
    target = tmp_path / "models" / "certbot.tar.gz"
    assert make.reuse_live(settings, target)
    assert target.read_bytes() == registry.model_path(settings, row).read_bytes()
    saved = settings.project / registry.BOOTSTRAP_REPORT
    assert (
        saved.read_bytes() == (registry.folder(settings, row) / registry.REPORT_FILE).read_bytes()
    )
    assert registry.bootstrap(db, settings, target) is None


def test_make_train_trains_when_any_input_changed_since_the_live_model(db, settings, tmp_path):
    live(db, settings, tmp_path, b"live")
    reviewed = settings.project / REVIEWED
    reviewed.parent.mkdir(parents=True)
    reviewed.write_text("version: '3.1'\n# a new annotation\n")
    assert not make.reuse_live(settings, tmp_path / "certbot.tar.gz")
    assert not (tmp_path / "certbot.tar.gz").exists()


def test_make_train_trains_without_a_live_model(settings, tmp_path):
    assert not make.reuse_live(settings, tmp_path / "certbot.tar.gz")


def test_register_says_why_a_model_was_rejected_and_keeps_the_live_one(
    db, settings, tmp_path, capsys
):
    kept = live(db, settings, tmp_path, b"live")
    (settings.project / "domain.yml").write_text("version: '3.1'\n# edited\n")
    model = model_file(tmp_path, b"worse")
    write_report(settings.project / registry.BOOTSTRAP_REPORT, report(accuracy=0.5))
    assert make.register(settings, model)  # a model is still live
    out = capsys.readouterr().out
    assert "REJECTED by the gate" in out and "held-out accuracy" in out
    assert f"The live model stays {kept.name}." in out


def test_register_fails_when_no_model_is_live_and_says_why_each_time(
    db, settings, tmp_path, capsys
):
    model = model_file(tmp_path, b"answers everything")
    write_report(settings.project / registry.BOOTSTRAP_REPORT, report(off_topic=0.5))
    assert not make.register(settings, model)
    assert "REJECTED" in capsys.readouterr().out
    assert not make.register(settings, model)  # the next make run: not registered again
    assert "off-topic" in capsys.readouterr().out
    with db.session() as session:
        assert len(registry.all_models(session)) == 1


def test_register_reports_a_model_that_passed(settings, tmp_path, capsys):
    model = model_file(tmp_path, b"good")
    write_report(settings.project / registry.BOOTSTRAP_REPORT, report())
    assert make.register(settings, model)
    assert "passed the gate, registered and live" in capsys.readouterr().out


def test_the_makefile_trains_on_the_reviewed_file_where_the_console_writes_it():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^REVIEWED\s*:= {re.escape(REVIEWED.as_posix())}$", makefile, re.M)
    assert "--data data $$(ls $(REVIEWED)" in makefile
