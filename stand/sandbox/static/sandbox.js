// The sandbox's page: one chat with the bot at a time, as any of the simulated people.
// The server sends an event whenever something changes; the page then reads the state again.
// chat.js, loaded before, draws the chat itself.
"use strict";

const page = {
  people: [],
  // Whose chat is shown; kept in the address, so that a reload stays in it.
  current: Number(location.hash.slice(1)) || null,
  bot: "",
  refreshing: false,
  again: false,
};

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
    const button = element("button", { type: "button", class: "person", "data-id": person.id }, [
      element("span", { class: "name", text: person.name }),
      " ",
      element("span", { class: "hint detail", text: `${person.language} · ${person.role}` }),
    ]);
    if (person.unread > 0 && person.id !== page.current) {
      button.prepend(element("span", { class: "unread", text: String(person.unread) }));
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
      closeMenu();
      box.focus();
    });
    return item;
  }));
}

function showMenu(open) {
  $("#menu").hidden = !open;
  $("#menu-button").setAttribute("aria-expanded", String(open));
}

function closeMenu() {
  showMenu(false);
}

async function refresh() {
  // One refresh at a time; changes that arrive meanwhile cause one more.
  if (page.refreshing) { page.again = true; return; }
  page.refreshing = true;
  try {
    const state = await call("/sandbox/state");
    page.people = state.people;
    page.bot = state.bot;
    if (!page.people.some((p) => p.id === page.current)) page.current = page.people[0]?.id ?? null;
    $("#now").textContent = `Now: ${when(state.now)}`;
    $("#next").textContent = state.next ? `next on the timeline: ${when(state.next)}` : "nothing scheduled";
    $("#jump-next").disabled = !state.next;
    renderPeople();
    if (page.current !== null) {
      const shown = await call(`/sandbox/chat/${page.current}`);
      showChat(page.current, shown.messages, press);
    }
  } catch (error) {
    showError(error.message);
  } finally {
    page.refreshing = false;
    if (page.again) { page.again = false; refresh(); }
  }
}

function switchTo(id) {
  page.current = id;
  history.replaceState(null, "", `#${id}`);
  closeMenu();
  showAddForm(false);
  refresh();
}

async function say(text) {
  followAnswers();
  if (await act("/sandbox/say", { person: page.current, text })) refresh();
}

function press(messageId, button) {
  if (button.url) { openLink(button.url); return; }
  followAnswers();
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
      switchTo(person.id);
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
  closeMenu();
  say(text);
});

$("#compose textarea").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("#compose").requestSubmit();
  }
});

$("#menu-button").addEventListener("click", () => showMenu($("#menu").hidden));

// The menu closes as Telegram's does: on Escape, or a click anywhere else.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeMenu();
});
document.addEventListener("click", (event) => {
  if (!event.target.closest("#menu, #menu-button")) closeMenu();
});

// At phone width the form to add a person folds away behind "+".
function showAddForm(open) {
  document.body.classList.toggle("adding", open);
  $("#add-toggle").setAttribute("aria-expanded", String(open));
}

$("#add-toggle").addEventListener("click", () => {
  showAddForm(!document.body.classList.contains("adding"));
  if (document.body.classList.contains("adding")) $("#add-person input").focus();
});

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
refresh();
