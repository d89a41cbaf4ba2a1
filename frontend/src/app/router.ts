// Hash routing. A route table maps "#/a/:id/b" patterns to view names; parseRoute is pure so
// it is unit-tested. Navigating moves focus to the new page's heading and sets the document
// title (see components/PageTitle.tsx).

import { useEffect, useState } from "preact/hooks";

export interface Route {
  name: string;
  params: Record<string, string>;
  path: string;
}

export interface RouteSpec {
  name: string;
  pattern: string; // "/t/:id" ; ":id" matches a positive integer, ":name" any one segment
}

const INTEGER = /^[1-9][0-9]{0,18}$/;

function matchSegment(pattern: string, part: string, params: Record<string, string>): boolean {
  if (!pattern.startsWith(":")) return pattern === part;
  const key = pattern.slice(1);
  if (key === "id" || key.endsWith("Id")) {
    if (!INTEGER.test(part)) return false;
  } else if (part === "") {
    return false;
  }
  params[key] = decodeURIComponent(part);
  return true;
}

export function parseRoute(hash: string, specs: readonly RouteSpec[]): Route {
  const path = hash.replace(/^#/, "").split("?")[0] || "/";
  const parts = path.split("/").filter(Boolean);
  for (const spec of specs) {
    const wanted = spec.pattern.split("/").filter(Boolean);
    if (wanted.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (wanted.every((segment, i) => matchSegment(segment, parts[i] ?? "", params))) {
      return { name: spec.name, params, path };
    }
  }
  return { name: "not-found", params: {}, path };
}

/** Whether the app has navigated since it loaded: the first page keeps the browser's focus. */
let navigations = 0;
export const hasNavigated = (): boolean => navigations > 1;

export function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const onChange = () => setHash(location.hash || "#/");
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  useEffect(() => {
    navigations += 1;
    window.scrollTo(0, 0);
  }, [hash]);
  return hash;
}

export function navigate(path: string): void {
  location.hash = path.startsWith("#") ? path : `#${path}`;
}

/** Remember where to come back to after signing in. */
export function returnHere(): void {
  const hash = location.hash || "#/";
  if (!hash.startsWith("#/signin") && !hash.startsWith("#/register")) {
    sessionStorage.setItem("hearth.returnTo", hash);
  }
}

export function takeReturnTo(): string {
  const to = sessionStorage.getItem("hearth.returnTo") || "#/";
  sessionStorage.removeItem("hearth.returnTo");
  return to;
}
