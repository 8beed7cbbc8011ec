"""The app's routers: their order follows traffic (api/main.py `ROUTERS`), which is safe only
while no path of one router is also a path of another's."""

import re

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
