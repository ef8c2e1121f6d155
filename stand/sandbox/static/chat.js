// The chat pane: the person's and the bot's messages with their times, a line where the day
// changes, and scrolling that brings what arrives into view, or says that it did when the
// reader has scrolled up to read.
"use strict";

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

// Times are the sandbox clock's, shown in UTC as the page's clock shows them.
const ZONE = "UTC";
// How near the end (px) counts as reading the newest messages.
const AT_END = 40;

function timeOf(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString("en-GB", {
    timeZone: ZONE, hour: "2-digit", minute: "2-digit",
  });
}

function dayOf(seconds) {
  const date = new Date(seconds * 1000);
  const part = (options) => date.toLocaleDateString("en-GB", { timeZone: ZONE, ...options });
  return `${part({ weekday: "long" })} ${part({ day: "numeric", month: "long", year: "numeric" })}`;
}

const chat = {
  person: null,
  // Each message's bubble and what it was drawn from, by id: only what changed is redrawn.
  bubbles: new Map(),
  // Whether what arrives is scrolled into view: the reader is at the end, or has just acted.
  follow: true,
  // Where the page itself last scrolled the chat to: a scroll elsewhere is the reader's.
  scrolledTo: null,
};

function renderMessage(message, press) {
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
  bubble.append(element("div", { class: "meta" }, [
    message.edited ? "edited " : "",
    element("time", { class: "time", text: timeOf(message.date) }),
  ]));
  return bubble;
}

// Show `person`'s chat; `press` is called with a message id and the button pressed.
function showChat(person, messages, press) {
  const box = $("#messages");
  if (person !== chat.person) {
    chat.person = person;
    chat.bubbles = new Map();
    chat.follow = true;
    $("#new-below").hidden = true;
  }
  const changed = { added: [], edited: [] };
  const nodes = [];
  let day = null;
  for (const message of messages) {
    if (dayOf(message.date) !== day) {
      day = dayOf(message.date);
      nodes.push(element("div", { class: "day", text: day }));
    }
    const key = JSON.stringify(message);
    const known = chat.bubbles.get(message.id);
    if (known && known.key === key) {
      nodes.push(known.node);
      continue;
    }
    const node = renderMessage(message, press);
    (known ? changed.edited : changed.added).push(node);
    chat.bubbles.set(message.id, { key, node });
    nodes.push(node);
  }
  box.replaceChildren(...nodes);
  bringIntoView(changed);
}

function bringIntoView({ added, edited }) {
  const box = $("#messages");
  if (!added.length && !edited.length) return;
  if (chat.follow) {
    if (added.length) box.scrollTop = box.scrollHeight;
    else edited.at(-1).scrollIntoView({ block: "nearest" });
    chat.scrolledTo = box.scrollTop;
  } else if ([...added, ...edited].some(isBelow)) {
    $("#new-below").hidden = false;
  }
}

function isBelow(node) {
  return node.getBoundingClientRect().top > $("#messages").getBoundingClientRect().bottom - AT_END;
}

function atEnd(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < AT_END;
}

// The person acted (sent, pressed): what the bot answers is brought into view.
function followAnswers() {
  chat.follow = true;
}

$("#messages").addEventListener("scroll", () => {
  const box = $("#messages");
  if (atEnd(box)) {
    chat.follow = true;
    $("#new-below").hidden = true;
  } else if (box.scrollTop !== chat.scrolledTo) {
    chat.follow = false;
  }
});

$("#new-below").addEventListener("click", () => {
  const box = $("#messages");
  box.scrollTop = box.scrollHeight;
  chat.follow = true;
  $("#new-below").hidden = true;
});
