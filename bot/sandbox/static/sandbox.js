// The sandbox's page: one chat with the bot at a time, as any of the simulated people.
// The server sends an event whenever something changes; the page then reads the state again.
"use strict";

const page = {
  people: [],
  current: null,
  bot: "",
  // Messages from the bot already seen, per person, for the unread counts.
  seen: {},
  refreshing: false,
  again: false,
};

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name === "html") node.innerHTML = value; // sanitised by the server
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function showError(text) {
  const bar = $("#error");
  bar.textContent = text;
  bar.hidden = !text;
}

async function call(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `the sandbox answered ${response.status}`);
  return answer;
}

async function act(path, body) {
  try {
    const answer = await call(path, body);
    showError("");
    return answer;
  } catch (error) {
    showError(error.message);
    return null;
  }
}

function when(iso) {
  return new Date(iso).toLocaleString("en-GB", {
    timeZone: "UTC", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit",
  }) + " UTC";
}

function renderPeople() {
  const list = $("#people");
  list.replaceChildren();
  for (const person of page.people) {
    const unread = person.received - (page.seen[person.id] ?? 0);
    const button = element("button", { type: "button", class: "person", "data-id": person.id }, [
      element("span", { class: "name", text: person.name }),
      " ",
      element("span", { class: "hint", text: `${person.language} · ${person.role}` }),
    ]);
    if (unread > 0 && person.id !== page.current) {
      button.prepend(element("span", { class: "unread", text: String(unread) }));
    }
    if (person.id === page.current) button.classList.add("current");
    button.addEventListener("click", () => switchTo(person.id));
    list.append(button);
  }
  const person = page.people.find((p) => p.id === page.current);
  $("#chat-title").textContent = person ? person.name : "";
  $("#chat-role").textContent = person ? `${person.role} · Telegram in ${person.language}` : "";
  renderMenu(person ? person.commands : []);
}

function renderMenu(commands) {
  const menu = $("#menu");
  menu.replaceChildren(...commands.map((command) => {
    const item = element("li", {}, [
      element("strong", { text: `/${command.command}` }), " ",
      element("span", { class: "hint", text: command.description }),
    ]);
    item.addEventListener("click", () => {
      const box = $("#compose textarea");
      box.value = `/${command.command} `;
      menu.hidden = true;
      box.focus();
    });
    return item;
  }));
}

function renderMessage(message) {
  const bubble = element("div", { class: message.mine ? "message mine" : "message bot", "data-id": message.id });
  if (message.document) {
    bubble.append(element("a", {
      class: "document", href: message.document.href, download: message.document.name,
      text: `📄 ${message.document.name}`,
    }));
  }
  if (message.html) bubble.append(element("div", { class: "text", html: message.html }));
  if (message.buttons && message.buttons.length) {
    const rows = element("div", { class: "buttons" });
    for (const row of message.buttons) {
      const line = element("div", { class: "row" });
      for (const button of row) {
        const node = element("button", { type: "button", text: button.text });
        node.addEventListener("click", () => press(message.id, button));
        line.append(node);
      }
      rows.append(line);
    }
    bubble.append(rows);
  }
  if (message.edited) bubble.append(element("div", { class: "meta", text: "edited" }));
  return bubble;
}

async function renderChat(scrollDown) {
  const box = $("#messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const chat = await call(`/sandbox/chat/${page.current}`);
  box.replaceChildren(...chat.messages.map(renderMessage));
  if (scrollDown || nearBottom) box.scrollTop = box.scrollHeight;
}

async function refresh(scrollDown = false) {
  // One refresh at a time; changes that arrive meanwhile cause one more.
  if (page.refreshing) { page.again = true; return; }
  page.refreshing = true;
  try {
    const state = await call("/sandbox/state");
    page.people = state.people;
    page.bot = state.bot;
    if (!page.people.some((p) => p.id === page.current)) page.current = page.people[0]?.id ?? null;
    const current = page.people.find((p) => p.id === page.current);
    if (current) page.seen[current.id] = current.received;
    $("#now").textContent = `Now: ${when(state.now)}`;
    $("#next").textContent = state.next ? `next on the timeline: ${when(state.next)}` : "nothing scheduled";
    $("#jump-next").disabled = !state.next;
    renderPeople();
    if (page.current !== null) await renderChat(scrollDown);
  } catch (error) {
    showError(error.message);
  } finally {
    page.refreshing = false;
    if (page.again) { page.again = false; refresh(); }
  }
}

function switchTo(id) {
  page.current = id;
  $("#menu").hidden = true;
  refresh(true);
}

async function say(text) {
  if (await act("/sandbox/say", { person: page.current, text })) refresh(true);
}

function press(messageId, button) {
  if (button.url) { openLink(button.url); return; }
  act("/sandbox/press", { person: page.current, message: messageId, data: button.data });
}

// An invite link (t.me/<bot>?start=<code>) is opened by someone: who, the page asks.
function openLink(href) {
  const link = new URL(href, location.href);
  const code = link.searchParams.get("start");
  if (link.hostname !== "t.me" || link.pathname !== `/${page.bot}` || !code) {
    window.open(href, "_blank", "noopener");
    return;
  }
  const dialog = $("#open-as");
  const choices = $("#open-as-people");
  choices.replaceChildren(...page.people.map((person) => {
    const choice = element("button", { type: "button", text: `${person.name} (${person.role})` });
    choice.addEventListener("click", () => {
      dialog.close();
      page.current = person.id;
      say(`/start ${code}`);
    });
    return choice;
  }));
  dialog.showModal();
}

$("#messages").addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (link && !link.classList.contains("document")) {
    event.preventDefault();
    openLink(link.getAttribute("href"));
  }
  const spoiler = event.target.closest(".spoiler");
  if (spoiler) spoiler.classList.add("shown");
});

$("#compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const box = $("#compose textarea");
  const text = box.value.trim();
  if (!text || page.current === null) return;
  box.value = "";
  say(text);
});

$("#compose textarea").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("#compose").requestSubmit();
  }
});

$("#menu-button").addEventListener("click", () => { $("#menu").hidden = !$("#menu").hidden; });

$("#add-person").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const added = await act("/sandbox/people", { name: form.elements.name.value, language: form.elements.language.value });
  if (added) { form.reset(); switchTo(added.id); }
});

for (const button of document.querySelectorAll("#clock [data-hours]")) {
  button.addEventListener("click", () => act("/sandbox/jump", { hours: Number(button.dataset.hours) }));
}
$("#jump-next").addEventListener("click", () => act("/sandbox/jump", { to: "next" }));

new EventSource("/sandbox/events").onmessage = () => refresh();
refresh(true);
