// Staff sign-in state: the token (sessionStorage, this tab only) and who it belongs to.

import { ApiError, api } from "./api.js";
import { forgetPersonal } from "./lib/offline.js";
import { session } from "./store.js";

/** Ask the API who the stored token belongs to; drops a token it no longer accepts. */
export async function checkSession() {
  if (!session.state.token) {
    session.set({ me: null, checked: true });
    return null;
  }
  try {
    const me = await api.get("/auth/me");
    const staff = me.kind !== "anonymous" && me.role ? me : null;
    session.set({ me: staff, token: staff ? session.state.token : null, checked: true });
    return staff;
  } catch (error) {
    // Offline or a server error: keep the token (and who it was), the next request will tell.
    session.set({ checked: true });
    if (!(error instanceof ApiError)) throw error;
    return null;
  }
}

export async function signIn(username, password) {
  const answer = await api.post("/auth/token", { form: { username, password } });
  session.set({ token: answer.access_token });
  return checkSession();
}

export async function signOut() {
  try {
    await api.post("/auth/logout");
  } catch {
    /* the token is forgotten here whatever the server says */
  }
  session.set({ token: null, me: null });
  // Nothing personal stays on a shared phone: the saved day plan and queue, and the outbox.
  await forgetPersonal().catch(() => {});
}
