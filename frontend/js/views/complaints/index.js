// The complaints inbox (admins and complaint handlers): fee complaints filtered by status,
// kecamatan and age; one complaint with its log, the public reply to the reporter, workflow steps
// with their internal note, assignment, the accused operator and the sanction. The reporter's
// identity is never in these answers; an admin may open it with a reason, which the API audits,
// and it is shown only until the page is left (never kept, never put in the address).

// The inbox and one complaint are modules of this folder.

import { renderDetail } from "./detail.js";
import { renderInbox } from "./inbox.js";

export async function render(root, context) {
  if (context.params.id) return renderDetail(root, context);
  return renderInbox(root, context);
}
