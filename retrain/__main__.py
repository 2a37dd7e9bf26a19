"""`python -m retrain` (`make retrain`): retrain from the command line, for cron or CI.

Exit code 0 when the new model went live, 1 when the gate rejected it, 2 on errors (another
job running, invalid data, a failed training), 3 when it changes answers and awaits an
admin's approval in the console. `run --job ID` is how the console runs a job.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback

from certbot.tools.evaluate import print_comparison
from console.settings import Settings
from console.tables import Database, TrainingJob
from retrain import jobs, pipeline, registry
from retrain.dataset import ExportError
from retrain.jobs import AlreadyTraining, JobCancelled, Progress

EXIT_CODES = {"live": 0, "candidate": 0, "rejected": 1, "awaiting": 3}


def run_job(db: Database, settings: Settings, job_id: int, progress: Progress) -> int:
    """Run the pipeline for a job and record how it ended; the exit code."""
    try:
        outcome = pipeline.run(db, settings, job_id, progress)
    except JobCancelled as cancelled:
        print(f"job {job_id} stopped: it is {cancelled}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        end(progress, "cancelled", "interrupted from the keyboard")
        return 2
    except (pipeline.StepFailed, ExportError, OSError, ValueError) as error:
        message = f"{type(error).__name__}: {error}" if isinstance(error, OSError) else str(error)
        end(progress, "failed", message)
        print(f"retraining failed: {message}", file=sys.stderr)
        return 2
    except Exception as error:  # a bug: keep the job's row truthful, show the trace
        end(progress, "failed", f"internal error: {error!r}")
        traceback.print_exc()
        return 2
    end(progress, outcome.status, model_id=outcome.model_id)
    if progress.echo:
        if outcome.verdict.comparison:
            print_comparison(outcome.verdict.comparison)
        for reason in outcome.verdict.reasons:
            print(f"GATE: {reason}")
        print(f"model {outcome.model_id}: {outcome.status}")
        if outcome.status == "awaiting":
            print("it changes answers: an admin approves them on its page in the console")
    return EXIT_CODES[outcome.status]


def end(progress: Progress, status: str, error: str = "", model_id: int | None = None) -> None:
    """Record the job's outcome unless it was cancelled meanwhile."""
    with contextlib.suppress(JobCancelled):
        progress.finish(status, error, model_id)


def headless(settings: Settings, who: str) -> int:
    """Register the bootstrap model if needed, then run one job here, printing its progress."""
    db = Database(settings.db_url)
    jobs.recover(db)
    registry.bootstrap(db, settings, settings.project / registry.BOOTSTRAP_MODEL)
    try:
        job_id = jobs.create(db, who)
    except AlreadyTraining as running:
        print(f"already training (job {running.job}); try again when it has finished")
        return 2
    with db.session() as session:
        session.get(TrainingJob, job_id).pid = os.getpid()
    return run_job(db, settings, job_id, Progress(db, job_id, echo=True))


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run a job the console created (internal)")
    run.add_argument("--job", type=int, required=True)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "run":
        db = Database(settings.db_url)
        return run_job(db, settings, args.job, Progress(db, args.job, echo=True))
    return headless(settings, os.environ.get("USER") or "make retrain")


if __name__ == "__main__":
    sys.exit(main())
