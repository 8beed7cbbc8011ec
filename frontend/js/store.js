// Small observable stores: views subscribe to "change" and re-render what depends on them; and
// what the app keeps in the browser's storage.

/**
 * A value kept on this phone (localStorage), or for this tab only (`tab`: sessionStorage); null
 * when there is none or the browser refuses storage (private mode, storage disabled).
 */
export function kept(key, { tab = false } = {}) {
  try {
    return (tab ? sessionStorage : localStorage).getItem(key);
  } catch {
    return null;
  }
}

/** Keep `value` under `key` (null, undefined or "" forgets it); where storage is refused, nothing is kept. */
export function keep(key, value, { tab = false } = {}) {
  try {
    const storage = tab ? sessionStorage : localStorage;
    if (value === null || value === undefined || value === "") storage.removeItem(key);
    else storage.setItem(key, String(value));
  } catch {
    /* storage refused: what was asked lasts as long as the page */
  }
}

export class Store extends EventTarget {
  #state;

  constructor(initial) {
    super();
    this.#state = Object.freeze({ ...initial });
  }

  get state() {
    return this.#state;
  }

  set(patch) {
    this.#state = Object.freeze({ ...this.#state, ...patch });
    this.dispatchEvent(new CustomEvent("change", { detail: this.#state }));
  }

  /** Call `listener(state)` on every change; returns the unsubscribe function. */
  subscribe(listener, { signal } = {}) {
    const handler = (event) => listener(event.detail);
    this.addEventListener("change", handler, { signal });
    return () => this.removeEventListener("change", handler);
  }
}

const TOKEN_KEY = "rekam.token";
const ME_KEY = "rekam.me";

function storedMe() {
  try {
    return JSON.parse(kept(ME_KEY, { tab: true }) ?? "null");
  } catch {
    return null;
  }
}

/**
 * The signed-in staff member: the bearer token (kept for this tab only) and who it belongs to
 * (kept with it, so that a page reloaded without signal still knows who is signed in).
 */
const storedToken = kept(TOKEN_KEY, { tab: true }); // storage refused: staff sign in again per page load
export const session = new Store({ token: storedToken, me: storedToken ? storedMe() : null, checked: false });

session.subscribe(({ token, me }) => {
  keep(TOKEN_KEY, token, { tab: true });
  keep(ME_KEY, token && me ? JSON.stringify(me) : null, { tab: true });
});

/**
 * The network as the app last saw it: `online`, `cachedAt` (the oldest "as of" time of the saved
 * answers the current view shows, null when all came from the server) and `update` (a new
 * release is waiting to take over).
 */
export const connectivity = new Store({ online: navigator.onLine, cachedAt: null, update: false });

/** The campaigns the API knows, and the one being looked at. */
export const campaigns = new Store({ items: null, selectedId: null });
