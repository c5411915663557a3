// Server status page: checks /healthz and measures a lattice.v1 ping round trip over /ws.
const $ = (id) => document.getElementById(id);

function show(id, text, ok) {
  const el = $(id);
  el.textContent = text;
  el.className = ok ? "ok" : "bad";
}

async function checkHealth() {
  try {
    const res = await fetch("/healthz", { cache: "no-store" });
    const body = await res.json();
    show("health", body.status, res.ok);
  } catch (err) {
    show("health", `unreachable (${err.message})`, false);
  }
}

// The WebSocket needs a session: the cookie `/signin` sets. Without one, say how to get it
// instead of retrying a handshake the server will refuse (401).
async function checkSession() {
  try {
    const res = await fetch("/api/me", { cache: "no-store", credentials: "same-origin" });
    if (res.status === 401) {
      show("user", "not signed in: open the sign-in link `lattice serve` printed at its first start", false);
      show("socket", "needs a signed-in session", false);
      return false;
    }
    const body = await res.json();
    const user = body.user || {};
    show("user", `${user.name ?? "?"} (${user.id ?? "?"})`, res.ok);
    return res.ok;
  } catch (err) {
    show("user", `unknown (${err.message})`, false);
    return false;
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws`, "lattice.v1");
  let sentAt = 0;
  let nextId = 1;
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "welcome") {
      show("socket", `connected (${msg.protocol}, session ${msg.session})`, true);
      sentAt = performance.now();
      ws.send(JSON.stringify({ type: "ping", id: nextId++ }));
    } else if (msg.type === "ok") {
      show("rtt", `${(performance.now() - sentAt).toFixed(1)} ms`, true);
    }
  };
  ws.onclose = (event) => {
    show("socket", `closed (${event.code}); retrying…`, false);
    setTimeout(connect, 1000 + Math.random() * 1000);
  };
}

checkHealth();
checkSession().then((signedIn) => { if (signedIn) connect(); });
