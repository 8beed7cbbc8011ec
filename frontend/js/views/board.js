// Queue board (public, for a TV at the office): now serving per counter, how many wait, the
// estimated wait; live through the point's Server-Sent Events stream, which sends the current
// board first. A dropped stream shows "reconnecting" and comes back by itself. Closed: no counter
// serving (the API's rule), no take-a-number link, the next opening instead. A "sound on" button
// (lib/speak.js) makes each call a chime and the words in Bahasa Indonesia.

import { api } from "../api.js";
import { on } from "../lib/dom.js";
import { html, render as paint } from "../lib/html.js";
import { opensAgain, queueLine } from "../lib/public.js";
import { announce, unlock } from "../lib/speak.js";
import { fmt, t } from "../i18n.js";

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

function minutes(value) {
  return t("board.minutes", { n: fmt.decimal(value) });
}

function boardMarkup(board, point) {
  const serving = [...board.now_serving].sort((a, b) => a.counter - b.counter);
  return html`<div class="board-grid">
      <section class="board-serving" aria-labelledby="board-serving-title">
        <h2 id="board-serving-title">${t("board.nowServing")}</h2>
        ${
          serving.length
            ? html`<ul class="counters" data-counters>
                ${serving.map(
                  (c) => html`<li class="counter counter-${c.status}" data-counter="${c.counter}">
                    <span class="counter-name">${t("board.counter", { n: fmt.number(c.counter) })}</span>
                    <span class="counter-number" data-number>${fmt.number(c.number)}</span>
                    <span class="counter-status">${t(`board.status.${c.status}`)}</span>
                  </li>`,
                )}
              </ul>`
            : html`<p class="board-empty" data-counters-empty>${t("board.nobodyServed")}</p>`
        }
      </section>
      <section class="board-figures" aria-label="${t("board.figures")}">
        <div class="board-figure"><span class="board-figure-label">${t("board.waiting")}</span><span class="board-figure-value" data-board="waiting">${fmt.number(board.waiting)}</span></div>
        <div class="board-figure"><span class="board-figure-label">${t(board.open_now ? "board.estimatedWait" : "board.estimatedWaitClosed")}</span><span class="board-figure-value" data-board="wait">${minutes(board.estimated_wait_minutes)}</span></div>
        <div class="board-figure small"><span class="board-figure-label">${t("board.served")}</span><span class="board-figure-value" data-board="served">${fmt.number(board.served)}</span></div>
      </section>
    </div>
    <p class="board-open ${board.open_now ? "open" : "closed"}" data-board="open">
      ${board.open_now ? t("board.openNow") : html`${t("board.closedNow")} · <span data-next-opening>${opensAgain(board.next_opening)}</span>`}
      ${point?.service_minutes ? html` · ${t("board.serviceTime", { n: fmt.number(point.service_minutes) })}` : ""}
    </p>
    ${board.open_now ? html`<p class="board-take"><a href="#/ticket/${board.service_point_id}" data-take-ticket>${t("board.takeTicket")}</a></p>` : ""}`;
}

// #/board without an id: today's points with their queue, each linking to its board.
async function renderIndex(root, signal) {
  const boards = (await api.get("/queues", { params: { limit: 500 }, signal })).items;
  paint(
    root,
    html`<h1>${t("board.indexTitle")}</h1>
      <p class="lede">${t("board.indexLede")}</p>
      ${
        boards.length
          ? html`<ul class="points" data-boards>
              ${boards.map(
                (b) => html`<li class="point" data-point="${b.service_point_id}">
                  <h2 class="point-name"><a href="#/board/${b.service_point_id}">${b.name}</a></h2>
                  <p class="queue-now">
                    <span class="badge ${b.open_now ? "badge-ok" : "badge-muted"}">${b.open_now ? t("board.openNow") : t("board.closedNow")}</span>
                    ${queueLine(b)}
                  </p>
                </li>`,
              )}
            </ul>`
          : html`<p class="hint">${t("board.indexNone")}</p>`
      }
      <p><a href="#/where">${t("board.indexWhere")}</a></p>`,
  );
}

