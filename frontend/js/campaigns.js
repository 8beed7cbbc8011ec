// Which campaign the app shows: the one picked before (remembered on this device), else the one
// with the latest deadline.

import { api } from "./api.js";
import { campaigns, keep, kept } from "./store.js";

const KEY = "rekam.campaign";

function remembered() {
  return Number(kept(KEY)) || null;
}

// The request in flight: callers at the same moment (the boot's early start, the first view) share it.
let inFlight = null;

export async function loadCampaigns() {
  if (campaigns.state.items === null) {
    inFlight ??= fetchCampaigns().finally(() => (inFlight = null));
    await inFlight;
  }
  return campaigns.state;
}

async function fetchCampaigns() {
  const page = await api.get("/campaigns", { params: { limit: 100 } });
  const items = page.items;
  const stored = remembered();
  const latest = [...items].sort((a, b) => b.deadline.localeCompare(a.deadline) || b.id - a.id)[0];
  const selectedId = items.some((c) => c.id === stored) ? stored : (latest?.id ?? null);
  campaigns.set({ items, selectedId });
}

/** The campaign being looked at, or null when there is none yet. */
export async function currentCampaign() {
  const { items, selectedId } = await loadCampaigns();
  return items.find((c) => c.id === selectedId) ?? null;
}

export function selectCampaign(id) {
  keep(KEY, id);
  campaigns.set({ selectedId: id });
}

/** A campaign as the API answered after a change, in place of the one loaded before. */
export function replaceCampaign(saved) {
  const items = campaigns.state.items ?? [];
  campaigns.set({ items: items.map((c) => (c.id === saved.id ? saved : c)) });
}

/** Whether `code` is `root` or lies below it (area codes are dotted paths). */
export function isWithin(code, root) {
  return code === root || code.startsWith(`${root}.`);
}

/** The campaign and the area a page is about ("… Kota Tangerang Selatan · Serpong"); the area only when the campaign's name does not say it already. */
export function campaignAndArea(campaign, areaName) {
  return campaign.name.includes(areaName) ? campaign.name : `${campaign.name} · ${areaName}`;
}
