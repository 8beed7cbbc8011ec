// The outbox: writes made without signal (a crew's visit marks, …) kept on the phone in
// IndexedDB and sent when the network returns, in the order they were made, each with its own
// Idempotency-Key so that a write whose answer was lost is not done twice.
//
// - flush(): at start, on `online`, after a sign-in, and on a timer while something waits
//   (backoff 2 s … 60 s on network errors, 5xx and 429);
// - 401: everything stays until the same person signs in again;
// - any other refusal (409 the visit was cancelled meanwhile, 404, 422, …) moves the write to the
//   "refused" list with the server's problem, shown to the person until they dismiss it.
// Each write belongs to the person who made it; nobody else's sign-in sends it. Sign-out deletes
// it all (forget()).

import { ApiError, request } from "../api.js";
import { Store, session } from "../store.js";
import { done, dropDb, openDb, transaction } from "./idb.js";

const DB_NAME = "rekam-outbox";
const FIRST_DELAY_MS = 2_000;
const MAX_DELAY_MS = 60_000;

/** What waits and what was refused, for the person who is signed in. Events: "sent", "refused". */
export const outbox = new Store({ pending: [], refused: [] });

let dbPromise = null;
function db() {
  dbPromise ??= openDb(DB_NAME, 1, (database) => {
    database.createObjectStore("pending", { keyPath: "id", autoIncrement: true });
    database.createObjectStore("refused", { keyPath: "id" });
  });
  return dbPromise;
}

const all = async (name) => transaction(await db(), name, "readonly", (stores) => done(stores[name].getAll()));

// Whose writes are shown: the signed-in person, or the last one while their sign-in has expired.
let owner = session.state.me?.id ?? null;

async function publish() {
  const mine = (items) => items.filter((item) => item.userId === owner);
  const [pending, refused] = await Promise.all([all("pending"), all("refused")]);
  outbox.set({ pending: mine(pending), refused: mine(refused) });
}

/**
 * Keep a write to send: { method, path, body, label, ref, idempotencyKey? }; `label` is what the
 * person reads in the list, `ref` what the view needs to find the thing again (e.g. the visit).
 */
export async function enqueue({ method = "POST", path, body = null, label, ref = null, idempotencyKey = crypto.randomUUID() }) {
  const item = { method, path, body, label, ref, idempotencyKey, createdAt: new Date().toISOString(), userId: session.state.me?.id ?? null };
  item.id = await transaction(await db(), "pending", "readwrite", (stores) => done(stores.pending.add(item)));
  await publish();
  schedule(0);
  return item;
}

export async function dismiss(id) {
  await transaction(await db(), "refused", "readwrite", (stores) => done(stores.refused.delete(id)));
  await publish();
}

let running = null;
let timer = null;
let delay = FIRST_DELAY_MS;

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(() => flush(), ms);
}

/** Send what waits, in order; resolves when nothing more can be sent now. */
export function flush() {
  running ??= drain().finally(() => (running = null));
  return running;
}

async function drain() {
  for (;;) {
    const me = session.state.me;
    if (!me || !session.state.token) return;
    const item = (await all("pending")).find((i) => i.userId === me.id);
    if (!item) {
      delay = FIRST_DELAY_MS;
      return;
    }
    try {
      const answer = await request(item.method, item.path, { json: item.body ?? undefined, headers: { "Idempotency-Key": item.idempotencyKey } });
      await transaction(await db(), "pending", "readwrite", (stores) => done(stores.pending.delete(item.id)));
      await publish();
      outbox.dispatchEvent(new CustomEvent("sent", { detail: { item, answer } }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 401) return; // kept until the person signs in again
      if (error.status === 0 || error.status === 429 || error.status >= 500) {
        schedule(error.retryAfter ? error.retryAfter * 1000 : delay);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
        return;
      }
      const refused = { ...item, refusedAt: new Date().toISOString(), status: error.status, message: error.message, detail: error.detail };
      await transaction(await db(), ["pending", "refused"], "readwrite", async (stores) => {
        await done(stores.pending.delete(item.id));
        await done(stores.refused.put(refused));
      });
      await publish();
      outbox.dispatchEvent(new CustomEvent("refused", { detail: { item: refused, error } }));
    }
  }
}

let loaded = Promise.resolve();

/** Resolves once the stored lists have been read (views that show waiting writes wait for it). */
export function outboxLoaded() {
  return loaded;
}

/** Read the stored lists and send what waits; again whenever the network or the person changes. */
export function startOutbox() {
  if (!("indexedDB" in window)) return;
  addEventListener("online", () => ((delay = FIRST_DELAY_MS), flush()));
  let who = session.state.me?.id ?? null;
  session.subscribe(({ me }) => {
    if ((me?.id ?? null) === who) return;
    who = me?.id ?? null;
    if (who !== null) owner = who;
    publish().then(() => flush());
  });
  loaded = publish().catch(() => {});
  loaded.then(() => flush());
}

/** Sign-out: every write of this phone, sent or not, is deleted. */
export async function forgetOutbox() {
  clearTimeout(timer);
  if (dbPromise) (await dbPromise).close();
  dbPromise = null;
  await dropDb(DB_NAME).catch(() => {});
  owner = null;
  outbox.set({ pending: [], refused: [] });
}
