"""Models: export preview, retraining jobs, the registry, activation, and the model server."""

from __future__ import annotations

import asyncio
import hmac
from json import loads as json_loads
from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, ResponseStream, empty, file_stream, json, redirect
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.records import standing_annotations
from console.tables import TrainedModel, TrainingJob
from console.web import Fields, done, is_api, me, page_and_api, render, requires, services
from retrain import answers, jobs, registry
from retrain.archive import AnswersUnreadable
from retrain.dataset import ExportError, plan_export
from retrain.jobs import AlreadyTraining
from retrain.links import allowed_domains

bp = Blueprint("models")
PULL_PATH = "/api/models/live"
CHUNK_BYTES = 1 << 20


def plan_preview(request: Request) -> dict[str, Any]:
    """What the standing annotations would change in the training data, since it went live."""
    settings = services(request).settings
    with services(request).db.session() as session:
        annotations = standing_annotations(session)
        trained = trained_plan(session)
    try:
        plan = plan_export(settings.project, annotations, allowed_domains(settings)).as_dict()
    except ExportError as error:
        return {"error": str(error)}
    return without_settled(plan, trained)


def trained_plan(session: Session) -> dict[str, Any]:
    """The export plan of the newest training whose model went live ({} if none did)."""
    query = (
        select(TrainingJob.plan)
        .join(TrainedModel, TrainingJob.model_id == TrainedModel.id)
        .where(TrainedModel.activated_at.is_not(None))
        .order_by(TrainingJob.id.desc())
        .limit(1)
    )
    return json_loads(session.scalar(query) or "{}")


def without_settled(plan: dict[str, Any], trained: dict[str, Any]) -> dict[str, Any]:
    """The plan less the duplicates that `trained` skipped already, counted in `skipped_before`.

    Skipped then, they change nothing now either: not what the next training adds.
    """
    settled = {duplicate.get("annotation_id") for duplicate in trained.get("duplicates", [])}
    new = [d for d in plan["duplicates"] if d["annotation_id"] not in settled]
    return {**plan, "duplicates": new, "skipped_before": len(plan["duplicates"]) - len(new)}


async def preview(request: Request) -> dict[str, Any]:
    """`plan_preview` in a worker thread: reading the training data takes about a second."""
    return await asyncio.get_running_loop().run_in_executor(None, plan_preview, request)


def answer_changes(request: Request, model_id: int) -> answers.AnswerChanges | str:
    """How a model's answers differ from the live model's; a message when unreadable."""
    settings = services(request).settings
    with services(request).db.session() as session:
        model = session.get(TrainedModel, model_id)
        if model is None:
            raise NotFound("no model with this id")
        if not model.on_disk:
            return "the model's file was deleted: its answers cannot be compared"
        try:
            return answers.changes_for(session, settings, model)
        except AnswersUnreadable as error:
            return str(error)


def changes_view(request: Request, model_id: int) -> dict[str, Any]:
    """`answer_changes` rendered for a page ({error} when unreadable)."""
    changes = answer_changes(request, model_id)
    if isinstance(changes, str):
        return {"error": changes}
    return answers.changes_view(changes, allowed_domains(services(request).settings))


