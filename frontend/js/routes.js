// Every route of the app, in one table: the router finds views here and the navigation draws its
// links from it.
//
// A route has:
//   path     the address its links use (#/staff/tallies)
//   pattern  the hash paths it answers, with `keys` naming the captured parts (the view's params)
//   view     loads the view module when it is first needed
//   roles    who may open it: undefined = public, [] = any signed-in staff, else those roles
//   link     (public views) the label of its link in the header, for everyone
//   tool     (staff tools) how the staff home and the header list it: `label`, `description`,
//            `short` (the header's label; without one it is only on the staff home), `when(me)`
//            (what the account itself needs, e.g. an operator account linked to a petugas), and
//            `roles` when the tool is offered to other roles than the route admits, and `group`:
//            where the header's menu lists it (GROUPS in nav.js: daily work, planning,
//            administration; a tool without a group is on the staff home only)
//
// The order is the order of the links, both in the header and on the staff home. The patterns
// never overlap, so the order does not decide which route a path opens. The navigation only
// offers; the API still decides every request.

export const ROUTES = [
  { path: "/staff/signin", pattern: /^\/staff\/signin$/, keys: [], view: () => import("./views/signin.js") },
  { path: "/staff", pattern: /^\/staff$/, keys: [], roles: [], view: () => import("./views/staff.js") },
  {
    path: "/staff/targets", pattern: /^\/staff\/targets$/, keys: [], roles: ["admin", "supervisor"], view: () => import("./views/targets.js"),
    tool: { group: "planning", label: "tools.targets", short: "nav.targets", description: "tools.targets.description" },
  },
  // Public, and on every staff member's home as a tool.
  {
    path: "/progress", pattern: /^\/progress(?:\/([0-9.]+))?$/, keys: ["area"], view: () => import("./views/progress.js"),
    link: "nav.progress",
    tool: { roles: [], label: "tools.progress", description: "tools.progress.description" },
  },
  { path: "/where", pattern: /^\/where$/, keys: [], view: () => import("./views/where.js"), link: "nav.where" },
  { path: "/board", pattern: /^\/board(?:\/(\d{1,9}))?$/, keys: ["id"], view: () => import("./views/board.js"), link: "nav.board" },
  // #/ticket/<point>: take a number; #/ticket/<point>/<ticket>/<code>: the resident's own ticket.
  { path: "/ticket", pattern: /^\/ticket\/(\d{1,9})(?:\/(\d{1,12})\/([A-Za-z0-9_-]{8,24}))?$/, keys: ["id", "ticket", "code"], view: () => import("./views/ticket.js") },
  // #/appointment/<point>: book a slot; #/appointment/c/<code>: the booking (code, QR, cancel, check-in).
  {
    path: "/appointment", pattern: /^\/appointment\/(?:(\d{1,9})|c\/([A-Za-z0-9_-]{8,24}))$/, keys: ["id", "code"],
    view: () => import("./views/appointment.js"),
  },
  { path: "/visit", pattern: /^\/visit(?:\/(track)(?:\/([^/]{1,40}))?)?$/, keys: ["page", "code"], view: () => import("./views/visit.js"), link: "nav.visit" },
  { path: "/report", pattern: /^\/report(?:\/(track))?$/, keys: ["page"], view: () => import("./views/report.js"), link: "nav.report" },
  {
    path: "/staff/tallies", pattern: /^\/staff\/tallies$/, keys: [], roles: ["admin", "supervisor"], view: () => import("./views/tallies.js"),
    tool: { group: "daily", label: "tools.tallies", short: "nav.tallies", description: "tools.tallies.description" },
  },
  {
    path: "/staff/reconciliation", pattern: /^\/staff\/reconciliation$/, keys: [], roles: ["admin", "supervisor", "viewer"], view: () => import("./views/reconciliation.js"),
    tool: { group: "planning", label: "tools.reconciliation", description: "tools.reconciliation.description" },
  },
  {
    path: "/staff/counter", pattern: /^\/staff\/counter(?:\/(\d+))?$/, keys: ["point"], roles: ["admin", "supervisor", "operator"], view: () => import("./views/counter.js"),
    // An operator account without a service point (a kit's crew) has no counter to run.
    tool: { group: "daily", label: "tools.counter", short: "nav.counter", description: "tools.counter.description", when: (me) => me?.role !== "operator" || Boolean(me?.service_point_id) },
  },
  {
    path: "/staff/dispatch", pattern: /^\/staff\/dispatch$/, keys: [], roles: ["admin", "supervisor"], view: () => import("./views/dispatch.js"),
    tool: { group: "daily", label: "tools.dispatch", description: "tools.dispatch.description" },
  },
  {
    path: "/staff/devices", pattern: /^\/staff\/devices$/, keys: [], roles: ["admin", "supervisor", "viewer"], view: () => import("./views/devices/index.js"),
    tool: { group: "planning", label: "tools.devices", description: "tools.devices.description" },
  },
  {
    path: "/staff/points", pattern: /^\/staff\/points$/, keys: [], roles: ["admin", "supervisor"], view: () => import("./views/points/index.js"),
    tool: { group: "planning", label: "tools.points", short: "nav.points", description: "tools.points.description" },
  },
  {
    path: "/staff/complaints", pattern: /^\/staff\/complaints(?:\/(\d{1,9}))?$/, keys: ["id"], roles: ["admin", "handler"], view: () => import("./views/complaints/index.js"),
    tool: { group: "daily", label: "tools.complaints", short: "nav.complaints", description: "tools.complaints.description" },
  },
  {
    path: "/staff/users", pattern: /^\/staff\/users$/, keys: [], roles: ["admin"], view: () => import("./views/users.js"),
    tool: { group: "admin", label: "tools.users", short: "nav.users", description: "tools.users.description" },
  },
  {
    path: "/staff/webhooks", pattern: /^\/staff\/webhooks$/, keys: [], roles: ["admin"], view: () => import("./views/webhooks.js"),
    tool: { group: "admin", label: "tools.webhooks", description: "tools.webhooks.description" },
  },
  {
    path: "/staff/visits", pattern: /^\/staff\/visits$/, keys: [], roles: ["operator"], view: () => import("./views/crew.js"),
    tool: { group: "daily", label: "tools.crew", short: "nav.crew", description: "tools.crew.description", when: (me) => Boolean(me?.operator_id) },
  },
];
