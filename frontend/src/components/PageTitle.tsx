// A page's heading. It sets the document title, and after a navigation it takes the focus so
// keyboard and screen-reader users start at the new page, not at the link they followed.

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { hasNavigated } from "../app/router";

export function PageTitle({ title, children, testid }: {
  title: string; children?: ComponentChildren; testid?: string;
}) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Hearth`;
  }, [title]);
  useEffect(() => {
    if (hasNavigated()) ref.current?.focus({ preventScroll: true });
  }, []);
  return <h1 ref={ref} tabIndex={-1} data-testid={testid}>{children ?? title}</h1>;
}