async def in_thread(function: Any, *args: Any) -> Any:
    """Run `function(*args)` in a worker thread (reading a model archive takes a moment)."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


def registry_state(request: Request) -> dict[str, Any]:
    """Every model and the newest job, as JSON."""
    with services(request).db.session() as session:
        models = [registry.model_json(m) for m in registry.all_models(session)]
    job = jobs.latest(services(request).db)
    return {"models": models, "job": jobs.job_json(job) if job else None}


@bp.get("/api/models")
async def models_api(request: Request) -> HTTPResponse:
    """The registry and the newest job."""
    return json(registry_state(request))


@bp.get("/api/models/export-preview")
async def preview_api(request: Request) -> HTTPResponse:
    """The export plan of the standing annotations."""
    return json(await preview(request))


@bp.get("/models")
async def models_page(request: Request) -> HTTPResponse:
    """Export preview, Retrain button, answers awaiting approval, newest job and the registry."""
    plan, state = await preview(request), registry_state(request)
    domains = allowed_domains(services(request).settings)
    new_faqs = plan.get("new_faqs", {}).items()
    faqs = {name: answers.answer_view(text, domains) for name, text in new_faqs}
    pending = [
        {"model": m, "answers": await in_thread(changes_view, request, m["id"])}
        for m in state["models"]
        if m["status"] == "awaiting"
    ]
    return render(request, "models.html", plan=plan, faqs=faqs, pending=pending, **state)


@page_and_api(bp, "/models/retrain")
@requires("reviewer")
async def retrain(request: Request) -> HTTPResponse:
    """Start a training job (one at a time: 409 with the running job's id otherwise)."""
    try:
        job_id = jobs.spawn(services(request).db, services(request).settings, me(request).username)
    except AlreadyTraining as running:
        if is_api(request):
            return json({"error": "already training", "job": running.job}, status=409)
        return redirect(f"/models/jobs/{running.job}", status=303)
    if is_api(request):
        return json({"job": job_id}, status=202)
    return redirect(f"/models/jobs/{job_id}", status=303)


def job_or_404(request: Request, job_id: int) -> TrainingJob:
    """The job with this id."""
    with services(request).db.session() as session:
        job = session.get(TrainingJob, job_id)
    if job is None:
        raise NotFound("no training job with this id")
    return job


@bp.get("/api/jobs/<job_id:int>")
async def job_api(request: Request, job_id: int) -> HTTPResponse:
    """A job's status, stage, epoch progress and log tail."""
    return json(jobs.job_json(job_or_404(request, job_id)))


@bp.get("/models/jobs/<job_id:int>")
async def job_page(request: Request, job_id: int) -> HTTPResponse:
    """A job's progress page (console.js refreshes it while the job runs)."""
    job = jobs.job_json(job_or_404(request, job_id))
    model, view = None, None
    if job["model_id"]:
        model = model_and_report(request, job["model_id"])[0]
        if model["status"] == "awaiting":
            view = await in_thread(changes_view, request, job["model_id"])
    return render(request, "job.html", job=job, model=model, answers=view)


@page_and_api(bp, "/jobs/<job_id:int>/cancel")
@requires("reviewer")
async def cancel(request: Request, job_id: int) -> HTTPResponse:
    """Cancel a running job."""
    jobs.cancel(services(request).db, job_id, me(request).username)
    return done(request, {"cancelled": job_id}, f"/models/jobs/{job_id}")


def model_and_report(request: Request, model_id: int) -> tuple[dict, dict | None]:
    """A registry row and its report."""
    settings = services(request).settings
    with services(request).db.session() as session:
        model = session.get(TrainedModel, model_id)
        if model is None:
            raise NotFound("no model with this id")
        return registry.model_json(model), registry.report_of(settings, model)


@bp.get("/api/models/<model_id:int>")
async def model_api(request: Request, model_id: int) -> HTTPResponse:
    """A model, its evaluation report and its answers against the live model's."""
    model, report = model_and_report(request, model_id)
    changes = await in_thread(answer_changes, request, model_id)
    view = {"error": changes} if isinstance(changes, str) else changes.as_dict()
    return json({"model": model, "report": report, "answers": view})


@bp.get("/models/<model_id:int>")
async def model_page(request: Request, model_id: int) -> HTTPResponse:
    """A model's report, its answer changes and its actions."""
    model, report = model_and_report(request, model_id)
    view = await in_thread(changes_view, request, model_id)
    return render(request, "model.html", model=model, report=report, answers=view)


def activate_model(request: Request, model_id: int) -> dict[str, Any]:
    """Activate after the answer checks; the new live model as JSON."""
    fields = Fields.of(request)
    settings = services(request).settings
    with services(request).db.session() as session:
        model = answers.activate(
            session,
            settings,
            model_id,
            me(request).username,
            reason=fields.text("reason"),
            approved=fields.text("changes").strip(),
        )
        return registry.model_json(model)


@page_and_api(bp, "/models/<model_id:int>/activate")
@requires("admin")
async def activate(request: Request, model_id: int) -> HTTPResponse:
    """Make a model live (a rejected one with a reason, changed answers with their digest)."""
    payload = await in_thread(activate_model, request, model_id)
    return done(request, {"live": payload}, f"/models/{model_id}")


@page_and_api(bp, "/models/<model_id:int>/approve")
@requires("admin")
async def approve(request: Request, model_id: int) -> HTTPResponse:
    """Approve a model's answer changes (`changes`: their digest) and make it live."""
    payload = await in_thread(activate_model, request, model_id)
    return done(request, {"live": payload}, f"/models/{model_id}")


@page_and_api(bp, "/models/rollback")
@requires("admin")
async def rollback(request: Request) -> HTTPResponse:
    """Make the previously live model live again."""
    settings = services(request).settings
    with services(request).db.session() as session:
        previous = registry.previous_live(session)
        if previous is None:
            raise NotFound("there is no earlier live model to roll back to")
        model = answers.activate(
            session, settings, previous.id, me(request).username, reason="rollback", rollback=True
        )
        payload = registry.model_json(model)
    return done(request, {"live": payload}, "/models")


@bp.get(PULL_PATH)  # type: ignore[arg-type]  # Sanic 21.12's RouteHandler omits ResponseStream
async def live_model_file(request: Request) -> HTTPResponse | ResponseStream:
    """Rasa's model-server protocol for the bots: the live model, 304 when they have it.

    The bots send the shared token as the `token` query parameter (endpoints.yml `models:`).
    """
    settings = services(request).settings
    token = request.args.get("token", "")
    if not settings.model_pull_token or not hmac.compare_digest(
        token.encode(), settings.model_pull_token.encode()
    ):
        return json({"error": "wrong or missing model pull token"}, status=403)
    with services(request).db.session() as session:
        live = registry.live_model(session)
        path = registry.model_path(services(request).settings, live) if live else None
        name = live.name if live else ""
    if path is None or not path.exists():
        return json({"error": "no live model"}, status=404)
    if request.headers.get("If-None-Match") == name:
        return empty(status=304, headers={"ETag": name})
    return await file_stream(
        str(path),
        headers={"ETag": name, "filename": f"{name}.tar.gz"},
        mime_type="application/gzip",
        chunk_size=CHUNK_BYTES,
    )
