//! The one script and the one stylesheet, compiled in.

use axum::http::header;
use axum::response::IntoResponse;

const SCRIPT: &str = r#"// warden serve: live updates. The server pushes the approval store's
// revision; when it changes, the pending list is fetched again (or the page
// reloaded), unless the reviewer is typing.
(function () {
  "use strict";
  var main = document.querySelector("main[data-live]");
  var status = document.getElementById("live-status");
  if (!main || !window.EventSource) { return; }
  var mode = main.getAttribute("data-live");
  var last = main.getAttribute("data-rev");
  function typing() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA") && a.value !== "";
  }
  function setStatus(text, cls) {
    if (status) { status.textContent = text; status.className = cls; }
  }
  function refresh() {
    if (typing()) { setStatus("new activity: reload when done", "stale"); return; }
    if (mode === "pending") {
      fetch("/fragments/pending", { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
        .then(function (html) {
          var list = document.getElementById("pending");
          if (list) { list.innerHTML = html; }
          setStatus("live", "live");
        })
        .catch(function () { setStatus("update failed: reload", "stale"); });
    } else {
      window.location.reload();
    }
  }
  var source = new EventSource("/events");
  source.addEventListener("open", function () { setStatus("live", "live"); });
  source.addEventListener("error", function () { setStatus("reconnecting", "stale"); });
  source.addEventListener("rev", function (ev) {
    if (ev.data === last) { return; }
    last = ev.data;
    refresh();
  });
})();
"#;

const STYLE: &str = r#"
:root { --fg: #1d1f21; --muted: #5f6368; --line: #d7dae0; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --bg: #fff; --code: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header.top { display: flex; gap: 1.2em; align-items: baseline; padding: .6em 1.2em; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; }
header.top nav a { margin-right: 1em; }
header.top form { margin-left: auto; }
main { padding: 1em 1.2em; max-width: 1100px; }
a { color: #0b57d0; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin: .2em 0; }
pre { background: var(--code); padding: .6em; overflow: auto; max-height: 32em; border-radius: 4px; }
code { background: var(--code); padding: 0 .2em; border-radius: 3px; }
article.request { border: 1px solid var(--line); border-radius: 6px; padding: .8em 1em; margin: 0 0 1em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: .5em 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 1em; font-size: .85em; border: 1px solid currentColor; }
.pending { color: var(--warn); } .approved { color: var(--ok); } .denied, .timed_out { color: var(--bad); }
.actions { display: flex; flex-wrap: wrap; gap: 1em; margin-top: .6em; }
.actions form { display: flex; gap: .4em; align-items: center; flex-wrap: wrap; }
.actions input[type=text] { min-width: 18em; padding: .3em; }
button { padding: .35em .9em; border-radius: 4px; border: 1px solid var(--line); cursor: pointer; font: inherit; }
button.approve { background: var(--ok); color: #fff; border-color: var(--ok); }
button.deny { background: var(--bad); color: #fff; border-color: var(--bad); }
pre.diff .add { color: var(--ok); } pre.diff .del { color: var(--bad); } pre.diff .hunk { color: #8250df; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; }
th, td { text-align: left; padding: .25em .5em; border-bottom: 1px solid var(--line); vertical-align: top; }
td.summary { overflow-wrap: anywhere; }
.placeholder { border: 1px dashed var(--muted); color: var(--muted); padding: .8em; border-radius: 6px; }
.error { color: var(--bad); }
#live-status.live { color: var(--ok); } #live-status.stale { color: var(--warn); }
form.filters { display: flex; gap: .6em; flex-wrap: wrap; align-items: end; }
form.filters label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); }
"#;

pub(crate) async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
}

pub(crate) async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}
