import os
import subprocess
import sys
import textwrap

import pytest

from console.records import InputError
from console.tables import AuditEntry, TrainedModel
from retrain import registry
from tests.retrain.conftest import model_file, report, write_report
from tests.servers import ROOT


def add(session, settings, tmp_path, content: bytes, status="candidate", passed=True):
    row = registry.register(
        session,
        settings,
        model_file(tmp_path, content),
        created_by="alice",
        fingerprints=("data", "setup"),
        status=status,
    )
    row.gate_passed = passed
    return row


def test_register_copies_the_file_and_keeps_the_report(db, settings, tmp_path):
    with db.session() as session:
        row = add(session, settings, tmp_path, b"model one")
        registry.save_report(settings, row, report(accuracy=0.96, off_topic=0.003))
    assert (
        registry.model_path(settings, row).read_bytes()
        == model_file(tmp_path, b"model one").read_bytes()
    )
    with db.session() as session:
        again = registry.all_models(session)[0]
        assert (again.accuracy, again.off_topic_rate) == (0.96, 0.003)
        assert registry.report_of(settings, again)["held_out"]["accuracy"] == 0.96


def test_activate_retires_the_previous_live_model_and_audits(db, settings, tmp_path):
    with db.session() as session:
        first = add(session, settings, tmp_path, b"one", status="live")
        second = add(session, settings, tmp_path, b"two")
        registry.activate(session, settings, second.id, "admin")
    with db.session() as session:
        assert registry.live_model(session).id == second.id
        assert registry.previous_live(session) is None  # `first` was never activated
        assert session.get(type(first), first.id).status == "retired"
        assert session.query(AuditEntry).filter_by(what="model activated").count() == 1


def test_rejected_model_needs_a_reason(db, settings, tmp_path):
    with db.session() as session:
        rejected = add(session, settings, tmp_path, b"bad", status="rejected", passed=False)
        rejected_id = rejected.id
    with db.session() as session, pytest.raises(InputError, match="write why"):
        registry.activate(session, settings, rejected_id, "admin", "   ")
    with db.session() as session:
        model = registry.activate(session, settings, rejected_id, "admin", "known regression")
        assert (model.status, model.override_reason) == ("live", "known regression")


@pytest.mark.parametrize(
    ("status", "message"), [("live", "already live"), ("failed", "no usable file")]
)
def test_activate_refuses_live_and_failed_models(db, settings, tmp_path, status, message):
    with db.session() as session:
        model_id = add(session, settings, tmp_path, status.encode(), status=status).id
    with db.session() as session, pytest.raises(InputError, match=message):
        registry.activate(session, settings, model_id, "admin")


def test_activate_refuses_an_overlong_reason_and_unknown_ids(db, settings, tmp_path):
    with db.session() as session:
        model_id = add(session, settings, tmp_path, b"x", passed=False).id
    with db.session() as session, pytest.raises(InputError, match="at most 1000"):
        registry.activate(session, settings, model_id, "admin", "x" * 1001)
    with db.session() as session, pytest.raises(InputError, match="no model"):
        registry.activate(session, settings, 999, "admin")


def test_rollback_target_is_the_previously_activated_model(db, settings, tmp_path):
    with db.session() as session:
        ids = [add(session, settings, tmp_path, bytes([n])).id for n in range(3)]
        for model_id in ids:
            registry.activate(session, settings, model_id, "admin")
            session.flush()
        assert registry.previous_live(session).id == ids[1]


def test_prune_keeps_the_newest_and_never_live_or_previous_live(db, settings, tmp_path):
    with db.session() as session:
        rows = [add(session, settings, tmp_path, bytes([n])) for n in range(6)]
        registry.activate(session, settings, rows[0].id, "admin")  # prunes (keep_models=2)
        registry.activate(session, settings, rows[5].id, "admin")
    with db.session() as session:
        kept = {m.id for m in registry.all_models(session) if m.on_disk}
    assert kept == {rows[0].id, rows[5].id, rows[4].id}
    for row in rows:
        assert registry.model_path(settings, row).exists() == (row.id in kept)


def trained(tmp_path, settings, content: bytes, accuracy: float = 0.97, off_topic=0.002):
    """A make-train model file with make eval's report of it, written just after it."""
    model = model_file(tmp_path, content)
    saved = write_report(settings.project / registry.BOOTSTRAP_REPORT, report(accuracy, off_topic))
    after = model.stat().st_mtime + 1
    os.utime(saved, (after, after))
    return model


def edit_data(settings, text: str) -> None:
    (settings.project / "data" / "nlu" / "faq.yml").write_text(f"version: '3.1'\n# {text}\n")


