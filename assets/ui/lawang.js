// Lawang operator pages: the only script. The pages work without it; it adds live taps on
// the dashboard and the "tap the card now" notice on the issuing forms.
"use strict";

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
}

// The doors and who is inside, as the server renders them (escaped there; same origin).
let refreshing = null;
function refreshState(delay) {
  const state = document.getElementById("state");
  if (!state || refreshing) return;
  refreshing = setTimeout(() => {
    refreshing = null;
    fetch("/ui/dashboard/state", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => { state.innerHTML = html; })
      .catch(() => {});
  }, delay);
}

function liveTaps(table) {
  const body = table.tBodies[0];
  const status = document.getElementById("live-status");
  const tz = table.dataset.tz || "Asia/Jakarta";
  const zone = table.dataset.zone || "";
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: tz, day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  // As the server writes times: 24-11-2026 09:15 WIB.
  const when = (d) => {
    const p = Object.fromEntries(parts.formatToParts(d).map((x) => [x.type, x.value]));
    return `${p.day}-${p.month}-${p.year} ${p.hour}:${p.minute} ${zone}`.trim();
  };
  const src = new EventSource("/ui/events");
  const show = (ev) => {
    let line;
    try { line = JSON.parse(ev.data); } catch (e) { return; }
    const row = body.insertRow(0);
    row.dataset.id = ev.lastEventId;
    cell(row, when(new Date(line.at)));
    cell(row, line.door);
    cell(row, line.reader);
    cell(row, line.person_name || line.credential || "");
    const ok = line.granted;
    const said = ok ? table.dataset.granted : (line.event === "tap" ? table.dataset.refused : line.event);
    cell(row, said, ok ? "granted" : "refused");
    cell(row, line.reason);
    while (body.rows.length > 50) body.deleteRow(-1);
    // The strike and who is inside change right after a line; look again shortly.
    refreshState(800);
  };
  ["tap", "exit_button", "alarm", "alarm_cleared"].forEach((e) => src.addEventListener(e, show));
  src.addEventListener("ready", () => { if (status) status.textContent = table.dataset.connected; });
  src.onerror = () => { if (status) status.textContent = table.dataset.reconnecting; };
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("live-taps");
  if (table && window.EventSource) liveTaps(table);
  if (document.getElementById("state")) setInterval(() => refreshState(0), 5000);
  document.querySelectorAll("form[data-wait-card]").forEach((form) => {
    form.addEventListener("submit", () => {
      const note = form.querySelector(".tap-now");
      if (note) note.hidden = false;
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    });
  });
});
