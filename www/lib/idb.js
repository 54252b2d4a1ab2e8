// The embedded mode's "table": sealed items kept in this browser's IndexedDB
// (database fieldseal-demo, object store items, keyed by the partition key).
// Items are stored exactly as sealed (binary values as Uint8Array).

export const DB_NAME = "fieldseal-demo";
export const STORE = "items";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    });
  } finally {
    db.close();
  }
}

export const putItem = (key, item) => withStore("readwrite", (s) => s.put(item, key));
export const getItem = (key) => withStore("readonly", (s) => s.get(key));
