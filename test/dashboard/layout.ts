import type { Page } from "playwright-core";

/** Texts that must stay readable: captions, column headers, panel titles, stat labels, pool cards. */
export const LABELS =
  ".panel h2, .panel h2 > *, .side h3, .colhead, th, .stat .label, .stat .sub, .chip, .brand, .conn, .pc-name, .pc-sat, .pc-sub";

/** How the page is laid out: its scroll width, overlapping texts, and texts drawn off screen. */
export interface Layout {
  scrollWidth: number;
  overlaps: string[];
  outside: string[];
}

/**
 * Measures where each visible text matching `selector` is drawn (its text's extent, which
 * may spill out of its box, cut by every ancestor that clips: ellipsis, a scrolling table)
 * and reports pairs that overlap and texts outside the viewport's width.
 */
export function measureLayout(page: Page, selector = LABELS): Promise<Layout> {
  return page.evaluate((selector) => {
    const drawn = (e: HTMLElement) => {
      const range = document.createRange();
      range.selectNodeContents(e);
      const t = range.getBoundingClientRect();
      let [left, right, top, bottom] = [t.left, t.right, t.top, t.bottom];
      for (let a: HTMLElement | null = e; a; a = a.parentElement) {
        const style = getComputedStyle(a);
        const r = a.getBoundingClientRect();
        if (style.overflowX !== "visible") [left, right] = [Math.max(left, r.left), Math.min(right, r.right)];
        if (style.overflowY !== "visible") [top, bottom] = [Math.max(top, r.top), Math.min(bottom, r.bottom)];
      }
      return { left, right, top, bottom };
    };
    const boxes = [...document.querySelectorAll<HTMLElement>(selector)]
      .filter((e) => e.offsetParent !== null && (e.textContent ?? "").trim() !== "")
      .map((e) => ({ e, r: drawn(e) }))
      .filter(({ r }) => r.right - r.left > 0 && r.bottom - r.top > 0);
    const overlaps: string[] = [];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
        const x = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
        const y = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
        if (x > 1 && y > 1) overlaps.push(`"${a.e.textContent?.trim()}" / "${b.e.textContent?.trim()}"`);
      }
    const outside = boxes
      .filter(({ r }) => r.left < -0.5 || r.right > window.innerWidth + 0.5)
      .map(({ e, r }) => `"${e.textContent?.trim()}" at ${Math.round(r.left)}..${Math.round(r.right)}`);
    return { scrollWidth: document.documentElement.scrollWidth, overlaps, outside };
  }, selector);
}
