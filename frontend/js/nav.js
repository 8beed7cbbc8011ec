// What the navigation offers, drawn from the route table (routes.js): the public links, and the
// staff tools a role may use. Only those are shown; the API still decides every request.

import { ROUTES } from "./routes.js";
import { session } from "./store.js";

export const PUBLIC_LINKS = ROUTES.filter((route) => route.link).map((route) => ({ path: route.path, label: route.link }));

export const STAFF_TOOLS = ROUTES.filter((route) => route.tool).map((route) => ({ path: route.path, roles: route.roles, ...route.tool }));

export function toolsFor(role, me = session.state.me) {
  return STAFF_TOOLS.filter((tool) => (tool.roles.length === 0 || tool.roles.includes(role)) && (!tool.when || tool.when(me)));
}
