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

/** Section links in `root` (`[data-jump]` naming a heading's id): scroll to the heading and give it
 * the focus, so that keyboard and screen-reader users land where sighted ones do. */
export function wireJumps(root, signal) {
  on(
    root,
    "click",
    "[data-jump]",
    (event, link) => {
      event.preventDefault();
      const heading = root.querySelector(`#${link.dataset.jump}`);
      heading.setAttribute("tabindex", "-1");
      heading.scrollIntoView({ block: "start" });
      heading.focus({ preventScroll: true });
    },
    { signal },
  );
}

/** Run `task` every `ms` while the page is in view, and at once when it comes back into view after
 * `ms` or more: a phone in a pocket spends no data or battery on a page nobody reads, and shows
 * fresh figures the moment it is looked at again. Stops with `signal`. */
export function whileSeen(ms, task, signal) {
  let last = Date.now();
  const run = () => {
    last = Date.now();
    task();
  };
  const timer = setInterval(() => {
    if (!document.hidden) run();
  }, ms);
  document.addEventListener(
    "visibilitychange",
    () => {
      if (!document.hidden && Date.now() - last >= ms) run();
    },
    { signal },
  );
  signal.addEventListener("abort", () => clearInterval(timer));
}
