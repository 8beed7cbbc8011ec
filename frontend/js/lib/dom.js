// Event delegation: one listener on a container for every element matching `selector` inside it.
// Pass the view's signal so the listener goes away with the view.

export function on(container, type, selector, handler, { signal } = {}) {
  container.addEventListener(
    type,
    (event) => {
      const target = event.target.closest(selector);
      if (target && container.contains(target)) handler(event, target);
    },
    { signal },
  );
}
