// The k2 serve web page: chat over the native API (sessions, streamed runs), with each answer's steps,
// tool calls, approvals, sources and feedback. Plain JS, no build step; text is set with textContent only.
"use strict";

const state = { key: sessionStorage.getItem("k2.key") || "", session: null, run: null };
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (state.key) headers.Authorization = `Bearer ${state.key}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error.message || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

async function getJSON(path) { return (await api("GET", path)).json(); }

// ---------------------------------------------------------------------------------------- side panel

async function loadSessions() {
  const list = $("sessions");
  list.replaceChildren();
  const { data } = await getJSON("/v1/sessions");
  for (const s of data) {
    const item = el("li", { text: s.title || "(new chat)", title: s.id, "data-id": s.id });
    if (s.id === state.session) item.classList.add("current");
    item.addEventListener("click", () => openSession(s.id).catch((e) => showError(e.message)));
    list.append(item);
  }
}

async function loadTools() {
  const list = $("tools");
  list.replaceChildren();
  const { data } = await getJSON("/v1/tools");
  for (const t of data) {
    const item = el("li", { text: t.name, title: `${t.description}\n(${t.why})` });
    if (!t.allowed) item.classList.add("denied");
    list.append(item);
  }
}

async function connect() {
  showError("");
  try {
    await loadSessions();
    await loadTools();
    $("who").textContent = "connected";
  } catch (e) {
    $("who").textContent = "";
    showError(e.message);
  }
}

// ---------------------------------------------------------------------------------------- messages

function addUser(text) {
  const item = el("li", { class: "msg user" }, el("div", { class: "answer", text }));
  $("messages").append(item);
  return item;
}

function addAnswer() {
  const answer = el("div", { class: "answer" });
  const steps = el("ol", { class: "steps" });
  const item = el("li", { class: "msg assistant" }, answer, steps);
  $("messages").append(item);
  return { item, answer, steps, text: "" };
}

function showSources(view, citations) {
  if (!citations || !citations.length) return;
  const list = el("ul", { class: "sources", "aria-label": "sources" });
  for (const c of citations) {
    const where = c.location ? `${c.source} (${c.location})` : c.source;
    list.append(el("li", {}, el("code", { text: where })));
  }
  view.item.append(el("div", { class: "sources-title", text: "Sources" }), list);
}

function showFeedback(view, runId) {
  const box = el("div", { class: "feedback" }, el("span", { text: "Was this right?" }));
  const note = el("span", { class: "feedback-status" });
  for (const [rating, label] of [["good", "Good"], ["bad", "Bad"]]) {
    const button = el("button", { type: "button", "data-rating": rating, "aria-pressed": "false", text: label });
    button.addEventListener("click", async () => {
      try {
        await api("POST", "/v1/feedback", { run_id: runId, rating });
        for (const b of box.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
        note.textContent = "thanks, noted";
      } catch (e) { note.textContent = e.message; }
    });
    box.append(button);
  }
  box.append(note);
  view.item.append(box);
}

function showApproval(view, data) {
  const box = el("div", { class: "approval" },
    el("strong", { text: `${data.tool} needs your approval` }),
    el("div", { text: data.reason }),
    el("pre", { text: JSON.stringify(data.arguments, null, 2) }));
  for (const [decision, label] of [["approve", "Approve"], ["deny", "Deny"]]) {
    const button = el("button", { type: "button", "data-decision": decision, text: label });
    button.addEventListener("click", async () => {
      for (const b of box.querySelectorAll("button")) b.disabled = true;
      try {
        await api("POST", `/v1/runs/${data.run_id}/approvals/${data.id}`,
          { decision, arguments_sha256: data.arguments_sha256 });
      } catch (e) { showError(e.message); }
    });
    box.append(button);
  }
  view.item.append(box);
  return box;
}

function onEvent(view, kind, data) {
  switch (kind) {
    case "run.started":
      state.run = data.run_id;
      break;
    case "text.delta":
      view.text += data.text;
      view.answer.textContent = view.text;
      break;
    case "tool.started":
      view.steps.append(el("li", { class: "step", text: `${data.tool} …` }));
      break;
    case "tool.completed": {
      const done = el("li", { class: data.is_error ? "step error" : "step" });
      const ms = data.duration_ms == null ? "" : ` ${Math.round(data.duration_ms)} ms`;
      done.textContent = `${data.tool} ${data.is_error ? "failed" : "done"}${ms}`;
      const pending = [...view.steps.children].reverse().find((li) => li.textContent === `${data.tool} …`);
      if (pending) pending.replaceWith(done); else view.steps.append(done);
      break;
    }
    case "approval.required":
      view.approval = showApproval(view, data);
      break;
    case "approval.resolved":
      if (view.approval) view.approval.append(el("div", { text: `${data.decision} (${data.decided_by})` }));
      break;
    case "run.completed":
      view.answer.textContent = data.answer;
      showSources(view, data.citations);
      showFeedback(view, data.run_id);
      break;
    case "run.failed":
      view.answer.textContent = view.text;
      showError(data.error);
      break;
    case "run.cancelled":
      view.answer.textContent = `${view.text} [stopped]`;
      break;
    default:
      break;
  }
}

async function readEvents(response, handle) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let kind = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) kind = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length) handle(kind, JSON.parse(data.join("\n")));
    }
  }
}

async function ask(question) {
  if (!state.session) {
    state.session = (await (await api("POST", "/v1/sessions", {})).json()).id;
  }
  addUser(question);
  const view = addAnswer();
  $("send").disabled = true;
  $("stop").hidden = false;
  try {
    const response = await api("POST", `/v1/sessions/${state.session}/runs`, { input: question, stream: true });
    await readEvents(response, (kind, data) => onEvent(view, kind, data));
  } finally {
    state.run = null;
    $("send").disabled = false;
    $("stop").hidden = true;
    loadSessions().catch(() => {});
  }
}

async function openSession(id) {
  const session = await getJSON(`/v1/sessions/${id}`);
  state.session = id;
  $("messages").replaceChildren();
  let view = null;
  for (const turn of session.turns) {
    if (turn.kind === "user") { addUser(turn.text); view = null; }
    else if (turn.kind === "tool") {
      view = view || addAnswer();
      view.steps.append(el("li", { class: turn.result.is_error ? "step error" : "step", text: turn.name }));
    } else if (turn.kind === "assistant" && turn.text) {
      view = view || addAnswer();
      view.answer.textContent = turn.text;
    }
  }
  await loadSessions();
}

window.addEventListener("DOMContentLoaded", () => {
  $("key").value = state.key;
  $("auth").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("key").value.trim();
    sessionStorage.setItem("k2.key", state.key);
    connect();
  });
  $("new-chat").addEventListener("click", () => {
    state.session = null;
    $("messages").replaceChildren();
    loadSessions().catch((e) => showError(e.message));
  });
  $("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question) return;
    $("question").value = "";
    showError("");
    ask(question).catch((e) => showError(e.message));
  });
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("send").click(); }
  });
  $("stop").addEventListener("click", () => {
    if (state.run) api("POST", `/v1/runs/${state.run}/cancel`).catch((e) => showError(e.message));
  });
  // Connect at once when a key is at hand or the server needs none; else wait for one.
  fetch("/readyz").then((r) => r.json()).then((ready) => {
    if (state.key || ready.auth === false) connect();
    else $("who").textContent = "enter an API key";
  }).catch(() => showError("the server is not answering"));
});
