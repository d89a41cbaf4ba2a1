// Entry point: find out who is signed in, start the live socket, draw the app, then say so
// (body[data-ready] is what the browser tests wait for).

import { render } from "preact";
import { App } from "./app/App";
import { startMemberFeed } from "./app/memberFeed";
import { startSanctions } from "./app/sanctions";
import { loadMe } from "./app/session";
import { messageOf } from "./api/client";
import { toast } from "./components/Toast";
import { live } from "./live/live";
import "./styles.css";

async function boot(): Promise<void> {
  live.start();
  try {
    await loadMe();
  } catch (err) {
    toast(messageOf(err));
  }
  startMemberFeed();
  startSanctions();
  const root = document.getElementById("app");
  if (root) render(<App />, root);
  document.body.dataset.ready = "true";
}

void boot();