def row_of(db, row_id):
    with db.session() as session:
        row = session.get(TrainedModel, row_id)
        session.expunge(row)
        return row


def test_bootstrap_gates_the_trained_model_once_with_make_evals_report(db, settings, tmp_path):
    model = trained(tmp_path, settings, b"trained by make train", accuracy=0.968)
    row = row_of(db, registry.bootstrap(db, settings, model))
    assert (row.status, row.created_by, row.accuracy, row.gate_passed) == (
        "live", "make train", 0.968, True
    )  # fmt: skip
    assert registry.report_of(settings, row)["gate"]["passed"] is True
    assert registry.bootstrap(db, settings, model) is None


def test_a_newer_model_from_new_data_goes_live_when_it_passes_the_gate(db, settings, tmp_path):
    old = registry.bootstrap(db, settings, trained(tmp_path, settings, b"first"))
    edit_data(settings, "an edited answer")
    new = registry.bootstrap(db, settings, trained(tmp_path, settings, b"after the edit"))
    assert row_of(db, new).status == "live"
    assert row_of(db, old).status == "retired"
    comparison = registry.report_of(settings, row_of(db, new))["gate"]["comparison"]
    assert comparison["accuracy"]["delta"] == 0


def test_a_worse_make_train_model_is_rejected_and_the_live_one_stays(db, settings, tmp_path):
    """The bypass of issue 14: a model by make train went live without the gate."""
    live = registry.bootstrap(db, settings, trained(tmp_path, settings, b"gated"))
    edit_data(settings, "bad data")
    worse = trained(tmp_path, settings, b"worse", accuracy=0.90)
    row = row_of(db, registry.bootstrap(db, settings, worse))
    assert (row.status, row.gate_passed) == ("rejected", False)
    assert "held-out accuracy drops by 7.00%" in row.gate_reasons
    assert row_of(db, live).status == "live"
    assert registry.bootstrap(db, settings, worse) is None  # not registered twice


def test_a_model_trained_on_the_live_models_inputs_is_not_registered(db, settings, tmp_path):
    live = registry.bootstrap(db, settings, trained(tmp_path, settings, b"console retrain"))
    assert registry.bootstrap(db, settings, trained(tmp_path, settings, b"same inputs")) is None
    assert row_of(db, live).status == "live"


def test_without_a_live_model_the_absolute_gates_decide(db, settings, tmp_path):
    model = trained(tmp_path, settings, b"answers off-topic", off_topic=0.05)
    row = row_of(db, registry.bootstrap(db, settings, model))
    assert row.status == "rejected" and "off-topic" in row.gate_reasons
    with db.session() as session:
        assert registry.live_model(session) is None


def test_a_make_train_model_linking_elsewhere_is_rejected_like_a_console_one(
    db, settings, tmp_path
):
    link = {"utter_faq/portal": [{"text": "Sign in at [our portal](https://evil.example/login)"}]}
    model = model_file(tmp_path, b"links out", responses=link)
    write_report(settings.project / registry.BOOTSTRAP_REPORT, report())
    row = row_of(db, registry.bootstrap(db, settings, model))
    assert row.status == "rejected" and "evil.example" in row.gate_reasons


def test_data_fingerprint_follows_the_data_not_the_setup(settings):
    config = settings.project / "config.yml"
    data, setup = (
        registry.data_fingerprint(settings.project, config),
        registry.setup_fingerprint(settings.project, config),
    )
    (settings.project / "data" / "nlu" / "faq.yml").write_text("version: '3.1'\nnlu: [x]\n")
    assert registry.data_fingerprint(settings.project, config) != data
    assert registry.setup_fingerprint(settings.project, config) == setup


def test_a_full_disk_while_registering_leaves_no_partial_model(db, settings, tmp_path):
    """A real write error (the file-size limit RLIMIT_FSIZE) while copying the model file."""
    source = model_file(tmp_path, os.urandom(400_000))  # incompressible: 400 kB on disk
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from console.tables import Database
        from retrain import registry
        from console.settings import Settings
        settings = Settings(db_url={settings.db_url!r}, registry=Path({str(settings.registry)!r}))
        db = Database(settings.db_url)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))
        try:
            with db.session() as session:
                registry.register(session, settings, Path({str(source)!r}), created_by="a",
                                  fingerprints=("d", "s"), status="candidate")
        except OSError as error:
            sys.exit(f"register failed: {{error}}")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=120,
    )
    assert "register failed: [Errno 27] File too large" in result.stderr
    assert list(settings.registry.iterdir()) == []
    with db.session() as session:
        assert registry.all_models(session) == []
