// Pedagogical Forge: the pages' only script (no framework, nothing from a CDN).
// A form with data-job="/api/..." is sent as JSON with the page's CSRF token and "wait": false; the job's
// server-sent events then show its place in the queue, the text as the model writes it and a progress bar,
// and when it is done the browser goes to data-done (where "{session}" is replaced by the result's session).
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function formBody(form) {
  const body = { wait: false };
  for (const [key, value] of new FormData(form).entries()) {
    if (key === "csrf" || value === "") continue;
    body[key] = value;
  }
  for (const box of form.querySelectorAll('input[type="checkbox"][name]')) body[box.name] = box.checked;
  return body;
}

function setText(root, selector, text) {
  const el = root.querySelector(selector);
  if (el) el.textContent = text;
  return el;
}

async function sendJob(form) {
  const status = form.querySelector("[data-job-status]") || form;
  const button = form.querySelector('button[type="submit"]');
  if (button) button.disabled = true;
  setText(status, "[data-job-message]", "Sending…");
  let response;
  try {
    response = await fetch(form.dataset.job, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(formBody(form)),
    });
  } catch (err) {
    return failed(form, button, "The server could not be reached; try again.");
  }
  const data = await response.json().catch(() => ({}));
  if (response.status !== 202) return failed(form, button, data.error || "The request was refused.");
  follow(form, button, data.job, data.session);
}

function failed(form, button, message) {
  const status = form.querySelector("[data-job-status]") || form;
  setText(status, "[data-job-message]", "");
  const err = setText(status, "[data-job-error]", message);
  if (err) err.focus();
  if (button) button.disabled = false;
}

function follow(form, button, job, session) {
  const status = form.querySelector("[data-job-status]") || form;
  const stream = status.querySelector("[data-job-text]");
  const bar = status.querySelector("progress");
  const events = new EventSource("/api/jobs/" + encodeURIComponent(job) + "/events");
  events.addEventListener("position", (e) => {
    const place = JSON.parse(e.data);
    setText(status, "[data-job-message]", place > 0 ? "Waiting: " + place + " request(s) ahead of yours." : "Working…");
  });
  events.addEventListener("text", (e) => { if (stream) stream.textContent += JSON.parse(e.data); });
  events.addEventListener("reset", () => { if (stream) stream.textContent = ""; });
  events.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    if (bar) { bar.max = p.total; bar.value = p.done; bar.hidden = false; }
    setText(status, "[data-job-message]", "Made " + p.done + " of " + p.total + " item(s)…");
  });
  events.addEventListener("done", (e) => {
    events.close();
    const result = JSON.parse(e.data);
    const target = (form.dataset.done || location.pathname).replace("{session}", encodeURIComponent(result.session || session));
    location.assign(target);
  });
  events.addEventListener("failed", (e) => {
    events.close();
    failed(form, button, JSON.parse(e.data).error);
  });
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.job) return;
  event.preventDefault();
  sendJob(form);
});

// Enter sends a chat message, Shift+Enter starts a new line.
document.addEventListener("keydown", (event) => {
  const box = event.target;
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  if (!(box instanceof HTMLTextAreaElement) || !("enterSends" in box.dataset)) return;
  event.preventDefault();
  box.form.requestSubmit();
});
