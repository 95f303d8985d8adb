// ticketbot sandbox: polls /state for the panes and sends what a person does to the server,
// which turns it into the signed request Slack would send. No framework, no build step.
"use strict";

(function () {
  const $ = (selector) => document.querySelector(selector);
  const view = { thread: null, home: false, modalKey: null, panes: {} };
  let polling = null;

  function user() {
    return $("#sb-user").value;
  }

  function toast(text) {
    const box = $("#sb-toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: user(), ...body }),
    });
    const answer = response.ok ? await response.json() : { ok: false, error: await response.text() };
    if (!answer.ok) toast(answer.error || `The bot answered ${answer.status}.`);
    soon();
    return answer;
  }

  function swap(id, html) {
    if (view.panes[id] === html) return false;
    view.panes[id] = html;
    const element = document.getElementById(id);
    const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    element.innerHTML = html;
    if (atBottom) element.scrollTop = element.scrollHeight;
    return true;
  }

  async function poll() {
    const query = new URLSearchParams({ user: user() });
    if (view.thread) query.set("thread", view.thread);
    if (view.home) query.set("home", "1");
    let panes;
    try {
      const response = await fetch(`/state?${query}`);
      if (!response.ok) return;
      panes = await response.json();
    } catch (error) {
      return; // the sandbox is restarting or stopped; the next poll tries again
    }
    swap("sb-channel", panes.channel);
    swap("sb-inbox", panes.inbox);
    $("#sb-thread").hidden = !panes.thread;
    if (panes.thread) swap("sb-thread-body", panes.thread);
    $("#sb-home").hidden = !view.home;
    if (view.home && panes.home) swap("sb-home", panes.home);
    $(".sb-main").classList.toggle("sb-with-side", Boolean(panes.thread) || view.home);
    showModal(panes.modal);
  }

  function showModal(modal) {
    const backdrop = $("#sb-modal");
    if (!modal) {
      backdrop.hidden = true;
      backdrop.innerHTML = "";
      view.modalKey = null;
      return;
    }
    if (modal.key !== view.modalKey) {
      view.modalKey = modal.key;
      backdrop.innerHTML = modal.html;
      backdrop.hidden = false;
      const first = backdrop.querySelector("input, textarea, select");
      if (first) first.focus();
    }
  }

  function soon() {
    // A few quick polls after an action: the bot answers through the emulator within moments.
    [150, 400, 900, 1600].forEach((delay) => setTimeout(poll, delay));
  }

  function start() {
    if (polling) clearInterval(polling);
    polling = setInterval(poll, 1000);
    poll();
  }

  function where(element) {
    const modal = element.closest("#sb-modal-form");
    if (modal) return { kind: "view", view_id: modal.dataset.viewId };
    const home = element.closest(".sb-home-view");
    if (home) return { kind: "view", view_id: home.dataset.viewId };
    const message = element.closest("article[data-kind]");
    if (message) {
      return { kind: message.dataset.kind, channel: message.dataset.channel, ts: message.dataset.ts };
    }
    return null;
  }

  function formValues(form) {
    const values = {};
    for (const field of form.querySelectorAll("[name]")) {
      const name = field.name;
      if (!name.includes("/")) continue;
      if (field.type === "checkbox") {
        values[name] = values[name] || [];
        if (field.checked) values[name].push(field.value);
      } else if (field.type === "radio") {
        if (field.checked) values[name] = field.value;
        else if (!(name in values)) values[name] = null;
      } else {
        values[name] = field.value;
      }
    }
    return values;
  }

  document.addEventListener("click", async (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.dataset.close) {
      event.preventDefault();
      if (target.dataset.close === "thread") view.thread = null;
      if (target.dataset.close === "home") view.home = false;
      if (target.dataset.close === "modal") {
        const form = $("#sb-modal-form");
        if (form) await post("/close", { view_id: form.dataset.viewId });
      }
      poll();
      return;
    }
    if (target.classList.contains("sb-replies")) {
      view.thread = target.dataset.thread;
      poll();
      return;
    }
    if (target.classList.contains("sb-answer")) {
      answerAsCustomer(target.dataset);
      return;
    }
    if (target.id === "sb-home-button") {
      view.home = true;
      view.panes["sb-home"] = null;
      await post("/home", {});
      return;
    }
    if (target.dataset.actionId && target.type === "button") {
      const place = where(target);
      if (!place) return;
      target.disabled = true;
      await post("/act", { ...place, action_id: target.dataset.actionId, value: target.dataset.value });
      target.disabled = false;
    }
  });

  document.addEventListener("change", async (event) => {
    const select = event.target.closest("select[data-action-id]");
    // In an actions block a select acts at once (block_actions), as in Slack; in an input
    // block it is a form field, sent on submit.
    if (!select || !select.closest(".sk-actions")) return;
    const place = where(select);
    if (!place || !select.value) return;
    await post("/act", { ...place, action_id: select.dataset.actionId, value: select.value });
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    event.preventDefault();
    if (form.id === "sb-modal-form") {
      await post("/submit", { view_id: form.dataset.viewId, values: formValues(form) });
    } else if (form.id === "sb-command") {
      const text = form.elements.text.value;
      form.elements.text.value = "";
      await post("/command", { text });
    } else if (form.id === "sb-thread-form") {
      const text = form.elements.text.value;
      form.elements.text.value = "";
      await post("/thread", { thread_ts: view.thread, text });
    } else if (form.id === "sb-mail") {
      await sendMail(form);
    }
  });

  async function sendMail(form) {
    const status = $("#sb-mail-status");
    status.textContent = "sending…";
    const response = await fetch("/mail", { method: "POST", body: new FormData(form) });
    const answer = response.ok ? await response.json() : { ok: false, error: await response.text() };
    status.textContent = answer.ok ? `sent: ${answer.outcome}` : "";
    if (!answer.ok) toast(answer.error || "The mail was not taken.");
    if (answer.ok) {
      for (const name of ["subject", "text", "in_reply_to", "references"]) form.elements[name].value = "";
      form.elements.attachments.value = "";
    }
    soon();
  }

  function answerAsCustomer(data) {
    const form = $("#sb-mail");
    if (data.to) form.elements.sender.value = data.to;
    const subject = data.subject || "";
    form.elements.subject.value = /^re:/i.test(subject) ? subject : `Re: ${subject}`;
    form.elements.in_reply_to.value = data.messageId || "";
    form.elements.references.value = data.references || "";
    form.elements.text.focus();
  }

  $("#sb-user").addEventListener("change", () => {
    view.panes = {};
    view.modalKey = null;
    const url = new URL(window.location.href);
    url.searchParams.set("as", user());
    window.history.replaceState(null, "", url);
    poll();
  });

  start();
})();
