// What the navigation offers, drawn from the route table (routes.js): the public links, and the
// staff tools a role may use, in the header's groups. Only those are shown; the API still decides
// every request.

import { ROUTES } from "./routes.js";
import { session } from "./store.js";

export const PUBLIC_LINKS = ROUTES.filter((route) => route.link).map((route) => ({ path: route.path, label: route.link }));

export const STAFF_TOOLS = ROUTES.filter((route) => route.tool).map((route) => ({ path: route.path, roles: route.roles, ...route.tool }));

// The header's groups for staff, in order (issue #19): what residents see, the day's work, planning,
// administration. Public links make the first group; each tool names its own.
export const GROUPS = ["daily", "planning", "admin"];

export function toolsFor(role, me = session.state.me) {
  return STAFF_TOOLS.filter((tool) => (tool.roles.length === 0 || tool.roles.includes(role)) && (!tool.when || tool.when(me)));
}

/** The header's menu for a signed-in caller: [{ id, label, links: [{ path, label }] }], empty groups left out. */
export function menuFor(me) {
  const tools = toolsFor(me.role, me).filter((tool) => tool.group);
  const groups = [{ id: "public", label: "nav.group.public", links: PUBLIC_LINKS }];
  for (const id of GROUPS) {
    const links = tools.filter((tool) => tool.group === id).map((tool) => ({ path: tool.path, label: tool.short ?? tool.label }));
    if (links.length) groups.push({ id, label: `nav.group.${id}`, links });
  }
  return groups;
}
