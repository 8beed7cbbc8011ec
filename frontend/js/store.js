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

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: staff sign in again per page load
  }
}

/** The signed-in staff member: the bearer token (kept for this tab only) and who it belongs to. */
export const session = new Store({ token: storedToken(), me: null, checked: false });

session.subscribe(({ token }) => {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives in memory only */
  }
});

/** The campaigns the API knows, and the one being looked at. */
export const campaigns = new Store({ items: null, selectedId: null });