export async function render(root, { params, signal }) {
  if (!params.id) return renderIndex(root, signal);
  const id = Number(params.id);
  // The first picture comes from the plain endpoint, so that a wrong id is a clear error page.
  const [board, point] = await Promise.all([
    api.get(`/service-points/${id}/queue`, { signal }),
    api.get(`/service-points/${id}`, { signal }).catch(() => null),
  ]);
  document.body.classList.add("tv");
  signal.addEventListener("abort", () => {
    document.body.classList.remove("tv");
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  });
  paint(
    root,
    html`<div class="board" data-view="board">
      <header class="board-head">
        <h1>${board.name}</h1>
        <p class="board-day">${fmt.date(board.date ?? board.day)} · <span class="board-clock" data-clock></span></p>
        <p class="board-connection" data-connection="connecting" role="status">${t("board.connecting")}</p>
      </header>
      <p class="board-sound"><button type="button" class="button" data-action="sound" aria-pressed="false">${t("board.soundOn")}</button></p>
      <div class="board-call" data-call aria-live="assertive"></div>
      <div data-board-body>${boardMarkup(board, point)}</div>
      <footer class="board-foot">
        <p>${t("board.free")}</p>
        <p class="board-links">
          <a href="#/where">${t("board.back")}</a> ·
          <button type="button" class="linklike" data-action="fullscreen">${t("board.fullscreen")}</button>
        </p>
      </footer>
    </div>`,
  );
  const body = root.querySelector("[data-board-body]");
  const status = root.querySelector("[data-connection]");
  const callBox = root.querySelector("[data-call]");
  const clock = root.querySelector("[data-clock]");

  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-GB" : "id-ID", {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "Asia/Jakarta",
  });
  const tick = () => (clock.textContent = timeFormat.format(new Date()));
  tick();
  const clockTimer = setInterval(tick, 15_000);
  signal.addEventListener("abort", () => clearInterval(clockTimer));

  // Sound: off until a tap (browsers allow audio only then); a lobby screen switches it on once.
  let sound = false;
  on(
    root,
    "click",
    "[data-action=sound]",
    (_event, button) => {
      sound = !sound && unlock();
      button.setAttribute("aria-pressed", String(sound));
      button.textContent = sound ? t("board.soundOff") : t("board.soundOn");
    },
    { signal },
  );

  on(root, "click", "[data-action=fullscreen]", () => root.querySelector("[data-view=board]").requestFullscreen?.().catch(() => {}), { signal });

  function setConnection(state) {
    status.dataset.connection = state;
    status.textContent = state === "live" ? t("board.live") : state === "connecting" ? t("board.connecting") : t("board.reconnecting");
  }

  let source = null;
  let retryTimer = null;
  let delay = RETRY_MIN_MS;
  let callTimer = null;

  function connect() {
    source = new EventSource(`/api/v1/service-points/${id}/queue/events`);
    source.addEventListener("board", (event) => {
      delay = RETRY_MIN_MS;
      setConnection("live");
      try {
        paint(body, boardMarkup(JSON.parse(event.data), point));
      } catch {
        /* a malformed message: keep the last good board */
      }
    });
    source.addEventListener("call", (event) => {
      let call;
      try {
        call = JSON.parse(event.data);
      } catch {
        return;
      }
      paint(
        callBox,
        html`<p class="call-banner" data-call-number="${call.number}">${t(call.recall ? "board.recall" : "board.call", {
          number: fmt.number(call.number),
          counter: fmt.number(call.counter),
        })}</p>`,
      );
      if (sound) announce(call.number, call.counter, { recall: call.recall });
      clearTimeout(callTimer);
      callTimer = setTimeout(() => paint(callBox, ""), 20_000);
    });
    source.addEventListener("error", () => {
      setConnection("reconnecting");
      // EventSource retries a dropped stream by itself; a refused one (closed) is ours to retry.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        clearTimeout(retryTimer);
        retryTimer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    });
  }
  connect();
  signal.addEventListener("abort", () => {
    source?.close();
    clearTimeout(retryTimer);
    clearTimeout(callTimer);
  });
}
