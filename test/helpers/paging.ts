/** Following a collection's `links.next` the way a client does (verbatim, on the public base URL). */
import { expect } from 'vitest';
import { PUBLIC_URL, type ApiResponse, type TestServer } from './harness.js';

/** The path and query of an absolute link on the public base URL. */
export function local(link: string): string {
  expect(link.startsWith(`${PUBLIC_URL}/`), link).toBe(true);
  return link.slice(PUBLIC_URL.length);
}

/** The ids of a collection response's data. */
export function ids(r: ApiResponse): string[] {
  return (r.body.data as Array<{ id: string }>).map((d) => d.id);
}

/** Every page from `path` to the last, each a 200; fewer than `maxPages` of them. */
export async function walk(s: TestServer, path: string, token?: string, maxPages = 100): Promise<ApiResponse[]> {
  const pages: ApiResponse[] = [];
  let next: string | undefined = path;
  while (next !== undefined) {
    const r: ApiResponse = await s.call('GET', next, token ? { token } : {});
    expect(r.status, r.text).toBe(200);
    pages.push(r);
    next = r.body.links.next === undefined ? undefined : local(r.body.links.next);
    expect(pages.length, 'too many pages').toBeLessThan(maxPages);
  }
  return pages;
}

export interface Walk {
  /** the ids of every page's data, in order */
  ids: string[];
  pages: ApiResponse[];
}

/** `walk`, with the ids of all the rows it saw. */
export async function walkIds(s: TestServer, path: string, token?: string, maxPages = 100): Promise<Walk> {
  const pages = await walk(s, path, token, maxPages);
  return { ids: pages.flatMap(ids), pages };
}
