// The handset page: one card per phone, built once from the template and then kept up
// to date from /state.json. A card shows only the controls its phone's state allows (the
// server lists them in `actions`), and its transcript grows in place, so a person who
// scrolls back to read is not thrown to the bottom by the next poll.
"use strict";

const phonesNode = document.getElementById("phones");
const errorNode = document.getElementById("error");
const lines = (phonesNode.dataset.lines || "").split(" ").filter(Boolean);
const cards = new Map();

async function act(number, action, payload) {
  const answer = await fetch(`/phones/${encodeURIComponent(number)}/${action}`, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(payload || {}),
  });
  const body = await answer.json().catch(() => ({error: `HTTP ${answer.status}`}));
  errorNode.textContent = body.error || "";
  if (!body.error) render(body);
}

function lineChoice(phone) {
  // With one line there is nothing to choose; with several, a list.
  if (lines.length <= 1) {
    const text = document.createElement("span");
    text.textContent = lines.length ? `the line ${lines[0]}` : "no line";
    return {node: text, value: () => lines[0] || ""};
  }
  const select = document.createElement("select");
  select.setAttribute("aria-label", `Line ${phone.name} calls and texts`);
  for (const line of lines) select.append(new Option(line, line));
  return {node: select, value: () => select.value};
}

function buildCard(phone) {
  const node = document.getElementById("phone-card").content.firstElementChild.cloneNode(true);
  const find = selector => node.querySelector(selector);
  const card = {
    node,
    status: find(".status"),
    ringingFrom: find(".ringing-from"),
    call: find(".call"),
    callStatus: find(".call-status"),
    heard: find(".heard"),
    inbox: find(".inbox"),
    shownSid: null,
    shownLines: 0,
    shownInbox: null,
  };
  node.dataset.number = phone.number;
  node.setAttribute("aria-labelledby", `name-${phone.number}`);
  find(".name").id = `name-${phone.number}`;
  find(".name").textContent = phone.name;
  find(".number").textContent = `${phone.number} · ${phone.group || "phone"}`;
  card.heard.setAttribute("aria-label", `What ${phone.name} hears`);
  card.inbox.setAttribute("role", "log");
  card.inbox.setAttribute("tabindex", "0");
  card.inbox.setAttribute("aria-label", `Texts to ${phone.name}`);
  const speech = find("input.speech");
  speech.setAttribute("aria-label", `What ${phone.name} says`);
  const message = find("input.message");
  message.setAttribute("aria-label", `Text from ${phone.name}`);
  const line = lineChoice(phone);
  find(".line-choice").append(line.node);

  const payloads = {
    say: () => { const text = speech.value; speech.value = ""; return {text}; },
    dial: () => ({to: line.value()}),
    sms: () => { const body = message.value; message.value = ""; return {to: line.value(), body}; },
  };
  for (const button of node.querySelectorAll("button[data-action]")) {
    const action = button.dataset.action;
    const payload = payloads[action] || (() => ({}));
    button.addEventListener("click", () => act(phone.number, action, payload()));
  }
  for (const button of node.querySelectorAll("button[data-key]")) {
    button.addEventListener("click", () => act(phone.number, "press", {digits: button.dataset.key}));
  }
  speech.addEventListener("keydown", event => {
    if (event.key === "Enter") find('button[data-action="say"]').click();
  });
  message.addEventListener("keydown", event => {
    if (event.key === "Enter") find('button[data-action="sms"]').click();
  });
  phonesNode.append(node);
  return card;
}

function describe(phone) {
  const call = phone.call;
  if (!call) return ["idle", "Idle"];
  if (phone.actions.includes("answer")) return ["ringing", "Incoming call"];
  if (call.waiting_for === "ended") return ["ended", `Call ended (${call.status})`];
  const direction = call.is_outgoing ? "to" : "with";
  return ["in-call", `In a call ${direction} ${call.other_party}`];
}

function showControls(card, actions) {
  const allowed = new Set(actions);
  for (const part of card.node.querySelectorAll("[data-needs]")) {
    part.hidden = !part.dataset.needs.split(" ").some(action => allowed.has(action));
  }
  for (const button of card.node.querySelectorAll("button[data-action]")) {
    button.hidden = !allowed.has(button.dataset.action);
  }
}

function showTranscript(card, call) {
  const heard = card.heard;
  if (card.shownSid !== call.sid || call.heard.length < card.shownLines) {
    heard.replaceChildren();
    card.shownSid = call.sid;
    card.shownLines = 0;
  }
  // Follow the conversation only for a reader already at its end.
  const atEnd = heard.scrollHeight - heard.scrollTop - heard.clientHeight < 8;
  for (const line of call.heard.slice(card.shownLines)) {
    const paragraph = document.createElement("p");
    paragraph.className = line.kind;
    paragraph.textContent = line.text;
    heard.append(paragraph);
  }
  card.shownLines = call.heard.length;
  if (atEnd) heard.scrollTop = heard.scrollHeight;
}

function showInbox(card, inbox) {
  const now = JSON.stringify(inbox);
  if (card.shownInbox === now) return;  // unchanged: keep the reader's scroll position
  card.shownInbox = now;
  card.inbox.replaceChildren(...inbox.slice().reverse().map(sms => {
    const item = document.createElement("div");
    item.className = "sms" + (sms.is_read ? "" : " unread");
    const from = document.createElement("div");
    from.className = "from";
    from.textContent = sms.from;
    item.append(from, sms.body);
    return item;
  }));
}

function render(state) {
  for (const phone of state.phones) {
    if (!cards.has(phone.number)) cards.set(phone.number, buildCard(phone));
    const card = cards.get(phone.number);
    const [kind, text] = describe(phone);
    card.node.dataset.state = kind;
    card.status.textContent = text;
    showControls(card, phone.actions);
    const call = phone.call;
    card.ringingFrom.textContent = kind === "ringing" ? `Ringing: ${call.other_party}` : "";
    card.call.hidden = !call || kind === "ringing";
    if (call && kind !== "ringing") {
      card.callStatus.textContent =
        `${call.is_outgoing ? "to" : "from"} ${call.other_party}: ${call.status}, ${call.waiting_for}`;
      showTranscript(card, call);
    }
    showInbox(card, phone.inbox);
  }
}

async function poll() {
  try {
    let state = null;
    try { state = await (await fetch("/state.json")).json(); } catch (error) { /* restarting */ }
    if (state) render(state);
  } finally {
    setTimeout(poll, 1000);
  }
}
poll();
