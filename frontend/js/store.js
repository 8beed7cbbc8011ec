// Small observable stores: views subscribe to "change" and re-render what depends on them.

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

function stored(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null; // storage disabled: staff sign in again per page load
  }
}

function storedMe() {
  try {
    return JSON.parse(stored(ME_KEY) ?? "null");
  } catch {
    return null;
  }
}

/**
 * The signed-in staff member: the bearer token (kept for this tab only) and who it belongs to
 * (kept with it, so that a page reloaded without signal still knows who is signed in).
 */
export const session = new Store({ token: stored(TOKEN_KEY), me: stored(TOKEN_KEY) ? storedMe() : null, checked: false });

session.subscribe(({ token, me }) => {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    if (token && me) sessionStorage.setItem(ME_KEY, JSON.stringify(me));
    else sessionStorage.removeItem(ME_KEY);
  } catch {
    /* storage disabled: the token lives in memory only */
  }
});

/**
 * The network as the app last saw it: `online`, `cachedAt` (the oldest "as of" time of the saved
 * answers the current view shows, null when all came from the server) and `update` (a new
 * release is waiting to take over).
 */
export const connectivity = new Store({ online: navigator.onLine, cachedAt: null, update: false });

/** The campaigns the API knows, and the one being looked at. */
export const campaigns = new Store({ items: null, selectedId: null });
