"""The app's routers: their order follows traffic (api/main.py `ROUTERS`), which is safe only
while no path of one router is also a path of another's; and their dependencies."""

import inspect
import re
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.main import ROUTERS


def test_no_route_of_one_router_answers_a_path_of_another() -> None:
    routes = [(number, route) for number, router in enumerate(ROUTERS) for route in router.routes if isinstance(route, APIRoute)]
    assert len(routes) > 100

    def example(path: str) -> str:  # a path with each parameter filled in
        return re.sub(r"\{[^}]+\}", "1", path)

    shared = [
        (route.path, other.path)
        for number, route in routes
        for other_number, other in routes
        if number != other_number and route.methods & other.methods and route.path_regex.match(example(other.path))
    ]
    assert shared == []


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def test_every_dependency_of_ours_is_async() -> None:
    """FastAPI runs a plain function dependency in its thread pool: a hand-off between threads for
    every request that uses it, for work that never blocks (issue #22)."""
    ours = {
        dependency.call
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for dependency in _dependencies(route.dependant)
        if getattr(dependency.call, "__module__", "").startswith("api.")
    }
    assert len(ours) > 10
    plain = [call.__qualname__ for call in ours if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))]
    assert plain == []
