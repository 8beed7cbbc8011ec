// A small promise wrapper over IndexedDB (what the outbox needs, no more): open a database with
// its upgrade, and run one transaction whose work returns a value once the transaction completes.

/** Resolve an IDBRequest. */
export function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Open `name` at `version`; `upgrade(db, oldVersion)` creates the stores. */
export function openDb(name, version, upgrade) {
  const request = indexedDB.open(name, version);
  request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
  return done(request);
}

/**
 * Run `work(stores)` in one transaction over `names`; resolves to what `work` returned (awaited)
 * once the transaction has committed, rejects if it aborts.
 */
export function transaction(db, names, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode);
    const stores = Object.fromEntries([].concat(names).map((n) => [n, tx.objectStore(n)]));
    let result;
    Promise.resolve(work(stores)).then((value) => (result = value), (error) => (tx.abort(), reject(error)));
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException("aborted", "AbortError"));
  });
}

/** Delete the whole database (at sign-out). */
export function dropDb(name) {
  return done(indexedDB.deleteDatabase(name));
}
