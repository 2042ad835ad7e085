"""The Rasa server's model graph run in order, without dask, for each message.

Rasa 3.6 runs the prediction graph of every message (once for the NLU pipeline, once per
predicted action) through `dask.get`: it rebuilds the graph's minimal schema and a dask
task graph each time, then dask's local scheduler orders and dispatches the nodes one by
one on the calling thread. The graph is the same for every message, so this runner
works out the order once per set of targets and calls the same `GraphNode`s with the
same inputs, in the same order dask's synchronous scheduler would allow: each node after
everything it needs. Profiled at about 6% of the Rasa server's time per message
(README "Performance").

Installed by the tracker store of our endpoints (bot/rasa_server/tracker_store.py) with the rest of
our per-message path, so the benchmark's stock run keeps Rasa's own runner.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


class InOrderGraphRunner(DaskGraphRunner):
    """`DaskGraphRunner` with the same nodes, called in a topological order worked out once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._orders: Dict[Tuple[Text, ...], List[Tuple[Text, List[Text]]]] = {}

    def _order(self, targets: Tuple[Text, ...]) -> List[Tuple[Text, List[Text]]]:
        """Each node the targets depend on, with the names it needs, after all of them."""
        order = self._orders.get(targets)
        if order is None:
            nodes = self._graph_schema.minimal_graph_schema(list(targets)).nodes
            order, placed = [], set()

            def place(name: Text, path: Tuple[Text, ...] = ()) -> None:
                if name in placed or name not in nodes:  # done, or an input placeholder
                    return
                if name in path:
                    raise GraphRunError(f"the graph has a cycle through '{name}'")
                needs = list(nodes[name].needs.values())
                for need in needs:
                    place(need, (*path, name))
                placed.add(name)
                order.append((name, needs))

            for target in targets:
                place(target)
            self._orders[targets] = order
        return order

    def run(
        self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
    ) -> Dict[Text, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        order = self._order(run_targets)
        # Every node's output is `(node name, value)`; inputs take the same form, as with dask.
        outputs: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if name in self._graph_schema.nodes:
                raise GraphRunError(
                    f"Input value '{name}' clashes with a node name. Make sure that none of the "
                    f"input names passed to the `run` method are the same as node names in the "
                    f"graph schema."
                )
            outputs[name] = (name, value)
        try:
            for name, needs in order:
                # A need that is neither a node nor a given input is passed as its name, as dask does.
                outputs[name] = self._instantiated_nodes[name](*[outputs.get(n, n) for n in needs])
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(outputs[target] for target in run_targets)


def install() -> None:
    """Load prediction graphs into `InOrderGraphRunner` from now on (this process)."""
    import rasa.core.processor

    rasa.core.processor.DaskGraphRunner = InOrderGraphRunner  # type: ignore[attr-defined]
