"""Run the model's graph node after node, without building a dask graph for every run.

Rasa runs its predict graph once to understand a message and once for every action it
predicts, each time through `DaskGraphRunner.run`: it derives the subgraph the targets
need, builds a dask task graph from it and lets dask schedule it. With the project's
small graph that bookkeeping cost a quarter of the bot's time per message under load
(docs/performance.md). `install` replaces `DaskGraphRunner.run` in the bot process with a
run that computes the order of the nodes once per set of targets and inputs, then calls
the same nodes in that order with the same arguments, with the same results and errors.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

# For each (targets, input names): the nodes to call in order, each with its parents.
Plan = list[tuple[str, list[str]]]


def plan(schema: GraphSchema, targets: list[str], inputs: set[str]) -> Plan:
    """The nodes the targets depend on, each after its parents; inputs are not run."""
    order: Plan = []
    placed: set[str] = set(inputs)

    def place(name: str) -> None:
        if name in placed or name not in schema.nodes:
            return
        placed.add(name)
        parents = list(schema.nodes[name].needs.values())
        for parent in parents:
            place(parent)
        order.append((name, parents))

    for target in targets:
        place(target)
    return order


def run_in_order(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """`DaskGraphRunner.run` with the same results, without dask (see the module)."""
    inputs = inputs or {}
    run_targets = targets or self._graph_schema.target_names
    for value in inputs.values():
        if isinstance(value, str) and value in self._graph_schema.nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of "
                f"the input names passed to the `run` method are the same as node names "
                f"in the graph schema."
            )
    key = (tuple(run_targets), frozenset(inputs))
    plans: dict[Any, Plan] = self.__dict__.setdefault("_certbot_plans", {})
    if key not in plans:
        plans[key] = plan(self._graph_schema, list(run_targets), set(inputs))
    results: dict[str, Any] = {name: (name, value) for name, value in inputs.items()}
    try:
        for name, parents in plans[key]:
            node = self._instantiated_nodes[name]
            results[name] = node(*(results.get(parent, parent) for parent in parents))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)


def install() -> None:
    """Make every graph runner of this process run its nodes in order."""
    DaskGraphRunner.run = run_in_order
