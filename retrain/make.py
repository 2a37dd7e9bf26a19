"""The registry's side of `make train` and `make run` (docs/retraining.md).

Both first move an earlier version's reviewed file from data/nlu/ to var/ (dataset.py).

- `reuse MODEL`, before make trains: when the live model was trained on exactly the
  current inputs (after a console retrain the reviewed file is newer than MODEL, so make
  sees a change), the live model and its report are copied to MODEL and make eval's
  report instead of training again; when only answer texts changed since (an edit of
  domain.yml's responses), MODEL is the live model with the new answers, in seconds.
  Exit code 0: reused; 1: train.
- `register MODEL`, before the servers start: a newly trained MODEL goes through the same
  gate as a console retrain (registry.bootstrap) and the verdict is printed. Exit code 0
  when a model is live afterwards; 1 when none is (the only model was rejected).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from console.settings import Settings
from console.tables import Database, TrainedModel
from retrain import registry
from retrain.archive import archive_responses, with_answers
from retrain.dataset import migrate_legacy
from retrain.shape import SHAPE_FILE, importer_for, quiet, shape_of


def live_folder(settings: Settings) -> tuple[Path, str, str] | None:
    """The live model's registry folder, name and data fingerprint (None if none is live)."""
    with Database(settings.db_url).session() as session:
        live = registry.live_model(session)
        if live is None:
            return None
        return registry.folder(settings, live), live.name, live.data_fingerprint


def reuse_live(settings: Settings, target: Path) -> bool:
    """Copy the live model (and its report) to `target` if its training inputs are today's."""
    wanted = registry.data_fingerprint(settings.project, settings.training_config)
    found = live_folder(settings)
    if found is None or found[2] != wanted:
        return False
    folder, name, _ = found
    source = folder / registry.MODEL_FILE
    if not source.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    copy_report(settings, folder)
    print(f"{target}: the live model {name} was trained on these inputs; reused, not retrained")
    return True


def with_edited_answers(settings: Settings, target: Path) -> bool:
    """Write the live model with today's answers to `target` if only answer texts changed.

    Only answer texts: the inputs have the live model's shape (retrain/shape.py),
    so training would learn the same; the copy carries the live model's report.
    """
    config = settings.training_config
    found = live_folder(settings)
    if found is None:
        return False
    folder, name, _ = found
    saved, source = folder / SHAPE_FILE, folder / registry.MODEL_FILE
    if not saved.exists() or not source.exists():
        return False
    with quiet():
        importer = importer_for(settings.project, config)
        if shape_of(importer, config) != saved.read_text(encoding="utf-8"):
            return False
        domain = importer.get_domain().as_dict()
        selector = importer.get_nlu_data().responses
    before = archive_responses(source)
    changed = sorted(k for k, v in domain["responses"].items() if before.get(k) != v)
    target.parent.mkdir(parents=True, exist_ok=True)
    with_answers(source, target, domain, selector)
    copy_report(settings, folder)
    print(f"{target}: only answers changed ({', '.join(changed) or 'their layout'}):")
    print(f"  the live model {name} with the new answers, not retrained")
    return True


def copy_report(settings: Settings, folder: Path) -> None:
    """The report kept in a registry folder becomes make eval's (if there is one)."""
    report = folder / registry.REPORT_FILE
    if report.exists():
        saved = settings.project / registry.BOOTSTRAP_REPORT
        saved.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(report, saved)


def register(settings: Settings, model: Path) -> bool:
    """Put a newly trained `model` through the gate and say what happened; True if one is live."""
    db = Database(settings.db_url)
    row_id = registry.bootstrap(db, settings, model)
    with db.session() as session:
        live = registry.live_model(session)
        if row_id is None and live is None:  # registered before, and rejected: say why again
            row_id = max((m.id for m in registry.all_models(session)), default=None)
        row = session.get(TrainedModel, row_id) if row_id is not None else None
        if row is not None and row.status == "live":
            print(f"{model}: passed the gate, registered and live as model {row.name}")
        elif row is not None:
            print(f"{model}: registered as model {row.name} but REJECTED by the gate:")
            for reason in row.gate_reasons.splitlines():
                print(f"  - {reason}")
            if live is not None:
                print(f"The live model stays {live.name}.")
            print("Fix the data and train again, or activate it anyway on the console's")
            print("Models page (admins, with a written reason).")
        return live is not None


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("reuse", "register"))
    parser.add_argument("model", type=Path, help="the model file make train writes")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if moved := migrate_legacy(settings.project):
        print(moved)
    if args.step == "reuse":
        reused = reuse_live(settings, args.model) or with_edited_answers(settings, args.model)
        return 0 if reused else 1
    return 0 if register(settings, args.model) else 1


if __name__ == "__main__":
    sys.exit(main())
