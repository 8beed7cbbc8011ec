"""The API's contract with generated clients: what the OpenAPI document declares beyond FastAPI's defaults.

- `schema_ref(Model)`: a `$ref` into `#/components/schemas` for hand-written request bodies
  (`openapi_extra`), with the model registered there (no dangling `#/$defs/...`).
- `CSV_FILE`: a CSV request body as file content (`format: binary`), which generators map to a file.
- `reject_unknown_query`: a dependency on every API route; a query parameter the route does not
  declare is a 422 problem (`?dryRun=true` must not write an import, `?areaa=` must not return
  everything).
- `install_contract(app)`: operation ids from route function names, `servers`, and the registered
  schemas in the document.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.errors import RuleViolation, field_problem

REF_TEMPLATE = "#/components/schemas/{model}"
_REGISTERED: dict[str, type[BaseModel]] = {}

CSV_FILE: dict[str, Any] = {"type": "string", "format": "binary", "description": "A CSV file (UTF-8, comma or semicolon separated, header row first)."}


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    """`{"$ref": "#/components/schemas/<Model>"}`, with the model added to the document's components."""
    _REGISTERED[model.__name__] = model
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _declared_query(route: APIRoute) -> frozenset[str]:
    cached = getattr(route, "_rekam_query_names", None)
    if cached is None:
        cached = frozenset(_query_names(route.dependant))
        route._rekam_query_names = cached  # type: ignore[attr-defined]  # memo per route
    return cached


async def reject_unknown_query(request: Request) -> None:
    """422 when the request carries a query parameter its route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params.keys()) - _declared_query(route))
    if unknown:
        errors = [field_problem(name, "unknown query parameter", location="query", code="unknown_parameter") for name in unknown]
        raise RuleViolation(f"Unknown query parameter: {', '.join(unknown)}.", errors=errors, code="validation.unknown_parameter")


def operation_id(route: APIRoute) -> str:
    """The operation id of a route: its function's name (`post_tallies`), unique across the app."""
    return route.name


def install_contract(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _REGISTERED.items():
            definition = model.model_json_schema(ref_template=REF_TEMPLATE)
            for defname, sub in definition.pop("$defs", {}).items():
                schemas.setdefault(defname, sub)
            schemas.setdefault(name, definition)
        schema.setdefault("servers", [{"url": "/", "description": "This server (paths carry the /api/v1 prefix)."}])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the OpenAPI document
