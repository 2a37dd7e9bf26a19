import os
import subprocess
import sys
import textwrap
import time

import pytest

from console.models import AuditEntry
from console.records import InputError
from console.retrain import registry
from tests.console.retrain.conftest import model_file, report, write_report
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
    assert registry.model_path(settings, row).read_bytes() == b"model one"
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


def test_bootstrap_registers_the_trained_model_once_with_a_fresh_eval_report(
    db, settings, tmp_path
):
    model = model_file(tmp_path, b"trained by make train")
    write_report(settings.project / registry.BOOTSTRAP_REPORT, report(accuracy=0.968))
    later = time.time() + 5
    os.utime(settings.project / registry.BOOTSTRAP_REPORT, (later, later))
    with db.session() as session:
        row = registry.bootstrap(session, settings, model)
        assert (row.status, row.created_by, row.accuracy) == ("live", "make train", 0.968)
        assert registry.bootstrap(session, settings, model) is None


def test_bootstrap_makes_a_newer_make_train_model_live(db, settings, tmp_path):
    first = model_file(tmp_path, b"first training")
    with db.session() as session:
        old = registry.bootstrap(session, settings, first)
        assert registry.bootstrap(session, settings, first) is None
    retrained = tmp_path / "retrained.tar.gz"
    retrained.write_bytes(b"trained again after editing domain.yml")
    later = time.time() + 60
    os.utime(retrained, (later, later))
    with db.session() as session:
        new = registry.bootstrap(session, settings, retrained)
        assert new is not None and registry.live_model(session).id == new.id
        assert session.get(type(old), old.id).status == "retired"
        assert registry.model_path(settings, new).read_bytes() == retrained.read_bytes()


def test_bootstrap_ignores_an_eval_report_older_than_the_model(db, settings, tmp_path):
    write_report(settings.project / registry.BOOTSTRAP_REPORT, report())
    earlier = time.time() - 60
    os.utime(settings.project / registry.BOOTSTRAP_REPORT, (earlier, earlier))
    with db.session() as session:
        row = registry.bootstrap(session, settings, model_file(tmp_path, b"newer model"))
        assert row.accuracy is None and registry.report_of(settings, row) is None


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
    source = model_file(tmp_path, b"x" * 400_000)
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from console.models import Database
        from console.retrain import registry
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
