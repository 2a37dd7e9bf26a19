import subprocess
import time
from dataclasses import replace

import pytest

from console.records import InputError
from console.tables import TrainingJob
from retrain import jobs
from retrain.jobs import AlreadyTraining, JobCancelled, Progress

TQDM = "Epochs:  40%|████      | 24/60 [00:12<00:18,  2.0it/s, t_loss=1.2, i_acc=0.98]"


def row(db, job_id):
    with db.session() as session:
        return session.get(TrainingJob, job_id)


def test_only_one_job_at_a_time(db):
    first = jobs.create(db, "alice")
    with pytest.raises(AlreadyTraining) as refused:
        jobs.create(db, "bob")
    assert (refused.value.status, refused.value.job, str(refused.value)) == (
        409,
        first,
        "already training",
    )
    Progress(db, first).finish("rejected")
    assert jobs.create(db, "bob") > first


def test_progress_parses_epochs_and_keeps_the_last_lines(db):
    job_id = jobs.create(db, "alice")
    progress = Progress(db, job_id)
    progress.stage("train")
    for n in range(60):
        progress.line(f"line {n}")
    progress.line(TQDM)
    progress.save()
    job = row(db, job_id)
    assert (job.stage, job.epochs_done, job.epochs_total) == ("train", 24, 60)
    tail = job.log_tail.splitlines()
    assert len(tail) == jobs.TAIL_LINES and tail[-1] == "line 59"


def test_rasa_progress_bars_stay_out_of_the_log(db):
    job_id = jobs.create(db, "alice")
    progress = Progress(db, job_id)
    progress.stage("train")
    for text in (
        "Processed actions: 0it [00:00, ?it/s]",
        "Processed story blocks: 100%|██████████| 11/11 [00:00<00:00, 1505.24it/s, # trackers=1]",
        "\x1b[32mProcessed trackers:   0%|          | 0/11 [00:00<?, ?it/s]\x1b[0m",
        "Processed rules: 12it [00:00, 345.6it/s, # trackers=1]",
        "2026-12-04 10:00:01 INFO rasa.engine.training - Restored component 'DIETClassifier'",
        TQDM,
        "Your Rasa model is trained and saved at 'out/candidate.tar.gz'.",
    ):
        progress.line(text)
    progress.save()
    job = row(db, job_id)
    assert job.log_tail.splitlines() == [
        "== train",
        "2026-12-04 10:00:01 INFO rasa.engine.training - Restored component 'DIETClassifier'",
        "Your Rasa model is trained and saved at 'out/candidate.tar.gz'.",
    ]
    assert (job.epochs_done, job.epochs_total) == (24, 60)


def test_finish_frees_the_slot_and_records_the_outcome(db):
    job_id = jobs.create(db, "alice")
    error = "rasa train failed (exit code 1)"
    Progress(db, job_id).finish("failed", error)
    job = row(db, job_id)
    assert (job.status, job.active, job.error) == ("failed", None, error)
    assert job.finished_at is not None


def test_cancel_kills_the_process_group_and_stops_reporting(db):
    job_id = jobs.create(db, "alice")
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    with db.session() as session:
        session.get(TrainingJob, job_id).pid = process.pid
    jobs.cancel(db, job_id, "bob")
    assert process.wait(timeout=10) < 0
    job = row(db, job_id)
    assert (job.status, job.active, job.error) == ("cancelled", None, "cancelled by bob")
    with pytest.raises(JobCancelled):
        Progress(db, job_id).stage("evaluate")
    with pytest.raises(InputError, match="not running"):
        jobs.cancel(db, job_id, "bob")


def test_recover_fails_jobs_whose_process_is_gone(db):
    job_id = jobs.create(db, "alice")
    gone = subprocess.Popen(["true"])
    gone.wait()
    with db.session() as session:
        session.get(TrainingJob, job_id).pid = gone.pid
    assert jobs.recover(db) == [job_id]
    job = row(db, job_id)
    assert job.status == "failed" and job.error.startswith("interrupted")
    assert jobs.create(db, "bob")


def test_recover_leaves_live_jobs_running(db):
    job_id = jobs.create(db, "alice")
    process = subprocess.Popen(["sleep", "60"])
    try:
        with db.session() as session:
            session.get(TrainingJob, job_id).pid = process.pid
        assert jobs.recover(db) == []
        assert row(db, job_id).status == "running"
    finally:
        process.kill()
        process.wait()


def test_a_job_process_that_crashes_is_marked_failed_with_its_output(db, settings):
    broken = replace(settings, project=settings.project / "missing")
    job_id = jobs.spawn(db, broken, "alice")
    deadline = time.monotonic() + 120
    while row(db, job_id).status == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    job = row(db, job_id)
    assert job.status == "failed"
    assert "No such file or directory" in job.error
    assert job.active is None
