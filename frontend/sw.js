// Rekam's service worker: shows the Web Push messages the API sends for a ticket ("your turn is
// near", "your number is called"). The payload is {title, body, tag}, already in Bahasa Indonesia.
self.addEventListener("push", (event) => {
  let message = { title: "Rekam", body: "", tag: "rekam" };
  try {
    message = { ...message, ...event.data.json() };
  } catch {
    message.body = event.data ? event.data.text() : "";
  }
  event.waitUntil(self.registration.showNotification(message.title, { body: message.body, tag: message.tag, renotify: true }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((windows) => (windows[0] ? windows[0].focus() : self.clients.openWindow("./"))));
});
