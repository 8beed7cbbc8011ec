// What the navigation offers. Staff tools are listed with the roles that may use them, and only
// those are shown; the API still decides every request. A tool may also name what the account
// itself needs (`when(me)`), e.g. an operator account linked to a petugas.

import { session } from "./store.js";

export const PUBLIC_LINKS = [
  { path: "/progress", label: "nav.progress" },
  // --- public views ---
  { path: "/where", label: "nav.where" },
  { path: "/board", label: "nav.board" },
  { path: "/visit", label: "nav.visit" },
  { path: "/report", label: "nav.report" },
  // --- end of public views ---
];

export const STAFF_TOOLS = [
  { path: "/staff/targets", roles: ["admin", "supervisor"], label: "tools.targets", short: "nav.targets", description: "tools.targets.description" },
  { path: "/progress", roles: [], label: "tools.progress", description: "tools.progress.description" },
  // --- staff work views (feat/fe-staff) ---
  { path: "/staff/tallies", roles: ["admin", "supervisor"], label: "tools.tallies", short: "nav.tallies", description: "tools.tallies.description" },
  // An operator account without a service point (a kit's crew) has no counter to run.
  { path: "/staff/counter", roles: ["admin", "supervisor", "operator"], when: (me) => me?.role !== "operator" || Boolean(me?.service_point_id), label: "tools.counter", short: "nav.counter", description: "tools.counter.description" },
  { path: "/staff/dispatch", roles: ["admin", "supervisor"], label: "tools.dispatch", description: "tools.dispatch.description" },
  // --- end staff work views ---
  // --- devices and operators (feat/fe-devices) ---
  // No short label: the header stays as it is; the tool is on the staff home.
  { path: "/staff/devices", roles: ["admin", "supervisor", "viewer"], label: "tools.devices", description: "tools.devices.description" },
  // --- end devices and operators ---
  // --- complaints inbox and users (feat/fe-admin) ---
  { path: "/staff/complaints", roles: ["admin", "handler"], label: "tools.complaints", short: "nav.complaints", description: "tools.complaints.description" },
  { path: "/staff/users", roles: ["admin"], label: "tools.users", short: "nav.users", description: "tools.users.description" },
  // --- end complaints inbox and users ---
  // --- home visits at the door (feat/fe-crew) ---
  { path: "/staff/visits", roles: ["operator"], when: (me) => Boolean(me?.operator_id), label: "tools.crew", short: "nav.crew", description: "tools.crew.description" },
  // --- end home visits at the door ---
];

export function toolsFor(role, me = session.state.me) {
  return STAFF_TOOLS.filter((tool) => (tool.roles.length === 0 || tool.roles.includes(role)) && (!tool.when || tool.when(me)));
}
